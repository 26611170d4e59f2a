"""How fast does the window appear? Process start to main window shown, against a bare Qt app.

Runs, one after another and alternating, `python -m desktop` (XinDesk's window, with its local
server child started in the background) and a peer: a minimal PySide6 program that shows an
empty QMainWindow (the floor any PySide6 app pays for the interpreter and Qt). Each run is a
new process; the clock starts before the process is spawned and stops when the program prints
that its window was shown (`XINDESK_STARTUP_PROBE`), so the interpreter start, every import
and the first paint are included. Reports the medians and the ratio XinDesk / bare Qt, and
which heavy modules (llama_cpp, huggingface_hub, modelscope) the window process imported.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/gui_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

BARE_QT = """
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv)
window = QMainWindow()
window.resize(1180, 760)
window.show()
def report():
    print("window-shown", flush=True)
    app.quit()
QTimer.singleShot(0, report)
app.exec()
"""

HEAVY = ("llama_cpp", "huggingface_hub", "modelscope", "modelscope_hub", "fastapi", "uvicorn")

PROBE_IMPORTS = f"""
import sys
import desktop.gui.app
print(",".join(m for m in {HEAVY!r} if m in sys.modules))
"""


def time_to_window(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=REPO, text=True
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("window-shown"):
            elapsed = time.perf_counter() - started
            break
    else:
        raise RuntimeError(f"{command} never showed its window")
    process.wait(timeout=60)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="xindesk-bench-gui-"))
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        "XINDESK_HOME": str(home),
        "XINDESK_STARTUP_PROBE": "1",
    }
    ours_cmd = [sys.executable, "-m", "desktop"]
    bare_cmd = [sys.executable, "-c", BARE_QT]
    # One warm-up each: the first run pays for a cold disk cache.
    time_to_window(ours_cmd, env)
    time_to_window(bare_cmd, env)
    ours, bare = [], []
    for _ in range(args.runs):
        ours.append(time_to_window(ours_cmd, env))
        bare.append(time_to_window(bare_cmd, env))
    heavy = subprocess.run(
        [sys.executable, "-c", PROBE_IMPORTS], capture_output=True, text=True, env=env, cwd=REPO
    ).stdout.strip()
    med_ours, med_bare = statistics.median(ours), statistics.median(bare)
    print(f"runs: {args.runs} each, alternating; platform {env['QT_QPA_PLATFORM']}")
    print(f"{'program':<28}{'median s':>10}{'min s':>8}{'max s':>8}")
    print(f"{'XinDesk window':<28}{med_ours:>10.3f}{min(ours):>8.3f}{max(ours):>8.3f}")
    print(f"{'bare PySide6 QMainWindow':<28}{med_bare:>10.3f}{min(bare):>8.3f}{max(bare):>8.3f}")
    print(f"ratio XinDesk / bare Qt: {med_ours / med_bare:.2f}x")
    print(f"heavy modules imported by the window process: {heavy or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
