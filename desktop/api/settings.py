"""The settings: one typed model, as saved in the settings file and as `GET /v1/xindesk/settings`
answers it.

Secrets (the API key, hub tokens) are never part of it: they live in the keychain. Reading and
writing the file, and telling the running parts what changed, is `desktop.core.settings`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from desktop.api.hubs import DownloadSource

SCHEMA_VERSION = 1
DEFAULT_PORT = 9997


class ServerSettings(BaseModel):
    """Where the API listens and who may use it."""

    model_config = ConfigDict(extra="ignore")

    host: str = Field(
        "127.0.0.1", description="Address to bind; 127.0.0.1 unless LAN access is on."
    )
    port: int = Field(
        DEFAULT_PORT, ge=1, le=65535, description="Port of the API (Xinference's 9997)."
    )
    lan_access: bool = Field(
        False, description="Listen on all interfaces so other machines can connect (needs a key)."
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Browser origins allowed to call the API."
    )


class ModelSettings(BaseModel):
    """Defaults for launching models."""

    model_config = ConfigDict(extra="ignore")

    models_dir: Path | None = Field(None, description="Folder for downloaded models.")
    default_context_length: int = Field(
        8192,
        ge=256,
        description=(
            "Context length used when a launch does not give one (capped at the model's own). "
            "Xinference defaults to the model's full context, which runs big models out of memory."
        ),
    )
    default_gpu_layers: int = Field(-1, ge=-1, description="-1 offloads every layer the GPU takes.")
    threads: int | None = Field(
        None, ge=1, description="CPU threads per model; None picks for you."
    )


class DownloadSettings(BaseModel):
    """Where models come from."""

    model_config = ConfigDict(extra="ignore")

    source: DownloadSource = "auto"
    hf_endpoint: str | None = Field(
        None, description="A Hugging Face mirror, e.g. https://hf-mirror.com"
    )
    modelscope_endpoint: str | None = Field(
        None, description="ModelScope's address; None means https://www.modelscope.cn"
    )
    proxy: str | None = Field(None, description="HTTP(S) proxy for downloads and search.")
    max_parallel: int = Field(2, ge=1, le=8, description="Downloads that run at the same time.")
    retries: int = Field(
        8, ge=0, description="Automatic retries (with backoff) before a download shows as failed."
    )


class UiSettings(BaseModel):
    """How the desktop window behaves."""

    model_config = ConfigDict(extra="ignore")

    language: Literal["system", "en", "zh_CN"] = "system"
    keep_running_in_tray: bool = Field(
        True, description="Closing the window leaves the server running, with an icon in the tray."
    )
    start_at_login: bool = False
    welcome_done: bool = Field(False, description="The first-run welcome was seen or skipped.")
    connection: Literal["local", "remote"] = Field(
        "local", description="Run the server on this computer, or use one elsewhere."
    )
    remote_url: str | None = Field(
        None, description="The remote XinDesk or Xinference server, e.g. http://10.0.0.5:9997"
    )


class Settings(BaseModel):
    """Everything a user can set, saved as JSON in the config folder."""

    model_config = ConfigDict(extra="ignore")

    schema_version: int = SCHEMA_VERSION
    server: ServerSettings = Field(default_factory=ServerSettings)
    models: ModelSettings = Field(default_factory=ModelSettings)
    downloads: DownloadSettings = Field(default_factory=DownloadSettings)
    ui: UiSettings = Field(default_factory=UiSettings)
