"""Whether the system says memory is running short, where it says so.

macOS tells every process through `kern.memorystatus_vm_pressure_level` (1 normal, 2 warning,
4 critical), the level behind Activity Monitor's memory-pressure graph; at "warning" it starts
compressing and swapping, so XinDesk unloads its idle models first. Linux reports pressure
stall information in `/proc/pressure/memory`: the share of the last 10 seconds in which some
task waited for memory. Elsewhere nothing is known and nothing is done.
"""

from __future__ import annotations

import sys
from enum import IntEnum
from pathlib import Path

from desktop.core.memory.commands import CommandRunner, run_command

#: Linux: this share (percent) of the last 10 s spent waiting for memory counts as pressure.
PSI_WARNING_PERCENT = 10.0


class Pressure(IntEnum):
    NORMAL = 1
    WARNING = 2
    CRITICAL = 4


def parse_macos_level(text: str | None) -> Pressure | None:
    """`sysctl -n kern.memorystatus_vm_pressure_level`'s answer."""
    try:
        return Pressure(int((text or "").strip()))
    except ValueError:
        return None


def parse_linux_psi(text: str | None) -> Pressure | None:
    """The `some avg10=` figure of `/proc/pressure/memory`."""
    for line in (text or "").splitlines():
        if line.startswith("some "):
            fields = dict(part.split("=", 1) for part in line.split()[1:] if "=" in part)
            try:
                stalled = float(fields["avg10"])
            except (KeyError, ValueError):
                return None
            return Pressure.WARNING if stalled >= PSI_WARNING_PERCENT else Pressure.NORMAL
    return None


def memory_pressure(
    run: CommandRunner = run_command,
    psi_file: Path = Path("/proc/pressure/memory"),
    platform: str = sys.platform,
) -> Pressure | None:
    """The system's memory pressure now; None where it cannot be told."""
    if platform == "darwin":
        return parse_macos_level(run(["sysctl", "-n", "kern.memorystatus_vm_pressure_level"], 1.0))
    if platform.startswith("linux"):
        try:
            return parse_linux_psi(psi_file.read_text())
        except OSError:
            return None
    return None
