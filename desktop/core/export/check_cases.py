"""The FastGPT check's cases: each request FastGPT sends, and what it accepts in answer.

The chat model is tested with every shape FastGPT may send, tools included, even when it is
exported in prompt mode: the server must still accept them (a person may switch toolChoice on).
What passes is what FastGPT accepts: a non-empty answer (FastGPT rejects an empty one as "LLM
model response empty"), tool-call arguments that parse as a JSON object, float vectors, and
rerank scores for every document within FastGPT's 30-second rerank limit.

A case returns what it saw, in words, or raises `CheckFailed` with the reason.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from desktop.core.export.check_http import CheckFailed, FastGPTClient, json_object
from desktop.core.export.curl import TIME_TOOL
from desktop.core.export.endpoint import Connection
from desktop.core.export.served import FASTGPT_MAX_DIMENSIONS, ModelSelection

# Check names, in the order they run.
CHAT_STREAM = "chat, streaming"
CHAT_PLAIN = "chat, not streaming"
CHAT_REASONING = "chat, reasoning kept apart"
CHAT_STOP = "chat with a stop array"
TOOLS_AUTO = "tools, tool_choice auto"
TOOLS_FORCED = "tools, forced tool_choice"
TOOL_RESULT = "tool result turn"
FUNCTIONS = "legacy functions"
RESPONSE_FORMAT = "response_format"
EMBEDDING = "embedding"
EMBEDDING_FLOAT = "embedding, encoding_format float"
RERANK = "rerank, 100 documents"

# FastGPT's limits: 60 s for a chat stream (4.8.19), 30 s for a rerank call (axios timeout).
# Non-stream chat may take up to 600 s in FastGPT; a check that waits that long helps no one.
STREAM_TIMEOUT = 60.0
CHAT_TIMEOUT = 120.0
EMBEDDING_TIMEOUT = 60.0
RERANK_TIMEOUT = 30.0
RERANK_DOCUMENTS = 100

# FastGPT's sampling for classify and extract nodes (temperature is at least 0.01).
TEMPERATURE = 0.01
MAX_TOKENS = 64
# The tool-call node asks for at least 100 tokens.
TOOL_MAX_TOKENS = 100

_SYSTEM = {"role": "system", "content": "You are a helpful assistant. Answer briefly."}
_HELLO = {"role": "user", "content": "Say hello in one short sentence."}
_STOPS = ["Observation:", "\n\n"]

# The content-extract node's single tool (FastGPT `dispatch/ai/extract.ts`, `agentFunName`).
_EXTRACT_NAME = "request_function"
_EXTRACT_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "The city the user asks about"},
        "unit": {"type": "string", "description": "Temperature unit", "enum": ["C", "F"]},
    },
    "required": ["city", "unit"],
}
_EXTRACT_FUNCTION = {
    "name": _EXTRACT_NAME,
    "description": "Extract the fields from the user's question",
    "parameters": _EXTRACT_PARAMETERS,
}
_EXTRACT_MESSAGES = [
    {"role": "system", "content": "Extract the requested fields from the conversation."},
    {"role": "user", "content": "What is the weather in Paris, in Celsius?"},
]
_ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"answer": {"type": "string", "enum": ["yes", "no"]}},
    "required": ["answer"],
}


@dataclass(frozen=True)
class CheckModels:
    """The model uids to test, as exported.

    Attributes:
        chat: The chat model (None: the chat checks fail, saying none is running).
        embedding: The embedding model.
        rerank: The rerank model.
        chat_tool_choice: The chat model's exported `toolChoice`; with it off FastGPT uses
            prompt mode, which the tool checks mention.
        embedding_dimensions: The `dimensions` the export puts in the embedding model's
            `defaultConfig` (FastGPT sends it with every call); None when it puts none.
    """

    chat: str | None = None
    embedding: str | None = None
    rerank: str | None = None
    chat_tool_choice: bool = False
    embedding_dimensions: int | None = None

    @classmethod
    def from_selection(cls, selection: ModelSelection) -> CheckModels:
        """The default model of each role, as `select_models` picked them for the export."""
        chat = selection.chat
        return cls(
            chat=chat.uid if chat else None,
            embedding=selection.embedding.uid if selection.embedding else None,
            rerank=selection.rerank.uid if selection.rerank else None,
            chat_tool_choice=chat.tool_calls if chat else False,
            embedding_dimensions=(
                selection.embedding.sent_dimensions if selection.embedding else None
            ),
        )


def _first_choice(body: dict[str, Any]) -> dict[str, Any]:
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise CheckFailed(f"The answer has no choices[0]: {json.dumps(body)[:200]}")
    choice: dict[str, Any] = choices[0]
    return choice


def _message(body: dict[str, Any]) -> dict[str, Any]:
    message = _first_choice(body).get("message")
    if not isinstance(message, dict):
        raise CheckFailed("The answer has no choices[0].message.")
    return message


def _checked_calls(
    calls: list[dict[str, Any]], names: set[str]
) -> list[tuple[str, dict[str, Any]]]:
    """Each call's name and parsed arguments; FastGPT parses them as JSON (json5)."""
    checked = []
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict):
            raise CheckFailed(f"A tool call without a function: {call!r}")
        name = str(function.get("name"))
        if name not in names:
            raise CheckFailed(f"The model called {name!r}, which is not one of the tools sent.")
        arguments = function.get("arguments") or "{}"
        checked.append((name, json_object(str(arguments), f"The arguments of {name}")))
    return checked


class Probe(FastGPTClient):
    """The checks, sent through a `FastGPTClient` to the models as exported."""

    def __init__(
        self,
        connection: Connection,
        models: CheckModels,
        should_stop: Callable[[], bool],
        transport: httpx.BaseTransport | None,
    ) -> None:
        super().__init__(connection, should_stop, transport)
        self.models = models

    # -- model roles ------------------------------------------------------------------------------

    def chat_model(self) -> str:
        if self.models.chat is None:
            raise CheckFailed(
                "No chat model is running: FastGPT needs one for every app. Launch one and run "
                "the check again."
            )
        return self.models.chat

    def prompt_mode_note(self) -> str:
        if self.models.chat_tool_choice:
            return ""
        return (
            " The model is exported with toolChoice off, so FastGPT uses prompt mode with it "
            "and does not send tools."
        )

    def chat_body(self, **fields: Any) -> dict[str, Any]:
        return {
            "model": self.chat_model(),
            "temperature": TEMPERATURE,
            "max_tokens": MAX_TOKENS,
            "messages": [_SYSTEM, _HELLO],
            **fields,
        }

    # -- the checks -------------------------------------------------------------------------------

    def chat_stream(self) -> str:
        reply = self.stream_chat(self.chat_body(stream=True), STREAM_TIMEOUT)
        if not (reply.content.strip() or reply.reasoning.strip()):
            raise CheckFailed(
                "The stream carried no text: FastGPT reports 'LLM model response empty'."
            )
        ending = "ended with [DONE]" if reply.done else "closed without [DONE]"
        return f"Streamed {len(reply.content)} characters; the stream {ending}."

    def chat_reasoning(self) -> str:
        # FastGPT shows `reasoning_content` folded and `content` as the answer; tags left in
        # the content put the model's chain of thought in front of the user.
        reply = self.stream_chat(self.chat_body(stream=True), STREAM_TIMEOUT)
        if "<think>" in reply.content or "</think>" in reply.content:
            raise CheckFailed(
                "The answer carries the model's reasoning between <think> tags, which FastGPT "
                "shows to the user: launch the model without reasoning_content=false, so the "
                "server sends the reasoning apart."
            )
        if reply.reasoning.strip():
            return (
                f"The reasoning came apart as reasoning_content ({len(reply.reasoning)} "
                "characters); the answer has no tags."
            )
        return "No reasoning in the answer (this model answers without thinking aloud)."

    def chat_plain(self) -> str:
        body = self.post(self.connection.chat_url, self.chat_body(stream=False), CHAT_TIMEOUT)
        content = _message(body).get("content") or ""
        if not str(content).strip():
            raise CheckFailed("The answer is empty: FastGPT reports 'LLM model response empty'.")
        return f"Answered {len(str(content))} characters: {str(content)[:60]!r}"

    def chat_stop(self) -> str:
        body = self.post(
            self.connection.chat_url, self.chat_body(stream=False, stop=_STOPS), CHAT_TIMEOUT
        )
        content = str(_message(body).get("content") or "")
        leaked = [s for s in _STOPS if s in content]
        if leaked:
            raise CheckFailed(f"The answer goes on past the stop sequence {leaked[0]!r}.")
        return f"Accepted stop {_STOPS}; finish_reason {_first_choice(body).get('finish_reason')}."

    def tools_auto(self) -> str:
        reply = self.stream_chat(
            self.chat_body(
                stream=True,
                max_tokens=TOOL_MAX_TOKENS,
                messages=[{"role": "user", "content": "几点了"}],
                tools=[TIME_TOOL],
                tool_choice="auto",
                parallel_tool_calls=True,
            ),
            STREAM_TIMEOUT,
        )
        calls = _checked_calls(
            [{"function": c} for c in reply.calls or []], {TIME_TOOL["function"]["name"]}
        )
        note = self.prompt_mode_note()
        if calls:
            return f"Called {calls[0][0]} with arguments {calls[0][1]}.{note}"
        if not reply.content.strip():
            raise CheckFailed(
                "Neither a tool call nor text came back: FastGPT reports 'LLM model response "
                "empty'."
            )
        return f"Answered in text (the model chose not to call the tool).{note}"

    def tools_forced(self) -> str:
        body = self.post(
            self.connection.chat_url,
            self.chat_body(
                stream=False,
                max_tokens=TOOL_MAX_TOKENS * 2,
                messages=_EXTRACT_MESSAGES,
                tools=[{"type": "function", "function": _EXTRACT_FUNCTION}],
                tool_choice={"type": "function", "function": {"name": _EXTRACT_NAME}},
            ),
            CHAT_TIMEOUT,
        )
        calls = _message(body).get("tool_calls") or []
        if not calls:
            raise CheckFailed(
                "A forced tool_choice came back without tool_calls: FastGPT's content-extract "
                "node would fail. Export this model with toolChoice off (prompt mode)."
            )
        name, arguments = _checked_calls(calls, {_EXTRACT_NAME})[0]
        missing = [k for k in _EXTRACT_PARAMETERS["required"] if k not in arguments]
        if missing:
            raise CheckFailed(f"{name} was called without the required {', '.join(missing)}.")
        return f"Called {name} with {arguments}.{self.prompt_mode_note()}"

    def tool_result(self) -> str:
        call_id = "call_fastgpt_check"
        messages = [
            {"role": "user", "content": "几点了"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {"name": TIME_TOOL["function"]["name"], "arguments": "{}"},
                    }
                ],
            },
            {
                "role": "tool",
                "tool_call_id": call_id,
                "name": TIME_TOOL["function"]["name"],
                "content": "2025-01-01 12:00:00",
            },
        ]
        body = self.post(
            self.connection.chat_url,
            self.chat_body(stream=False, messages=messages, tools=[TIME_TOOL], tool_choice="auto"),
            CHAT_TIMEOUT,
        )
        message = _message(body)
        if not (str(message.get("content") or "").strip() or message.get("tool_calls")):
            raise CheckFailed("The answer to a tool result is empty.")
        return "Answered after a tool result (assistant tool_calls with null content, then tool)."

    def functions(self) -> str:
        body = self.post(
            self.connection.chat_url,
            self.chat_body(
                stream=False,
                max_tokens=TOOL_MAX_TOKENS * 2,
                messages=_EXTRACT_MESSAGES,
                functions=[_EXTRACT_FUNCTION],
                function_call={"name": _EXTRACT_NAME},
            ),
            CHAT_TIMEOUT,
        )
        message = _message(body)
        legacy = message.get("function_call")
        if isinstance(legacy, dict):
            name, arguments = _checked_calls([{"function": legacy}], {_EXTRACT_NAME})[0]
            return f"Called {name} with {arguments} in the function_call form."
        calls = message.get("tool_calls") or []
        if not calls:
            raise CheckFailed("A forced function_call came back without a call.")
        name, arguments = _checked_calls(calls, {_EXTRACT_NAME})[0]
        # FastGPT's functionCall mode reads message.function_call; the export keeps that mode
        # off, so a call in tool_calls form is what matters here.
        return (
            f"Accepted; called {name} with {arguments} in the tool_calls form. The export keeps "
            f"functionCall off, so FastGPT uses tools or prompt mode instead."
        )

    def response_format(self) -> str:
        body = self.post(
            self.connection.chat_url,
            self.chat_body(
                stream=False,
                max_tokens=TOOL_MAX_TOKENS,
                messages=[{"role": "user", "content": "Is the sky blue? Answer in JSON."}],
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "answer", "schema": _ANSWER_SCHEMA},
                },
            ),
            CHAT_TIMEOUT,
        )
        value = json_object(str(_message(body).get("content") or ""), "The answer")
        if "answer" not in value:
            raise CheckFailed(f"The JSON answer misses the required key 'answer': {value}")
        return f"Answered with JSON that follows the schema: {value}"

    def _embed(self, extra: dict[str, Any]) -> str:
        if self.models.embedding is None:
            raise CheckFailed(
                "No embedding model is running: FastGPT needs one for knowledge bases. Launch "
                "one (bge-m3, say) and run the check again."
            )
        sent = self.models.embedding_dimensions
        # FastGPT spreads the model's defaultConfig into every embedding call's body.
        config = {"dimensions": sent} if sent is not None else {}
        body = self.post(
            self.connection.embeddings_url,
            {
                **config,
                "model": self.models.embedding,
                "input": ["The food was delicious"],
                **extra,
            },
            EMBEDDING_TIMEOUT,
        )
        data = body.get("data")
        vector = data[0].get("embedding") if isinstance(data, list) and data else None
        # FastGPT checks res.data[0].embedding and rejects with "Embedding API Error" otherwise.
        if not isinstance(vector, list) or not vector:
            raise CheckFailed(
                "data[0].embedding is not a list of floats: FastGPT reports 'Embedding API Error'."
            )
        if not all(isinstance(x, int | float) for x in vector):
            raise CheckFailed("data[0].embedding holds values that are not numbers.")
        norm = math.sqrt(sum(float(x) * float(x) for x in vector))
        if abs(norm - 1.0) > 0.01:
            raise CheckFailed(
                f"The vector is not L2-normalised (length {norm:.3f}): FastGPT's similarity "
                f"scores go above 1. Turn on normalization for this model in FastGPT ≥ 4.8.20."
            )
        size = len(vector)
        if sent is not None and size != sent:
            raise CheckFailed(
                f"Asked for {sent} dimensions (the export's defaultConfig), got {size}."
            )
        if size > FASTGPT_MAX_DIMENSIONS:
            return (
                f"{size} dimensions: FastGPT keeps only the first {FASTGPT_MAX_DIMENSIONS}, "
                f"which spoils search; prefer a model with at most {FASTGPT_MAX_DIMENSIONS}."
            )
        return f"{size} float dimensions, normalised."

    def embedding(self) -> str:
        return self._embed({})

    def embedding_float(self) -> str:
        # FastGPT ≥ 4.14.10 sends encoding_format "float" explicitly (FastGPT#6744).
        return self._embed({"encoding_format": "float"})

    def rerank(self) -> str:
        if self.models.rerank is None:
            raise CheckFailed(
                "No rerank model is running: FastGPT's knowledge-base search would run without "
                "rerank. Launch one (bge-reranker-v2-m3, say) and run the check again."
            )
        relevant = 37
        documents = [
            f"Question {i}: what will the weather be like tomorrow?\nAnswer: sunny, light wind."
            for i in range(RERANK_DOCUMENTS)
        ]
        documents[relevant] = "Question: what do cats eat?\nAnswer: cats eat fish and meat."
        started = time.monotonic()
        # FastGPT posts rerank with axios: no SDK headers, no top_n, no return_documents.
        body = self.post(
            self.connection.rerank_url,
            {"model": self.models.rerank, "query": "what do cats eat", "documents": documents},
            RERANK_TIMEOUT,
            sdk=False,
        )
        took = time.monotonic() - started
        results = body.get("results")
        if not isinstance(results, list):
            raise CheckFailed("The answer has no results list.")
        scores: list[float] = []
        for item in results:
            if not isinstance(item, dict):
                raise CheckFailed(f"A result is not an object: {item!r}")
            index, score = item.get("index"), item.get("relevance_score")
            if not isinstance(index, int) or not 0 <= index < RERANK_DOCUMENTS:
                raise CheckFailed(f"A result has an invalid index: {item}")
            if not isinstance(score, int | float) or not 0.0 <= score <= 1.0:
                raise CheckFailed(
                    f"relevance_score {score} is outside 0..1: FastGPT compares it with the "
                    f"similarity threshold, so raw scores break filtering."
                )
            scores.append(float(score))
        if len({item["index"] for item in results}) != RERANK_DOCUMENTS:
            raise CheckFailed(
                f"Only {len(results)} of {RERANK_DOCUMENTS} documents came back: FastGPT drops "
                f"the missing ones from the search results."
            )
        if scores != sorted(scores, reverse=True):
            raise CheckFailed(
                "The results are not sorted best first: FastGPT takes their order as rank."
            )
        rank = [item["index"] for item in results].index(relevant) + 1
        return (
            f"Scored all {RERANK_DOCUMENTS} documents in {took:.1f} s (FastGPT allows "
            f"{RERANK_TIMEOUT:.0f} s); the matching one ranked {rank}."
        )


CHECKS: tuple[tuple[str, Callable[[Probe], str]], ...] = (
    (CHAT_STREAM, Probe.chat_stream),
    (CHAT_PLAIN, Probe.chat_plain),
    (CHAT_REASONING, Probe.chat_reasoning),
    (CHAT_STOP, Probe.chat_stop),
    (TOOLS_AUTO, Probe.tools_auto),
    (TOOLS_FORCED, Probe.tools_forced),
    (TOOL_RESULT, Probe.tool_result),
    (FUNCTIONS, Probe.functions),
    (RESPONSE_FORMAT, Probe.response_format),
    (EMBEDDING, Probe.embedding),
    (EMBEDDING_FLOAT, Probe.embedding_float),
    (RERANK, Probe.rerank),
)
