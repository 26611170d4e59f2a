"""`xindesk serve` and `xindesk api-key`: the server, and the key it asks for."""

from __future__ import annotations

import argparse
import asyncio
import logging

from desktop.commands.output import out
from desktop.core.netaddr import is_loopback
from desktop.core.secrets import API_KEY_ENV

log = logging.getLogger("xindesk.cli")


def _resolve_api_key(args: argparse.Namespace) -> str | None:
    """The key from --api-key-file, --api-key, XINDESK_API_KEY or the keychain, in that order.

    A key given with --api-key is on the command line, where every user of this computer can
    read it: the process says so, and starts itself again without it where the system allows
    (see `desktop.core.keysource`).
    """
    from desktop.core.keysource import command_without_key, read_key_file, restart_without_key
    from desktop.core.secrets import configured_api_key

    if args.api_key_file:
        return read_key_file(str(args.api_key_file))
    if args.api_key:
        key = str(args.api_key)
        command = command_without_key(key)
        log.warning(
            "The API key given with --api-key is on the command line, where every user of this "
            "computer can read it (ps). Use --api-key-file PATH (- reads stdin), %s or the "
            "keychain (`xindesk api-key create`) instead.%s",
            API_KEY_ENV,
            " Restarting without it on the command line." if command else "",
        )
        if command:
            restart_without_key(command, key)
        return key
    return configured_api_key()


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from desktop.core.errors import ConfigError
    from desktop.core.paths import AppPaths
    from desktop.core.running.demo import demo_launch_request, demo_model_path
    from desktop.core.secrets import MIN_LAN_KEY_LENGTH
    from desktop.core.settings import load_settings, models_dir_of
    from desktop.server.app import create_app
    from desktop.server.listeners import serve_with_ollama_port

    api_key = _resolve_api_key(args)
    paths = AppPaths.from_environment()
    paths.ensure()
    settings = load_settings(paths)
    host = args.host or ("0.0.0.0" if settings.server.lan_access else settings.server.host)
    port = args.port or settings.server.port
    if not is_loopback(host) and not api_key:
        raise ConfigError(
            f"Refusing to listen on {host} without an API key: anyone on the network could use "
            f"your models. Give one with --api-key-file (or {API_KEY_ENV}), or `xindesk api-key "
            f"create` to keep one in the keychain; or listen on 127.0.0.1."
        )
    if not is_loopback(host) and api_key and len(api_key) < MIN_LAN_KEY_LENGTH:
        raise ConfigError(
            f"Refusing to listen on {host} with an API key of {len(api_key)} characters: "
            f"someone on the network could guess it. LAN access needs at least "
            f"{MIN_LAN_KEY_LENGTH}; `xindesk api-key create` makes a strong one. Or listen on "
            "127.0.0.1."
        )
    launches = []
    if args.demo:
        launches.append(demo_launch_request(demo_model_path(paths)))
    app = create_app(
        settings, paths, api_key=api_key, address=f"{host}:{port}", launch_on_start=launches
    )
    log.info("serving on http://%s:%d (models in %s)", host, port, models_dir_of(settings, paths))
    ollama_port = settings.server.ollama_port
    if ollama_port is None:
        uvicorn.run(app, host=host, port=port, log_level=args.log_level.lower(), access_log=False)
        return 0
    if ollama_port == port:
        raise ConfigError(f"server.ollama_port ({ollama_port}) must differ from the port.")
    asyncio.run(serve_with_ollama_port(app, host, port, ollama_port, args.log_level.lower()))
    return 0


# -- API key ----------------------------------------------------------------------------------


def cmd_api_key(args: argparse.Namespace) -> int:
    from desktop.core.secrets import API_KEY, SecretStore, generate_api_key

    store = SecretStore()
    if args.action == "create":
        key = generate_api_key()
        store.set(API_KEY, key)
        out(key)
    elif args.action == "show":
        stored = store.get(API_KEY)
        if stored is None:
            out("No API key is stored; create one with `xindesk api-key create`.")
            return 1
        out(stored)
    else:
        store.delete(API_KEY)
        out("API key deleted.")
    return 0
