"""The frozen app, built once per test run with PyInstaller from `build.spec`.

`installers/linux/build.sh cpu --skip-llama` does what a release build does on Linux, minus
rebuilding llama-cpp-python: it freezes the llama-cpp-python already installed here (a CPU
build) and packs the archive. The build takes about a minute on two cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUNDLE_SIZE = pytest.StashKey[str]()


@dataclass(frozen=True)
class FrozenApp:
    """The build's outputs: the bundle folder, its executable and the archives."""

    folder: Path
    executable: Path
    archives: list[Path]
    build_log: str

    def size_bytes(self) -> int:
        # PyInstaller links some libraries into place; count each file once, as `du` does.
        return sum(
            path.stat().st_size
            for path in self.folder.rglob("*")
            if path.is_file() and not path.is_symlink()
        )


@pytest.fixture(scope="session")
def frozen_app(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> FrozenApp:
    root = tmp_path_factory.mktemp("frozen")
    environ = {
        **os.environ,
        "PYTHON": sys.executable,
        "XINDESK_DIST_DIR": str(root / "dist"),
        "XINDESK_WORK_DIR": str(root / "build"),
        "XINDESK_OUT_DIR": str(root / "out"),
    }
    result = subprocess.run(
        ["bash", str(REPO / "installers" / "linux" / "build.sh"), "cpu", "--skip-llama"],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"the Linux build failed:\n{log[-6000:]}"
    folder = root / "dist" / "XinDesk"
    app = FrozenApp(
        folder=folder,
        executable=folder / "xindesk",
        archives=sorted((root / "out").iterdir()),
        build_log=log,
    )
    total = app.size_bytes()
    archives = ", ".join(
        f"{path.name} {path.stat().st_size / 2**20:.0f} MiB" for path in app.archives
    )
    request.config.stash[BUNDLE_SIZE] = (
        f"frozen Linux CPU bundle: {total / 2**20:.0f} MiB in {folder}; {archives}"
    )
    return app


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Print the bundle's size at the end of the run (the issue asks to see it in CI)."""
    line = config.stash.get(BUNDLE_SIZE, None)
    if line is not None:
        terminalreporter.write_sep("-", "packaging")
        terminalreporter.write_line(line)
