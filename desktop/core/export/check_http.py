"""Sending requests as FastGPT does: its SDK's headers, the export's key, SSE streams read
the way FastGPT reads them, and failures turned into reasons a person can act on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from desktop.core.export.endpoint import Connection

__all__ = [
    "SDK_HEADERS",
    "CheckFailed",
    "CheckStopped",
    "FastGPTClient",
    "StreamReply",
    "json_object",
]

# Headers FastGPT's openai-node 4.61.0 client sends with every chat and embedding call.
SDK_HEADERS = {
    "Accept": "application/json, text/plain, */*",
    "User-Agent": "OpenAI/JS 4.61.0",
    "X-Stainless-Lang": "js",
    "X-Stainless-Package-Version": "4.61.0",
}


class CheckFailed(Exception):
    """A check failed; the message is the reason."""


class CheckStopped(Exception):
    """`should_stop` asked to end the run."""


@dataclass
class StreamReply:
    """A streamed chat answer, put together from its chunks."""

    content: str = ""
    reasoning: str = ""
    finish_reason: str | None = None
    done: bool = False
    calls: list[dict[str, str]] | None = None


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase
    if isinstance(body, dict):
        detail = body.get("detail") or body.get("error") or body
        if isinstance(detail, dict):
            detail = detail.get("message") or detail
        return str(detail)[:300]
    return str(body)[:300]


def _http_failure(response: httpx.Response) -> CheckFailed:
    detail = _detail(response)
    if response.status_code == 401:
        return CheckFailed(
            f"HTTP 401, the key was refused ({detail}). FastGPT sends requestAuth (or "
            f"CHAT_API_KEY) as the bearer key: put XinDesk's API key there."
        )
    if response.status_code == 404:
        return CheckFailed(f"HTTP 404: {detail}")
    return CheckFailed(f"HTTP {response.status_code}: {detail}")


def json_object(text: str, what: str) -> dict[str, Any]:
    """Parse `text` as a JSON object; `what` names it in the failure's reason."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CheckFailed(f"{what} is not JSON ({exc}): {text[:200]!r}") from exc
    if not isinstance(value, dict):
        raise CheckFailed(f"{what} is JSON but not an object: {text[:200]!r}")
    return value


class FastGPTClient:
    """Requests sent through one HTTP client with FastGPT's headers and key.

    Attributes:
        connection: The URLs and key the export writes.
        should_stop: Polled while a stream is read; True ends the run (`CheckStopped`).
    """

    def __init__(
        self,
        connection: Connection,
        should_stop: Callable[[], bool],
        transport: httpx.BaseTransport | None,
    ) -> None:
        self.connection = connection
        self.should_stop = should_stop
        self.http = httpx.Client(
            transport=transport,
            headers={"Authorization": f"Bearer {connection.auth}"},
            follow_redirects=False,
        )

    def close(self) -> None:
        self.http.close()

    def _connect_failure(self, url: str, exc: httpx.TransportError) -> CheckFailed:
        if isinstance(exc, httpx.TimeoutException):
            return CheckFailed(f"No answer from {url} in time ({type(exc).__name__}).")
        return CheckFailed(
            f"Cannot connect to {url} ({exc}): is XinDesk running, and reachable at this address?"
        )

    def post(
        self, url: str, body: dict[str, Any], timeout: float, *, sdk: bool = True
    ) -> dict[str, Any]:
        """POST JSON and return the JSON object that answers it.

        Args:
            sdk: Send the headers of FastGPT's OpenAI SDK (its chat and embedding calls);
                False for its plain axios calls (rerank).

        Raises:
            CheckFailed: No connection, a status other than 200, or an answer that is not a
                JSON object.
        """
        headers = SDK_HEADERS if sdk else {}
        try:
            response = self.http.post(url, json=body, headers=headers, timeout=timeout)
        except httpx.TransportError as exc:
            raise self._connect_failure(url, exc) from exc
        if response.status_code != 200:
            raise _http_failure(response)
        return json_object(response.text, "The answer")

    def stream_chat(self, body: dict[str, Any], timeout: float) -> StreamReply:
        """Read an SSE chat stream as FastGPT does, tool-call deltas assembled by index."""
        url = self.connection.chat_url
        reply = StreamReply()
        calls: dict[int, dict[str, Any]] = {}
        try:
            with self.http.stream(
                "POST", url, json=body, headers=SDK_HEADERS, timeout=timeout
            ) as response:
                if response.status_code != 200:
                    response.read()
                    raise _http_failure(response)
                for line in response.iter_lines():
                    if self.should_stop():
                        raise CheckStopped
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        reply.done = True
                        break
                    self._take_chunk(json_object(data, "A stream chunk"), reply, calls)
        except httpx.TransportError as exc:
            raise self._connect_failure(url, exc) from exc
        reply.calls = [
            {"name": str(c.get("name")), "arguments": str(c.get("arguments") or "")}
            for _index, c in sorted(calls.items())
        ]
        return reply

    @staticmethod
    def _take_chunk(
        chunk: dict[str, Any], reply: StreamReply, calls: dict[int, dict[str, Any]]
    ) -> None:
        if "error" in chunk:
            # OpenAI's shape ({"message", "type", "code"}), or a bare string from older servers.
            error = chunk["error"]
            message = error.get("message", error) if isinstance(error, dict) else error
            raise CheckFailed(f"The stream ended with an error: {message}")
        choices = chunk.get("choices") or []
        if not choices:
            return  # a usage chunk
        choice = choices[0]
        delta = choice.get("delta") or {}
        reply.content += delta.get("content") or ""
        reply.reasoning += delta.get("reasoning_content") or ""
        for part in delta.get("tool_calls") or []:
            index = int(part.get("index", len(calls)))
            function = part.get("function") or {}
            # A chunk naming a function starts a call; later ones append to its arguments.
            if function.get("name"):
                calls[index] = {"name": function["name"], "arguments": ""}
            if index in calls:
                calls[index]["arguments"] += function.get("arguments") or ""
        if choice.get("finish_reason"):
            reply.finish_reason = choice["finish_reason"]
