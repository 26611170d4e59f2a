"""The `xindesk` command: the server (`serve`) and Xinference-style commands against it.

`xindesk launch/list/terminate/registrations/engine/cached` take the same options as
Xinference's command line, so commands from guides (such as the seed document's) work as written;
extra `--key value` pairs on `launch` become engine options, as in Xinference.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from desktop import __version__
from desktop.api.hubs import HUB_NAMES
from desktop.client import ClientError, default_endpoint
from desktop.commands.library import cmd_download, cmd_downloads, cmd_search
from desktop.commands.models import (
    add_engine_args,
    cmd_cached,
    cmd_engine,
    cmd_keep,
    cmd_launch,
    cmd_list,
    cmd_load,
    cmd_registrations,
    cmd_terminate,
    cmd_unload,
)
from desktop.commands.serve import cmd_api_key, cmd_serve
from desktop.commands.tools import cmd_doctor, cmd_export
from desktop.core.secrets import API_KEY_ENV


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xindesk", description="XinDesk: a private LLM service on this computer."
    )
    parser.add_argument("--version", action="version", version=f"xindesk {__version__}")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    sub = parser.add_subparsers(dest="command")

    serve = sub.add_parser("serve", help="Run the API server without a window.")
    serve.add_argument("--host", help="Address to bind (default 127.0.0.1).")
    serve.add_argument("--port", type=int, help="Port (default 9997).")
    given_key = serve.add_mutually_exclusive_group()
    given_key.add_argument(
        "--api-key-file",
        metavar="PATH",
        help=f"Require the key this file holds; - reads it from stdin (default: ${API_KEY_ENV} "
        "or the keychain).",
    )
    given_key.add_argument(
        "--api-key",
        help="Require this key. Other users of this computer can read a command line: prefer "
        "--api-key-file.",
    )
    serve.add_argument(
        "--demo",
        action="store_true",
        help="Also launch the small demo model (Gemma 3 270M; needs xindesk[demo]).",
    )

    key = sub.add_parser("api-key", help="Create, show or delete the API key in the keychain.")
    key.add_argument("action", choices=["create", "show", "delete"])

    def client_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument("-e", "--endpoint", default=default_endpoint())
        p.add_argument("-ak", "--api-key", default=None)

    launch = sub.add_parser(
        "launch",
        help="Launch a model (Xinference's options; extra --key value pairs are engine options).",
    )
    client_opts(launch)
    launch.add_argument("-n", "--model-name", required=True)
    launch.add_argument("-t", "--model-type", default="LLM")
    launch.add_argument("-en", "--model-engine", default="llama.cpp")
    launch.add_argument("-u", "--model-uid")
    launch.add_argument("-s", "--size-in-billions")
    launch.add_argument("-f", "--model-format")
    launch.add_argument("-q", "--quantization")
    launch.add_argument("--n-gpu", default="auto")
    launch.add_argument("-mp", "--model-path")
    add_engine_args(launch)

    lst = sub.add_parser("list", help="List running models.")
    client_opts(lst)
    term = sub.add_parser("terminate", help="Stop a running model.")
    client_opts(term)
    term.add_argument("--model-uid", required=True)
    load = sub.add_parser("load", help="Load a served model into memory now.")
    client_opts(load)
    load.add_argument("--model-uid", required=True)
    load.add_argument(
        "--force", action="store_true", help="load even where the memory check says no"
    )
    unload = sub.add_parser(
        "unload", help="Free a served model's memory; the next request loads it again."
    )
    client_opts(unload)
    unload.add_argument("--model-uid", required=True)
    keep = sub.add_parser(
        "keep", help="Pin a served model, load it at start, or set its idle time."
    )
    client_opts(keep)
    keep.add_argument("--model-uid", required=True)
    keep.add_argument(
        "--pin", action=argparse.BooleanOptionalAction, default=None, help="never unload it"
    )
    keep.add_argument(
        "--load-at-start",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="load it when the server starts",
    )
    keep.add_argument(
        "--idle-minutes", type=float, help="unload it after this many idle minutes (0: never)"
    )
    regs = sub.add_parser("registrations", help="List model families.")
    client_opts(regs)
    regs.add_argument("-t", "--model-type", default="LLM")
    eng = sub.add_parser("engine", help="Show the formats, sizes and quantizations of a model.")
    client_opts(eng)
    eng.add_argument("-n", "--model-name", required=True)
    eng.add_argument("-t", "--model-type")
    cached = sub.add_parser("cached", help="List model files on this machine.")
    client_opts(cached)
    cached.add_argument("--model_name", "--model-name", dest="model_name")

    search = sub.add_parser("search", help="Search Hugging Face / ModelScope for GGUF models.")
    client_opts(search)
    search.add_argument("query")
    search.add_argument("--hub", choices=HUB_NAMES)
    search.add_argument("--limit", type=int, default=30)

    download = sub.add_parser(
        "download",
        help="Download a catalog model (NAME -s SIZE -q QUANT) or files of a repository "
        "(OWNER/REPO FILE..., or OWNER/REPO -q QUANT). Ctrl-C pauses; run it again to resume.",
    )
    client_opts(download)
    download.add_argument("target", help="A catalog model name, or owner/repo (or its URL).")
    download.add_argument("files", nargs="*", help="Files of the repository to download.")
    download.add_argument("-s", "--size-in-billions")
    download.add_argument("-q", "--quantization")
    download.add_argument("-t", "--model-type", default="LLM")
    download.add_argument("--hub", choices=[*HUB_NAMES, "auto"])

    downloads = sub.add_parser("downloads", help="List downloads and their state.")
    client_opts(downloads)

    from desktop.core.export import EXPORT_FORMATS, TARGETS

    export = sub.add_parser(
        "export",
        help="FastGPT / One API config from the running models; --check tests them as FastGPT.",
    )
    client_opts(export)
    export.add_argument("what", choices=["fastgpt"])
    export.add_argument("--format", choices=EXPORT_FORMATS, default="v4.9")
    export.add_argument(
        "--target", choices=TARGETS, default="docker", help="Where FastGPT runs (default docker)."
    )
    export.add_argument("--host", help="Write this host instead of the target's.")
    export.add_argument(
        "--check", action="store_true", help="Send FastGPT's requests and report pass/fail."
    )

    doctor = sub.add_parser(
        "doctor",
        help="Check this build, its backend (GPU or CPU), devices, memory, keychain, models "
        "folder, server and model hubs; exit 1 when something is broken.",
    )
    doctor.add_argument("--json", action="store_true", help="Print the report as JSON.")
    doctor.add_argument(
        "--bundle", metavar="PATH", help="Also write a support bundle (zip) to PATH (no secrets)."
    )
    doctor.add_argument(
        "-e",
        "--endpoint",
        default=None,
        help="The server to check (default: XINDESK_ENDPOINT or http://127.0.0.1:9997; "
        "named explicitly, not reaching it counts as a failure).",
    )
    doctor.add_argument("-ak", "--api-key", default=None)
    doctor.add_argument(
        "--offline", action="store_true", help="Do not contact the server or the model hubs."
    )
    return parser


_COMMANDS = {
    "serve": cmd_serve,
    "api-key": cmd_api_key,
    "list": cmd_list,
    "terminate": cmd_terminate,
    "load": cmd_load,
    "unload": cmd_unload,
    "keep": cmd_keep,
    "registrations": cmd_registrations,
    "engine": cmd_engine,
    "cached": cmd_cached,
    "search": cmd_search,
    "download": cmd_download,
    "downloads": cmd_downloads,
    "export": cmd_export,
    "doctor": cmd_doctor,
}


def main(argv: Sequence[str] | None = None) -> int:
    from desktop.core.errors import XinDeskError

    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    if args.command is None:
        # No command: the desktop window (what a double-click on the app runs).
        from desktop.gui.app import run_gui

        return run_gui(sys.argv[:1])
    if extra and args.command != "launch":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        if args.command == "launch":
            return cmd_launch(args, extra)
        return _COMMANDS[args.command](args)
    except ClientError as exc:
        sys.stderr.write(f"Error: {exc.detail}\n")
        return 1
    except ValidationError as exc:
        # A request this command could not even send (an option of the wrong kind).
        sys.stderr.write(f"Error: {exc}\n")
        return 1
    except XinDeskError as exc:
        sys.stderr.write(f"Error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        return 130
