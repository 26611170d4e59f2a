"""What every model hub shares: the records a hub answers with, the protocol the rest of the core
sees a hub through, and the "auto" source's fallback from one hub to the next.

Every API call goes through `huggingface_hub` or `modelscope_hub` (the package `modelscope` itself
delegates to since 1.3x), never through URLs we build: the libraries know the routes, paging,
authentication and retries, and our test hub speaks exactly what they call. The one request of
our own is the reachability probe (`probe_endpoint`), a HEAD to the hub's address with a short
timeout, because neither library can ask "is it there at all?" without half a minute of retries.
The hubs (`huggingface`, `modelscope`) turn the libraries' answers into these records and their
exceptions into ours:

    repository, revision or file that does not exist  -> ModelNotFound (names hub and repo)
    connection refused, timeout, DNS, proxy failure    -> HubUnreachable (names the endpoint,
                                                          suggests the mirror / ModelScope)
    any other error status                             -> HubError
    a repo id the library rejects                      -> InvalidRequest

Proxies: both libraries honour the standard HTTPS_PROXY / HTTP_PROXY / NO_PROXY variables
(huggingface_hub through httpx2, modelscope_hub through requests), and the server process sets
them from the settings at start (`desktop.core.hub.wiring.apply_proxy`), so nothing here takes a
proxy argument. The reachability probe uses httpx, which reads the same variables.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar, runtime_checkable

from desktop.api.hubs import HUB_TITLES, HubName
from desktop.core.errors import HubError, HubUnreachable

log = logging.getLogger("xindesk.hub")

#: Seconds the reachability probe waits; a blocked hub must not cost the user minutes.
PROBE_TIMEOUT = 5.0
#: Seconds the hub libraries wait for a connection (`desktop.core.hub.wiring.configure_clients`).
CONNECT_TIMEOUT = 5.0
#: Seconds the hub libraries wait for an API answer once connected; downloads have their own.
READ_TIMEOUT = 30.0

T = TypeVar("T")


@dataclass(frozen=True)
class RemoteFile:
    """One file of a repository as the hub lists it.

    Attributes:
        path: Path inside the repository, "/"-separated.
        size: Size in bytes.
        sha256: The LFS object id on Hugging Face, `Sha256` on ModelScope; None for small
            files kept in git (Hugging Face gives only their git sha1, which is not a sha256).
    """

    path: str
    size: int
    sha256: str | None


@dataclass(frozen=True)
class RepoSummary:
    """One search hit.

    Attributes:
        gguf_files: How many `.gguf` files the repository holds, when the hub said (Hugging
            Face lists files with search results; ModelScope does not, hence None there).
        updated: ISO 8601 time of the last change, when known.
    """

    hub: HubName
    repo_id: str
    downloads: int
    likes: int
    updated: str | None
    tags: tuple[str, ...]
    gguf_files: int | None


class RemoteHub(Protocol):
    """One hub (Hugging Face, a mirror of it, or ModelScope) as the rest of the core sees it."""

    name: HubName

    def search(self, query: str, *, limit: int = 30) -> list[RepoSummary]:
        """Repositories with GGUF files matching `query`, most downloaded first."""
        ...

    def list_files(self, repo_id: str, revision: str | None = None) -> list[RemoteFile]:
        """Every file of the repository (recursively), with sizes and sha256 where known."""
        ...

    def file_url(self, repo_id: str, path: str, revision: str | None = None) -> str:
        """The URL the library itself downloads `path` from."""
        ...

    def resolve_revision(self, repo_id: str, revision: str | None = None) -> str:
        """A revision to pin downloads to: the commit sha (Hugging Face), the branch or tag
        name (ModelScope, whose download API takes names)."""
        ...


@runtime_checkable
class Probeable(Protocol):
    """A hub that can tell quickly whether it can be reached (ours can; test fakes need not)."""

    def probe(self, timeout: float = PROBE_TIMEOUT) -> None:
        """Raise HubUnreachable unless the hub's address answers within `timeout` seconds."""
        ...


def first_reachable(
    hubs: Sequence[RemoteHub],
    call: Callable[[RemoteHub], T],
    *,
    probe_timeout: float = PROBE_TIMEOUT,
) -> T:
    """`call` on the first hub that can be reached (the "auto" source's fallback).

    A hub that cannot be reached (refused, timed out, no DNS, proxy failure) is skipped; one that
    answers "not found" ends the search with ModelNotFound, because falling back would hide a
    wrong name behind a "not found" from the other hub. Each hub is first probed with a short
    timeout, since the libraries' own retries take half a minute or more to give up. A caller
    that needs to know which hub answered returns it from `call`.
    """
    if not hubs:
        raise HubError("No model hub is configured; pick a download source in Settings.")
    failures: list[HubUnreachable] = []
    for hub in hubs:
        try:
            if isinstance(hub, Probeable):
                hub.probe(probe_timeout)
            return call(hub)
        except HubUnreachable as exc:
            log.warning("%s is unreachable: %s", hub.name, exc)
            failures.append(exc)
    if len(failures) == 1:
        raise failures[0]
    raise HubUnreachable("No model hub could be reached. " + " ".join(str(f) for f in failures))


def probe_endpoint(hub: HubName, endpoint: str, timeout: float, hint: str) -> None:
    """Raise HubUnreachable (with `hint`) unless `endpoint` answers within `timeout` seconds."""
    # Any HTTP answer at all means the address works; what it says is the real call's business.
    # A direct request because neither library has a bounded, retry-free call for this.
    import httpx

    try:
        httpx.head(endpoint, timeout=timeout, follow_redirects=False)
    except httpx.HTTPError as exc:
        why = f"no answer within {timeout:g} s" if isinstance(exc, httpx.TimeoutException) else None
        raise HubUnreachable(unreachable(hub, endpoint, why or reason(exc), hint)) from exc


def unreachable(hub: HubName, endpoint: str, why: str, hint: str) -> str:
    """The message for a hub that cannot be reached: which one, why, and what to try instead."""
    return (
        f"Cannot reach {HUB_TITLES[hub]} at {endpoint} (offline, or blocked where you are): "
        f"{why}. {hint}"
    )


# -- small helpers shared by the hubs ------------------------------------------------------------


def reason(exc: BaseException) -> str:
    """The innermost message of a transport error ("[Errno 111] Connection refused")."""
    text = str(exc).strip()
    return text or type(exc).__name__


def is_gguf(path: str) -> bool:
    return path.lower().endswith(".gguf")


def lowered(values: Sequence[str]) -> set[str]:
    return {value.lower() for value in values}


def iso_time(value: object) -> str | None:
    """A hub's timestamp (datetime, ISO text or epoch seconds) as ISO 8601 text."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        from datetime import UTC

        seconds = value / 1000 if value > 1e11 else value  # some answers are in milliseconds
        return datetime.fromtimestamp(seconds, tz=UTC).isoformat()
    return str(value)


#: A hub library's exception as ours (ModelNotFound, HubUnreachable, ...), or None for one that
#: is not about the hub: (exception, endpoint, repo_id, revision).
ErrorMapper = Callable[[Exception, str, str | None, str | None], Exception | None]


@contextlib.contextmanager
def hub_errors(
    mapper: ErrorMapper, endpoint: str, repo_id: str | None, revision: str | None
) -> Iterator[None]:
    """Raise the library's errors inside as ours (`mapper`); others go through unchanged."""
    try:
        yield
    except Exception as exc:
        mapped = mapper(exc, endpoint, repo_id, revision)
        if mapped is None:
            raise
        raise mapped from exc
