"""Builds the download manager from the settings: which hubs, which endpoints, which tokens."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from desktop.api.hubs import HubName
from desktop.api.settings import DownloadSettings
from desktop.core.errors import SecretStoreUnavailable
from desktop.core.hub.jobs import JobStore
from desktop.core.hub.manager import DownloadManager
from desktop.core.hub.remote import CONNECT_TIMEOUT, READ_TIMEOUT, RemoteHub
from desktop.core.hub.sources import endpoint_for, hubs_for, open_hub
from desktop.core.paths import AppPaths
from desktop.core.secrets import SecretStore
from desktop.core.settings import SettingsChange, SettingsStore

log = logging.getLogger("xindesk.hub")

TOKEN_NAMES: dict[HubName, str] = {"huggingface": "hf_token", "modelscope": "modelscope_token"}
# Where each hub library finds a token when XinDesk gives none (its own login aside).
TOKEN_VARIABLES: dict[HubName, tuple[str, ...]] = {
    "huggingface": ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"),
    "modelscope": ("MODELSCOPE_API_TOKEN",),
}
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")


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


#: ModelScope's SDK reads its timeouts from these when it is first imported.
MODELSCOPE_TIMEOUT_VARIABLES = {
    "MODELSCOPE_API_CONNECT_TIMEOUT": CONNECT_TIMEOUT,
    "MODELSCOPE_API_TIMEOUT": READ_TIMEOUT,
}


def configure_clients(environ: dict[str, str] | None = None) -> None:
    """Give both hub libraries short timeouts, so that an offline or blocked hub fails in
    seconds, not in minutes.

    huggingface_hub's shared HTTP client waits forever by default (`timeout=None`); its
    documented `set_client_factory` builds it with XinDesk's connect and read timeouts instead
    (downloads pass their own read timeout per request). ModelScope's SDK reads its timeouts
    from the environment when first imported, which in the server is after this runs; a value
    the user set stays. Call once, at server start, like `apply_proxy`.
    """
    env = os.environ if environ is None else environ
    for name, seconds in MODELSCOPE_TIMEOUT_VARIABLES.items():
        env.setdefault(name, str(int(seconds)))
    if environ is not None:
        return  # a test's own mapping: the process's libraries are not touched

    import httpx2
    from huggingface_hub import set_client_factory
    from huggingface_hub.utils._http import default_client_factory

    def short_timeouts() -> httpx2.Client:
        client = default_client_factory()
        client.timeout = httpx2.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)
        return client

    set_client_factory(short_timeouts)
    log.debug("hub clients: %.0f s to connect, %.0f s to answer", CONNECT_TIMEOUT, READ_TIMEOUT)


def change_proxy(
    old_proxy: str | None, settings: DownloadSettings, environ: dict[str, str] | None = None
) -> None:
    """Apply a changed proxy setting to the running process.

    Variables still holding the old setting's value were set by `apply_proxy`, so they go first:
    clearing the setting then gives back the user's own environment rather than a stale proxy.
    """
    env = os.environ if environ is None else environ
    if old_proxy == settings.proxy:
        return
    if old_proxy:
        for name in PROXY_VARIABLES:
            if env.get(name) == old_proxy:
                del env[name]
    apply_proxy(settings, environ)
    if "huggingface_hub" in sys.modules:
        # huggingface_hub keeps one httpx client, which read the proxy variables when it was
        # made; closing it makes the next call build one with the new proxy.
        from huggingface_hub import close_session

        close_session()
    log.info("download proxy %s", "changed" if settings.proxy else "turned off")


class HubTokens:
    """The hub tokens kept in the keychain, read once and refreshed when changed through here.

    `get` is the download manager's `token_for`. With no token stored (or no keychain) it gives
    None, which lets each library use its own: HF_TOKEN or `hf auth login` for Hugging Face,
    MODELSCOPE_API_TOKEN or a saved login for ModelScope.
    """

    def __init__(self, store: SecretStore) -> None:
        self._store = store
        self._cache: dict[HubName, str | None] = {}
        self._guard = threading.Lock()

    def get(self, hub: HubName) -> str | None:
        with self._guard:
            if hub in self._cache:
                return self._cache[hub]
        try:
            token = self._store.get(TOKEN_NAMES[hub])
        except SecretStoreUnavailable:
            token = None
        with self._guard:
            self._cache[hub] = token
        return token

    def set(self, hub: HubName, token: str) -> None:
        """Store the token; raises SecretStoreUnavailable (and keeps the old one) without a
        keychain."""
        self._store.set(TOKEN_NAMES[hub], token)
        with self._guard:
            self._cache[hub] = token

    def delete(self, hub: HubName) -> None:
        self._store.delete(TOKEN_NAMES[hub])
        with self._guard:
            self._cache[hub] = None


def build_download_manager(
    paths: AppPaths,
    settings: Callable[[], DownloadSettings],
    token_for: Callable[[HubName], str | None] = lambda hub: None,
    **options: Any,
) -> DownloadManager:
    """`settings` gives the download settings as they are now; `options` go to
    `DownloadManager` (tests pass a fake free-space probe, a fast backoff).

    The hubs are built from `settings()` at each call, so a changed endpoint applies to the
    next search, listing and download; the manager's own limits follow the settings through
    `follow_download_settings`.
    """

    def remote_hubs(hub: HubName | None) -> list[RemoteHub]:
        current = settings()
        if hub is None:
            return hubs_for(current, token_for)
        return [open_hub(hub, endpoint=endpoint_for(hub, current), token=token_for(hub))]

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
        max_parallel=settings().max_parallel,
        retries=settings().retries,
        **options,
    )


def follow_download_settings(store: SettingsStore, manager: DownloadManager) -> None:
    """Apply changed download settings as they are saved: the proxy to this process, the
    parallel and retry limits to the manager (endpoints are read at each call anyway)."""

    def changed(change: SettingsChange) -> None:
        if not change.touches("downloads"):
            return
        new = change.new.downloads
        change_proxy(change.old.downloads.proxy, new)
        manager.reconfigure(max_parallel=new.max_parallel, retries=new.retries)

    store.subscribe(changed)
