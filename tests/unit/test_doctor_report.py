"""The doctor's report (text, JSON, exit code), its keychain and models-folder checks, and the
redaction every shared file goes through."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from desktop.api.settings import Settings
from desktop.core.doctor.bundle import shareable_settings
from desktop.core.doctor.local import keyring_section, models_folder_section
from desktop.core.doctor.redact import Redactor, without_credentials
from desktop.core.doctor.report import DoctorReport, Section
from desktop.core.paths import AppPaths
from desktop.core.secrets import SecretStore


def test_text_report_is_aligned_and_names_the_problem() -> None:
    report = DoctorReport(
        [
            Section("build", "ok", "XinDesk 0.1.0, run from source"),
            Section("keyring", "warn", "no keyring", lines=["details here"]),
            Section("models_folder", "fail", "/models cannot be written"),
            Section("server", "skip", "not checked (--offline)"),
        ]
    )
    text = report.render_text()
    lines = text.splitlines()
    rows = [
        line
        for line in lines
        if line.split("  ")[0].strip() in {"This build", "Keychain", "Models folder", "Server"}
    ]
    assert rows == [
        "This build     OK    XinDesk 0.1.0, run from source",
        "Keychain       WARN  no keyring",
        "Models folder  FAIL  /models cannot be written",
        "Server         SKIP  not checked (--offline)",
    ]
    # Further lines sit under the summary column.
    assert " " * len("Keychain       WARN  ") + "details here" in lines
    assert lines[-2:] == ["1 problem found:", "  - Models folder: /models cannot be written"]
    assert report.exit_code == 1
    assert report.problems == ["Models folder: /models cannot be written"]


def test_json_report_has_every_section_and_the_verdict() -> None:
    report = DoctorReport(
        [
            Section("build", "ok", "fine", {"variant": None, "frozen": False}),
            Section("hubs", "warn", "ModelScope unreachable", {"hubs": []}),
        ]
    )
    data = json.loads(json.dumps(report.to_dict()))
    assert data["build"] == {"status": "ok", "summary": "fine", "variant": None, "frozen": False}
    assert data["hubs"]["status"] == "warn"
    assert data["ok"] is True
    assert data["problems"] == []
    assert [check["name"] for check in data["checks"]] == ["build", "hubs"]
    assert report.exit_code == 0
    assert report.render_text().endswith("is in order (1 warning).")


@pytest.fixture
def no_keychain() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


def test_keychain_that_works() -> None:
    section = keyring_section(SecretStore())
    assert section.status == "ok"
    assert "MemoryKeyring" in section.details["backend"]
    assert section.details["available"] is True


@pytest.mark.usefixtures("no_keychain")
def test_no_keychain_keeps_secrets_for_the_session_only() -> None:
    section = keyring_section(SecretStore())
    assert section.status == "warn"
    assert section.summary.startswith("no keyring: secrets kept only for this session")
    assert section.details["available"] is False
    assert "XINDESK_API_KEY" in section.details["message"]


def test_models_folder(tmp_path: Path) -> None:
    paths = AppPaths.under(tmp_path / "home")
    section = models_folder_section(paths, Settings(), None)
    assert section.status in {"ok", "warn"}  # warn only on a nearly full disk
    assert section.details["path"] == str(paths.default_models_dir)
    assert section.details["exists"] is False
    assert section.details["writable"] is True
    assert section.details["free_bytes"] > 0


def test_unreadable_settings_fail_the_models_folder_check(tmp_path: Path) -> None:
    paths = AppPaths.under(tmp_path)
    section = models_folder_section(paths, None, "The settings file x has invalid values")
    assert section.status == "fail"
    assert section.summary == "The settings file x has invalid values"


def test_redactor_replaces_known_secrets_and_anything_shaped_like_one() -> None:
    known = "ms-token-4b1f9e2c7d"  # a ModelScope token: no telltale shape
    redactor = Redactor([known, None, ""])
    text = (
        f"token {known} used; key sk-abcdefghijklmnopqrstuvwx; hf hf_abcdefghijklmnopqrstu; "
        "Authorization: Bearer abcdef123456; proxy http://alice:s3cret@10.0.0.1:3128/"
    )
    clean = redactor.text(text)
    for secret in (known, "sk-abcdefghijklmnop", "hf_abcdefghijkl", "abcdef123456", "s3cret"):
        assert secret not in clean
    assert "http://***@10.0.0.1:3128/" in clean
    assert "Bearer ***" in clean
    nested = redactor.value({"a": [known, {"b": known}], known: 1})
    assert known not in json.dumps(nested)


def test_settings_to_share_have_no_credentials() -> None:
    settings = Settings.model_validate(
        {
            "downloads": {"proxy": "socks5://bob:pa55word@127.0.0.1:1080"},
            "ui": {"remote_url": "http://admin:hunter22@10.0.0.5:9997"},
        }
    )
    shared = json.dumps(shareable_settings(settings))
    assert "pa55word" not in shared
    assert "hunter22" not in shared
    assert without_credentials("socks5://bob:pa55word@127.0.0.1:1080") == (
        "socks5://***@127.0.0.1:1080"
    )
    assert without_credentials("http://127.0.0.1:1080") == "http://127.0.0.1:1080"
