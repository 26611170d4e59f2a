"""The window's link to one server: the local XinDesk it started, or a remote one by URL.

Every page reads the server through `ApiSession.client` (the same typed REST client the command
line uses) inside `Tasks`, never on the GUI thread. When the endpoint or key changes, `changed`
fires and pages reload.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from desktop.client import XinDeskClient

log = logging.getLogger("xindesk.gui.session")


class ApiSession(QObject):
    """Endpoint + API key + client.

    Signals:
        changed: the endpoint or key changed, or the server there became reachable (pages
            reload what they show).
    """

    changed = Signal()

    def __init__(
        self,
        endpoint: str,
        api_key: str | None = None,
        parent: QObject | None = None,
        *,
        key_loader: Callable[[], str | None] | None = None,
    ) -> None:
        super().__init__(parent)
        self._endpoint = endpoint.rstrip("/")
        self._api_key = api_key
        # Reading the keychain takes ~0.1 s (keyring discovers its backends): done on first
        # use, usually in a worker thread, not before the window's first paint.
        self._key_loader = key_loader if api_key is None else None
        # Clients are made on first use (from any thread): building one loads the TLS
        # certificates, which would delay the window's first paint.
        self._lock = threading.Lock()
        self._client: XinDeskClient | None = None
        self._slow_client: XinDeskClient | None = None

    @property
    def endpoint(self) -> str:
        return self._endpoint

    @property
    def api_key(self) -> str | None:
        with self._lock:
            return self._resolved_key()

    def _resolved_key(self) -> str | None:
        if self._key_loader is not None:
            loader, self._key_loader = self._key_loader, None
            self._api_key = loader()
        return self._api_key

    @property
    def client(self) -> XinDeskClient:
        with self._lock:
            if self._client is None:
                self._client = XinDeskClient(self._endpoint, self._resolved_key(), timeout=30)
            return self._client

    @property
    def slow_client(self) -> XinDeskClient:
        """For calls that may take minutes (a launch that waits for the model, a chat)."""
        with self._lock:
            if self._slow_client is None:
                key = self._resolved_key()
                self._slow_client = XinDeskClient(self._endpoint, key, timeout=3600)
            return self._slow_client

    def connect_to(self, endpoint: str, api_key: str | None) -> None:
        """Point every later call at another server (calls in flight fail and are retried by
        the pages' next refresh)."""
        with self._lock:
            old = (self._client, self._slow_client)
            self._endpoint = endpoint.rstrip("/")
            self._api_key = api_key
            self._key_loader = None
            self._client = self._slow_client = None
        for client in old:
            if client is not None:
                client.close()
        log.info("now talking to %s (key %s)", self._endpoint, "set" if api_key else "none")
        self.changed.emit()

    def reachable(self) -> None:
        """The server at this endpoint has just become reachable (it started, or came back):
        pages reload, so nothing they showed while it could not be reached stays."""
        log.info("the server at %s answers", self._endpoint)
        self.changed.emit()

    def close(self) -> None:
        with self._lock:
            for client in (self._client, self._slow_client):
                if client is not None:
                    client.close()
            self._client = self._slow_client = None
