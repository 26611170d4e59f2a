"""Running the external tools the hardware probe asks (nvidia-smi, rocm-smi, sysctl).

A tool that is missing, slow or failing gives None, never an exception: the probe then leaves
its figure unknown and says so.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Callable, Sequence

__all__ = ["COMMAND_TIMEOUT_S", "CommandRunner", "run_command"]

log = logging.getLogger("xindesk.hardware")

#: Runs a command with a timeout in seconds; returns its stdout, or None when the program is
#: missing, fails, or runs out of time.
CommandRunner = Callable[[Sequence[str], float], str | None]

# How long one external tool may take. nvidia-smi usually answers in 0.05-0.5 s; a driver in a
# bad state can hang it for minutes, which must never hang the app.
COMMAND_TIMEOUT_S = 1.0


def run_command(argv: Sequence[str], timeout: float) -> str | None:
    """Run a tool and return its stdout; None if it is missing, fails or times out."""
    program = shutil.which(argv[0])
    if program is None:
        return None
    try:
        done = subprocess.run(
            [program, *argv[1:]],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            # A console window flashing up on Windows for every probe would be absurd.
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.info("%s did not answer: %s", argv[0], exc)
        return None
    if done.returncode != 0:
        log.info("%s exited with %s: %s", argv[0], done.returncode, done.stderr.strip()[:200])
        return None
    return done.stdout
