"""The window's link to one server: the local XinDesk it started, or a remote one by URL.

Every page reads the server through `ApiSession.client` (the same typed REST client the command
line uses) inside `Tasks`, never on the GUI thread. When the endpoint or key changes, `changed`
fires and pages reload.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from desktop.client import XinDeskClient

log = logging.getLogger("xindesk.gui.session")


class ApiSession(QObject):
    """Endpoint + API key + client.

    Signals:
        changed: the endpoint or key changed (pages reload what they show).
    """

    changed = Signal()

    def __init__(
        self, endpoint: str, api_key: str | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._endpoint = endpoint.rstrip("/")
        self._api_key = api_key
        self._client = XinDeskClient(self._endpoint, api_key, timeout=30)
        # Launching waits for a model to load; that call gets a client with a long timeout.
        self._slow_client = XinDeskClient(self._endpoint, api_key, timeout=3600)

    @property
    def endpoint(self) -> str:
        return self._endpoint

    @property
    def api_key(self) -> str | None:
        return self._api_key

    @property
    def client(self) -> XinDeskClient:
        return self._client

    @property
    def slow_client(self) -> XinDeskClient:
        """For calls that may take minutes (a launch that waits for the model, a chat)."""
        return self._slow_client

    def connect_to(self, endpoint: str, api_key: str | None) -> None:
        """Point every later call at another server (old in-flight calls finish on the old one)."""
        old = (self._client, self._slow_client)
        self._endpoint = endpoint.rstrip("/")
        self._api_key = api_key
        self._client = XinDeskClient(self._endpoint, api_key, timeout=30)
        self._slow_client = XinDeskClient(self._endpoint, api_key, timeout=3600)
        for client in old:
            client.close()
        log.info("now talking to %s (key %s)", self._endpoint, "set" if api_key else "none")
        self.changed.emit()

    def close(self) -> None:
        self._client.close()
        self._slow_client.close()
