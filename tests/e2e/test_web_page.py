"""The page at the server's address, in a real headless Chromium against a real `xindesk serve`:
it lists served models, launches the Gemma test model from the catalog (downloading it from the
local test hub, with progress), unloads, loads and stops it, copies a FastGPT snippet, runs the
FastGPT check, in English and in Chinese, with auth off and on; and a page of another site can
neither drive the server nor frame the page.

Screenshots go to `$XINDESK_SCREENSHOTS` when set (docs/screenshots/ is filled this way), else
to the test's own folder.
"""

from __future__ import annotations

import json
import os
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from selenium.webdriver.support.ui import Select

from desktop.core.export.check import check_names
from tests.fixtures.browser import Page, chromium
from tests.fixtures.hub_server import CATALOG_FILE, TestHub
from tests.fixtures.server import run_server

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.browser]

CATALOG_MODEL = "gemma-3-1b-it"
KEY = "page-test-key-0123456789abcdef0123456789"


def _shots(tmp_path: Path) -> Path:
    return Path(os.environ.get("XINDESK_SCREENSHOTS") or tmp_path / "screenshots")


def _write_settings(home: Path, hub: TestHub) -> None:
    config = home / "config"
    config.mkdir(parents=True, exist_ok=True)
    settings = {
        "downloads": {"source": "huggingface", "hf_endpoint": hub.url, "retries": 3},
        "models": {"default_context_length": 2048},
    }
    (config / "settings.json").write_text(json.dumps(settings), encoding="utf-8")


def _badge(page: Page, uid: str) -> str | None:
    badges = page.all(f'#models-table tr[data-uid="{uid}"] .badge')
    return badges[0].get_attribute("data-state") if badges else None


def _click_in_row(page: Page, uid: str, label: str) -> None:
    for button in page.all(f'#models-table tr[data-uid="{uid}"] button'):
        if button.text == label:
            button.click()
            return
    raise AssertionError(f"no {label!r} button for {uid}")


@pytest.mark.timeout(600)
def test_launch_download_unload_load_and_stop_in_english(tmp_path: Path, hub: TestHub) -> None:
    home = tmp_path / "home"
    _write_settings(home, hub)
    # Slow the file down so the download can be watched (the memory fit reads the file's
    # header by small range requests first; they count as requests of the file too).
    hub.stall(8.0, after_bytes=64 * 1024 * 1024, path=CATALOG_FILE, times=10)
    with run_server(home, env=hub.hf_env()) as server, chromium("en-US") as page:
        page.open(server.url)
        page.wait_ready()
        assert page.by_id("models-empty").is_displayed()
        assert "Memory" in page.by_id("computer-facts").text
        assert page.by_id("launch-ctx").get_attribute("value") == "2048"
        # The export is there before any model runs, and says what is missing.
        page.wait(
            lambda: page.by_id("export-text").get_attribute("value").strip(),
            what="the export with no model served",
        )
        assert "No chat model" in page.by_id("export-warnings").text

        Select(page.by_id("launch-name")).select_by_value(CATALOG_MODEL)
        size = Select(page.by_id("launch-size"))
        page.wait(lambda: any(o.get_attribute("value") == "1" for o in size.options), what="sizes")
        size.select_by_value("1")
        quant = Select(page.by_id("launch-quant"))
        choice = page.wait(
            lambda: next((o for o in quant.options if "Q4_K_M" in o.text), None),
            what="the catalog's 1B Q4_K_M row",
            also="launch-fit",
        )
        quant.select_by_visible_text(choice.text)
        assert page.by_id("launch-fit").text, "the fit verdict's words are shown"
        page.by_id("launch-button").click()

        uid = CATALOG_MODEL

        def downloading() -> str | None:
            # The job's progress and the model's row, seen in the same look (the page redraws
            # both every two seconds; the download may end soon after the stall).
            for item in page.all("#downloads-list li"):
                bar = item.find_element("css selector", "progress")
                if (
                    item.get_attribute("data-state") == "downloading"
                    and float(bar.get_attribute("value")) > 0
                    and _badge(page, uid) == "loading"
                ):
                    return str(item.text)
            return None

        job_text = page.wait(downloading, timeout=120, what="the download's progress")
        assert "%" in job_text
        page.screenshot(_shots(tmp_path) / "downloading.png")

        page.wait(lambda: _badge(page, uid) == "ready", timeout=300, what="the model loaded")
        page.wait(
            lambda: uid in page.by_id("export-text").get_attribute("value"),
            what="the export following the served models",
        )
        assert page.wait(
            lambda: page.all('#downloads-list li[data-state="completed"]'),
            what="the download shown done",
        )
        page.screenshot(_shots(tmp_path) / "served.png")
        # On a phone on the LAN: one column, nothing wider than the screen.
        page.driver.set_window_size(390, 844)
        page.wait(
            lambda: page.script(
                "const root = document.documentElement; return root.scrollWidth <= root.clientWidth"
            ),
            what="the page fitting a phone's width",
        )
        page.screenshot(_shots(tmp_path) / "phone.png")
        page.driver.set_window_size(1280, 1600)

        _click_in_row(page, uid, "Unload")
        page.wait(lambda: _badge(page, uid) == "unloaded", timeout=60, what="unloaded")
        assert httpx.get(f"{server.url}/v1/models/{uid}").json()["status"] == "unloaded"
        _click_in_row(page, uid, "Load")
        page.wait(lambda: _badge(page, uid) == "ready", timeout=180, what="loaded again")

        _click_in_row(page, uid, "Stop")
        page.driver.switch_to.alert.accept()
        page.wait(lambda: page.by_id("models-empty").is_displayed(), timeout=60, what="stopped")
        assert httpx.get(f"{server.url}/v1/models").json()["data"] == []

        # The file is on disk now: launch it from "Downloaded".
        page.by_id("source-installed").click()
        files = Select(page.by_id("launch-file"))
        page.wait(
            lambda: any(CATALOG_FILE in o.text for o in files.options), what="the file on disk"
        )
        assert not page.by_id("launch-quant").is_displayed()
        page.by_id("launch-button").click()
        from_disk = CATALOG_FILE.removesuffix(".gguf")
        page.wait(
            lambda: _badge(page, from_disk) == "ready", timeout=180, what="launched from disk"
        )
        served = httpx.get(f"{server.url}/v1/models/{from_disk}").json()
        assert served["model_path"].endswith(CATALOG_FILE)
        assert served["context_length"] == 2048
        assert not page.by_id("banner").is_displayed()


@pytest.mark.timeout(600)
def test_auth_chinese_copy_and_check(tmp_path: Path, gemma_gguf: Path) -> None:
    home = tmp_path / "home"
    with (
        run_server(home, "--api-key-file", "-", stdin=KEY.encode()) as server,
        chromium("zh-CN") as page,
    ):
        uid = server.launch_gguf(gemma_gguf, "gemma-chat", api_key=KEY, n_ctx=2048)
        unknown = httpx.post(
            f"{server.url}/v1/xindesk/export/check",
            headers={"Authorization": f"Bearer {KEY}"},
            json={"chat": "not-served"},
        )
        assert unknown.status_code == 400
        assert "not-served" in unknown.json()["detail"]

        page.open(server.url)
        dialog = page.wait(
            lambda: page.by_id("key-dialog") if page.by_id("key-dialog").is_displayed() else None,
            what="the key dialog",
        )
        assert "API 密钥" in dialog.text
        assert not page.by_id("key-error").is_displayed()

        page.by_id("key-input").send_keys("not-the-key")
        page.by_id("key-submit").click()
        page.wait(lambda: page.by_id("key-error").is_displayed(), what="the wrong key refused")
        page.by_id("key-input").send_keys(KEY)
        page.by_id("key-submit").click()
        page.wait_ready()

        page.wait(lambda: _badge(page, uid) == "ready", what="the launched model listed")
        assert "已加载" in page.all(f'#models-table tr[data-uid="{uid}"] .badge')[0].text
        assert page.by_id("models").find_element("css selector", "h2").text == "正在提供的模型"
        assert KEY not in page.driver.current_url
        assert page.script("return sessionStorage.getItem('xindesk.api_key')") == KEY
        assert KEY not in json.dumps(page.script("return Object.assign({}, localStorage)"))
        assert KEY not in page.script("return document.cookie")

        # The FastGPT snippet, copied as a person would, holds the model and the key.
        page.driver.execute_cdp_cmd(
            "Browser.grantPermissions",
            {
                "origin": server.url,
                "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"],
            },
        )
        page.wait(lambda: uid in page.by_id("export-text").get_attribute("value"), what="export")
        page.by_id("export-copy").click()
        page.wait(lambda: page.by_id("export-copy").text == "已复制", what="copied")
        copied = page.driver.execute_async_script(
            "navigator.clipboard.readText().then(arguments[0], e => arguments[0]('!' + e))"
        )
        assert copied == page.by_id("export-text").get_attribute("value")
        assert uid in copied
        assert KEY in copied

        page.by_id("check-button").click()
        summary = page.wait(
            lambda: (
                "项检查" in page.by_id("check-summary").text and page.by_id("check-summary").text
            ),
            timeout=400,
            what="the FastGPT check",
        )
        rows = page.all("#check-table tbody tr")
        assert len(rows) == len(check_names())
        passed = len(page.all("#check-table tbody tr.passed"))
        assert passed > 0
        assert str(passed) in summary
        marks = {row.find_elements("css selector", "td")[0].text for row in rows}
        assert marks <= {"通过", "失败"}
        page.screenshot(_shots(tmp_path) / "zh-check.png")

        # Switching the language is kept for the next visit, without asking the key again
        # in this tab.
        Select(page.by_id("language")).select_by_value("en")
        page.wait(
            lambda: page.by_id("models").find_element("css selector", "h2").text == "Served models",
            what="English",
        )
        page.driver.refresh()
        page.wait_ready()
        assert not page.by_id("key-dialog").is_displayed()
        assert page.by_id("computer").find_element("css selector", "h2").text == "This computer"


class _OtherSite:
    """A page on another origin (another port of 127.0.0.1) that tries to use the server."""

    def __init__(self, folder: Path, target: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "index.html").write_text(
            f"""<!doctype html><html><body>
<iframe id="framed" src="{target}/"></iframe>
<script>
window.tried = [];
fetch("{target}/v1/models", {{method: "POST", headers: {{"Content-Type": "application/json"}},
  body: JSON.stringify({{model_name: "gemma-3-it", model_uid: "evil"}})}})
  .then(r => window.tried.push("json:" + r.status), e => window.tried.push("json:blocked"));
fetch("{target}/v1/models", {{method: "POST", mode: "no-cors",
  headers: {{"Content-Type": "text/plain"}},
  body: JSON.stringify({{model_name: "gemma-3-it", model_uid: "evil2"}})}})
  .then(r => window.tried.push("plain:" + r.type), e => window.tried.push("plain:blocked"));
</script></body></html>""",
            encoding="utf-8",
        )
        handler = partial(SimpleHTTPRequestHandler, directory=str(folder))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _OtherSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.timeout(300)
def test_a_page_of_another_site_cannot_drive_the_server_or_frame_the_page(
    tmp_path: Path,
) -> None:
    with (
        run_server(tmp_path / "home") as server,
        _OtherSite(tmp_path / "site", server.url) as site,
        chromium() as page,
    ):
        page.open(site.url)
        tried = page.wait(
            lambda: (
                len(page.script("return window.tried")) == 2 and page.script("return window.tried")
            ),
            what="the other site's attempts",
        )
        assert "json:blocked" in tried  # the preflight was refused
        seen: list[str] = []

        def frame_refused() -> bool:
            seen.extend(page.console())
            return any("X-Frame-Options" in line or "frame-ancestors" in line for line in seen)

        page.wait(frame_refused, what="the browser refusing to frame the page")
        assert httpx.get(f"{server.url}/v1/models").json()["data"] == []
        log = server.log()
        assert "refused a cross-site POST /v1/models" in log
