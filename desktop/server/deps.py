"""Annotated dependencies: the state a route needs, taken from `app.state`."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from desktop.api.settings import Settings
from desktop.core.catalog import Catalog
from desktop.core.hub.manager import DownloadManager
from desktop.core.hub.wiring import HubTokens
from desktop.core.netaddr import is_loopback
from desktop.core.paths import AppPaths
from desktop.core.running.supervisor import Supervisor
from desktop.core.secrets import SecretStore
from desktop.core.settings import SettingsStore
from desktop.core.store import ModelStore
from desktop.server.conversations import Conversations
from desktop.server.logbuffer import LogBuffer
from desktop.server.throttle import WrongKeyThrottle


@dataclass
class ServerState:
    """Everything the routes share; created in the app's lifespan, kept on `app.state.xd`."""

    settings_store: SettingsStore
    paths: AppPaths
    catalog: Catalog
    supervisor: Supervisor
    downloads: DownloadManager
    store: ModelStore
    api_key: str | None
    started_at: float
    host: str
    port: int
    secret_store: SecretStore
    tokens: HubTokens
    logs: LogBuffer
    # The settings as the server started with them: a field that only takes effect at start
    # (the address, LAN access) needs a restart while it differs from this.
    started_settings: Settings
    # Different wrong API keys per client address (see `require_api_key`).
    key_throttle: WrongKeyThrottle = field(default_factory=WrongKeyThrottle)
    # Responses that a later request may continue (`previous_response_id`).
    conversations: Conversations = field(default_factory=Conversations)

    @property
    def settings(self) -> Settings:
        """The settings as they are now (a snapshot: changes replace it, through the store)."""
        return self.settings_store.current

    @property
    def lan_access(self) -> bool:
        """Whether the server listens where other machines can reach it."""
        return not is_loopback(self.host)


def get_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.xd
    return state


StateDep = Annotated[ServerState, Depends(get_state)]


def get_supervisor(state: StateDep) -> Supervisor:
    return state.supervisor


def get_catalog(state: StateDep) -> Catalog:
    return state.catalog


SupervisorDep = Annotated[Supervisor, Depends(get_supervisor)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]


def presented_key(request: Request) -> str | None:
    auth = request.headers.get("authorization")
    if auth and auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-api-key")


def keys_match(given: str, expected: str) -> bool:
    """Compare in constant time, whatever the lengths (digests are compared, not the keys)."""
    return secrets.compare_digest(
        hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest()
    )


async def require_api_key(request: Request, state: StateDep) -> None:
    """Every protected route: the key must match when one is set.

    A missing key is a plain 401; an address trying many different wrong keys is slowed down
    (429, see `desktop.server.throttle`), while the right key always passes.
    """
    if state.api_key is None:
        return
    given = presented_key(request)
    if given is not None and keys_match(given, state.api_key):
        return
    if given is not None:
        address = request.client.host if request.client else "unknown"
        wait = state.key_throttle.failed(address, given)
        if wait is not None:
            raise HTTPException(
                status_code=429,
                detail=(
                    f"Too many different wrong API keys from {address}. Wait {wait} s before "
                    "trying again, and check the key this client sends."
                ),
                headers={"Retry-After": str(wait)},
            )
    raise HTTPException(
        status_code=401,
        detail=(
            "Invalid or missing API key. Send it as 'Authorization: Bearer <key>' or "
            "'x-api-key: <key>'."
        ),
        headers={"WWW-Authenticate": "Bearer"},
    )
