"""Turn a launch request (Xinference's `POST /v1/models` body) into a worker spec.

Everything that can be checked before a process starts is checked here, so a wrong name, size,
format or file gets a 400 that says what to do instead of a worker that dies while loading.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.api.settings import Settings
from desktop.core.catalog import Catalog, Family, ModelType, Spec
from desktop.core.catalog.families import ENGINE_NAME, GGUF_FORMAT
from desktop.core.catalog.registry import parse_model_type, with_article
from desktop.core.engine.protocol import RerankKind, WorkerSpec
from desktop.core.errors import InvalidRequest, ModelFileMissing, ModelNotFound
from desktop.core.hub.sources import hub_order
from desktop.core.memory.gguf_info import (
    GGUFInfo,
    check_gguf_file,
    check_given_gguf,
    read_gguf_info,
)
from desktop.core.memory.quant import quant_from_filename
from desktop.core.running.draft import resolve_draft_model
from desktop.core.running.engine_options import (
    DEFAULT_DRAFT_MAX,
    KV_KEYS,
    check_cache_and_attention,
    flash_attn_mode,
    kv_cache_type,
    speculative_mode,
)
from desktop.core.running.option_bounds import (
    LLAMA_OPTIONS,
    check_context,
    llama_option,
    show_value,
    switch,
    whole_number,
)
from desktop.core.store import InstalledIndex, ModelStore
from desktop.core.units import MiB

log = logging.getLogger("xindesk.launch")

# Keys of the launch body that are Xinference's own, not engine arguments.
RESERVED_KEYS = frozenset(
    {
        "model_uid",
        "model_name",
        "model_engine",
        "model_type",
        "model_size_in_billions",
        "model_format",
        "quantization",
        "replica",
        "n_worker",
        "n_gpu",
        "peft_model_config",
        "request_limits",
        "worker_ip",
        "gpu_idx",
        "replica_config",
        "model_path",
        "enable_thinking",
        "enable_virtual_env",
        "virtual_env_packages",
        "virtual_env_find_links",
        "envs",
        "download_hub",
        "trust_remote_code",
        "model_version",
        "multimodal_projector",
        "reasoning_content",
        "chat_template",
        # XinDesk's: launch even where the memory check says the model does not fit.
        "force",
    }
)

# Launch options that say how the supervisor keeps the model (`running.keep`), not
# llama.cpp's.
LIFECYCLE_KEYS = frozenset({"pinned", "load_at_start", "idle_minutes"})
# Launch options of XinDesk's chat engine itself (speculative decoding), not llama.cpp's.
ENGINE_KEYS = frozenset({"speculative", "draft_max", "draft_model", "draft_model_path"})

# Sequences a chat model decodes together when the launch does not say (`parallel`).
DEFAULT_PARALLEL = 4
# The extra sequences' KV cache may take at most this share of the RAM available at launch.
_PARALLEL_RAM_SHARE = 8

_REPLICA_UID = re.compile(r"^.+-rep\d+$")
# Characters that break the URL paths xinference-client builds without quoting.
_BAD_UID_CHARS = re.compile(r"[/?#]")


@dataclass
class LaunchPlan:
    """What to start: the resolved family/spec, the file, and the worker's arguments."""

    uid: str
    model_type: ModelType
    family: Family
    spec: Spec | None
    model_path: Path
    gguf: GGUFInfo
    n_ctx: int
    worker: WorkerSpec
    parallel_reason: str = ""
    # Launch even where the memory check says the model does not fit.
    force: bool = False
    ignored_kwargs: dict[str, Any] = field(default_factory=dict)
    request: dict[str, Any] = field(default_factory=dict)


# Launch fields that name something: strings (or null) only.
_TEXT_FIELDS = (
    "model_uid",
    "model_name",
    "model_type",
    "model_engine",
    "model_format",
    "quantization",
    "model_path",
    "download_hub",
    "chat_template",
    "draft_model_path",
)


def check_field_types(request: dict[str, Any]) -> None:
    """The launch body's named fields have the types Xinference gives them: a number where a
    name belongs (`model_type: 123`) is a 400 that names the field."""
    for key in _TEXT_FIELDS:
        value = request.get(key)
        if value is not None and not isinstance(value, str):
            raise InvalidRequest(f"Launch field {key}={show_value(value)} must be a string.")
    size = request.get("model_size_in_billions")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int | float | str)):
        raise InvalidRequest(
            f"Launch field model_size_in_billions={show_value(size)} must be a number or a "
            f"size such as '1_5'."
        )


def validate_uid(uid: str) -> str:
    text = uid.strip()
    if not text or len(text) > 100:
        raise InvalidRequest("A model uid must be 1 to 100 characters long.")
    if _REPLICA_UID.match(text):
        raise InvalidRequest(
            f"Invalid model uid {uid!r}: uids ending in '-rep<number>' are reserved for replicas."
        )
    if _BAD_UID_CHARS.search(text):
        raise InvalidRequest(f"Invalid model uid {uid!r}: '/', '?' and '#' are not allowed.")
    return text


def default_threads() -> int:
    """Physical cores: llama-cpp-python's own default (half the logical CPUs) leaves speed
    unused on small machines, and hyper-threads do not help matrix work."""
    import psutil

    return psutil.cpu_count(logical=False) or os.cpu_count() or 1


def installed_file(family: Family, spec: Spec, installed: InstalledIndex) -> Path | None:
    """The installed file that serves a catalog spec: the spec's own, else the same model and
    quantization from another hub's repository (the catalog lists a spec once per hub, and a
    model downloaded from ModelScope serves a launch that prefers Hugging Face)."""
    found = installed.for_spec(spec)
    if found is None:
        for other in family.model_specs:
            same = (
                other is not spec
                and other.model_format == spec.model_format
                and other.size_key == spec.size_key
                and other.quantization.lower() == spec.quantization.lower()
            )
            if same and (found := installed.for_spec(other)) is not None:
                break
    return found.path if found is not None else None


def _adhoc_family(model_type: ModelType, name: str) -> Family:
    """A family for a GGUF launched by path under a name the catalog does not know."""
    if model_type == "LLM":
        return Family(
            model_type="LLM",
            model_name=name,
            model_ability=["chat", "generate"],
            model_lang=["en"],
            model_description=f"Local GGUF model {name}",
        )
    return Family(model_type=model_type, model_name=name)


def plan_launch(
    request: dict[str, Any], catalog: Catalog, settings: Settings, store: ModelStore
) -> LaunchPlan:
    """Validate a launch request and resolve everything needed to start the model.

    A catalog model launches from the file `store` says serves it (downloaded, imported or in
    the Hugging Face cache, and whole); `ModelFileMissing` when none does.
    """
    check_field_types(request)
    name = request.get("model_name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidRequest("Invalid input. Please specify the `model_name` field.")
    name = name.strip()
    model_type = parse_model_type(request.get("model_type"))
    engine = request.get("model_engine")
    if engine and str(engine).lower() != ENGINE_NAME:
        raise InvalidRequest(
            f"XinDesk runs models on the llama.cpp engine; model_engine {engine!r} is not "
            f"available. Use model_engine 'llama.cpp' with model_format 'ggufv2'."
        )
    uid = validate_uid(str(request.get("model_uid") or name))
    force = switch("force", request.get("force", False))
    fmt = request.get("model_format")
    size = request.get("model_size_in_billions")
    quant = request.get("quantization")
    model_path_raw = request.get("model_path")

    wanted: dict[str, Any] = {
        "size": size,
        "quantization": quant,
        "hubs": hub_order(request.get("download_hub") or settings.downloads.source),
    }
    family: Family | None = catalog.find(model_type, name)
    spec: Spec | None = None
    if model_path_raw:
        # A file given by path: the catalog only supplies the family's facts (template, stop
        # words, abilities), so a size or quantization it does not list is not an error.
        if fmt and fmt != GGUF_FORMAT:
            raise InvalidRequest(
                f"model_path must name a GGUF file; model_format {fmt!r} is not served by XinDesk."
            )
        if family is None:
            other = catalog.find_any_type(name)
            if other is not None:
                raise InvalidRequest(
                    f"{name} is {with_article(other.model_type)} model, not {model_type}; "
                    f"launch it with model_type={other.model_type!r}."
                )
            family = _adhoc_family(model_type, name)
        else:
            if not quant:
                # The file's own level, not the family's first spec: a Q4_K_M file launched
                # under a catalog name must not be described as that catalog's IQ2_M.
                wanted["quantization"] = quant_from_filename(Path(str(model_path_raw)).name)
            if wanted["quantization"]:
                try:
                    _, spec = catalog.match(model_type, name, model_format=GGUF_FORMAT, **wanted)
                except (ModelNotFound, InvalidRequest):
                    spec = None
        # The supervisor looked at it first, with a time bound (`ModelStore.look_at_given_files`).
        model_path = check_given_gguf(str(model_path_raw), what="model_path")
    else:
        family, spec = catalog.match(model_type, name, model_format=fmt, **wanted)
        if spec.model_uri:
            model_path = check_gguf_file(spec.model_uri, what="model_uri", probe=store.probe)
        else:
            found = installed_file(family, spec, store.index())
            if found is None:
                files = ", ".join(spec.file_names()) or "(unknown file)"
                raise ModelFileMissing(
                    f"{name} {spec.model_size_in_billions}B {spec.quantization} is not downloaded "
                    f"yet (looked for {files} in {store.models_dir}, the imported models and "
                    f"the Hugging Face cache). Download it first with "
                    f"`xindesk download {name} -s {spec.model_size_in_billions} -q "
                    f"{spec.quantization}`, or launch a local file with model_path."
                )
            check_gguf_file(found, probe=store.probe)
            # The path as the store has it, not resolved: a file of the Hugging Face cache
            # resolves to a blob named by its hash, and llama.cpp finds the other parts of a
            # split set by name beside the first.
            model_path = found
    gguf = read_gguf_info(model_path)

    llama_kwargs: dict[str, Any] = {}
    ignored: dict[str, Any] = {}
    parallel_asked = request.get("parallel", request.get("n_parallel"))
    for key, value in request.items():
        if (
            key in RESERVED_KEYS
            or key in ENGINE_KEYS
            or key in LIFECYCLE_KEYS
            or key in ("parallel", "n_parallel")
            or value is None
        ):
            continue
        if key in KV_KEYS:
            llama_kwargs[KV_KEYS[key]] = kv_cache_type(key, value)
        elif key == "flash_attn":
            llama_kwargs[key] = flash_attn_mode(value)
        elif key in LLAMA_OPTIONS:
            llama_kwargs[key] = llama_option(key, value)
        else:
            # Xinference passes unknown keys to llama.cpp and only logs failures; do the same
            # so launch scripts written for it keep working.
            ignored[key] = value
    if ignored:
        log.info(
            "launch %s: ignoring engine options XinDesk does not use: %s", uid, sorted(ignored)
        )
    llama_kwargs.setdefault("flash_attn", "auto")
    check_cache_and_attention(llama_kwargs)

    limits = [settings.models.default_context_length]
    if gguf.context_length:
        limits.append(gguf.context_length)
    if family.context_length:
        limits.append(family.context_length)
    if model_type != "LLM" and family.max_tokens:
        limits.append(family.max_tokens)
    n_ctx = int(llama_kwargs.get("n_ctx") or min(limits))
    check_context(n_ctx, gguf.context_length, llama_kwargs)
    llama_kwargs["n_ctx"] = n_ctx
    if "n_gpu_layers" not in llama_kwargs:
        n_gpu = request.get("n_gpu", "auto")
        llama_kwargs["n_gpu_layers"] = (
            0 if n_gpu is None or n_gpu == 0 else settings.models.default_gpu_layers
        )
    threads = settings.models.threads or default_threads()
    llama_kwargs.setdefault("n_threads", threads)
    # Prompt reading follows the generation threads unless asked otherwise (a launch that
    # lowers n_threads to leave cores free means it for both).
    llama_kwargs.setdefault("n_threads_batch", llama_kwargs["n_threads"])
    if model_type != "LLM":
        # Embedding and rerank read whole inputs at once: one batch must hold a full input.
        llama_kwargs.setdefault("n_batch", n_ctx)
        llama_kwargs.setdefault("n_ubatch", n_ctx)

    rerank_kind: RerankKind = "cross-encoder"
    if model_type == "rerank":
        # A GGUF converted with rank pooling (bge-reranker, llama.cpp's Qwen3-Reranker
        # conversion) scores in llama.cpp; a plain decoder is asked "yes or no" instead.
        rank_pooling = gguf.pooling_type == _RANK_POOLING
        if not rank_pooling and gguf.architecture not in _ENCODER_ARCHS:
            rerank_kind = "llm-yes-no"

    template = request.get("chat_template")
    if isinstance(template, str) and template.strip():
        named = catalog.find("LLM", template.strip())
        template = named.chat_template if named is not None else template
    else:
        template = family.chat_template
        if template is None and family.model_family:
            parent = catalog.find("LLM", family.model_family)
            template = parent.chat_template if parent is not None else None

    parallel: int | None = None
    parallel_reason = ""
    speculative = speculative_mode(request.get("speculative", "ngram"))
    draft_max = whole_number("draft_max", request.get("draft_max", DEFAULT_DRAFT_MAX), 0, 64)
    draft_path: Path | None = None
    if model_type == "LLM":
        parallel, parallel_reason = choose_parallel(parallel_asked, model_path, gguf, llama_kwargs)
        draft_path = resolve_draft_model(request, catalog, family, spec, store.index(), model_path)

    # Xinference's launch option: `reasoning_content: false` leaves the reasoning in the text.
    split_reasoning = switch("reasoning_content", request.get("reasoning_content", True))
    worker = WorkerSpec(
        uid=uid,
        model_type=model_type,
        model_path=str(model_path),
        llama_kwargs=llama_kwargs,
        chat_template=template,
        stop=tuple(family.stop or ()),
        tool_parser=family.tool_parser,
        reasoning_tags=family.reasoning_tags if split_reasoning else None,
        matryoshka_min=family.xindesk_matryoshka_min,
        query_instruction=family.xindesk_query_instruction,
        rerank_kind=rerank_kind,
        parallel=parallel,
        speculative=speculative,
        draft_max=draft_max,
        draft_model_path=str(draft_path) if draft_path is not None else None,
    )
    return LaunchPlan(
        uid=uid,
        model_type=model_type,
        family=family,
        spec=spec,
        model_path=model_path,
        gguf=gguf,
        n_ctx=n_ctx,
        worker=worker,
        parallel_reason=parallel_reason,
        force=force,
        ignored_kwargs=ignored,
        request=dict(request),
    )


def choose_parallel(
    asked: Any, model_path: Path, gguf: GGUFInfo, llama_kwargs: dict[str, Any]
) -> tuple[int, str]:
    """How many requests a chat model decodes together, and why.

    Every sequence gets the whole launched context (a normal chat always fits, however many run
    beside it), so each one costs a KV cache of n_ctx tokens. The default is the most, up to
    DEFAULT_PARALLEL, whose caches together stay within 1/8 of the RAM available now and
    within half the size of the weights: a small model's cache is large next to its weights,
    and tripling the memory of a 0.3 GB model for requests that may never come in parallel is
    a poor default (launch it with `parallel` for more).
    """
    from desktop.core.engine.textmodel import MAX_PARALLEL

    if asked is not None:
        return whole_number("parallel", asked, 1, MAX_PARALLEL), "asked for at launch"
    n_ctx = int(llama_kwargs["n_ctx"])
    try:
        import psutil

        from desktop.core.memory.estimate import ENGINE_SWA_FULL, estimate_memory
        from desktop.core.memory.gguf_info import read_gguf_metadata

        metadata = read_gguf_metadata(model_path, tensors=False)
        # K and V rows are the same size in the models XinDesk serves, so a cache of two
        # types takes the mean of the two single-type caches.
        caches = [
            estimate_memory(
                metadata,
                file_size=model_path.stat().st_size,
                n_ctx=n_ctx,
                kv_type=str(llama_kwargs.get(key, "f16")),
                swa_full=bool(llama_kwargs.get("swa_full", ENGINE_SWA_FULL)),
                n_batch=int(llama_kwargs.get("n_batch", 512)),
                n_ubatch=int(llama_kwargs.get("n_ubatch", 512)),
            ).kv_cache
            for key in ("type_k", "type_v")
        ]
        per_sequence = max(sum(caches) // 2, 1)
        budget = min(
            psutil.virtual_memory().available // _PARALLEL_RAM_SHARE,
            model_path.stat().st_size // 2,
        )
    except (InvalidRequest, OSError, ValueError, KeyError) as exc:
        log.info("parallel for %s: no memory estimate (%s); one sequence", gguf.name, exc)
        return 1, "no memory estimate for this model"
    value = max(1, min(DEFAULT_PARALLEL, budget // per_sequence))
    mib = per_sequence / MiB
    return value, (
        f"{value} sequences of {n_ctx} tokens ({mib:.0f} MiB of KV cache each; all of them "
        f"within 1/{_PARALLEL_RAM_SHARE} of the RAM available at launch and half the weights' "
        f"size, or one)"
    )


_RANK_POOLING = 4  # llama.cpp LLAMA_POOLING_TYPE_RANK
_ENCODER_ARCHS = frozenset(
    {"bert", "nomic-bert", "jina-bert-v2", "xlm-roberta", "roberta", "modern-bert", "t5encoder"}
)
