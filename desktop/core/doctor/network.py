"""The doctor's network checks: is the XinDesk server answering, and can the model hubs be
reached (through the proxy in the settings, with short timeouts)."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from desktop.api.hubs import HUB_NAMES, HUB_TITLES
from desktop.api.settings import DownloadSettings
from desktop.client import ClientError, XinDeskClient
from desktop.core.doctor.redact import without_credentials
from desktop.core.doctor.report import Section, Status

# httpx is imported by the checks that use it: the server imports this module for its doctor
# route, and httpx with the rich/click/pygments it loads for its own command line (when they
# are installed) is 5 MiB of an idle server's memory.

log = logging.getLogger("xindesk.doctor")

#: Seconds each server request may take: a healthy local server answers in milliseconds.
SERVER_TIMEOUT_S = 5.0
#: Seconds each hub may take to connect and answer.
HUB_TIMEOUT_S = 5.0
#: The smallest real API call of each hub: one model of a listing.
HUB_PROBES = {
    "huggingface": "/api/models?limit=1",
    "modelscope": "/openapi/v1/models?page_size=1",
}


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def server_section(endpoint: str, api_key: str | None, *, required: bool) -> Section:
    """Ask the server at `endpoint` for its status, version and running models.

    Args:
        endpoint: The server's address, e.g. http://127.0.0.1:9997.
        api_key: Sent when set (the configured key: `--api-key`, XINDESK_API_KEY, keychain).
        required: The address was asked for explicitly, so not reaching it is a failure;
            otherwise no server running is normal (the window starts one) and only a warning.
    """
    import httpx

    details: dict[str, Any] = {
        "endpoint": endpoint,
        "reachable": False,
        "kind": None,
        "version": None,
        "auth": api_key is not None,
        "models": [],
        "http_status": None,
        "error": None,
    }
    unreachable: Status = "fail" if required else "warn"
    try:
        with XinDeskClient(endpoint, api_key, timeout=SERVER_TIMEOUT_S) as client:
            client.status()
            details["reachable"] = True
            try:
                info = client.server_info()
                details["kind"], details["version"] = "XinDesk", info.version
            except ClientError as exc:
                if exc.status != 404:
                    raise
                # Not XinDesk: an Xinference server answers its own version route.
                version = client.cluster_version()
                details["kind"], details["version"] = "Xinference", version.version
            details["models"] = [
                {
                    "uid": model.id,
                    "status": model.status.value,
                    "runs_on": model.offload.summary if model.offload else None,
                }
                for model in client.list_models()
            ]
    except ClientError as exc:
        details["http_status"] = exc.status or None
        details["error"] = exc.detail
        if exc.status == 0:
            summary = f"No server answers at {endpoint} (not running?)"
            return Section("server", unreachable, summary, details)
        if exc.status == 401:
            summary = (
                f"The server at {endpoint} needs an API key: give it with --api-key or "
                f"XINDESK_API_KEY (or keep it in the keychain with `xindesk api-key create`)."
            )
            return Section("server", "warn", summary, details)
        summary = f"The server at {endpoint} answered HTTP {exc.status}: {exc.detail}"
        return Section("server", "fail" if required else "warn", summary, details)
    except (httpx.HTTPError, ValueError) as exc:
        details["error"] = _reason(exc)
        summary = f"Cannot reach {endpoint}: {_reason(exc)}"
        return Section("server", unreachable, summary, details)
    models = details["models"]
    running = f"{len(models)} model{'s' if len(models) != 1 else ''} running"
    summary = f"{details['kind']} {details['version']} at {endpoint}, {running}"
    lines = [f"{m['uid']}: {m['status']}, on {m['runs_on'] or 'unknown'}" for m in models]
    return Section("server", "ok", summary, details, lines)


def hub_endpoints(settings: DownloadSettings) -> dict[str, str]:
    """Each hub's address as the downloads would use it (the settings', else the library's
    default, which reads HF_ENDPOINT / MODELSCOPE_ENDPOINT)."""
    from desktop.core.hub.sources import endpoint_for, open_hub

    endpoints: dict[str, str] = {}
    for hub in HUB_NAMES:
        # Both hub classes resolve their address when made; the protocol does not name it.
        endpoints[hub] = str(
            getattr(open_hub(hub, endpoint=endpoint_for(hub, settings)), "endpoint", "")
        )
    return endpoints


def probe_hub(hub: str, endpoint: str, proxy: str | None, timeout: float) -> dict[str, Any]:
    """One GET of the hub's smallest API call; what came back, or why nothing did."""
    import httpx

    url = endpoint.rstrip("/") + HUB_PROBES[hub]
    started = time.monotonic()
    result: dict[str, Any] = {
        "hub": hub,
        "endpoint": endpoint,
        "ok": False,
        "http_status": None,
        "error": None,
        "seconds": None,
    }
    try:
        with httpx.Client(proxy=proxy or None, timeout=timeout, follow_redirects=True) as http:
            response = http.get(url)
    except (httpx.HTTPError, ImportError, ValueError) as exc:
        # ImportError: a socks5:// proxy without the socksio package.
        result["error"] = _reason(exc)
    else:
        result["http_status"] = response.status_code
        result["ok"] = response.status_code < 400
        if not result["ok"]:
            result["error"] = f"HTTP {response.status_code} from {url}"
    result["seconds"] = round(time.monotonic() - started, 3)
    return result


def hubs_section(settings: DownloadSettings, *, timeout: float = HUB_TIMEOUT_S) -> Section:
    """Both hubs, checked at once; only the hubs the download source uses decide the status
    (a blocked ModelScope does not matter to someone who downloads from Hugging Face)."""
    endpoints = hub_endpoints(settings)
    used = set(endpoints) if settings.source == "auto" else {settings.source}
    with ThreadPoolExecutor(max_workers=len(endpoints)) as pool:
        futures = [
            pool.submit(probe_hub, hub, endpoint, settings.proxy, timeout)
            for hub, endpoint in endpoints.items()
        ]
        results = [future.result() for future in futures]
    for result in results:
        result["used"] = result["hub"] in used
    details: dict[str, Any] = {
        "source": settings.source,
        "proxy": without_credentials(settings.proxy),
        "hubs": results,
    }
    parts = []
    for result in results:
        title = HUB_TITLES[result["hub"]]
        if result["ok"]:
            parts.append(f"{title} ok ({result['http_status']}, {result['seconds']:.1f} s)")
        else:
            parts.append(f"{title} at {result['endpoint']}: {result['error']}")
    lines = [] if not settings.proxy else [f"Through the proxy {details['proxy']}"]
    failing = [r for r in results if r["used"] and not r["ok"]]
    status: Status = "warn" if failing else "ok"
    if failing:
        lines.append(
            "Models already downloaded still run. To download, set a mirror (e.g. "
            "https://hf-mirror.com), choose the other hub, or set a proxy in Settings."
        )
    return Section("hubs", status, "; ".join(parts), details, lines)


#: The most log records one request may ask for (the server keeps 5000).
SERVER_LOG_LIMIT = 5000


def fetch_server_log(endpoint: str, api_key: str | None) -> tuple[list[str] | None, str | None]:
    """The server's recent log lines (already redacted by the server), or None and why not."""
    import httpx

    try:
        with XinDeskClient(endpoint, api_key, timeout=SERVER_TIMEOUT_S) as client:
            answer = client.logs(limit=SERVER_LOG_LIMIT)
    except ClientError as exc:
        return None, f"{endpoint} did not give its log: {exc.detail}"
    except (httpx.HTTPError, ValueError) as exc:
        return None, f"{endpoint} did not give its log: {_reason(exc)}"
    lines = [
        f"{record.time:.3f} {record.level} {record.logger}: {record.message}"
        for record in answer.records
    ]
    return lines, None
