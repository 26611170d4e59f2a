"""How a cross-encoder reads a query and a document: the pair laid out as llama.cpp's server
lays it out (see `desktop.core.engine.rerank`), cut to the context when it must be, and a
document too long for the context read in pieces."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from desktop.core.errors import InvalidRequest

if TYPE_CHECKING:
    from llama_cpp import Llama

log = logging.getLogger("xindesk.engine")

__all__ = ["MAX_PIECES", "document_pieces", "pair_tokens", "tokenize"]


def tokenize(llm: Llama, text: str, *, add_special: bool, parse_special: bool) -> list[int]:
    if not text:
        return []
    tokens: list[int] = llm.tokenize(
        text.encode("utf-8"), add_bos=add_special, special=parse_special
    )
    return tokens


def _truncate_longest_first(first: list[int], second: list[int], budget: int) -> None:
    """Drop tokens from the end of the longer list until both fit ``budget`` together.

    This is Hugging Face tokenizers' ``truncation="longest_first"`` for a pair, which is what
    sentence-transformers' CrossEncoder uses. The lists are shortened in place.
    """
    excess = len(first) + len(second) - budget
    while excess > 0:
        longer = first if len(first) >= len(second) else second
        if not longer:
            break
        # Cut the longer one down towards the shorter in one step.
        step = min(excess, max(len(longer) - min(len(first), len(second)), 1))
        del longer[len(longer) - step :]
        excess -= step


def pair_tokens(
    llm: Llama, query: str, document: str, limit: int, template: str | None
) -> tuple[list[int], bool]:
    """Lay a query/document pair out as llama.cpp's server does for ``/rerank``.

    Args:
        llm: The cross-encoder.
        query: The search query.
        document: One candidate document.
        limit: Most tokens the pair may have.
        template: The GGUF's ``rerank`` chat template, or None.

    Returns:
        The tokens, and whether the pair had to be truncated to fit ``limit``.

    Raises:
        InvalidRequest: If a rerank template with the query alone does not fit ``limit``.
    """
    import llama_cpp

    if template is not None:
        prompt = template.replace("{query}", query).replace("{document}", document)
        filled = tokenize(llm, prompt, add_special=False, parse_special=True)
        if len(filled) <= limit:
            return filled, False
        # Too long: shorten the document, keep the template and the query whole.
        doc_tokens = tokenize(llm, document, add_special=False, parse_special=False)
        keep = max(len(doc_tokens) - (len(filled) - limit), 0)
        short_doc = llm.detokenize(doc_tokens[:keep]).decode("utf-8", errors="ignore")
        prompt = template.replace("{query}", query).replace("{document}", short_doc)
        filled = tokenize(llm, prompt, add_special=False, parse_special=True)
        if len(filled) > limit:
            raise InvalidRequest(
                f"The query is too long for this reranker's context of {limit} tokens."
            )
        return filled, True

    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    bos = int(llama_cpp.llama_vocab_bos(vocab))
    eos = int(llama_cpp.llama_vocab_eos(vocab))
    sep = int(llama_cpp.llama_vocab_sep(vocab))
    if eos < 0:
        eos = sep
    add_bos = bool(llama_cpp.llama_vocab_get_add_bos(vocab)) and bos >= 0
    add_eos = bool(llama_cpp.llama_vocab_get_add_eos(vocab)) and eos >= 0
    add_sep = bool(llama_cpp.llama_vocab_get_add_sep(vocab)) and sep >= 0

    q_tokens = tokenize(llm, query, add_special=False, parse_special=False)
    d_tokens = tokenize(llm, document, add_special=False, parse_special=False)
    n_special = int(add_bos) + 2 * int(add_eos) + int(add_sep)
    truncated = len(q_tokens) + len(d_tokens) + n_special > limit
    if truncated:
        _truncate_longest_first(q_tokens, d_tokens, max(limit - n_special, 0))
    tokens: list[int] = []
    if add_bos:
        tokens.append(bos)
    tokens += q_tokens
    if add_eos:
        tokens.append(eos)
    if add_sep:
        tokens.append(sep)
    tokens += d_tokens
    if add_eos:
        tokens.append(eos)
    return tokens, truncated


#: The most pieces a long document is scored in (a longer one is scored on its first pieces).
MAX_PIECES = 8
# Tokens each piece shares with the next, so a sentence cut at a boundary is whole in one.
_PIECE_OVERLAP = 16
# Tokens kept free in a piece: text detokenized and tokenized again may come out a little
# longer than the tokens it was cut from.
_PIECE_MARGIN = 8


def document_pieces(
    llm: Llama, query: str, document: str, limit: int, template: str | None
) -> list[str]:
    """The document as the reranker reads it: whole when it fits the context with the query,
    else in consecutive, slightly overlapping pieces that each fit, so a relevant passage
    anywhere in it is read (the document's score is its best piece's). FastGPT sends its
    knowledge-base chunks whole and trusts the score to cover all of each.
    """
    _tokens, truncated = pair_tokens(llm, query, document, limit, template)
    if not truncated:
        return [document]
    frame, _ = pair_tokens(llm, query, "", limit, template)
    room = limit - len(frame) - _PIECE_MARGIN
    if room <= _PIECE_OVERLAP * 2:
        return [document]  # the query leaves no room: the pair is truncated instead
    doc_tokens = tokenize(llm, document, add_special=False, parse_special=False)
    step = room - _PIECE_OVERLAP
    starts = list(range(0, max(len(doc_tokens) - _PIECE_OVERLAP, 1), step))
    if len(starts) > MAX_PIECES:
        log.warning(
            "A rerank document of %d tokens is scored on its first %d pieces of %d tokens.",
            len(doc_tokens),
            MAX_PIECES,
            room,
        )
        starts = starts[:MAX_PIECES]
    return [
        llm.detokenize(doc_tokens[start : start + room]).decode("utf-8", errors="ignore")
        for start in starts
    ]
