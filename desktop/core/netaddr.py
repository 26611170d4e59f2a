"""Is an address this machine only? One answer for the CLI, the server, the export and the GUI."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address, IPv6 maybe in brackets) is this machine only."""
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    """Whether `url` points at this machine (127.0.0.1, ::1 or localhost)."""
    return is_loopback(urlsplit(url).hostname or "")
