"""Which address FastGPT reaches XinDesk by, from where FastGPT runs.

The most common FastGPT failure with a local model is a `127.0.0.1` that, inside a Docker
container, is the container itself (FastGPT issues #2013, #2016, #664, #722, #363). So the export
asks where FastGPT runs instead of writing a fixed host:

* ``same``: FastGPT runs on this machine, outside Docker: ``127.0.0.1``.
* ``docker``: FastGPT runs in Docker on this machine: ``host.docker.internal``.
* ``lan``: FastGPT runs on another machine: this machine's LAN IPv4 address, which needs
  XinDesk to listen beyond loopback and, for that, an API key.
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from desktop.api.export import TARGETS as TARGETS
from desktop.api.export import Target as Target
from desktop.core.errors import ConfigError
from desktop.core.netaddr import is_loopback, lan_ipv4_addresses

#: What each target means, for a menu or `--help`.
TARGET_TITLES: dict[Target, str] = {
    "same": "FastGPT runs on this machine (not in Docker)",
    "docker": "FastGPT runs in Docker on this machine",
    "lan": "FastGPT runs on another machine",
}

LOOPBACK_HOST = "127.0.0.1"
DOCKER_HOST = "host.docker.internal"
# Docker Desktop defines host.docker.internal itself; Linux needs this line in the compose file.
DOCKER_HOST_GATEWAY = f"{DOCKER_HOST}:host-gateway"


@dataclass(frozen=True)
class HostChoice:
    """The host to write into the export, and what the person must know about it."""

    host: str
    warnings: tuple[str, ...] = ()


def _is_unspecified(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def _docker_warnings(listen_host: str, platform: str) -> list[str]:
    if not platform.startswith("linux"):
        return []
    warnings = [
        f"On Linux, {DOCKER_HOST} exists only if FastGPT's service in docker-compose.yml has "
        f'extra_hosts: ["{DOCKER_HOST_GATEWAY}"]; add it, then docker-compose up -d.'
    ]
    if is_loopback(listen_host):
        warnings.append(
            f"XinDesk listens on {listen_host} only, which a Linux container cannot reach "
            f"through {DOCKER_HOST} (that is the docker bridge address). Turn on LAN access "
            f"(it needs an API key) so XinDesk listens on all interfaces."
        )
    return warnings


def resolve_host(
    target: Target,
    *,
    listen_host: str,
    api_key: str | None,
    host: str | None = None,
    platform: str | None = None,
    interfaces: Mapping[str, Sequence[Any]] | None = None,
) -> HostChoice:
    """The host FastGPT should use to reach XinDesk.

    Args:
        target: Where FastGPT runs (see the module docstring).
        listen_host: The address XinDesk listens on (`0.0.0.0` when LAN access is on).
        api_key: XinDesk's API key, if it has one.
        host: A host the person typed; it replaces the chosen one (the checks still apply).
        platform: `sys.platform` of this machine (tests pass another).
        interfaces: Network interfaces for `lan_ipv4_addresses` (tests pass fakes).

    Raises:
        ConfigError: `lan` while XinDesk listens on loopback only or has no API key, or when
            no LAN address can be found.
    """
    platform = platform or sys.platform
    if target == "same":
        return HostChoice(
            host or LOOPBACK_HOST,
            (
                "Use this only when FastGPT runs on this machine outside Docker: inside a "
                "container 127.0.0.1 is the container itself (choose Docker then).",
            ),
        )
    if target == "docker":
        return HostChoice(host or DOCKER_HOST, tuple(_docker_warnings(listen_host, platform)))
    if target != "lan":
        raise ConfigError(f"Unknown target {target!r}: use one of {', '.join(TARGETS)}.")
    if is_loopback(listen_host):
        raise ConfigError(
            f"FastGPT on another machine cannot reach XinDesk: it listens on {listen_host} only. "
            f"Turn on LAN access in Settings (or run `xindesk serve --host 0.0.0.0 --api-key "
            f"KEY`), then export again."
        )
    if not api_key:
        raise ConfigError(
            "LAN access needs an API key, so that only FastGPT (and you) can use the models. "
            "Create one (`xindesk api-key create`) and restart the server."
        )
    if host:
        return HostChoice(host)
    if not _is_unspecified(listen_host):
        # XinDesk listens on one address: that is the one FastGPT must use.
        return HostChoice(listen_host)
    addresses = lan_ipv4_addresses(interfaces)
    if not addresses:
        raise ConfigError(
            "This machine has no LAN IPv4 address to give FastGPT; give the address FastGPT "
            "should use as the host."
        )
    warnings = []
    if len(addresses) > 1:
        warnings.append(
            f"This machine has several addresses ({', '.join(addresses)}); {addresses[0]} is "
            f"used. Pick another as the host if FastGPT's machine is on another network."
        )
    return HostChoice(addresses[0], tuple(warnings))
