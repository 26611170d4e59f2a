"""Sentence embeddings with llama.cpp: the `Llama(...)` settings and the batched forward pass.

Two kinds of GGUF serve embeddings:

* Encoder models (BERT, nomic-bert, jina-bert, ModernBERT, ...) carry their pooling type in
  the GGUF (``<arch>.pooling_type``), written by ``convert_hf_to_gguf.py`` from the
  sentence-transformers config. We use it as is.
* Decoder LLMs (gemma3, qwen2, llama, ...) usually carry none. Xinference's llama.cpp engine
  embeds them with last-token pooling, and so do we; a decoder GGUF that does name a pooling
  type (Qwen3-Embedding writes LAST) keeps its own.

`embed_texts` packs several texts into one llama.cpp batch as separate sequences, the way
llama-cpp-python's ``Llama.embed`` does, but reads the vector width from the model's output
size, respects the micro-batch limit of non-causal encoders (llama.cpp aborts the whole
process otherwise) and truncates long texts while keeping their special tokens.

Only module-level constants live here; ``llama_cpp`` is imported inside the functions.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from desktop.core.errors import InvalidRequest

if TYPE_CHECKING:
    from llama_cpp import Llama

log = logging.getLogger("xindesk.engine")

# Values of llama.h's `enum llama_pooling_type`. Mirrored here so that building the launch
# kwargs does not need the native library; tests assert they match `llama_cpp`'s constants.
POOLING_UNSPECIFIED = -1
POOLING_NONE = 0
POOLING_MEAN = 1
POOLING_CLS = 2
POOLING_LAST = 3
POOLING_RANK = 4

#: Pooling types that give one vector per text.
SEQUENCE_POOLINGS: frozenset[int] = frozenset({POOLING_MEAN, POOLING_CLS, POOLING_LAST})

#: llama.cpp architectures (``general.architecture``) that are bidirectional encoders.
#: Everything else is treated as a decoder LLM.
ENCODER_ARCHITECTURES: frozenset[str] = frozenset(
    {
        "bert",
        "eurobert",
        "gemma-embedding",
        "jina-bert-v2",
        "jina-bert-v3",
        "llama-embed",
        "modern-bert",
        "neo-bert",
        "nomic-bert",
        "nomic-bert-moe",
        "t5encoder",
    }
)


def is_encoder_architecture(arch: str) -> bool:
    """Tell whether a GGUF architecture is a bidirectional (encoder-only) model.

    Args:
        arch: The GGUF's ``general.architecture``.

    Returns:
        True for BERT-like encoders, False for decoder LLMs.
    """
    return arch.strip().lower() in ENCODER_ARCHITECTURES


def batch_kwargs(n_ctx: int) -> dict[str, object]:
    """``n_ctx``, ``n_batch`` and ``n_ubatch`` for a model loaded with ``embedding=True``.

    All three equal, because:

    * llama-cpp-python sets ``n_seq_max = min(n_batch, 256)`` for embedding contexts, and
      llama.cpp aborts the process while creating the context when ``n_ubatch`` is below
      ``n_seq_max`` (seen with ``n_batch=256, n_ubatch=64``);
    * non-causal encoders must get a whole batch in one micro-batch, so ``n_ubatch`` is the
      longest text they can read.

    Args:
        n_ctx: The context size, at least 1.

    Returns:
        The three keyword arguments.

    Raises:
        ValueError: If ``n_ctx`` is not positive.
    """
    if n_ctx < 1:
        raise ValueError(f"n_ctx must be positive, not {n_ctx}")
    return {"n_ctx": n_ctx, "n_batch": n_ctx, "n_ubatch": n_ctx}


def embedding_llama_kwargs(
    arch: str, gguf_pooling: int | None, *, n_ctx: int | None = None
) -> dict[str, object]:
    """Choose the `Llama(...)` keyword arguments that turn a GGUF into an embedding model.

    Pooling:

    * the GGUF's own pooling type when it is MEAN, CLS or LAST (encoders, and decoder
      embedding models such as Qwen3-Embedding that declare one);
    * otherwise MEAN for encoders (the sentence-transformers default) and LAST for decoder
      LLMs (the last token has attended to the whole text; this is what Xinference's
      llama.cpp engine does for LLMs launched as embedding models).

    Callers that do not pass ``n_ctx`` must keep ``n_ubatch == n_batch`` themselves (see
    `batch_kwargs` for why a smaller ``n_ubatch`` crashes the process).

    Args:
        arch: The GGUF's ``general.architecture``.
        gguf_pooling: The GGUF's ``<arch>.pooling_type``, or None when it has none.
        n_ctx: If given, also return ``n_ctx``, ``n_batch`` and ``n_ubatch`` (`batch_kwargs`).

    Returns:
        ``{"embedding": True, "pooling_type": <llama_pooling_type>}``, plus the batch sizes
        when ``n_ctx`` is given.

    Raises:
        InvalidRequest: If the GGUF declares rank pooling, i.e. it is a reranker.
    """
    if gguf_pooling == POOLING_RANK:
        raise InvalidRequest(
            f"This {arch} GGUF is a reranker (pooling type RANK); launch it as a rerank model."
        )
    if gguf_pooling in SEQUENCE_POOLINGS:
        pooling = gguf_pooling
    elif is_encoder_architecture(arch):
        pooling = POOLING_MEAN
    else:
        pooling = POOLING_LAST
    if gguf_pooling is not None and gguf_pooling != pooling:
        # NONE (per-token vectors) or an unknown value: the API returns one vector per text.
        log.info("GGUF pooling type %s replaced by %s for %s", gguf_pooling, pooling, arch)
    kwargs: dict[str, object] = {"embedding": True, "pooling_type": pooling}
    if n_ctx is not None:
        kwargs |= batch_kwargs(n_ctx)
    return kwargs


def token_capacity(llm: Llama) -> int:
    """How many tokens one llama.cpp batch may hold in this context.

    Non-causal models (encoders) have no KV cache to spread a batch over several micro-batches,
    and llama.cpp asserts (killing the process) when a batch exceeds ``n_ubatch``. Causal models
    would split, but pooled outputs of a sequence cut across micro-batches are not reliable, so
    both are held to ``min(n_ctx, n_batch, n_ubatch)``.

    Args:
        llm: A loaded model.

    Returns:
        The largest number of tokens to put in one batch (and in one text).
    """
    import llama_cpp

    ctx = llm.ctx
    return int(
        min(
            llama_cpp.llama_n_ctx(ctx),
            llama_cpp.llama_n_batch(ctx),
            llama_cpp.llama_n_ubatch(ctx),
        )
    )


def clear_memory(llm: Llama) -> None:
    """Forget every cached token of the context (no-op for models without a KV cache).

    Args:
        llm: A loaded model.
    """
    import llama_cpp

    mem = llama_cpp.llama_get_memory(llm.ctx)
    # Encoders allocate no memory; llama_memory_clear must not be given NULL.
    if mem is not None:
        llama_cpp.llama_memory_clear(mem, True)


def truncate_tokens(tokens: list[int], plain: list[int], limit: int) -> list[int]:
    """Shorten a tokenized text to ``limit`` tokens, keeping its special tokens.

    ``tokens`` is the text tokenized with the model's special tokens (e.g. ``[CLS] ... [SEP]``
    or ``<bos> ...``) and ``plain`` the same text tokenized without them. The content is cut at
    its end; the leading and trailing specials are kept so that CLS or last-token pooling still
    reads the token the model was trained to pool. This matches Hugging Face tokenizers'
    ``truncation=True`` for a single text.

    Args:
        tokens: The text's tokens with special tokens.
        plain: The text's tokens without special tokens.
        limit: Maximum length of the result.

    Returns:
        ``tokens`` if short enough, else a shortened copy of length ``limit``.
    """
    if len(tokens) <= limit:
        return tokens
    n_plain = len(plain)
    head_len = 0
    # Find where the content sits among the specials; tokenizers normally give identical
    # content tokens both ways, but fall back to "one leading special" if they do not.
    for offset in range(len(tokens) - n_plain + 1):
        if tokens[offset : offset + n_plain] == plain:
            head_len = offset
            break
    else:
        head_len = min(1, max(len(tokens) - n_plain, 0))
    tail_len = max(len(tokens) - n_plain - head_len, 0)
    head = tokens[:head_len]
    tail = tokens[len(tokens) - tail_len :] if tail_len else []
    keep = max(limit - head_len - tail_len, 0)
    return (head + tokens[head_len : head_len + keep] + tail)[:limit]


def _tokenize_text(llm: Llama, text: str, index: int, limit: int) -> list[int]:
    raw = text.encode("utf-8")
    tokens: list[int] = llm.tokenize(raw, add_bos=True, special=False)
    if not tokens:
        raise InvalidRequest(f"Input {index} is empty after tokenization; nothing to embed.")
    if len(tokens) > limit:
        plain: list[int] = llm.tokenize(raw, add_bos=False, special=False)
        log.warning(
            "Input %d has %d tokens, more than the %d this context allows; its end is cut off.",
            index,
            len(tokens),
            limit,
        )
        tokens = truncate_tokens(tokens, plain, limit)
    return tokens


def pack_batches(lengths: Sequence[int], capacity: int, max_seqs: int) -> list[list[int]]:
    """Group sequences, in order, into batches of at most ``capacity`` tokens and ``max_seqs``.

    Args:
        lengths: Token count of each sequence; each must be at most ``capacity``.
        capacity: Token limit of a batch.
        max_seqs: Sequence limit of a batch (the context's ``n_seq_max``).

    Returns:
        Lists of sequence indices, one list per batch.
    """
    batches: list[list[int]] = []
    current: list[int] = []
    used = 0
    for i, n in enumerate(lengths):
        if current and (used + n > capacity or len(current) >= max_seqs):
            batches.append(current)
            current, used = [], 0
        current.append(i)
        used += n
    if current:
        batches.append(current)
    return batches


def decode_sequences(llm: Llama, sequences: Sequence[Sequence[int]]) -> list[list[float]]:
    """Run several token sequences through the model in one batch and read their pooled outputs.

    Each sequence gets its own sequence id and positions from 0, every token is marked as an
    output (pooling needs them all), and the memory is cleared first so earlier requests cannot
    leak in. For rank pooling the output of a sequence is ``n_cls_out`` floats, otherwise the
    model's embedding width.

    Args:
        llm: A model loaded with ``embedding=True`` and a pooling type other than NONE.
        sequences: Token ids; together at most `token_capacity` tokens and at most the
            context's ``n_seq_max`` sequences.

    Returns:
        The pooled output of each sequence, in order.

    Raises:
        RuntimeError: If llama.cpp fails to decode or returns no output for a sequence.
    """
    import llama_cpp

    ctx = llm.ctx
    model = llm.model
    if llama_cpp.llama_pooling_type(ctx) == POOLING_RANK:
        width = int(llama_cpp.llama_model_n_cls_out(model))
    else:
        # n_embd_out, not n_embd: they differ for models with a projection (e.g. deepstack).
        width = int(llama_cpp.llama_model_n_embd_out(model))
    n_tokens = sum(len(s) for s in sequences)
    # One sequence id per token: the last argument is ids per token, not sequences per batch.
    batch = llama_cpp.llama_batch_init(n_tokens, 0, 1)
    try:
        k = 0
        for seq_id, seq in enumerate(sequences):
            for pos, token in enumerate(seq):
                batch.token[k] = token
                batch.pos[k] = pos
                batch.n_seq_id[k] = 1
                batch.seq_id[k][0] = seq_id
                batch.logits[k] = True
                k += 1
        batch.n_tokens = n_tokens
        clear_memory(llm)
        rc = llama_cpp.llama_decode(ctx, batch)
        if rc != 0:
            raise RuntimeError(f"llama_decode failed with status {rc}")
        outputs: list[list[float]] = []
        for seq_id in range(len(sequences)):
            ptr = llama_cpp.llama_get_embeddings_seq(ctx, seq_id)
            if not ptr:
                raise RuntimeError(f"llama.cpp returned no pooled output for sequence {seq_id}")
            outputs.append([float(x) for x in ptr[:width]])
        return outputs
    finally:
        llama_cpp.llama_batch_free(batch)


def l2_normalize(vector: list[float]) -> list[float]:
    """Scale a vector to unit length; a zero vector stays zero.

    Args:
        vector: Any vector.

    Returns:
        A new list with Euclidean norm 1 (or all zeros).
    """
    norm = sum(x * x for x in vector) ** 0.5
    if norm == 0.0:
        return list(vector)
    return [x / norm for x in vector]


def shortened(vector: list[float], dimensions: int) -> list[float]:
    """A Matryoshka vector cut to its first `dimensions` values, of unit length again."""
    return l2_normalize(vector[:dimensions])


def embed_texts(
    llm: Llama, texts: list[str], *, normalize: bool = True
) -> tuple[list[list[float]], int]:
    """Embed texts with a model loaded with `embedding_llama_kwargs`.

    Each text is tokenized with the model's special tokens (``[CLS] ... [SEP]``, ``<bos> ...``).
    Texts are packed, in order, several to a llama.cpp batch as separate sequences (up to
    `token_capacity` tokens and ``n_seq_max`` sequences per batch).

    Truncation: a text longer than `token_capacity` (``min(n_ctx, n_batch, n_ubatch)``) is cut at
    its end to that many tokens, keeping its leading and trailing special tokens, and a warning
    is logged; it is not an error (sentence-transformers and Xinference truncate too). The token
    count returned is that of what the model actually read.

    Args:
        llm: The model; it must not be used by another thread during the call.
        texts: The texts to embed; may be empty.
        normalize: Scale each vector to unit L2 norm (what the OpenAI API returns).

    Returns:
        One vector per text, in order, and the total number of tokens processed.

    Raises:
        InvalidRequest: If the model was not loaded for embeddings or a text has no tokens.
        RuntimeError: If llama.cpp fails.
    """
    import llama_cpp

    if not texts:
        return [], 0
    ctx = llm.ctx
    pooling = int(llama_cpp.llama_pooling_type(ctx))
    if not llm.context_params.embeddings or pooling not in SEQUENCE_POOLINGS:
        raise InvalidRequest(
            "This model was not launched for embeddings (needs embedding=True and MEAN, CLS or "
            f"LAST pooling; pooling is {pooling})."
        )
    limit = token_capacity(llm)
    max_seqs = max(int(llama_cpp.llama_n_seq_max(ctx)), 1)
    tokenized = [_tokenize_text(llm, text, i, limit) for i, text in enumerate(texts)]

    vectors: list[list[float]] = [[] for _ in texts]
    try:
        for group in pack_batches([len(t) for t in tokenized], limit, max_seqs):
            outputs = decode_sequences(llm, [tokenized[i] for i in group])
            for i, vector in zip(group, outputs, strict=True):
                vectors[i] = l2_normalize(vector) if normalize else vector
    finally:
        # The Llama object tracks which tokens sit in the cache for prompt reuse; we changed
        # the cache behind its back.
        clear_memory(llm)
        llm.reset()  # type: ignore[no-untyped-call]  # untyped in llama-cpp-python
    return vectors, sum(len(t) for t in tokenized)
