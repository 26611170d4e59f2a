"""Browser safety: what keeps web pages in the user's browser from driving the server.

The server runs all day on 127.0.0.1, without a key by default, next to a browser that opens
any page. A page cannot read the answers of another origin (the browser's CORS rule), but it
can send some requests to any origin without asking first, and through DNS rebinding it can
make a name of its own point at 127.0.0.1. `BrowserGuard`, a pure ASGI middleware ahead of
every route, closes those doors, and is the one place that decides which web origins may call:

- Host: the request's `Host` must be a name of this server: the loopback names, the Docker
  hosts' names for this computer (`host.docker.internal`, which FastGPT's export writes), the
  address it was started on, this machine's own addresses and names when it listens beyond
  loopback, and `server.allowed_hosts`. A rebinding page sends its own name: refused (400).
- Origin: a request that changes something (POST, PUT, PATCH, DELETE) from a page of another
  origin is refused (403) unless that origin is in `server.cors_origins`; without `Origin`,
  `Sec-Fetch-Site: cross-site` or `same-site` is refused too. Programs that are not browsers
  (curl, the SDKs, FastGPT's server) send neither header and are not affected.
- Content type: a body sent to change something must be JSON (415). A page may send text/plain,
  form and multipart bodies to any origin without a CORS preflight; a JSON body always needs
  one, and only the listed origins pass it.
- Size: a body larger than `server.max_body_mb` is refused (413), counted as it arrives.
- CORS: preflight answers and `Access-Control-Allow-Origin` for the listed origins only.

The settings are read on every request, so a change to these lists applies at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from desktop.api.settings import Settings, normalized_host, normalized_origin
from desktop.core.netaddr import is_loopback, machine_addresses, machine_names
from desktop.core.units import MiB

log = logging.getLogger("xindesk.server.guards")

CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Names that mean this computer whatever DNS answers: browsers resolve `localhost` and
# `*.localhost` themselves, and Docker Desktop (and Podman) give containers these for the host.
LOCAL_NAMES = frozenset({"localhost", "host.docker.internal", "host.containers.internal"})
# How often a Host that is none of the known addresses makes the guard look at the interfaces
# again (a laptop that changed networks has a new address).
MACHINE_REFRESH_S = 10.0
PREFLIGHT_MAX_AGE_S = 600
CORS_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"


def host_of(header: str) -> str | None:
    """The name in a `Host` header (port left out) in `normalized_host`'s form; None when it
    is not a host name or address at all."""
    value = header.strip()
    if value.startswith("["):
        end = value.find("]")
        rest = value[end + 1 :]
        if end < 0 or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            return None
        name = value[1:end]
    else:
        name, colon, port = value.rpartition(":")
        if not colon:
            name = value
        elif not port.isdigit():
            return None
    try:
        return normalized_host(name)
    except ValueError:
        return None


def origin_or_none(text: str) -> str | None:
    try:
        return normalized_origin(text)
    except ValueError:
        return None


def is_json(content_type: str) -> bool:
    """Whether a `Content-Type` names JSON (parameters such as charset allowed)."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _this_machine() -> set[str]:
    return machine_addresses() | machine_names()


class HostAllowlist:
    """The names this server answers to (see the module docstring).

    Args:
        listen_host: the address the server was started on.
        this_machine: this machine's addresses and names (asked again at most every
            `MACHINE_REFRESH_S` when a Host is none of them); only used when the server listens
            beyond loopback.
        clock: seconds, for the refresh.
    """

    def __init__(
        self,
        listen_host: str,
        *,
        this_machine: Callable[[], set[str]] = _this_machine,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        try:
            self.listen_host = normalized_host(listen_host)
        except ValueError:
            self.listen_host = listen_host.strip("[]").lower()
        self.beyond_loopback = not is_loopback(listen_host)
        self._this_machine = this_machine
        self._clock = clock
        self._known: set[str] = set()
        self._checked_at: float | None = None

    def allows(self, name: str, allowed_hosts: Sequence[str] = ()) -> bool:
        """Whether `name` (in `normalized_host`'s form) is one of this server's names."""
        if (
            name in LOCAL_NAMES
            or name.endswith(".localhost")
            or is_loopback(name)
            or name == self.listen_host
        ):
            return True
        for allowed in allowed_hosts:
            if name == allowed or (allowed.startswith("*.") and name.endswith(allowed[1:])):
                return True
        if not self.beyond_loopback:
            return False
        if name in self._known:
            return True
        now = self._clock()
        if self._checked_at is None or now - self._checked_at >= MACHINE_REFRESH_S:
            self._checked_at = now
            self._known = self._this_machine()
            return name in self._known
        return False


def _host_refused(name: str) -> str:
    return (
        f"This server does not answer to the name {name!r}. It answers only to this "
        "computer's own names, so that a web page cannot reach it through a name of its own "
        "(DNS rebinding). If you reach this computer under that name, add it to the allowed "
        'host names: the setting server.allowed_hosts (PATCH /v1/xindesk/settings {"server": '
        f'{{"allowed_hosts": ["{name}"]}}}} from this computer, or settings.json).'
    )


def _origin_refused(origin: str) -> str:
    return (
        f"A web page on {origin} may not change anything on this server (so that pages you "
        "visit cannot use it behind your back). To let that site call the server, add its "
        "origin to the setting server.cors_origins."
    )


_CROSS_SITE_REFUSED = (
    "A request from a web page of another site was refused (so that pages you visit cannot "
    "use this server behind your back). To let a site call the server, its page must send its "
    "Origin and the origin must be in the setting server.cors_origins."
)


def _content_type_refused(content_type: str | None) -> str:
    sent = f"'{content_type}'" if content_type else "no Content-Type"
    return (
        f"Send the request body as JSON with the header 'Content-Type: application/json' "
        f"(this request had {sent}). With curl: -H 'Content-Type: application/json'."
    )


def _too_large(limit_mb: int) -> str:
    return (
        f"The request body is larger than {limit_mb} MiB, this server's limit. Send less, or "
        "raise the limit with the setting server.max_body_mb."
    )


class BrowserGuard:
    """The pure ASGI middleware (see the module docstring).

    Args:
        app: the application behind it.
        listen_host: the address the server was started on.
        settings: the live settings (read on every request).
        hosts: the Host allowlist; built from `listen_host` when not given.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        listen_host: str,
        settings: Callable[[], Settings],
        hosts: HostAllowlist | None = None,
    ) -> None:
        self.app = app
        self.settings = settings
        self.hosts = hosts or HostAllowlist(listen_host)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        server = self.settings().server
        headers = Headers(scope=scope)
        host_header = headers.get("host")
        if host_header is not None:
            name = host_of(host_header)
            if name is None or not self.hosts.allows(name, server.allowed_hosts):
                log.warning("refused a request for the name %r (not this server's)", host_header)
                shown = name or host_header
                await self._refuse(scope, receive, send, 400, _host_refused(shown))
                return

        origin_header = headers.get("origin")
        origin = origin_or_none(origin_header) if origin_header is not None else None
        listed = origin is not None and origin in server.cors_origins
        if listed and scope["type"] == "http":
            send = _with_cors(send, origin_header or "")
        method = scope.get("method", "GET")

        if method == "OPTIONS" and origin_header and "access-control-request-method" in headers:
            await self._preflight(scope, receive, send, headers, origin_header, listed)
            return
        if method in CHANGING_METHODS or scope["type"] == "websocket":
            if origin_header is not None:
                same_origin = origin is not None and origin == self._own_origin(scope, host_header)
                if not listed and not same_origin:
                    log.warning(
                        "refused a cross-site %s %s from %s", method, scope["path"], origin_header
                    )
                    await self._refuse(scope, receive, send, 403, _origin_refused(origin_header))
                    return
            elif headers.get("sec-fetch-site") in ("cross-site", "same-site"):
                log.warning("refused a cross-site %s %s", method, scope["path"])
                await self._refuse(scope, receive, send, 403, _CROSS_SITE_REFUSED)
                return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        length_header = headers.get("content-length")
        try:
            length = int(length_header) if length_header is not None else None
        except ValueError:
            await self._refuse(scope, receive, send, 400, "The Content-Length is not a number.")
            return
        has_body = bool(length) or "transfer-encoding" in headers
        if method in CHANGING_METHODS:
            # A declared type must be JSON even for an empty body (an empty text/plain POST is
            # what a page sends to a route that takes no body); no type is fine without a body.
            content_type = headers.get("content-type")
            if (has_body or content_type is not None) and not is_json(content_type or ""):
                await self._refuse(scope, receive, send, 415, _content_type_refused(content_type))
                return
        limit_mb = server.max_body_mb
        if length is not None and length > limit_mb * MiB:
            await self._refuse(scope, receive, send, 413, _too_large(limit_mb))
            return
        if has_body:
            receive = _counted(receive, limit_mb)
        await self.app(scope, receive, send)

    @staticmethod
    def _own_origin(scope: Scope, host_header: str | None) -> str | None:
        """The origin of this server's own pages (its /docs), as the request addressed it."""
        if host_header is None:
            return None
        scheme = {"ws": "http", "wss": "https"}.get(scope["scheme"], scope["scheme"])
        return origin_or_none(f"{scheme}://{host_header}")

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, detail: str) -> None:
        if scope["type"] == "websocket":
            # Closing before accepting is answered with 403 by the server.
            await send({"type": "websocket.close", "code": 1008, "reason": detail[:120]})
            return
        await JSONResponse({"detail": detail}, status_code=status)(scope, receive, send)

    async def _preflight(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: Headers,
        origin: str,
        listed: bool,
    ) -> None:
        """Answer a CORS preflight: yes for a listed origin, a readable no for any other."""
        if not listed:
            await self._refuse(scope, receive, send, 403, _origin_refused(origin))
            return
        answer = {
            "Access-Control-Allow-Methods": CORS_METHODS,
            "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_S),
        }
        requested = headers.get("access-control-request-headers")
        if requested:
            answer["Access-Control-Allow-Headers"] = requested
        await Response(status_code=204, headers=answer)(scope, receive, send)


def _with_cors(send: Send, origin: str) -> Send:
    """`send` with the headers that let the page on `origin` (a listed one) read the answer."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            headers["Access-Control-Allow-Origin"] = origin
            headers.add_vary_header("Origin")
        await send(message)

    return sending


def _counted(receive: Receive, limit_mb: int) -> Receive:
    """`receive` that refuses the body (413, through the app's error handler) once more than
    `limit_mb` MiB of it arrived, whatever the Content-Length said."""
    received = 0

    async def receiving() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit_mb * MiB:
                raise HTTPException(413, _too_large(limit_mb))
        return message

    return receiving
