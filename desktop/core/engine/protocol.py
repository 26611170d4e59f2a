"""What the server and a model's worker process say to each other over their pipe.

Every message is a plain tuple of picklable values. Requests carry an id, and every event the
worker sends back names the request it belongs to, so several requests are in flight at once: a
chat model's worker decodes them together (`engine.batcher`) and sends the events of a decode
step in one "events" message, so the pipe carries one message per step, not one per token.

server -> worker:  ("request", rid, op, params)   op: "chat", "complete", "embed" or "rerank"
                   ("cancel", rid)
                   ("shutdown",)
worker -> server:  ("loaded", info)               once, when the model is ready
                   ("load_failed", message)       once, instead of "loaded"
                   ("event", rid, kind, payload)  kind: an EventKind
                   ("events", [(rid, kind, payload), ...])  several, in order
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# delta:      {"text": str}                          a piece of generated text
# reasoning:  {"text": str}                          a piece of a thinking model's reasoning
# tool_calls: {"calls": [{"id", "name", "arguments"}]}
# done:       {"finish_reason": str, "usage": {...}}  generation finished
# result:     {...}                                  whole answer of embed / rerank
# error:      {"message": str, "invalid": bool}       invalid=True means the caller's fault
EventKind = Literal["delta", "reasoning", "tool_calls", "done", "result", "error"]
#: The kinds that carry streamed text (batched together on their way to the server).
TEXT_KINDS = frozenset({"delta", "reasoning"})

RerankKind = Literal["cross-encoder", "llm-yes-no"]


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker needs to load and serve one model."""

    uid: str
    model_type: Literal["LLM", "embedding", "rerank"]
    model_path: str
    llama_kwargs: dict[str, Any] = field(default_factory=dict)
    chat_template: str | None = None
    stop: tuple[str, ...] = ()
    tool_parser: str | None = None
    # A thinking model's reasoning tags (opening, closing): the text between them is sent
    # apart from the answer (`engine.reasoning`); None leaves the text as the model wrote it.
    reasoning_tags: tuple[str, str] | None = None
    # An embedding model trained with Matryoshka learning: its vectors may be cut to any
    # length from this one up (the request's `dimensions`); None: their length is fixed.
    matryoshka_min: int | None = None
    # What an embedding family puts before a search query (the request's input_type "query").
    query_instruction: str | None = None
    rerank_kind: RerankKind = "cross-encoder"
    log_file: str | None = None
    # Sequences a chat model decodes together (its context holds this many, each n_ctx long);
    # None means one.
    parallel: int | None = None
    # Speculative decoding of a chat model (`engine.speculative`): "ngram" drafts from the
    # prompt and the answer so far, "off" drafts nothing; at most draft_max tokens a step.
    speculative: Literal["ngram", "off"] = "ngram"
    draft_max: int = 16
    # A small model of the same vocabulary that drafts instead of the lookup.
    draft_model_path: str | None = None
