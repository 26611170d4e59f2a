"""Tool calls: reading them out of model text, streaming around them, and forcing them.

Every model family writes tool calls in its own markup, one module per format:

* `hermes`: ``<tool_call>{...}</tool_call>`` blocks (parsers ``qwen`` and ``generic``).
* `llama3`: JSON call objects, or anything after ``<|python_tag|>`` (parser ``llama3``).
* `glm4`: the function name on one line, JSON arguments on the next (parser ``glm4``).
* `gemma`: Python call lists, JSON objects, ``tool_code`` blocks (parser ``gemma``).
* `deepseek`: ``<｜tool▁calls▁begin｜>`` blocks, R1/V3 and V3.1 (parser ``deepseek``).
* `mistral`: calls after ``[TOOL_CALLS]`` (parser ``mistral``).
* `harmony`: gpt-oss messages addressed to ``functions.NAME`` (parser ``gpt-oss``).

Around them:

* `reply`: the shared pieces (`ToolCall`, `ParsedReply`, reading JSON calls, cutting the spans
  that held calls out of the content, and `reply.Format`, what a format module provides).
* `python_syntax`: calls written as Python (Gemma, Llama's built-in tools), read with ``ast``.
* `registry`: the table from parser name to format (`PARSERS`) and `parse_tool_calls`.
* `stream`: `ToolCallStreamFilter`, which holds back streamed text that may be the start of
  markup so a client never sees half a tag.
* `forced`: the JSON schema a grammar enforces for ``tool_choice="required"`` or a named
  function (`forced_call_schema`), and reading the call generated under it.
* `generic`: a prompt and a message shape for models whose chat template knows nothing of tools
  (`generic_tool_prompt`, `tool_result_messages_to_text`).

Rules shared by every format: only calls whose name is in ``tool_names`` count; a block that
yields no such call (malformed JSON, an unknown name) stays in the content verbatim; arguments are
always re-serialised as the JSON text of an object with ``ensure_ascii=False``.
"""

from desktop.core.engine.toolcalls.forced import (
    check_tool_choice,
    check_tools,
    forced_call_schema,
    forced_call_to_tool_call,
    function_specs,
)
from desktop.core.engine.toolcalls.generic import generic_tool_prompt, tool_result_messages_to_text
from desktop.core.engine.toolcalls.registry import PARSERS, parse_tool_calls
from desktop.core.engine.toolcalls.reply import ParsedReply, ToolCall, new_call_id
from desktop.core.engine.toolcalls.stream import ToolCallStreamFilter

__all__ = [
    "PARSERS",
    "ParsedReply",
    "ToolCall",
    "ToolCallStreamFilter",
    "check_tool_choice",
    "check_tools",
    "forced_call_schema",
    "forced_call_to_tool_call",
    "function_specs",
    "generic_tool_prompt",
    "new_call_id",
    "parse_tool_calls",
    "tool_result_messages_to_text",
]
