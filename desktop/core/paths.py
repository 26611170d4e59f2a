"""Every directory XinDesk uses, in one place.

`XINDESK_HOME` (or an explicit home) puts everything under one folder, which is what tests and
portable installs use; otherwise the platform's conventional folders come from platformdirs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "xindesk"
HOME_ENV = "XINDESK_HOME"


@dataclass(frozen=True)
class AppPaths:
    """The folders of one XinDesk installation. Pass it around; never read it from a global."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path

    @classmethod
    def under(cls, home: Path) -> AppPaths:
        """All folders below one home folder."""
        home = home.expanduser().resolve()
        return cls(
            config_dir=home / "config",
            data_dir=home / "data",
            cache_dir=home / "cache",
            log_dir=home / "logs",
        )

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> AppPaths:
        """`XINDESK_HOME` when set, else the platform's folders."""
        env = os.environ if environ is None else environ
        home = env.get(HOME_ENV)
        if home:
            return cls.under(Path(home))
        return cls(
            config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
            data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
            cache_dir=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
            log_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        )

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"

    @property
    def default_models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def registrations_dir(self) -> Path:
        """Custom model registrations, one JSON file per model, in folders per model type."""
        return self.data_dir / "registrations"

    @property
    def downloads_dir(self) -> Path:
        """Download jobs, one JSON file each, so downloads resume after a restart."""
        return self.data_dir / "downloads"

    @property
    def served_models_file(self) -> Path:
        """The models the server serves (launched and not terminated), so a restart brings
        them back."""
        return self.data_dir / "served.json"

    @property
    def hub_cache_dir(self) -> Path:
        """Cached hub answers (repo file listings with sizes and hashes), safe to delete."""
        return self.cache_dir / "hub"

    @property
    def demo_dir(self) -> Path:
        return self.cache_dir / "demo"

    def ensure(self) -> None:
        """Create the folders (owner-only where the platform supports modes)."""
        for folder in (self.config_dir, self.data_dir, self.cache_dir, self.log_dir):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)


def resources_dir() -> Path:
    """The `resources/` folder: beside the package in a checkout, inside the bundle when frozen,
    or under `share/xindesk` when installed from a wheel."""
    import sys

    candidates = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "resources")
    candidates.append(Path(__file__).resolve().parents[2] / "resources")
    candidates.append(Path(sys.prefix) / "share" / APP_NAME / "resources")
    for candidate in candidates:
        if (candidate / "catalog").is_dir():
            return candidate
    raise FileNotFoundError(
        "XinDesk's resources folder is missing; looked in: " + ", ".join(map(str, candidates))
    )
