"""The `xindesk` command: the server (`serve`) and Xinference-style commands against it.

`xindesk launch/list/terminate/registrations/engine/cached` take the same options as
Xinference's command line, so commands from guides (such as the seed document's) work as written;
extra `--key value` pairs on `launch` become engine options, as in Xinference.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Sequence

from pydantic import JsonValue, ValidationError

from desktop import __version__
from desktop.api.common import JobState, ModelSize
from desktop.api.downloads import StartDownload
from desktop.api.hubs import HUB_NAMES
from desktop.api.xinference import (
    LaunchRequest,
    ListedEmbedding,
    ListedLLM,
    ListedModel,
    LLMEngineParams,
    ServiceChange,
)
from desktop.client import ClientError, XinDeskClient, default_endpoint
from desktop.core.netaddr import is_loopback
from desktop.core.secrets import API_KEY_ENV
from desktop.core.units import KiB, MiB

log = logging.getLogger("xindesk.cli")


def _out(text: str) -> None:
    """Command output goes to stdout (logs go to stderr)."""
    sys.stdout.write(text + "\n")


# -- serve ------------------------------------------------------------------------------------


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
        _out(key)
    elif args.action == "show":
        stored = store.get(API_KEY)
        if stored is None:
            _out("No API key is stored; create one with `xindesk api-key create`.")
            return 1
        _out(stored)
    else:
        store.delete(API_KEY)
        _out("API key deleted.")
    return 0


# -- Xinference-style commands ----------------------------------------------------------------


def _client(args: argparse.Namespace) -> XinDeskClient:
    key = args.api_key or os.environ.get(API_KEY_ENV)
    return XinDeskClient(args.endpoint, key)


def _coerce(value: str) -> JsonValue:
    lowered = value.lower()
    if lowered in ("none", "null"):
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        parsed: JsonValue = json.loads(value)
    except json.JSONDecodeError:
        return value
    return parsed


def _extra_options(extra: Sequence[str]) -> dict[str, JsonValue]:
    options: dict[str, JsonValue] = {}
    items = list(extra)
    while items:
        key = items.pop(0)
        if not key.startswith("--") or not items:
            raise SystemExit(f"xindesk launch: expected '--name value' pairs, got {key!r}")
        options[key[2:].replace("-", "_") if key[2:] in ("n-ctx", "n-gpu-layers") else key[2:]] = (
            _coerce(items.pop(0))
        )
    return options


# `xindesk launch` options sent as they are, under their launch-request names.
_ENGINE_ARGS = (
    "cache_type_k",
    "cache_type_v",
    "flash_attn",
    "speculative",
    "draft_max",
    "draft_model",
    "draft_model_path",
)


def _add_engine_args(launch: argparse.ArgumentParser) -> None:
    from desktop.core.running.engine_options import (
        FLASH_ATTN_MODES,
        KV_CACHE_TYPES,
        SPECULATIVE_MODES,
    )

    kv = ", ".join(KV_CACHE_TYPES)
    launch.add_argument(
        "-ctk",
        "--cache-type-k",
        type=str.lower,
        choices=KV_CACHE_TYPES,
        metavar="TYPE",
        help=f"KV cache type for K: {kv} (default f16; q8_0 halves the cache's memory)",
    )
    launch.add_argument(
        "-ctv",
        "--cache-type-v",
        type=str.lower,
        choices=KV_CACHE_TYPES,
        metavar="TYPE",
        help=f"KV cache type for V: {kv} (a quantized V needs flash attention)",
    )
    launch.add_argument(
        "-fa",
        "--flash-attn",
        type=str.lower,
        choices=FLASH_ATTN_MODES,
        help="flash attention (default auto: on where the device supports it)",
    )
    launch.add_argument(
        "--speculative",
        type=str.lower,
        choices=SPECULATIVE_MODES,
        help="speculative decoding: ngram drafts from the prompt and answer (default), or off",
    )
    launch.add_argument(
        "--draft-max", type=int, help="most tokens drafted for one request in one step (16)"
    )
    launch.add_argument(
        "--draft-model",
        help="a smaller model that drafts: auto (the smallest downloaded size of the same "
        "family), a size of the family (0_6), or a model name",
    )
    launch.add_argument("--draft-model-path", help="a draft model's GGUF file")


def cmd_launch(args: argparse.Namespace, extra: Sequence[str]) -> int:
    body = LaunchRequest(
        model_uid=args.model_uid,
        model_name=args.model_name,
        model_type=args.model_type,
        model_engine=args.model_engine,
        model_format=args.model_format,
        model_size_in_billions=args.size_in_billions,
        quantization=args.quantization,
        n_gpu=None if str(args.n_gpu).lower() == "none" else args.n_gpu,
        model_path=args.model_path,
        **{key: getattr(args, key) for key in _ENGINE_ARGS if getattr(args, key) is not None},
        **_extra_options(extra),
    )
    with _client(args) as client:
        uid = client.launch(body, wait_ready=False)
        while True:
            states = client.instances(uid)
            status = states[0].status if states else "ERROR"
            if status in ("READY", "ERROR", "TERMINATED"):
                break
            time.sleep(0.5)
        if status != "READY":
            replicas = states[0].replica_statuses if states else []
            message = (replicas[0].error_message if replicas else None) or "unknown"
            sys.stderr.write(f"Launch of {uid} failed: {message}\n")
            return 1
    _out(f"Model uid: {uid}")
    return 0


def _table(rows: Sequence[Sequence[object]], header: list[str]) -> str:
    cells = [header] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _size_and_context(model: ListedModel) -> tuple[ModelSize | None, int | None]:
    """A chat model's size and context; an embedding model's longest input."""
    if isinstance(model, ListedLLM):
        return model.model_size_in_billions, model.context_length
    if isinstance(model, ListedEmbedding):
        return None, model.max_tokens
    return None, None


def cmd_list(args: argparse.Namespace) -> int:
    with _client(args) as client:
        models = client.list_models()
    rows = [
        [
            m.id,
            m.model_type,
            m.model_name,
            *_size_and_context(m),
            m.quantization,
            m.status,
            _kept(m.pinned, m.idle_minutes),
        ]
        for m in models
    ]
    headers = ["UID", "Type", "Name", "Size", "Quantization", "Context", "Status", "Kept"]
    _out(_table(rows, headers))
    return 0


def _kept(pinned: bool, idle_minutes: float | None) -> str:
    if pinned:
        return "pinned"
    return f"idle {idle_minutes:g} min" if idle_minutes is not None else "loaded"


def cmd_load(args: argparse.Namespace) -> int:
    with _client(args) as client:
        state = client.load_model(args.model_uid, force=args.force)
    _out(f"{state.model_uid}: {state.status}")
    return 0


def cmd_unload(args: argparse.Namespace) -> int:
    with _client(args) as client:
        state = client.unload_model(args.model_uid)
    _out(f"{state.model_uid}: {state.status}")
    return 0


def cmd_keep(args: argparse.Namespace) -> int:
    change = ServiceChange(
        pinned=args.pin, load_at_start=args.load_at_start, idle_minutes=args.idle_minutes
    )
    with _client(args) as client:
        state = client.set_service(args.model_uid, change)
    _out(
        f"{state.model_uid}: {state.status}, {_kept(state.pinned, state.idle_minutes)}"
        f"{', loads at start' if state.load_at_start else ''}"
    )
    return 0


def cmd_terminate(args: argparse.Namespace) -> int:
    with _client(args) as client:
        client.terminate(args.model_uid)
    return 0


def cmd_registrations(args: argparse.Namespace) -> int:
    with _client(args) as client:
        regs = client.registrations(args.model_type, detailed=False)
    _out(
        _table(
            [[args.model_type, r.model_name, r.is_builtin] for r in regs],
            ["Type", "Name", "Builtin"],
        )
    )
    return 0


def cmd_engine(args: argparse.Namespace) -> int:
    with _client(args) as client:
        engines = client.engines(args.model_name, args.model_type)
    if not engines:
        _out(f"No model named {args.model_name}.")
        return 1
    rows: list[list[object]] = []
    for engine, params in engines.items():
        for p in params:
            quants = p.quantizations if isinstance(p, LLMEngineParams) else [p.quantization]
            rows.extend(
                [args.model_name, engine, p.model_format, p.model_size_in_billions, q]
                for q in quants
            )
    _out(_table(rows, ["Name", "Engine", "Format", "Size (in billions)", "Quantization"]))
    return 0


def cmd_cached(args: argparse.Namespace) -> int:
    with _client(args) as client:
        cached = client.cached(args.model_name)
    rows = [
        [c.model_name, c.model_type, c.model_size_in_billions, c.quantization, c.path]
        for c in cached
    ]
    _out(_table(rows, ["Name", "Type", "Size", "Quantization", "Path"]))
    return 0


# -- search and download ------------------------------------------------------------------------


def cmd_search(args: argparse.Namespace) -> int:
    with _client(args) as client:
        found = client.search(args.query, hub=args.hub, limit=args.limit)
    rows = [[r.hub, r.repo_id, r.downloads, r.likes, r.updated or ""] for r in found.results]
    _out(_table(rows, ["Hub", "Repository", "Downloads", "Likes", "Updated"]))
    for note in found.notes:
        sys.stderr.write(f"Note: {note}\n")
    return 0


def _download_body(args: argparse.Namespace) -> StartDownload:
    target: str = args.target
    if "/" in target or args.files:
        from desktop.core.hub.references import parse_repo_reference

        hub, repo_id, extra = parse_repo_reference(target)
        files = list(args.files)
        quant = args.quantization
        if extra and extra.endswith(".gguf"):
            files.append(extra)
        elif extra and not quant:
            quant = extra
        if not files and not quant:
            raise SystemExit(
                "Name the file(s) to download after the repository, or a quantization with -q."
            )
        return StartDownload(
            repo_id=repo_id,
            files=files or None,
            quantization=None if files else quant,
            hub=args.hub or hub,
        )
    return StartDownload(
        model_name=target,
        model_type=args.model_type,
        model_size_in_billions=args.size_in_billions,
        quantization=args.quantization,
        hub=args.hub,
    )


def cmd_download(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    body = _download_body(args)
    with _client(args) as client:
        job = client.start_download(body)
        _out(f"Downloading {job.label} from {job.hub} into {job.folder}")
        bar = tqdm(
            total=job.total_bytes,
            initial=job.downloaded_bytes,
            unit="B",
            unit_scale=True,
            unit_divisor=KiB,
            file=sys.stderr,
            dynamic_ncols=True,
        )
        try:
            while job.state.active:
                time.sleep(0.5)
                job = client.download(job.id)
                bar.update(job.downloaded_bytes - bar.n)
                bar.set_postfix_str(job.state)
        except KeyboardInterrupt:
            job = client.pause_download(job.id)
            bar.close()
            _out("Paused. Run the same command again to resume from where it stopped.")
            return 130
        bar.close()
    if job.state is JobState.COMPLETED:
        _out(f"Done: {job.folder}")
        return 0
    _out(f"Download {job.state}: {job.error or ''}".rstrip(": "))
    return 1


def cmd_downloads(args: argparse.Namespace) -> int:
    with _client(args) as client:
        jobs = client.downloads()
    rows = [
        [
            j.id,
            j.state,
            j.label,
            f"{j.downloaded_bytes / MiB:.1f}/{j.total_bytes / MiB:.1f} MiB",
            j.error or "",
        ]
        for j in jobs
    ]
    _out(_table(rows, ["Id", "State", "What", "Progress", "Error"]))
    return 0


# -- export -------------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    """`xindesk export fastgpt`: config from the running models, or `--check` them as FastGPT."""
    if args.check:
        return _check_fastgpt(args)
    with _client(args) as client:
        exported = client.export_fastgpt(args.format, target=args.target, host=args.host)
    for warning in exported.warnings:
        sys.stderr.write(f"Note: {warning}\n")
    sys.stdout.write(exported.text)
    return 0


def _check_fastgpt(args: argparse.Namespace) -> int:
    from desktop.core.export import select_models
    from desktop.core.export.check import CheckModels, CheckResult, run_fastgpt_check

    with _client(args) as client:
        models = CheckModels.from_selection(select_models(client.list_models()))

    def show(result: CheckResult) -> None:
        mark = "PASS" if result.passed else "FAIL"
        _out(f"{mark}  {result.name} ({result.seconds:.1f} s): {result.reason}")

    key = args.api_key or os.environ.get(API_KEY_ENV)
    results = run_fastgpt_check(args.endpoint, key, models, on_result=show)
    passed = sum(r.passed for r in results)
    _out(f"{passed} of {len(results)} checks passed.")
    return 0 if passed == len(results) else 1


# -- doctor -------------------------------------------------------------------------------------


def cmd_doctor(args: argparse.Namespace) -> int:
    """`xindesk doctor`: this build, its backend, devices, memory, keychain, models folder,
    server and hubs; exit 1 when something needed to run models here is broken."""
    from desktop.core.doctor import DoctorOptions, run_doctor
    from desktop.core.paths import AppPaths
    from desktop.core.secrets import configured_api_key

    paths = AppPaths.from_environment()
    api_key = configured_api_key(args.api_key)
    options = DoctorOptions(
        endpoint=args.endpoint or default_endpoint(),
        api_key=api_key,
        endpoint_required=args.endpoint is not None,
        offline=args.offline,
    )
    report, settings = run_doctor(paths, options)
    if args.json:
        _out(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        _out(report.render_text())
    if args.bundle:
        from pathlib import Path

        from desktop.core.doctor.bundle import known_secrets, write_bundle
        from desktop.core.doctor.network import fetch_server_log
        from desktop.core.doctor.redact import Redactor

        server = report.section("server")
        lines: list[str] | None = None
        note: str | None = "the server was not checked (--offline)"
        if server is not None and server.details.get("reachable"):
            lines, note = fetch_server_log(options.endpoint, api_key)
        elif not args.offline:
            note = "the server did not answer"
        written = write_bundle(
            Path(args.bundle).expanduser(),
            report,
            settings=settings,
            server_log=lines,
            log_note=note,
            redactor=Redactor(known_secrets(api_key, settings)),
        )
        # Beside the report, not in it: --json keeps stdout pure JSON.
        sys.stderr.write(f"Support bundle: {written}\n")
    return report.exit_code


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
    _add_engine_args(launch)

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
