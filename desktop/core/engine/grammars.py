"""Grammars a request asks for (`response_format`, `guided_json`, forced tool calls, llama.cpp's
own `grammar`), checked before llama.cpp sees them, with every failure the caller's 400.

llama-cpp-python's JSON schema converter handles a subset of JSON Schema and fails on the rest
with whatever Python raises inside it (`AssertionError: Unrecognized schema`, a `KeyError` for
a `$ref` to nothing, a `RecursionError` for a deep schema); each becomes an `InvalidRequest`
that names the request field. Two shapes are refused before they can do harm:

* size keywords and regex repetitions are expanded into the grammar text one copy per count
  (`maxLength: 10**9` made an 8 GB string), so counts above `MAX_REPEAT` are refused;
* llama.cpp parses grammars recursively on the worker's stack: 20,000 nested groups or a
  100,000-rule chain crash the process, so grammars nested deeper than `MAX_GRAMMAR_DEPTH` or
  with more than `MAX_GRAMMAR_RULES` rules are refused (a maxLength of about 1,000 or more nests
  that deep, and llama.cpp itself refuses most such grammars).
"""

from __future__ import annotations

import json
import re
from typing import Any

from desktop.core.errors import InvalidRequest

MAX_SCHEMA_BYTES = 1 << 20
MAX_REPEAT = 100_000
MAX_GRAMMAR_DEPTH = 1000
MAX_GRAMMAR_RULES = 5000
_SIZE_KEYWORDS = (
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
)
_QUANTIFIER = re.compile(r"\{\s*(\d+)\s*(?:,\s*(\d*)\s*)?\}")
_RULE = re.compile(r"^\s*[A-Za-z0-9_-]+\s*::=", re.MULTILINE)
# Longest converter message quoted back: some repeat the whole schema.
_MAX_REASON = 300


def schema_grammar(schema: Any, field: str) -> str:
    """The GBNF grammar that makes an answer follow `schema` (a JSON schema object, or its
    JSON text), or `InvalidRequest` naming `field`."""
    from llama_cpp.llama_grammar import LlamaGrammar

    if isinstance(schema, str):
        if len(schema) > MAX_SCHEMA_BYTES:
            raise InvalidRequest(f"{field} is longer than {MAX_SCHEMA_BYTES} bytes.")
        try:
            schema = json.loads(schema)
        except ValueError as exc:
            raise InvalidRequest(f"{field} is not valid JSON: {exc}.") from exc
        except RecursionError as exc:
            raise InvalidRequest(f"{field} is nested too deeply to be a grammar.") from exc
    if not isinstance(schema, dict):
        raise InvalidRequest(f"{field} must be a JSON schema object, not {type(schema).__name__}.")
    try:
        text = json.dumps(schema)
    except RecursionError as exc:
        raise InvalidRequest(f"{field} is nested too deeply to be a grammar.") from exc
    if len(text) > MAX_SCHEMA_BYTES:
        raise InvalidRequest(f"{field} is longer than {MAX_SCHEMA_BYTES} bytes.")
    _check_counts(schema, field)
    try:
        grammar = LlamaGrammar.from_json_schema(text, verbose=False)
    except RecursionError as exc:
        raise InvalidRequest(f"{field} is nested too deeply to be a grammar.") from exc
    except Exception as exc:
        raise InvalidRequest(f"{field} cannot be enforced as a grammar: {_reason(exc)}") from exc
    return str(grammar._grammar)


def _check_counts(schema: dict[str, Any], field: str) -> None:
    """Refuse size keywords and regex repetitions whose expansion would be huge."""
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            if key in _SIZE_KEYWORDS and isinstance(value, int) and value > MAX_REPEAT:
                raise InvalidRequest(
                    f"{field} cannot be enforced: {key} {value} is more than {MAX_REPEAT}."
                )
            if key == "pattern" and isinstance(value, str):
                for low, high in _QUANTIFIER.findall(value):
                    if max(int(low), int(high or 0)) > MAX_REPEAT:
                        raise InvalidRequest(
                            f"{field} cannot be enforced: the pattern repeats something more "
                            f"than {MAX_REPEAT} times."
                        )
            if isinstance(value, dict | list):
                stack.append(value)


def check_grammar(grammar: str, field: str) -> None:
    """Refuse a GBNF grammar that llama.cpp's recursive parser could not take safely."""
    rules = len(_RULE.findall(grammar))
    if rules > MAX_GRAMMAR_RULES:
        raise InvalidRequest(
            f"{field} cannot be enforced: its grammar has {rules} rules (at most "
            f"{MAX_GRAMMAR_RULES})."
        )
    # No grammar nests deeper than it has groups: the common case needs no scan.
    depth = nesting_depth(grammar) if grammar.count("(") > MAX_GRAMMAR_DEPTH else 0
    if depth > MAX_GRAMMAR_DEPTH:
        raise InvalidRequest(
            f"{field} cannot be enforced: its grammar nests {depth} groups deep (at most "
            f"{MAX_GRAMMAR_DEPTH}; a maxLength, maxItems or {{m,n}} repetition past about "
            f"{MAX_GRAMMAR_DEPTH} does this)."
        )


def nesting_depth(grammar: str) -> int:
    """The deepest nesting of ( ) groups in GBNF text, outside literals, classes and comments."""
    depth = deepest = 0
    index, size = 0, len(grammar)
    while index < size:
        char = grammar[index]
        if char in '"[':
            end = '"' if char == '"' else "]"
            index += 1
            while index < size and grammar[index] != end:
                index += 2 if grammar[index] == "\\" else 1
        elif char == "#":
            newline = grammar.find("\n", index)
            index = size if newline < 0 else newline
        elif char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
        index += 1
    return deepest


def _reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        reason = f"it refers to {exc.args[0]!r}, which it does not define"
    elif isinstance(exc, AttributeError | TypeError | IndexError):
        reason = f"a keyword has a value of the wrong kind ({exc})"
    else:
        reason = str(exc).strip() or type(exc).__name__
    if len(reason) > _MAX_REASON:
        reason = reason[: _MAX_REASON - 3] + "..."
    return reason + ("" if reason.endswith(".") else ".")
