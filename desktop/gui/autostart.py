"""Start XinDesk when the user logs in: one small entry in the place each system looks.

- Linux (and other XDG desktops): a `.desktop` file in `$XDG_CONFIG_HOME/autostart`
  (`~/.config/autostart` when the variable is unset), as the XDG Autostart spec describes.
- macOS: a LaunchAgent property list in `~/Library/LaunchAgents` with `RunAtLoad`.
- Windows: a value under `HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run`.

Every location is handed in (the folder, the registry key), never read from a global, so the
tests exercise each variant on any system against a temporary folder or a fake registry key.
"""

from __future__ import annotations

import importlib
import logging
import os
import plistlib
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger("xindesk.autostart")

DESKTOP_FILE = "xindesk.desktop"
LAUNCH_AGENT_LABEL = "com.xindesk.XinDesk"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "XinDesk"

# Characters that force quoting of an Exec argument (Desktop Entry spec, "The Exec key").
_EXEC_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")


def startup_command(*, frozen: bool | None = None, executable: str | None = None) -> list[str]:
    """The program and arguments that open XinDesk's window.

    The packaged app is its own executable; from a checkout or a pip install, the interpreter
    runs the package (`python -m desktop` with no command opens the window).
    """
    is_frozen = bool(getattr(sys, "frozen", False)) if frozen is None else frozen
    program = executable or sys.executable
    if is_frozen:
        return [program]
    return [program, "-m", "desktop"]


def windows_command(command: Sequence[str]) -> list[str]:
    """`command` for Windows' Run key: `pythonw.exe` instead of `python.exe` when it is there,
    so logging in does not open a console window next to XinDesk's."""
    if not command:
        return []
    program = Path(command[0])
    if program.name.lower() == "python.exe":
        windowless = program.with_name("pythonw.exe")
        if windowless.exists():
            return [str(windowless), *command[1:]]
    return list(command)


class Autostart(Protocol):
    """Start-at-login for one system."""

    def enable(self) -> None: ...

    def disable(self) -> None: ...

    def is_enabled(self) -> bool: ...


# -- Linux and other XDG desktops -------------------------------------------------------------


def _exec_argument(argument: str) -> str:
    if argument and not any(char in _EXEC_RESERVED for char in argument):
        quoted = argument
    else:
        escaped = "".join(f"\\{char}" if char in '"`$\\' else char for char in argument)
        quoted = f'"{escaped}"'
    # Then the escapes every string value of a desktop file has: a backslash is written
    # doubled, and `%` would start a field code (%f, %u...) unless doubled too.
    return quoted.replace("\\", "\\\\").replace("%", "%%")


def desktop_exec(command: Sequence[str]) -> str:
    """The `Exec=` value that runs `command`, quoted as the Desktop Entry spec asks."""
    return " ".join(_exec_argument(argument) for argument in command)


class XdgAutostart:
    """A `.desktop` file in the XDG autostart folder."""

    def __init__(self, folder: Path, command: Sequence[str]) -> None:
        self.folder = folder
        self.command = list(command)

    @property
    def file(self) -> Path:
        return self.folder / DESKTOP_FILE

    def entry(self) -> str:
        return "\n".join(
            [
                "[Desktop Entry]",
                "Type=Application",
                "Name=XinDesk",
                "Comment=Your private AI server",
                f"Exec={desktop_exec(self.command)}",
                "Icon=xindesk",
                "Terminal=false",
                "X-GNOME-Autostart-enabled=true",
                "",
            ]
        )

    def enable(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.file.write_text(self.entry(), encoding="utf-8")
        log.info("start at login: wrote %s", self.file)

    def disable(self) -> None:
        self.file.unlink(missing_ok=True)
        log.info("start at login: removed %s", self.file)

    def is_enabled(self) -> bool:
        try:
            lines = self.file.read_text(encoding="utf-8").splitlines()
        except OSError:
            return False
        # A desktop may switch an entry off in place instead of deleting it.
        switched_off = {"hidden=true", "x-gnome-autostart-enabled=false"}
        return not any(line.strip().lower().replace(" ", "") in switched_off for line in lines)


def xdg_autostart_folder(home: Path, environ: Mapping[str, str]) -> Path:
    """`$XDG_CONFIG_HOME/autostart`; the spec says to ignore a relative XDG_CONFIG_HOME."""
    config_home = environ.get("XDG_CONFIG_HOME", "")
    base = Path(config_home) if config_home and Path(config_home).is_absolute() else None
    return (base or home / ".config") / "autostart"


# -- macOS ------------------------------------------------------------------------------------


class LaunchAgent:
    """A LaunchAgent property list that launchd runs when the user logs in."""

    def __init__(self, folder: Path, command: Sequence[str]) -> None:
        self.folder = folder
        self.command = list(command)

    @property
    def file(self) -> Path:
        return self.folder / f"{LAUNCH_AGENT_LABEL}.plist"

    def agent(self) -> dict[str, object]:
        return {
            "Label": LAUNCH_AGENT_LABEL,
            "ProgramArguments": self.command,
            "RunAtLoad": True,
            # Interactive: launchd gives the window the priority of an app the user opened.
            "ProcessType": "Interactive",
        }

    def enable(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.file.open("wb") as handle:
            plistlib.dump(self.agent(), handle)
        log.info("start at login: wrote %s", self.file)

    def disable(self) -> None:
        self.file.unlink(missing_ok=True)
        log.info("start at login: removed %s", self.file)

    def is_enabled(self) -> bool:
        try:
            with self.file.open("rb") as handle:
                agent = plistlib.load(handle)
        except (OSError, plistlib.InvalidFileException):
            return False
        return isinstance(agent, dict) and agent.get("RunAtLoad") is True


# -- Windows ----------------------------------------------------------------------------------


class RunKey(Protocol):
    """The string values of one registry key."""

    def get(self, name: str) -> str | None: ...

    def set(self, name: str, value: str) -> None: ...

    def delete(self, name: str) -> None: ...


def _winreg() -> Any:
    """The winreg module (typed loosely: its stubs exist only when checking for Windows)."""
    try:
        return importlib.import_module("winreg")
    except ImportError as exc:
        raise OSError("The Windows registry exists only on Windows.") from exc


class WinregRunKey:
    """HKEY_CURRENT_USER's Run key, through winreg (Windows only)."""

    def __init__(self, path: str = RUN_KEY) -> None:
        self.path = path

    def get(self, name: str) -> str | None:
        winreg = _winreg()
        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, self.path) as key:
                value, _kind = winreg.QueryValueEx(key, name)
        except FileNotFoundError:
            return None
        return value if isinstance(value, str) else None

    def set(self, name: str, value: str) -> None:
        winreg = _winreg()
        with winreg.CreateKey(winreg.HKEY_CURRENT_USER, self.path) as key:
            winreg.SetValueEx(key, name, 0, winreg.REG_SZ, value)

    def delete(self, name: str) -> None:
        winreg = _winreg()
        try:
            with winreg.OpenKey(
                winreg.HKEY_CURRENT_USER, self.path, 0, winreg.KEY_SET_VALUE
            ) as key:
                winreg.DeleteValue(key, name)
        except FileNotFoundError:
            return


class RegistryRun:
    """A value in the Run key holding the command line that opens XinDesk."""

    def __init__(self, command: Sequence[str], key: RunKey | None = None) -> None:
        self.command = list(command)
        self.key: RunKey = key if key is not None else WinregRunKey()

    def value(self) -> str:
        """The command line, quoted the way Windows splits it again."""
        return subprocess.list2cmdline(windows_command(self.command))

    def enable(self) -> None:
        self.key.set(RUN_VALUE, self.value())
        log.info("start at login: set %s\\%s", RUN_KEY, RUN_VALUE)

    def disable(self) -> None:
        self.key.delete(RUN_VALUE)
        log.info("start at login: removed %s\\%s", RUN_KEY, RUN_VALUE)

    def is_enabled(self) -> bool:
        return bool(self.key.get(RUN_VALUE))


# -- choosing the variant ---------------------------------------------------------------------


def autostart_for(
    platform: str,
    *,
    home: Path,
    environ: Mapping[str, str],
    command: Sequence[str] | None = None,
    run_key: RunKey | None = None,
) -> Autostart:
    """The start-at-login entry for `platform` (a `sys.platform` value) under `home`."""
    program = list(command) if command is not None else startup_command()
    if platform == "win32":
        return RegistryRun(program, run_key)
    if platform == "darwin":
        return LaunchAgent(home / "Library" / "LaunchAgents", program)
    return XdgAutostart(xdg_autostart_folder(home, environ), program)


def for_this_system() -> Autostart:
    """The entry for the running system, in the user's own folders."""
    return autostart_for(sys.platform, home=Path.home(), environ=os.environ)
