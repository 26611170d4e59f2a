"""The API key given to `xindesk serve` directly: read from a file or stdin, and taken out of a
command line (the real `ps` check is tests/e2e/test_browser_safety_e2e.py)."""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import pytest

from desktop.core.errors import ConfigError
from desktop.core.keysource import argv_without_key, read_key_file

KEY = "sk-keysource-test-0123456789"


def test_the_key_leaves_the_command_line_in_every_spelling() -> None:
    base = ["python", "-m", "desktop", "serve", "--port", "9997"]
    assert argv_without_key([*base, "--api-key", KEY], KEY) == base
    assert argv_without_key([*base, f"--api-key={KEY}", "--demo"], KEY) == [*base, "--demo"]
    # argparse takes an unambiguous abbreviation.
    assert argv_without_key(["xindesk", "serve", "--api-k", KEY], KEY) == ["xindesk", "serve"]
    # A key given some other way is not on the command line: nothing to remove.
    assert argv_without_key(base, KEY) is None
    # The same text as another option's value stays.
    assert argv_without_key(["x", "--host", KEY], KEY) is None


def test_a_key_file_holds_the_key_alone(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    file = tmp_path / "key"
    file.write_text(f"  {KEY}\n")
    file.chmod(0o600)
    with caplog.at_level(logging.WARNING, logger="xindesk.keysource"):
        assert read_key_file(str(file)) == KEY
    assert not caplog.records
    if os.name == "posix":
        file.chmod(0o644)
        with caplog.at_level(logging.WARNING, logger="xindesk.keysource"):
            assert read_key_file(str(file)) == KEY
        assert "chmod 600" in caplog.text
    assert read_key_file("-", stdin=io.StringIO(KEY + "\n")) == KEY
    with pytest.raises(ConfigError, match="is empty"):
        read_key_file("-", stdin=io.StringIO("\n"))
    file.write_text(f"{KEY}\nsecond line\n")
    with pytest.raises(ConfigError, match="alone"):
        read_key_file(str(file))
    with pytest.raises(ConfigError, match="Cannot read the API key"):
        read_key_file(str(tmp_path / "missing"))
