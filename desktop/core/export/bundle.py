"""One entry point: a format name in, the text to paste and its warnings out."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from desktop.api.export import EXPORT_FORMATS as EXPORT_FORMATS
from desktop.api.export import ExportFormat as ExportFormat
from desktop.core.errors import InvalidRequest
from desktop.core.export.curl import curl_text
from desktop.core.export.endpoint import Connection
from desktop.core.export.fastgpt import legacy_config_file, legacy_snippet, model_config_entries
from desktop.core.export.gateways import ai_proxy_text, compose_env_text, one_api_text
from desktop.core.export.served import Described, ModelSelection, select_models
from desktop.core.export.target import Target, resolve_host

log = logging.getLogger("xindesk.export")

ContentType = Literal["json", "text"]

#: What each format is, for a menu or `--help`.
FORMAT_TITLES: dict[ExportFormat, str] = {
    "legacy": "FastGPT ≤ 4.8.19: parts to merge into config.json",
    "legacy-full": "FastGPT ≤ 4.8.19: a whole config.json",
    "v4.9": "FastGPT ≥ 4.8.20: model-configuration JSON to append",
    "oneapi": "One API channel (and the reranker, which One API cannot forward)",
    "aiproxy": "AI Proxy channel (FastGPT 4.9+)",
    "env": "docker-compose environment lines (OPENAI_BASE_URL, CHAT_API_KEY)",
    "curl": "curl commands to test by hand",
}


@dataclass(frozen=True)
class ExportResult:
    """Text to copy, what kind of text it is, and what the person must know before pasting.

    Attributes:
        format: The format asked for.
        content_type: `json` when the text is strict JSON, `text` otherwise.
        text: The text itself.
        warnings: Sentences a person can act on (a missing role, a restart needed...).
    """

    format: ExportFormat
    content_type: ContentType
    text: str
    warnings: tuple[str, ...] = ()


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


_RESTART = (
    "FastGPT reads config.json at start-up: run docker-compose down && docker-compose up -d "
    "after editing it (restart alone does not reload it)."
)
_DIRECT_ENV = (
    "systemEnv.oneapiUrl and chatApiKey send every chat and embedding call to XinDesk; leave "
    "them out if One API serves other models, and add XinDesk as a One API channel instead "
    "(format oneapi)."
)
_APPEND = (
    "The JSON import (账号 → 模型提供商 → 模型配置 → 配置文件) replaces the whole model list: "
    "append these entries to the array shown there (keep a copy of it first), do not replace it."
    " It needs FastGPT's root user."
)


def _format_warnings(fmt: ExportFormat, selection: ModelSelection) -> list[str]:
    warnings: list[str] = []
    if fmt in ("legacy", "legacy-full"):
        warnings += [_RESTART, _DIRECT_ENV]
        if len(selection.rerankers) > 1:
            warnings.append(
                f"FastGPT ≤ 4.8.19 uses only the first reranker ({selection.rerankers[0].uid})."
            )
    elif fmt in ("v4.9", "aiproxy"):
        warnings.append(_APPEND)
    elif fmt == "oneapi" and selection.rerankers:
        warnings.append(
            "One API does not forward rerank: the reranker is configured in FastGPT directly, "
            "with its requestUrl (shown below the channel)."
        )
    elif fmt == "env":
        warnings.append(
            "These lines send every model call to XinDesk; FastGPT ≥ 4.14 may read only AI "
            "Proxy, so prefer the model-configuration JSON (format v4.9) there."
        )
    return warnings


def _render(fmt: ExportFormat, selection: ModelSelection, connection: Connection) -> str:
    renderers: dict[ExportFormat, Callable[[], str]] = {
        "legacy": lambda: _json_text(legacy_snippet(selection, connection)),
        "legacy-full": lambda: _json_text(legacy_config_file(selection, connection)),
        "v4.9": lambda: _json_text(model_config_entries(selection, connection)),
        "oneapi": lambda: one_api_text(selection, connection),
        "aiproxy": lambda: ai_proxy_text(selection, connection),
        "env": lambda: compose_env_text(connection),
        "curl": lambda: curl_text(selection, connection),
    }
    return renderers[fmt]()


def export_fastgpt(
    fmt: ExportFormat,
    selection: ModelSelection,
    connection: Connection,
    *,
    extra_warnings: Iterable[str] = (),
) -> ExportResult:
    """Render one export format.

    Args:
        fmt: One of `EXPORT_FORMATS`.
        selection: The models, from `select_models`.
        connection: The address and key FastGPT uses (`Connection.for_host`).
        extra_warnings: Warnings from elsewhere (the host choice), shown first.

    Raises:
        InvalidRequest: An unknown format.
    """
    if fmt not in EXPORT_FORMATS:
        raise InvalidRequest(
            f"Unknown export format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}."
        )
    warnings = [*extra_warnings, *selection.warnings, *_format_warnings(fmt, selection)]
    if connection.api_key is None:
        warnings.append(
            "XinDesk has no API key, so the key fields hold a placeholder (XinDesk accepts any "
            "key then)."
        )
    content_type: ContentType = "json" if fmt in ("legacy", "legacy-full", "v4.9") else "text"
    log.info("exported %s for %d model(s)", fmt, len(selection.models))
    return ExportResult(fmt, content_type, _render(fmt, selection, connection), tuple(warnings))


def export_for_target(
    fmt: ExportFormat,
    descriptions: Iterable[Described] | Mapping[str, Described],
    *,
    target: Target,
    port: int,
    listen_host: str,
    api_key: str | None,
    host: str | None = None,
    uids: Collection[str] | None = None,
    platform: str | None = None,
) -> ExportResult:
    """Everything in one call: running models and where FastGPT runs in, text out.

    Args:
        fmt: One of `EXPORT_FORMATS`.
        descriptions: `GET /v1/models` items (or a mapping uid → description).
        target: Where FastGPT runs: `same`, `docker` or `lan`.
        port: XinDesk's port.
        listen_host: The address XinDesk listens on (`0.0.0.0` with LAN access).
        api_key: XinDesk's API key, written into the key fields.
        host: A host that replaces the one the target gives.
        uids: Only these models (None: all running models).
        platform: `sys.platform` (tests pass another).

    Raises:
        ConfigError: The target cannot work with the server's settings (see `resolve_host`).
        InvalidRequest: An unknown format.
    """
    choice = resolve_host(
        target, listen_host=listen_host, api_key=api_key, host=host, platform=platform
    )
    connection = Connection.for_host(choice.host, port, api_key)
    return export_fastgpt(
        fmt, select_models(descriptions, uids), connection, extra_warnings=choice.warnings
    )
