"""Check a frozen XinDesk right after an installer build (the CI workflow runs it on every OS).

    python installers/smoke_test.py <cpu|metal|cuda|rocm> [--dist dist] [--also PROGRAM ...]

1. The bundle records the variant and version it was built as (`xindesk_build.json`).
2. `xindesk doctor --json --offline` runs and reports that variant. A cpu or metal build
   must pass it; a GPU build on a machine without that GPU (CI runners have none) only has
   to start and say what it is, since "no GPU here" may be reported as a failure.
3. cpu and metal: `xindesk serve` starts and answers GET /status.
4. `--also`: the same doctor check through other ways of starting the app (the AppImage,
   the program an installer put in place).

Standard library only: it runs with the Python that built the bundle, not inside it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
VARIANTS = ("cpu", "metal", "cuda", "rocm")
SERVE_TIMEOUT_S = 180

log = logging.getLogger("xindesk.installers.smoke")


class SmokeError(Exception):
    """The frozen app failed a check."""


def executable(dist: Path) -> Path:
    """The bundle's command-line executable (Windows has a console twin of the window's)."""
    if sys.platform == "darwin":
        return dist / "XinDesk.app" / "Contents" / "MacOS" / "XinDesk"
    if sys.platform == "win32":
        return dist / "XinDesk" / "xindesk-cli.exe"
    return dist / "XinDesk" / "xindesk"


def build_record(dist: Path) -> dict[str, Any]:
    """The `xindesk_build.json` build.spec put at the bundle's root."""
    bundle = dist / "XinDesk.app" if sys.platform == "darwin" else dist / "XinDesk"
    found = sorted(bundle.rglob("xindesk_build.json"))
    if not found:
        raise SmokeError(f"no xindesk_build.json in {bundle}")
    record: dict[str, Any] = json.loads(found[0].read_text(encoding="utf-8"))
    return record


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def check_build_record(dist: Path, variant: str) -> None:
    record = build_record(dist)
    log.info("build record: %s", json.dumps(record))
    version = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "version"
    ]
    if record.get("variant") != variant:
        raise SmokeError(f"the bundle says variant {record.get('variant')!r}, not {variant!r}")
    if record.get("version") != version:
        raise SmokeError(f"the bundle says version {record.get('version')!r}, not {version!r}")


def check_doctor(app: Path, variant: str, env: dict[str, str]) -> None:
    result = subprocess.run(
        [str(app), "doctor", "--json", "--offline"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    log.info("doctor exited %d; stderr:\n%s", result.returncode, result.stderr[-4000:])
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError as error:
        raise SmokeError(f"doctor printed no JSON ({error}):\n{result.stdout[-4000:]}") from error
    log.info("doctor:\n%s", json.dumps(report, indent=2))
    reported = report.get("build", {}).get("variant")
    if reported != variant:
        raise SmokeError(f"doctor reports variant {reported!r}, not {variant!r}")
    if variant in ("cpu", "metal") and result.returncode != 0:
        raise SmokeError(f"doctor found problems: {report.get('problems')}")


def check_serve(app: Path, env: dict[str, str], log_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/status"
    # The server's output goes to a file: an unread pipe would fill up and stall it.
    with log_path.open("wb") as output:
        server = subprocess.Popen(
            [str(app), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + SERVE_TIMEOUT_S
        while True:
            if server.poll() is not None:
                tail = log_path.read_text(encoding="utf-8", errors="replace")[-4000:]
                raise SmokeError(f"serve exited with {server.returncode}:\n{tail}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    log.info("GET %s -> %d %s", url, response.status, response.read().decode())
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise SmokeError(f"serve did not answer {url} in {SERVE_TIMEOUT_S} s") from None
                time.sleep(1)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("variant", choices=VARIANTS)
    parser.add_argument("--dist", type=Path, default=REPO / "dist")
    parser.add_argument("--also", type=Path, nargs="*", default=[], metavar="PROGRAM")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    app = executable(args.dist)
    if not app.exists():
        log.error("no frozen app at %s", app)
        return 1
    with tempfile.TemporaryDirectory(prefix="xindesk-smoke-") as home:
        # A fresh data folder, no display needed for anything Qt does, and an AppImage that
        # runs without FUSE (CI machines and containers rarely have it).
        env = {
            **os.environ,
            "XINDESK_HOME": home,
            "QT_QPA_PLATFORM": "offscreen",
            "APPIMAGE_EXTRACT_AND_RUN": "1",
        }
        try:
            check_build_record(args.dist, args.variant)
            check_doctor(app, args.variant, env)
            if args.variant in ("cpu", "metal"):
                check_serve(app, env, Path(home) / "serve.log")
            for program in args.also:
                log.info("doctor through %s", program)
                check_doctor(program, args.variant, env)
        except (SmokeError, subprocess.TimeoutExpired, OSError) as error:
            log.error("smoke test failed: %s", error)
            return 1
    log.info("smoke test passed: %s %s", args.variant, app)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
