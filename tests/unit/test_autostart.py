"""Start at login on each system, against temporary folders and a fake registry key."""

from __future__ import annotations

import configparser
import plistlib
import subprocess
from pathlib import Path

import pytest

from desktop.gui.autostart import (
    LAUNCH_AGENT_LABEL,
    RUN_VALUE,
    LaunchAgent,
    RegistryRun,
    XdgAutostart,
    autostart_for,
    desktop_exec,
    startup_command,
    windows_command,
    xdg_autostart_folder,
)


class FakeRunKey:
    """The Run key's values in a dict."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def set(self, name: str, value: str) -> None:
        self.values[name] = value

    def delete(self, name: str) -> None:
        self.values.pop(name, None)


def read_exec(value: str) -> list[str]:
    """Split an Exec= value back into arguments as the Desktop Entry spec reads it: string
    escapes first, then quoting (where a backslash escapes one of: double quote, backtick,
    dollar, backslash), then `%%`."""
    text = value.replace("\\\\", "\\")
    arguments: list[str] = []
    current: list[str] = []
    quoted = started = False
    chars = iter(text)
    for char in chars:
        if quoted:
            if char == "\\":
                current.append(next(chars))
            elif char == '"':
                quoted = False
            else:
                current.append(char)
        elif char == '"':
            quoted = started = True
        elif char == " ":
            if started or current:
                arguments.append("".join(current))
            current, started = [], False
        else:
            current.append(char)
    if started or current:
        arguments.append("".join(current))
    return [argument.replace("%%", "%") for argument in arguments]


def test_the_command_is_the_frozen_app_or_the_interpreter_running_the_package() -> None:
    assert startup_command(frozen=True, executable="/Applications/XinDesk.app/XinDesk") == [
        "/Applications/XinDesk.app/XinDesk"
    ]
    assert startup_command(frozen=False, executable="/venv/bin/python") == [
        "/venv/bin/python",
        "-m",
        "desktop",
    ]


def test_linux_writes_and_removes_an_xdg_autostart_entry(tmp_path: Path) -> None:
    command = ["/home/me/My Apps/venv/bin/python", "-m", "desktop"]
    entry = autostart_for("linux", home=tmp_path, environ={}, command=command)
    assert isinstance(entry, XdgAutostart)
    assert entry.file == tmp_path / ".config" / "autostart" / "xindesk.desktop"
    assert not entry.is_enabled()

    entry.enable()
    assert entry.is_enabled()
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(entry.file, encoding="utf-8")
    section = parser["Desktop Entry"]
    assert section["Type"] == "Application"
    assert section["Name"] == "XinDesk"
    assert read_exec(section["Exec"]) == command

    entry.disable()
    assert not entry.file.exists()
    assert not entry.is_enabled()
    entry.disable()  # removing twice is fine


def test_linux_respects_xdg_config_home(tmp_path: Path) -> None:
    config = tmp_path / "elsewhere"
    assert xdg_autostart_folder(tmp_path, {"XDG_CONFIG_HOME": str(config)}) == config / "autostart"
    # The spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
    assert xdg_autostart_folder(tmp_path, {"XDG_CONFIG_HOME": "relative"}) == (
        tmp_path / ".config" / "autostart"
    )
    entry = autostart_for(
        "linux", home=tmp_path, environ={"XDG_CONFIG_HOME": str(config)}, command=["/bin/x"]
    )
    entry.enable()
    assert (config / "autostart" / "xindesk.desktop").is_file()
    assert not (tmp_path / ".config").exists()


def test_linux_entry_switched_off_in_place_counts_as_disabled(tmp_path: Path) -> None:
    entry = XdgAutostart(tmp_path, ["/bin/xindesk"])
    entry.enable()
    entry.file.write_text(entry.entry() + "Hidden=true\n", encoding="utf-8")
    assert not entry.is_enabled()


@pytest.mark.parametrize(
    "argument",
    ["plain", "with space", 'quote"d', "dollar$sign", "back\\slash", "50%", "tick`s", ""],
)
def test_desktop_exec_quotes_every_awkward_argument(argument: str) -> None:
    assert read_exec(desktop_exec(["/bin/app", argument])) == ["/bin/app", argument]


def test_macos_writes_a_launch_agent_that_runs_at_load(tmp_path: Path) -> None:
    command = ["/Applications/XinDesk.app/Contents/MacOS/XinDesk"]
    entry = autostart_for("darwin", home=tmp_path, environ={}, command=command)
    assert isinstance(entry, LaunchAgent)
    assert entry.file == tmp_path / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"
    assert not entry.is_enabled()

    entry.enable()
    assert entry.is_enabled()
    agent = plistlib.loads(entry.file.read_bytes())
    assert agent["Label"] == LAUNCH_AGENT_LABEL
    assert agent["ProgramArguments"] == command
    assert agent["RunAtLoad"] is True

    entry.disable()
    assert not entry.file.exists()
    assert not entry.is_enabled()


def test_macos_a_broken_plist_is_not_enabled(tmp_path: Path) -> None:
    entry = LaunchAgent(tmp_path, ["/bin/x"])
    entry.file.write_bytes(b"not a plist")
    assert not entry.is_enabled()


def test_windows_sets_and_removes_the_run_value() -> None:
    key = FakeRunKey()
    command = [r"C:\Program Files\XinDesk\XinDesk.exe"]
    entry = autostart_for(
        "win32", home=Path("C:/Users/me"), environ={}, command=command, run_key=key
    )
    assert isinstance(entry, RegistryRun)
    assert not entry.is_enabled()

    entry.enable()
    assert entry.is_enabled()
    # Quoted, because the path has a space: Windows would otherwise run "C:\Program".
    assert key.values[RUN_VALUE] == r'"C:\Program Files\XinDesk\XinDesk.exe"'

    entry.disable()
    assert RUN_VALUE not in key.values
    assert not entry.is_enabled()


def test_windows_command_line_round_trips_and_prefers_pythonw(tmp_path: Path) -> None:
    python = tmp_path / "Python 3.12" / "python.exe"
    python.parent.mkdir()
    python.write_bytes(b"")
    assert windows_command([str(python), "-m", "desktop"]) == [str(python), "-m", "desktop"]
    pythonw = python.with_name("pythonw.exe")
    pythonw.write_bytes(b"")
    assert windows_command([str(python), "-m", "desktop"]) == [str(pythonw), "-m", "desktop"]

    key = FakeRunKey()
    RegistryRun([str(python), "-m", "desktop"], key).enable()
    value = key.values[RUN_VALUE]
    assert value == subprocess.list2cmdline([str(pythonw), "-m", "desktop"])
    assert value.startswith(f'"{pythonw}"')
