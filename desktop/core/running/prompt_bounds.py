"""Inputs bounded by their bytes before the worker tokenizes them.

Tokenizing takes time in proportion to the text, on the worker's decode thread: a 10 MB prompt
held every stream of its model for seconds before being refused as too long. A token never
stands for more bytes than the longest text in the model's vocabulary (`max_token_bytes`, which
the worker reports when it loads), so a text of `b` bytes has at least b / max_token_bytes
tokens, and one whose lower bound already reaches the context surely cannot fit:

* chat and completion prompts that surely cannot fit are refused here, without being sent;
  what might fit goes on to the worker, which counts the real tokens;
* embedding and rerank inputs are truncated to the context by the worker (as
  sentence-transformers and Xinference do), so here each text is cut to a prefix that still
  holds more tokens than the context, which leaves the answer as it was.

The bound holds for tokenizers that map every byte of the text into a token (SentencePiece
with byte fallback, byte-level BPE). WordPiece and Unigram normalize the text first and may
drop characters, so for them the bound allows four times the bytes.
"""

from __future__ import annotations

from typing import Any

from desktop.core.errors import InvalidRequest

# Tokenizers that cover every input byte with tokens (`tokenizer.ggml.model`).
BYTE_COVERING_TOKENIZERS = frozenset({"llama", "gpt2", "rwkv"})
# For the others: the share of a text's bytes normalization may remove, at most.
NORMALIZING_MARGIN = 4
# Tokens beyond the context a cut text keeps, so its last tokens (which the cut may change)
# are among those the truncation drops.
_CUT_SLACK_TOKENS = 16

# Messages whose text every chat template puts in the prompt: templates may rewrite an
# assistant turn (dropping its reasoning) or leave out a system message they cannot show.
_KEPT_ROLES = ("user", "tool", "function")


def bytes_per_token(info: dict[str, Any]) -> int | None:
    """The most bytes one token of this model can stand for, with the margin its tokenizer
    needs; None when the worker did not say (no bound then)."""
    longest = info.get("max_token_bytes")
    if not isinstance(longest, int) or longest <= 0:
        return None
    if info.get("tokenizer") in BYTE_COVERING_TOKENIZERS:
        return longest
    return longest * NORMALIZING_MARGIN


def _text_bytes(text: str) -> int:
    return len(text.encode("utf-8", errors="replace"))


def prompt_bytes(op: str, params: dict[str, Any]) -> int:
    """Bytes of a chat or completion request's text that surely reach the prompt."""
    if op == "complete":
        prompt = params.get("prompt")
        if isinstance(prompt, list):
            return sum(_text_bytes(p) for p in prompt if isinstance(p, str))
        return _text_bytes(prompt) if isinstance(prompt, str) else 0
    total = 0
    for message in params.get("messages") or []:
        if isinstance(message, dict) and message.get("role") in _KEPT_ROLES:
            content = message.get("content")
            if isinstance(content, str):
                # Templates may trim a message (Gemma's do); what is left reaches the prompt.
                total += _text_bytes(content.strip())
    return total


def check_prompt(op: str, params: dict[str, Any], info: dict[str, Any]) -> None:
    """Refuse a chat or completion prompt that cannot fit the context, by its bytes alone."""
    per_token = bytes_per_token(info)
    n_ctx = info.get("n_ctx")
    if per_token is None or not isinstance(n_ctx, int) or n_ctx <= 0:
        return
    size = prompt_bytes(op, params)
    # Cheap first: a text shorter than the context in bytes has fewer tokens than it.
    if size < n_ctx:
        return
    at_least = -(-size // per_token)
    if at_least >= n_ctx:
        raise InvalidRequest(
            f"The prompt is {size} bytes, at least {at_least} tokens for this model (none of "
            f"its tokens is longer than {per_token} bytes), but the model was launched with a "
            f"context of {n_ctx} tokens. Shorten the conversation or relaunch the model with a "
            f"larger n_ctx."
        )


def _cut(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-8 bytes, at a character boundary."""
    if len(text) * 4 <= limit:
        return text
    data = text.encode("utf-8", errors="replace")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", errors="ignore")


def cut_inputs(op: str, params: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    """An embedding or rerank request whose texts are cut to what the truncation keeps.

    Each text keeps the first (context + slack) x bytes-per-token bytes: a prefix with more
    tokens than the context, so the worker's truncation keeps the same tokens as it would of
    the whole text. A list of token ids keeps as many ids as a text keeps bytes."""
    per_token = bytes_per_token(info)
    n_ctx = info.get("n_ctx")
    if per_token is None or not isinstance(n_ctx, int) or n_ctx <= 0:
        return params
    keep_tokens = n_ctx + _CUT_SLACK_TOKENS
    limit = keep_tokens * per_token

    def cut(value: Any) -> Any:
        if isinstance(value, str):
            return _cut(value, limit)
        if isinstance(value, list) and len(value) > limit:
            # Token ids (or a huge list of texts, which the worker reads one by one).
            return value if not all(isinstance(v, int) for v in value) else value[:limit]
        return value

    out = dict(params)
    if op == "embed":
        raw = params.get("input")
        if isinstance(raw, list) and raw and all(isinstance(v, list | str) for v in raw):
            out["input"] = [cut(v) for v in raw]
        else:
            out["input"] = cut(raw)
    elif op == "rerank":
        out["query"] = cut(params.get("query"))
        documents = params.get("documents")
        if isinstance(documents, list):
            out["documents"] = [cut(d) for d in documents]
    return out
