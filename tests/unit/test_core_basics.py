"""Settings, paths, secrets, GGUF header checks and the error-to-status mapping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.api.settings import Settings
from desktop.core import errors
from desktop.core.memory.gguf_info import check_gguf_file, read_gguf_info
from desktop.core.paths import AppPaths
from desktop.core.secrets import API_KEY, SecretStore, SecretStoreUnavailable, generate_api_key
from desktop.core.settings import SettingsChange, SettingsStore, load_settings, save_settings
from desktop.server.errors import status_for


def test_home_override_puts_everything_under_one_folder(tmp_path: Path) -> None:
    paths = AppPaths.from_environment({"XINDESK_HOME": str(tmp_path)})
    assert paths.settings_file.is_relative_to(tmp_path)
    assert paths.default_models_dir.is_relative_to(tmp_path)


def test_settings_round_trip_and_atomic_save(tmp_path: Path) -> None:
    paths = AppPaths.under(tmp_path)
    assert load_settings(paths) == Settings()
    settings = Settings()
    settings.server.port = 9000
    settings.downloads.hf_endpoint = "https://hf-mirror.com"
    save_settings(settings, paths)
    assert load_settings(paths).server.port == 9000
    assert [p.name for p in paths.config_dir.iterdir()] == ["settings.json"]


def test_the_settings_store_is_the_one_writer(tmp_path: Path) -> None:
    """A patch is validated before anything changes, saved on top of what the file holds (not
    the live settings, which a program may have been given without saving them), replaces the
    live snapshot instead of changing it, and reaches every listener."""
    paths = AppPaths.under(tmp_path)
    on_file = Settings()
    on_file.server.port = 9100
    save_settings(on_file, paths)
    live = Settings()
    live.server.port = 9200  # e.g. a test's settings, never saved
    store = SettingsStore(paths, live)
    heard: list[SettingsChange] = []
    store.subscribe(heard.append)

    before = store.current
    change = store.update({"downloads": {"max_parallel": 4}})
    assert change.changed == ("downloads.max_parallel",)
    assert change.touches("downloads")
    assert not change.touches("server")
    assert heard == [change]
    assert before.downloads.max_parallel == 2, "the old snapshot must not change"
    assert store.current.downloads.max_parallel == 4
    assert store.current.server.port == 9200
    saved = load_settings(paths)
    assert (saved.server.port, saved.downloads.max_parallel) == (9100, 4)

    for bad in ({"downloads": {"max_parallel": 99}}, {"downlods": {"x": 1}}):
        with pytest.raises(errors.InvalidSettings):
            store.update(bad)
        with pytest.raises(errors.InvalidSettings):
            store.preview(bad)
    assert len(heard) == 1
    assert load_settings(paths).downloads.max_parallel == 4
    assert store.preview({"ui": {"language": "zh_CN"}}).ui.language == "zh_CN"
    assert store.current.ui.language == "system", "preview changes nothing"


def test_settings_errors_are_clear(tmp_path: Path) -> None:
    paths = AppPaths.under(tmp_path)
    paths.config_dir.mkdir(parents=True)
    paths.settings_file.write_text("{broken")
    with pytest.raises(errors.ConfigError, match="Cannot read the settings file"):
        load_settings(paths)
    paths.settings_file.write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(errors.ConfigError, match="newer XinDesk"):
        load_settings(paths)
    paths.settings_file.write_text(json.dumps({"server": {"port": 0}}))
    with pytest.raises(errors.ConfigError, match="invalid values"):
        load_settings(paths)


def test_secret_store_uses_the_test_keyring() -> None:
    store = SecretStore(service="xindesk-test")
    assert store.get(API_KEY) is None
    key = generate_api_key()
    assert key.startswith("sk-")
    store.set(API_KEY, key)
    assert store.get(API_KEY) == key
    store.delete(API_KEY)
    assert store.get(API_KEY) is None


def test_no_keyring_backend_is_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    with pytest.raises(SecretStoreUnavailable, match="--api-key"):
        SecretStore().get(API_KEY)


def test_gguf_checks(tmp_path: Path) -> None:
    not_gguf = tmp_path / "x.gguf"
    not_gguf.write_bytes(b"GGML1234")
    with pytest.raises(errors.NotAGGUF, match="not a GGUF file"):
        check_gguf_file(not_gguf)
    truncated = tmp_path / "t.gguf"
    truncated.write_bytes(b"GGUF\x03\x00\x00\x00\x01")
    with pytest.raises(errors.NotAGGUF, match="damaged or truncated"):
        read_gguf_info(truncated)


@pytest.mark.slow
def test_gguf_header_of_the_real_model(gemma_gguf: Path) -> None:
    info = read_gguf_info(gemma_gguf)
    assert info.architecture == "gemma3"
    assert info.context_length == 32768
    assert info.block_count == 18
    assert info.has_chat_template is False


@pytest.mark.parametrize(
    ("error", "path", "status"),
    [
        (errors.InvalidRequest("x"), "/v1/models", 400),
        (errors.ModelNotFound("x"), "/v1/models", 400),
        (errors.UnknownModelUID("u"), "/v1/models/u", 400),
        (errors.UnknownModelUID("u"), "/v1/chat/completions", 404),
        (errors.WrongModelType("x", "LLM", "embedding"), "/v1/embeddings", 400),
        (errors.ModelNotReady("x"), "/v1/chat/completions", 503),
        (errors.LaunchCancelled("x"), "/v1/models", 499),
        (errors.ModelLoadError("x"), "/v1/models", 500),
        (errors.ChatTemplateError("x"), "/v1/chat/completions", 400),
    ],
)
def test_error_statuses(error: errors.XinDeskError, path: str, status: int) -> None:
    assert status_for(error, path) == status
