"""Reranking with llama.cpp: cross-encoders with rank pooling, and LLMs asked "yes" or "no".

Cross-encoders (bge-reranker, jina-reranker, ms-marco MiniLM, ...) are GGUFs whose pooling type
is RANK: llama.cpp pools the sequence (CLS token, or the mean for some models), applies the
classification head (``cls``/``cls.output`` tensors) and returns ``n_cls_out`` floats per
sequence. llama-cpp-python's ``Llama.embed`` would read ``n_embd`` floats there, so we read the
per-sequence output ourselves with ``llama_get_embeddings_seq``.

The query/document pair is laid out exactly as llama.cpp's own server does it
(``format_prompt_rerank`` in ``tools/server/server-common.cpp``):

* if the GGUF has a chat template named ``rerank`` (``tokenizer.chat_template.rerank``), its
  ``{query}`` and ``{document}`` placeholders are filled in and the result is tokenized with
  special tokens parsed and none added;
* otherwise ``[BOS] query [EOS] [SEP] document [EOS]``, where BOS is present if the vocab's
  ``add_bos`` flag is set, each EOS if ``add_eos`` is set (falling back to SEP when the vocab has
  no EOS) and SEP if ``add_sep`` is set. A converted BERT reranker (BOS=[CLS], EOS=[SEP],
  add_eos) thus gets ``[CLS] query [SEP] document [SEP]``.

The raw score (one logit) goes through a sigmoid, like sentence-transformers' ``CrossEncoder``
does for bge-reranker, so scores are in (0, 1).

LLM rerankers follow Qwen3-Reranker: the model reads a system/user/assistant prompt asking
whether the document meets the query and the instruction, and the score is
``P("yes") / (P("yes") + P("no"))`` over the next-token logits.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from desktop.core.engine.embedding import (
    POOLING_RANK,
    batch_kwargs,
    clear_memory,
    decode_sequences,
    pack_batches,
    token_capacity,
)
from desktop.core.engine.rerank_pairs import (
    document_pieces,
    pair_tokens,
)
from desktop.core.engine.rerank_pairs import tokenize as _tokenize
from desktop.core.errors import InvalidRequest

if TYPE_CHECKING:
    from llama_cpp import Llama

log = logging.getLogger("xindesk.engine")

RerankKind = Literal["cross-encoder", "llm-yes-no"]

#: Qwen3-Reranker's default task instruction.
DEFAULT_INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query"

#: Qwen3-Reranker's system prompt, verbatim.
YES_NO_SYSTEM_PROMPT = (
    "Judge whether the Document meets the requirements based on the Query and the Instruct "
    'provided. Note that the answer can only be "yes" or "no".'
)

# Qwen3-Reranker's prompt around the user content, as its model card writes it (ChatML).
_CHATML_PREFIX = f"<|im_start|>system\n{YES_NO_SYSTEM_PROMPT}<|im_end|>\n<|im_start|>user\n"
_CHATML_SUFFIX = "<|im_end|>\n<|im_start|>assistant\n"
# Qwen3 answers after an (empty) reasoning block; the reranker was trained with it.
_THINK_BLOCK = "<think>\n\n</think>\n\n"

# Spellings tried, in order, for the answer tokens. Qwen3-Reranker uses the bare "yes"/"no"
# tokens; other vocabularies may only have them with a leading space or capitalised.
_ANSWER_SPELLINGS: tuple[tuple[str, str], ...] = (
    ("yes", "no"),
    (" yes", " no"),
    ("Yes", "No"),
    (" Yes", " No"),
)

# Architectures whose rank head already ends in a softmax (llama.cpp's build_pooling).
_SOFTMAX_RANK_ARCHITECTURES = frozenset({"qwen3", "qwen3vl"})

_USER_PLACEHOLDER = "\u2063XINDESK-RERANK-USER-CONTENT\u2063"


def rerank_llama_kwargs(kind: RerankKind, *, n_ctx: int | None = None) -> dict[str, object]:
    """Choose the `Llama(...)` keyword arguments for a reranker.

    Args:
        kind: ``"cross-encoder"`` for a GGUF with a classification head (rank pooling),
            ``"llm-yes-no"`` for a decoder LLM scored by its "yes"/"no" logits.
        n_ctx: For cross-encoders, also return ``n_ctx = n_batch = n_ubatch`` (see
            `desktop.core.engine.embedding.batch_kwargs`: a cross-encoder context with
            ``n_ubatch < n_batch`` can abort the process). Ignored for LLMs, whose batch
            sizes are free.

    Returns:
        ``{"embedding": True, "pooling_type": LLAMA_POOLING_TYPE_RANK}`` for cross-encoders;
        ``{"embedding": False, "logits_all": False}`` for LLMs (only the last position's
        logits are read).

    Raises:
        InvalidRequest: For an unknown kind.
    """
    if kind == "cross-encoder":
        kwargs: dict[str, object] = {"embedding": True, "pooling_type": POOLING_RANK}
        if n_ctx is not None:
            kwargs |= batch_kwargs(n_ctx)
        return kwargs
    if kind == "llm-yes-no":
        return {"embedding": False, "logits_all": False}
    raise InvalidRequest(f"Unknown rerank kind {kind!r}; use 'cross-encoder' or 'llm-yes-no'.")


def sigmoid(x: float) -> float:
    """The logistic function, without overflow for large ``|x|``.

    Args:
        x: A logit.

    Returns:
        ``1 / (1 + exp(-x))``.
    """
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _architecture(llm: Llama) -> str:
    meta = getattr(llm, "metadata", None) or {}
    return str(meta.get("general.architecture", ""))


def _relevance(raw: Sequence[float], softmax_head: bool) -> float:
    """Turn a rank-pooling output into a relevance in (0, 1)."""
    if len(raw) == 1:
        return sigmoid(raw[0])
    if softmax_head:
        # llama.cpp already applied a softmax; label 0 is "yes" for converted Qwen3 rerankers.
        return float(raw[0])
    # Several labels without a softmax: label 0's probability, as llama.cpp's server reads
    # label 0 as the score.
    top = max(raw)
    exps = [math.exp(x - top) for x in raw]
    return exps[0] / sum(exps)


def cross_encoder_scores(llm: Llama, query: str, documents: list[str]) -> tuple[list[float], int]:
    """Score documents against a query with a cross-encoder GGUF (rank pooling).

    Pairs are built as described in the module docstring and packed several to a batch as
    separate sequences. A document too long for the context's token capacity
    (``min(n_ctx, n_batch, n_ubatch)``) with the query is read in pieces (`document_pieces`)
    and scores as its best piece; a pair still too long (a very long query) is truncated
    longest-first (query and document cut at their ends, the special tokens kept), with a
    warning.

    Args:
        llm: A model loaded with `rerank_llama_kwargs("cross-encoder")`.
        query: The search query.
        documents: The candidate documents.

    Returns:
        A relevance in (0, 1) per document, in input order (sigmoid of the model's logit), and
        the total number of tokens processed.

    Raises:
        InvalidRequest: If the model was not loaded with rank pooling.
        RuntimeError: If llama.cpp fails.
    """
    import llama_cpp

    if not documents:
        return [], 0
    ctx = llm.ctx
    if int(llama_cpp.llama_pooling_type(ctx)) != POOLING_RANK:
        raise InvalidRequest(
            "This model was not launched as a cross-encoder (needs embedding=True and "
            "pooling_type=RANK)."
        )
    limit = token_capacity(llm)
    max_seqs = max(int(llama_cpp.llama_n_seq_max(ctx)), 1)
    raw_template = llama_cpp.llama_model_chat_template(llm.model, b"rerank")
    template = raw_template.decode("utf-8") if raw_template else None

    pairs: list[list[int]] = []
    owner: list[int] = []  # the document each pair reads (a long one is several pairs)
    for i, document in enumerate(documents):
        for piece in document_pieces(llm, query, document, limit, template):
            tokens, truncated = pair_tokens(llm, query, piece, limit, template)
            if truncated:
                log.warning("Rerank pair %d was longer than %d tokens and was cut.", i, limit)
            pairs.append(tokens)
            owner.append(i)

    softmax_head = _architecture(llm) in _SOFTMAX_RANK_ARCHITECTURES
    scores: list[float] = [0.0] * len(documents)
    try:
        for group in pack_batches([len(p) for p in pairs], limit, max_seqs):
            outputs = decode_sequences(llm, [pairs[i] for i in group])
            for i, raw in zip(group, outputs, strict=True):
                read = owner[i]
                scores[read] = max(scores[read], _relevance(raw, softmax_head))
    finally:
        clear_memory(llm)
        llm.reset()  # type: ignore[no-untyped-call]  # untyped in llama-cpp-python
    return scores, sum(len(p) for p in pairs)


# -- LLM yes/no reranking ------------------------------------------------------------------------


def _single_token(llm: Llama, text: str) -> int | None:
    tokens = _tokenize(llm, text, add_special=False, parse_special=True)
    return tokens[0] if len(tokens) == 1 else None


def answer_token_ids(llm: Llama) -> tuple[int, int]:
    """Find the token ids of the answers "yes" and "no" in the model's vocabulary.

    The spellings ``yes``/``no``, `` yes``/`` no``, ``Yes``/``No`` and `` Yes``/`` No`` are tried
    in that order and the first pair where both words are single, distinct tokens wins.
    Fallback: if no spelling is a single token, the first token of ``yes`` and of ``no`` is used
    (they start the answer just the same), with a warning.

    Args:
        llm: A loaded model.

    Returns:
        ``(yes_id, no_id)``.

    Raises:
        InvalidRequest: If even the first tokens of "yes" and "no" coincide.
    """
    for yes_text, no_text in _ANSWER_SPELLINGS:
        yes_id = _single_token(llm, yes_text)
        no_id = _single_token(llm, no_text)
        if yes_id is not None and no_id is not None and yes_id != no_id:
            return yes_id, no_id
    yes_tokens = _tokenize(llm, "yes", add_special=False, parse_special=False)
    no_tokens = _tokenize(llm, "no", add_special=False, parse_special=False)
    if yes_tokens and no_tokens and yes_tokens[0] != no_tokens[0]:
        log.warning(
            "No single-token 'yes'/'no' in this vocabulary; scoring with their first tokens."
        )
        return yes_tokens[0], no_tokens[0]
    raise InvalidRequest("This model's vocabulary cannot tell 'yes' from 'no' in one token.")


def chat_template_frame(template: bytes, system: str) -> tuple[str, str] | None:
    """Render a system turn and an open assistant turn around the user content.

    Uses llama.cpp's built-in template engine (``llama_chat_apply_template``), which recognises
    the common template families (Gemma, Llama 2/3, Mistral, Phi, ChatML, ...) from the Jinja
    source without running it.

    Args:
        template: A GGUF chat template (Jinja source) or a built-in template name.
        system: The system prompt.

    Returns:
        The text before and after the user content, or None if llama.cpp does not recognise
        the template.
    """
    import ctypes

    import llama_cpp

    messages = (llama_cpp.llama_chat_message * 2)()
    messages[0].role = b"system"
    messages[0].content = system.encode("utf-8")
    messages[1].role = b"user"
    messages[1].content = _USER_PLACEHOLDER.encode("utf-8")
    size = 4096
    for _ in range(2):
        buf = ctypes.create_string_buffer(size)
        n = int(llama_cpp.llama_chat_apply_template(template, messages, 2, True, buf, size))
        if n < 0:
            return None
        if n <= size:
            rendered = buf.raw[:n].decode("utf-8", errors="replace")
            if _USER_PLACEHOLDER not in rendered:
                return None
            head, _, tail = rendered.partition(_USER_PLACEHOLDER)
            return head, tail
        size = n + 1
    return None


def yes_no_frame(llm: Llama) -> tuple[str, str]:
    """The prompt text before and after the user content for yes/no reranking.

    * No chat template, or a ChatML one (Qwen and friends): Qwen3-Reranker's documented prompt
      verbatim, ``<|im_start|>system ... <|im_start|>user\\n`` + content +
      ``<|im_end|>\\n<|im_start|>assistant\\n``, followed by Qwen3's empty
      ``<think>\\n\\n</think>\\n\\n`` block when ``<think>`` is a single token of the vocabulary
      (i.e. a Qwen3-style model). A model without a template (a base model such as Gemma 3
      270M) reads the ChatML markers as plain text, which still frames the question.
    * Another chat template llama.cpp knows (Gemma, Llama 3, Mistral, ...): the same system and
      user messages rendered through it, with the assistant turn opened.

    Args:
        llm: A loaded decoder model.

    Returns:
        ``(prefix, suffix)``.
    """
    import llama_cpp

    template = llama_cpp.llama_model_chat_template(llm.model, None)
    if template and b"<|im_start|>" not in template:
        framed = chat_template_frame(template, YES_NO_SYSTEM_PROMPT)
        if framed is not None:
            return framed
        log.info("Chat template not understood by llama.cpp; using the ChatML reranker prompt.")
    suffix = _CHATML_SUFFIX
    if _single_token(llm, "<think>") is not None:
        suffix += _THINK_BLOCK
    return _CHATML_PREFIX, suffix


def _yes_no_user_parts(query: str, document: str, instruction: str | None) -> tuple[str, str]:
    """Qwen3-Reranker's user content, split before the document.

    The content is ``<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {document}``.
    The split falls just before the space that starts the document: tokenizers put a word and
    its leading space in one token and never merge across ``:``, so tokenizing the two parts
    separately gives the same tokens as the whole, and the first part is the same for every
    document (its KV cache is computed once).
    """
    task = instruction if instruction else DEFAULT_INSTRUCTION
    return f"<Instruct>: {task}\n<Query>: {query}\n<Document>:", f" {document}"


class _Decoder:
    """Feeds one sequence to llama.cpp in ``n_batch`` chunks and reads the last logits."""

    def __init__(self, llm: Llama) -> None:
        import llama_cpp

        self.llm = llm
        self.ctx = llm.ctx
        self.n_batch = int(llama_cpp.llama_n_batch(self.ctx))
        self.mem = llama_cpp.llama_get_memory(self.ctx)
        model = llm.model
        # Recurrent state cannot be rolled back to a position; such models re-read everything.
        self.can_rollback = self.mem is not None and not (
            llama_cpp.llama_model_is_recurrent(model) or llama_cpp.llama_model_is_hybrid(model)
        )
        self.batch = llama_cpp.llama_batch_init(self.n_batch, 0, 1)

    def close(self) -> None:
        import llama_cpp

        llama_cpp.llama_batch_free(self.batch)

    def rollback(self, n_keep: int) -> bool:
        """Drop every cached position from ``n_keep`` on; False if the cache cannot."""
        import llama_cpp

        if not self.can_rollback or self.mem is None:
            return False
        if not llama_cpp.llama_memory_seq_rm(self.mem, 0, n_keep, -1):
            return False
        # A sliding-window cache that is not full-size forgets old positions; the kept prefix
        # is only usable if it is all still there.
        return int(llama_cpp.llama_memory_seq_pos_min(self.mem, 0)) <= 0

    def decode(self, tokens: Sequence[int], start: int, want_logits: bool) -> None:
        """Decode ``tokens`` at positions ``start...``; logits only for the very last one."""
        import llama_cpp

        batch = self.batch
        for begin in range(0, len(tokens), self.n_batch):
            chunk = tokens[begin : begin + self.n_batch]
            for j, token in enumerate(chunk):
                batch.token[j] = token
                batch.pos[j] = start + begin + j
                batch.n_seq_id[j] = 1
                batch.seq_id[j][0] = 0
                batch.logits[j] = False
            if want_logits and begin + len(chunk) >= len(tokens):
                batch.logits[len(chunk) - 1] = True
            batch.n_tokens = len(chunk)
            rc = llama_cpp.llama_decode(self.ctx, batch)
            if rc != 0:
                raise RuntimeError(f"llama_decode failed with status {rc}")

    def last_logits(self, ids: Sequence[int]) -> list[float]:
        """The last decoded position's logits at ``ids``."""
        import llama_cpp

        logits = llama_cpp.llama_get_logits_ith(self.ctx, -1)
        if not logits:
            raise RuntimeError("llama.cpp returned no logits for the last token")
        return [float(logits[i]) for i in ids]


def yes_no_scores(
    llm: Llama, query: str, documents: list[str], instruction: str | None = None
) -> tuple[list[float], int]:
    """Score documents with a decoder LLM the way Qwen3-Reranker does.

    For each document the model reads the prompt from `yes_no_frame` around
    ``<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {document}`` and the score is
    ``P(yes) / (P(yes) + P(no))`` from the next-token logits, i.e. the sigmoid of
    ``logit(yes) - logit(no)`` (token ids from `answer_token_ids`). The user content is
    tokenized without parsing special tokens, so a document cannot inject chat markers.

    The part of the prompt before the document is decoded once and kept in the KV cache; each
    document is then decoded after it. Every document therefore goes through the same
    computation whatever the order or number of documents, so scores are reproducible. Models
    whose cache cannot be rolled back (recurrent, or a pruned sliding window) re-read the whole
    prompt for each document instead.

    A prompt longer than ``n_ctx`` is handled like Qwen3-Reranker's ``max_length``: the
    document is cut at its end.

    Args:
        llm: A decoder model loaded with `rerank_llama_kwargs("llm-yes-no")`.
        query: The search query.
        documents: The candidate documents.
        instruction: The task instruction; Qwen3-Reranker's default when None or empty.

    Returns:
        A relevance in [0, 1] per document, in input order, and the total prompt tokens.

    Raises:
        InvalidRequest: If the model was loaded for embeddings, or the prompt without the
            document does not fit the context.
        RuntimeError: If llama.cpp fails.
    """
    import llama_cpp

    if not documents:
        return [], 0
    if llm.context_params.embeddings:
        raise InvalidRequest(
            "LLM reranking needs the model's logits; launch it without embedding=True."
        )
    n_ctx = int(llama_cpp.llama_n_ctx(llm.ctx))
    yes_id, no_id = answer_token_ids(llm)
    prefix, suffix = yes_no_frame(llm)
    head, _ = _yes_no_user_parts(query, "", instruction)
    shared = _tokenize(llm, prefix, add_special=True, parse_special=True)
    shared += _tokenize(llm, head, add_special=False, parse_special=False)
    suffix_tokens = _tokenize(llm, suffix, add_special=False, parse_special=True)
    budget = n_ctx - len(shared) - len(suffix_tokens)
    if budget <= 0:
        raise InvalidRequest(
            f"The query and instruction do not fit this model's context of {n_ctx} tokens."
        )

    scores: list[float] = []
    total = 0
    decoder = _Decoder(llm)
    try:
        clear_memory(llm)
        decoder.decode(shared, 0, want_logits=False)
        shared_cached = True
        for i, document in enumerate(documents):
            _, tail = _yes_no_user_parts(query, document, instruction)
            doc_tokens = _tokenize(llm, tail, add_special=False, parse_special=False)
            if len(doc_tokens) > budget:
                log.warning(
                    "Rerank prompt %d has %d tokens, more than the context of %d; the document's "
                    "end is cut off.",
                    i,
                    len(shared) + len(doc_tokens) + len(suffix_tokens),
                    n_ctx,
                )
                doc_tokens = doc_tokens[:budget]
            rest = doc_tokens + suffix_tokens
            if shared_cached and decoder.rollback(len(shared)):
                decoder.decode(rest, len(shared), want_logits=True)
            else:
                shared_cached = False
                clear_memory(llm)
                decoder.decode(shared + rest, 0, want_logits=True)
            yes_logit, no_logit = decoder.last_logits((yes_id, no_id))
            scores.append(sigmoid(yes_logit - no_logit))
            total += len(shared) + len(rest)
    finally:
        decoder.close()
        clear_memory(llm)
        llm.reset()  # type: ignore[no-untyped-call]  # untyped in llama-cpp-python
    return scores, total
