"""Which format each tool-call parser name stands for, and parsing a reply by that name.

A family's catalog entry names its parser (``tool_parser``); the worker passes the name here.
"""

from __future__ import annotations

from typing import Final

from desktop.core.engine.toolcalls import (
    deepseek,
    gemma,
    glm4,
    harmony,
    hermes,
    llama3,
    mistral,
)
from desktop.core.engine.toolcalls.reply import Format, ParsedReply

FORMATS: Final[dict[str, Format]] = {
    "qwen": hermes.FORMAT,
    "generic": hermes.FORMAT,
    "llama3": llama3.FORMAT,
    "glm4": glm4.FORMAT,
    "gemma": gemma.FORMAT,
    "deepseek": deepseek.FORMAT,
    "mistral": mistral.FORMAT,
    "gpt-oss": harmony.FORMAT,
}
PARSERS: Final[frozenset[str]] = frozenset(FORMATS)


def format_for(parser: str | None) -> Format:
    """The format a parser name stands for; None means "generic".

    Raises:
        ValueError: ``parser`` is not one of `PARSERS`.
    """
    name = "generic" if parser is None else parser
    fmt = FORMATS.get(name)
    if fmt is None:
        supported = ", ".join(sorted(PARSERS))
        raise ValueError(f"Unknown tool-call parser {parser!r}; supported: {supported}.")
    return fmt


def parse_tool_calls(text: str, parser: str | None, tool_names: set[str]) -> ParsedReply:
    """Extract tool calls from a finished model reply in the family's format.

    Args:
        text: The whole reply, with the family's special tokens kept in the text.
        parser: One of `PARSERS`; None means "generic".
        tool_names: Names of the request's tools. Calls to other names are not calls: their
            markup stays in the content.

    Returns:
        The content outside the markup (stripped, None when empty) and the calls found.
        Malformed markup leaves the text as content.

    Raises:
        ValueError: ``parser`` is not one of `PARSERS`.
    """
    return format_for(parser).parse(text, set(tool_names))
