"""The API key `xindesk serve` is given directly: from a file or stdin (`--api-key-file`), or on
the command line (`--api-key`).

A process's command line is readable by every user of the computer (`ps`, /proc/<pid>/cmdline),
so a key given there is moved out of it where the system allows: on Linux and macOS the server
starts itself again at once (same process id) with the key in its environment instead, which
only its own user can read. Windows and the frozen app keep the command line as given.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from desktop.core.errors import ConfigError
from desktop.core.secrets import API_KEY_ENV

log = logging.getLogger("xindesk.keysource")

KEY_OPTION = "--api-key"


def read_key_file(path: str, stdin: TextIO | None = None) -> str:
    """The key held by the file at `path` (`-` reads stdin), alone on its line.

    Raises `ConfigError` when the file cannot be read or holds no single key.
    """
    where = "stdin" if path == "-" else path
    try:
        if path == "-":
            text = (stdin or sys.stdin).read()
        else:
            file = Path(path).expanduser()
            text = file.read_text(encoding="utf-8")
            _warn_if_others_can_read(file)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read the API key from {where}: {exc}") from exc
    key = text.strip()
    if not key:
        raise ConfigError(f"The API key file {where} is empty.")
    if any(char.isspace() for char in key):
        raise ConfigError(f"The API key file {where} must hold the key alone, on one line.")
    return key


def _warn_if_others_can_read(file: Path) -> None:
    if os.name != "posix":
        return
    mode = file.stat().st_mode
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning(
            "The API key file %s can be read by other users of this computer; "
            "`chmod 600` it so that only you can.",
            file,
        )


def argv_without_key(argv: Sequence[str], key: str, option: str = KEY_OPTION) -> list[str] | None:
    """`argv` without `option KEY` / `option=KEY` (or an abbreviation of the option, as
    argparse takes them); None when it holds neither (the key came from elsewhere)."""
    kept: list[str] = []
    removed = False
    tokens = list(argv)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        name, equals, value = token.partition("=")
        names_option = len(name) > 2 and option.startswith(name)
        if names_option and equals and value == key:
            removed = True
        elif names_option and not equals and index + 1 < len(tokens) and tokens[index + 1] == key:
            removed = True
            index += 1
        else:
            kept.append(token)
        index += 1
    return kept if removed else None


def command_without_key(key: str) -> list[str] | None:
    """The command that starts this process again without `key` on its command line, or None
    where that cannot be done: not Linux or macOS, a frozen app, a key that is not on this
    process's command line (a caller passed it in), or one that the command would still show.
    """
    if os.name != "posix" or getattr(sys, "frozen", False):
        return None
    cleaned = argv_without_key(sys.orig_argv, key)
    if not cleaned or any(key in token for token in cleaned):
        return None
    return [sys.executable, *cleaned[1:]]


def restart_without_key(command: list[str], key: str) -> None:
    """Replace this process by `command` (from `command_without_key`), the key moved into its
    environment; never returns."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os.execve(command[0], command, {**os.environ, API_KEY_ENV: key})
