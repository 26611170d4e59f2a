"""Builds the download manager from the settings: which hubs, which endpoints, which tokens."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from desktop.core.hub.jobs import JobStore
from desktop.core.hub.manager import DownloadManager
from desktop.core.hub.remote import HubName, RemoteHub, hubs_for, open_hub
from desktop.core.paths import AppPaths
from desktop.core.settings import DownloadSettings

log = logging.getLogger("xindesk.hub")

TOKEN_NAMES: dict[HubName, str] = {"huggingface": "hf_token", "modelscope": "modelscope_token"}
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")


def endpoint_for(hub: HubName, settings: DownloadSettings) -> str | None:
    return settings.hf_endpoint if hub == "huggingface" else settings.modelscope_endpoint


def apply_proxy(settings: DownloadSettings, environ: dict[str, str] | None = None) -> None:
    """Give both hub libraries the proxy setting.

    huggingface_hub (httpx) and modelscope (requests) both read the standard proxy variables
    and have no shared per-call option, so the server process sets them once at start. Without
    a proxy setting the user's own environment stays as it is.
    """
    env = os.environ if environ is None else environ
    if settings.proxy:
        for name in PROXY_VARIABLES:
            env[name] = settings.proxy
        env.setdefault("NO_PROXY", "127.0.0.1,localhost")
        log.info("downloads use the proxy from the settings")


def build_download_manager(
    paths: AppPaths,
    settings: DownloadSettings,
    token_for: Callable[[HubName], str | None] = lambda hub: None,
    **options: Any,
) -> DownloadManager:
    """`options` go to `DownloadManager` (tests pass a fake free-space probe, a fast backoff)."""

    def remote_hubs(hub: HubName | None) -> list[RemoteHub]:
        if hub is None:
            return hubs_for(settings, token_for)
        return [open_hub(hub, endpoint=endpoint_for(hub, settings), token=token_for(hub))]

    def headers_for(hub: HubName) -> dict[str, str]:
        if hub != "huggingface":
            return {}
        # Exported lazily by huggingface_hub.utils, which mypy cannot see.
        from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]

        # None lets huggingface_hub use the token of `hf auth login` or HF_TOKEN, if any.
        return dict(build_hf_headers(token=token_for(hub), library_name="xindesk"))

    return DownloadManager(
        store=JobStore(paths.downloads_dir),
        hubs_for=remote_hubs,
        headers_for=headers_for,
        max_parallel=settings.max_parallel,
        retries=settings.retries,
        **options,
    )
