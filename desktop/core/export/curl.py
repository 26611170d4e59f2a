"""The seed guide's curl test, filled in for XinDesk, plus the tool, embedding and rerank ones.

They go to the address FastGPT uses, so they are meant to run where FastGPT runs (inside its
container, say); from this machine, 127.0.0.1 works too.
"""

from __future__ import annotations

import json
from typing import Any

from desktop.core.export.endpoint import Connection
from desktop.core.export.served import ModelSelection

# The tool from FastGPT's FAQ "如何测试模型是否支持工具调用" (how to test tool-call support).
TIME_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "hCVbIY",
        "description": "获取用户当前时区的时间。",
        "parameters": {"type": "object", "properties": {}, "required": []},
    },
}


def _quoted(text: str) -> str:
    """Single-quote for a POSIX shell."""
    return "'" + text.replace("'", "'\\''") + "'"


def _body_text(body: dict[str, Any]) -> str:
    """One top-level key per line, values compact: the seed guide's layout."""
    lines = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in body.items()]
    return "{\n" + ",\n".join(lines) + "\n}"


def curl_command(url: str, key: str, body: dict[str, Any]) -> str:
    """One request in the seed guide's layout (`--location --request POST ... --data-raw`)."""
    data = _body_text(body)
    return "\n".join(
        [
            f"curl --location --request POST {_quoted(url)} \\",
            f"--header {_quoted('Authorization: Bearer ' + key)} \\",
            "--header 'Content-Type: application/json' \\",
            f"--data-raw {_quoted(data)}",
        ]
    )


def curl_text(selection: ModelSelection, connection: Connection) -> str:
    """A curl command per role; each answers with JSON (or SSE) when the endpoint works."""
    key = connection.auth
    blocks: list[str] = []
    if selection.chat is not None:
        uid = selection.chat.uid
        blocks.append("# Chat (the seed guide's test)")
        blocks.append(
            curl_command(
                connection.chat_url,
                key,
                {"model": uid, "messages": [{"role": "user", "content": "Hello!"}]},
            )
        )
        blocks.append("\n# Streaming with a tool, as FastGPT's tool-call node sends it")
        blocks.append(
            curl_command(
                connection.chat_url,
                key,
                {
                    "model": uid,
                    "temperature": 0.01,
                    "max_tokens": 200,
                    "stream": True,
                    "messages": [{"role": "user", "content": "几点了"}],
                    "tools": [TIME_TOOL],
                    "tool_choice": "auto",
                },
            )
        )
    if selection.embedding is not None:
        blocks.append("\n# Embedding (FastGPT sends one text in an array)")
        blocks.append(
            curl_command(
                connection.embeddings_url,
                key,
                {"model": selection.embedding.uid, "input": ["The food was delicious"]},
            )
        )
    if selection.rerank is not None:
        blocks.append("\n# Rerank (always straight to XinDesk, never through One API)")
        blocks.append(
            curl_command(
                connection.rerank_url,
                key,
                {
                    "model": selection.rerank.uid,
                    "query": "导演是谁",
                    "documents": ["你是谁？\n我是电影《铃芽之旅》助手"],
                },
            )
        )
    if not blocks:
        return "# No model is running: launch one, then export again.\n"
    return "\n".join(blocks) + "\n"
