"""Which addresses are this machine only, and which can the LAN reach: one answer for the CLI,
the server, the export and the GUI."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

# Interfaces that are virtual bridges on this machine, not the LAN another machine can reach.
_VIRTUAL_INTERFACES = ("docker", "br-", "veth", "virbr", "cni", "flannel", "vmnet", "vboxnet", "lo")
# RFC 1918: what home and office LANs use (`is_private` also covers documentation ranges).
_LAN_NETWORKS = tuple(
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)


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


def lan_ipv4_addresses(interfaces: Mapping[str, Sequence[Any]] | None = None) -> list[str]:
    """This machine's IPv4 addresses another machine on the LAN can use, private ones first.

    Args:
        interfaces: `psutil.net_if_addrs()`'s shape (name → addresses with `family` and
            `address`); None asks psutil, and then only interfaces that are up count.
    """
    import socket

    up: set[str] | None = None
    if interfaces is None:
        import psutil

        interfaces = psutil.net_if_addrs()
        up = {name for name, stats in psutil.net_if_stats().items() if stats.isup}
    found: list[ipaddress.IPv4Address] = []
    for name, addresses in interfaces.items():
        if name.lower().startswith(_VIRTUAL_INTERFACES) or (up is not None and name not in up):
            continue
        for item in addresses:
            if getattr(item, "family", None) != socket.AF_INET:
                continue
            try:
                address = ipaddress.IPv4Address(str(item.address))
            except ValueError:
                continue
            if address.is_loopback or address.is_link_local or address.is_unspecified:
                continue
            found.append(address)
    # A stable sort: LAN addresses before the others, each group in the interfaces' order.
    found.sort(key=lambda a: not any(a in network for network in _LAN_NETWORKS))
    return [str(a) for a in found]


def machine_addresses(interfaces: Mapping[str, Sequence[Any]] | None = None) -> set[str]:
    """Every IPv4 and IPv6 address of this machine's interfaces (any interface, up or not;
    IPv6 without its zone), as `ipaddress` writes them: the IP literals a request to this
    machine can carry in its `Host`.

    Args:
        interfaces: `psutil.net_if_addrs()`'s shape; None asks psutil.
    """
    import socket

    if interfaces is None:
        import psutil

        interfaces = psutil.net_if_addrs()
    found: set[str] = set()
    for addresses in interfaces.values():
        for item in addresses:
            if getattr(item, "family", None) not in (socket.AF_INET, socket.AF_INET6):
                continue
            try:
                found.add(str(ipaddress.ip_address(str(item.address).split("%", 1)[0])))
            except ValueError:
                continue
    return found


def machine_names() -> set[str]:
    """This machine's own host name, lowercase, and its mDNS form (`name.local`) when the
    name has no domain: the names other machines on a LAN commonly reach it by."""
    import socket

    name = socket.gethostname().lower().rstrip(".")
    if not name:
        return set()
    return {name} if "." in name else {name, f"{name}.local"}
