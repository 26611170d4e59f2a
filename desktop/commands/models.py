"""Xinference-style commands on served models: launch, list, load, unload, keep, terminate,
registrations, engine, cached."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence

from pydantic import JsonValue

from desktop.api.common import ModelSize
from desktop.api.xinference import (
    LaunchRequest,
    ListedEmbedding,
    ListedLLM,
    ListedModel,
    LLMEngineParams,
    ServiceChange,
)
from desktop.commands.output import client_for, out, table


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


def add_engine_args(launch: argparse.ArgumentParser) -> None:
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
    with client_for(args) as client:
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
    out(f"Model uid: {uid}")
    return 0


def _size_and_context(model: ListedModel) -> tuple[ModelSize | None, int | None]:
    """A chat model's size and context; an embedding model's longest input."""
    if isinstance(model, ListedLLM):
        return model.model_size_in_billions, model.context_length
    if isinstance(model, ListedEmbedding):
        return None, model.max_tokens
    return None, None


def cmd_list(args: argparse.Namespace) -> int:
    with client_for(args) as client:
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
    out(table(rows, headers))
    return 0


def _kept(pinned: bool, idle_minutes: float | None) -> str:
    if pinned:
        return "pinned"
    return f"idle {idle_minutes:g} min" if idle_minutes is not None else "loaded"


def cmd_load(args: argparse.Namespace) -> int:
    with client_for(args) as client:
        state = client.load_model(args.model_uid, force=args.force)
    out(f"{state.model_uid}: {state.status}")
    return 0


def cmd_unload(args: argparse.Namespace) -> int:
    with client_for(args) as client:
        state = client.unload_model(args.model_uid)
    out(f"{state.model_uid}: {state.status}")
    return 0


def cmd_keep(args: argparse.Namespace) -> int:
    change = ServiceChange(
        pinned=args.pin, load_at_start=args.load_at_start, idle_minutes=args.idle_minutes
    )
    with client_for(args) as client:
        state = client.set_service(args.model_uid, change)
    out(
        f"{state.model_uid}: {state.status}, {_kept(state.pinned, state.idle_minutes)}"
        f"{', loads at start' if state.load_at_start else ''}"
    )
    return 0


def cmd_terminate(args: argparse.Namespace) -> int:
    with client_for(args) as client:
        client.terminate(args.model_uid)
    return 0


def cmd_registrations(args: argparse.Namespace) -> int:
    with client_for(args) as client:
        regs = client.registrations(args.model_type, detailed=False)
    out(
        table(
            [[args.model_type, r.model_name, r.is_builtin] for r in regs],
            ["Type", "Name", "Builtin"],
        )
    )
    return 0


def cmd_engine(args: argparse.Namespace) -> int:
    with client_for(args) as client:
        engines = client.engines(args.model_name, args.model_type)
    if not engines:
        out(f"No model named {args.model_name}.")
        return 1
    rows: list[list[object]] = []
    for engine, params in engines.items():
        for p in params:
            quants = p.quantizations if isinstance(p, LLMEngineParams) else [p.quantization]
            rows.extend(
                [args.model_name, engine, p.model_format, p.model_size_in_billions, q]
                for q in quants
            )
    out(table(rows, ["Name", "Engine", "Format", "Size (in billions)", "Quantization"]))
    return 0


def cmd_cached(args: argparse.Namespace) -> int:
    with client_for(args) as client:
        cached = client.cached(args.model_name)
    rows = [
        [c.model_name, c.model_type, c.model_size_in_billions, c.quantization, c.path]
        for c in cached
    ]
    out(table(rows, ["Name", "Type", "Size", "Quantization", "Path"]))
    return 0


# -- search and download ------------------------------------------------------------------------
