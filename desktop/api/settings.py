"""The settings: one typed model, as saved in the settings file and as `GET /v1/xindesk/settings`
answers it.

Secrets (the API key, hub tokens) are never part of it: they live in the keychain. Reading and
writing the file, and telling the running parts what changed, is `desktop.core.settings`.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from desktop.api.hubs import DownloadSource

SCHEMA_VERSION = 1
DEFAULT_PORT = 9997
DEFAULT_MAX_BODY_MB = 64

WEB_SCHEMES = ("http", "https")
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")


# -- the checks behind the address fields ------------------------------------------------------
# Messages never quote the value: a proxy address may carry a password.


def _is_host_label(label: str) -> bool:
    return (
        0 < len(label) <= 63
        and not label.startswith("-")
        and not label.endswith("-")
        and all(char.isalnum() or char in "-_" for char in label)
    )


def normalized_host(text: str) -> str:
    """A host name or address in the one form compared against a request's `Host`: lowercase,
    without a trailing dot, IPv6 without brackets; raises ValueError for anything else."""
    name = text.strip().lower().rstrip(".")
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        pass
    if ":" in name:
        raise ValueError("give the name or address only, without a port or scheme")
    if not name or len(name) > 253 or not all(_is_host_label(p) for p in name.split(".")):
        raise ValueError("must be a host name or an IP address")
    return name


def _allowed_host(text: str) -> str:
    """`normalized_host`, also taking a leading `*.` for every name under a domain."""
    stripped = text.strip()
    if stripped.startswith("*."):
        return "*." + normalized_host(stripped[2:])
    return normalized_host(stripped)


def normalized_origin(text: str) -> str:
    """An origin as browsers send it in `Origin` (scheme://host[:port], lowercase, no default
    port); raises ValueError for anything that is not one origin."""
    value = text.strip().rstrip("/")
    if value in ("*", "null"):
        raise ValueError(
            f"{value!r} is no origin: list each web origin allowed to call the server, "
            "e.g. https://app.example.com (any other would let every web page use it)"
        )
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise ValueError("must be an origin such as https://app.example.com") from exc
    scheme = parts.scheme.lower()
    if (
        not _SCHEME.fullmatch(scheme)
        or not parts.hostname
        or parts.username is not None
        or parts.path
        or parts.query
        or parts.fragment
    ):
        raise ValueError("must be an origin such as https://app.example.com (no path)")
    host = normalized_host(parts.hostname)
    if ":" in host:
        host = f"[{host}]"
    if port is None or _DEFAULT_PORTS.get(scheme) == port:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _address(text: str | None, schemes: tuple[str, ...]) -> str | None:
    """An absolute URL with one of `schemes` and a host; blank means unset."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    example = "http://127.0.0.1:7890" if "socks5" in schemes else "https://hf-mirror.com"
    prefixes = [scheme + "://" for scheme in schemes]
    expected = f"must be an address starting with {', '.join(prefixes[:-1])} or {prefixes[-1]}"
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises for a port that is not a number from 0 to 65535
    except ValueError as exc:
        raise ValueError(f"{expected} and a valid port, e.g. {example}") from exc
    if parts.scheme.lower() not in schemes or not parts.hostname:
        raise ValueError(f"{expected} and a host, e.g. {example}")
    normalized_host(parts.hostname)
    return value


def _web_address(text: str | None) -> str | None:
    return _address(text, WEB_SCHEMES)


def _proxy_address(text: str | None) -> str | None:
    return _address(text, PROXY_SCHEMES)


WebAddress = Annotated[str | None, AfterValidator(_web_address)]
ProxyAddress = Annotated[str | None, AfterValidator(_proxy_address)]
Origin = Annotated[str, AfterValidator(normalized_origin)]
HostName = Annotated[str, AfterValidator(_allowed_host)]


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
    ollama_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description=(
            "Also answer on this port (Ollama's is 11434), for apps that only know Ollama's "
            "address; the same API, key and protections. None: off."
        ),
    )
    cors_origins: list[Origin] = Field(
        default_factory=list,
        description=(
            "Web origins (https://app.example.com) whose pages may call the API from a "
            "browser; pages on any other origin cannot change anything."
        ),
    )
    allowed_hosts: list[HostName] = Field(
        default_factory=list,
        description=(
            "More names this server answers to (besides this computer's own names and "
            "addresses, and host.docker.internal), e.g. mypc.lan or *.example.lan. Any other "
            "name in a request's Host is refused, which stops DNS rebinding."
        ),
    )
    max_body_mb: int = Field(
        DEFAULT_MAX_BODY_MB,
        ge=1,
        le=4096,
        description="The largest request body, in MiB (images travel inside JSON bodies).",
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
    idle_unload_minutes: float = Field(
        30,
        ge=0,
        le=7 * 24 * 60,
        description=(
            "Minutes a chat model may go unused before it is unloaded to free its memory (the "
            "next request loads it again); 0 never unloads. Embedding and rerank models, which "
            "FastGPT calls with short time limits, stay loaded unless their launch says "
            "otherwise; pinned models always do."
        ),
    )
    memory_budget_gb: float | None = Field(
        None,
        gt=0,
        le=1 << 20,
        description=(
            "The most memory loaded models may take together, in GB; None: what the system "
            "has available. A load that would go over unloads idle models first."
        ),
    )


class DownloadSettings(BaseModel):
    """Where models come from."""

    model_config = ConfigDict(extra="ignore")

    source: DownloadSource = "auto"
    hf_endpoint: WebAddress = Field(
        None, description="A Hugging Face mirror, e.g. https://hf-mirror.com"
    )
    modelscope_endpoint: WebAddress = Field(
        None, description="ModelScope's address; None means https://www.modelscope.cn"
    )
    proxy: ProxyAddress = Field(
        None, description="HTTP(S) or SOCKS5 proxy for downloads and search."
    )
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
    remote_url: WebAddress = Field(
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
