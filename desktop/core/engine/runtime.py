"""The model inside a worker process: one `llama_cpp.Llama` and the requests it serves.

Runs only in the worker process (`desktop.core.engine.worker`). Each request method is a
generator of `(kind, payload)` events (see `protocol.EventKind`), so the worker can forward them
as they come and stop at a token boundary when the request is cancelled.
"""

from __future__ import annotations

import codecs
import json
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from desktop.core.engine.protocol import WorkerSpec
from desktop.core.engine.templates import ResolvedTemplate, render_chat, resolve_chat_template
from desktop.core.errors import ChatTemplateError, InvalidRequest

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_grammar import LlamaGrammar

    from desktop.core.engine.toolcalls import ToolCall

log = logging.getLogger("xindesk.engine")

Event = tuple[str, dict[str, Any]]
Cancelled = Callable[[], bool]

# llama.cpp picks a random seed for this value.
_RANDOM_SEED = 0xFFFFFFFF


def _metadata(llm: Llama) -> dict[str, str]:
    meta = getattr(llm, "metadata", None) or {}
    return {str(k): str(v) for k, v in meta.items()}


class ModelRuntime:
    """Owns the loaded model and turns requests into events."""

    def __init__(self, spec: WorkerSpec) -> None:
        from llama_cpp import Llama

        self.spec = spec
        kwargs: dict[str, Any] = {"verbose": False, **spec.llama_kwargs}
        if spec.model_type == "embedding":
            from desktop.core.engine.embedding import embedding_llama_kwargs

            arch, pooling = _peek_arch_and_pooling(spec.model_path)
            kwargs.update(embedding_llama_kwargs(arch, pooling, n_ctx=kwargs.get("n_ctx")))
        elif spec.model_type == "rerank":
            from desktop.core.engine.rerank import rerank_llama_kwargs

            kwargs.update(rerank_llama_kwargs(spec.rerank_kind, n_ctx=kwargs.get("n_ctx")))
        self.llm: Llama = Llama(model_path=spec.model_path, **kwargs)
        meta = _metadata(self.llm)
        self.architecture = meta.get("general.architecture", "")
        self.template: ResolvedTemplate | None = None
        self.template_error: str | None = None
        if spec.model_type == "LLM":
            try:
                self.template = resolve_chat_template(
                    gguf_template=meta.get("tokenizer.chat_template"),
                    family_template=spec.chat_template,
                    architecture=self.architecture,
                    family_stop=list(spec.stop),
                )
            except ChatTemplateError as exc:
                # Completions still work without a template; chat reports this message.
                self.template_error = str(exc)

    def info(self) -> dict[str, Any]:
        """Facts the server shows about the loaded model."""
        llm = self.llm
        return {
            "n_ctx": llm.n_ctx(),
            "n_ctx_train": llm._model.n_ctx_train(),
            "n_embd": llm.n_embd(),
            "n_vocab": llm.n_vocab(),
            "architecture": self.architecture,
            "template_source": self.template.source if self.template else None,
            "template_error": self.template_error,
            "template_supports_tools": bool(self.template and self.template.supports_tools),
        }

    # -- text generation -------------------------------------------------------------------------

    def _token_text(self, token_id: int) -> str:
        if token_id < 0:
            return ""
        return self.llm.detokenize([token_id], special=True).decode("utf-8", errors="ignore")

    def _tokenize_prompt(self, prompt: str) -> list[int]:
        llm = self.llm
        tokens: list[int] = llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        bos = llm.token_bos()
        wants_bos = bool(getattr(llm._model, "add_bos_token", lambda: True)())
        # Templates usually write the BOS text themselves; add it only when they did not, so the
        # model never sees two (llama.cpp's server does the same check).
        if wants_bos and bos >= 0 and (not tokens or tokens[0] != bos):
            tokens.insert(0, bos)
        return tokens

    def _check_fits(self, n_prompt: int) -> None:
        n_ctx = self.llm.n_ctx()
        if n_prompt >= n_ctx:
            raise InvalidRequest(
                f"The prompt has {n_prompt} tokens but the model was launched with a context of "
                f"{n_ctx} tokens. Shorten the conversation or relaunch the model with a larger "
                f"n_ctx."
            )

    def _grammar(
        self, params: dict[str, Any], forced_schema: dict[str, Any] | None
    ) -> LlamaGrammar | None:
        from llama_cpp.llama_grammar import JSON_GBNF, LlamaGrammar

        if forced_schema is not None:
            return LlamaGrammar.from_json_schema(json.dumps(forced_schema), verbose=False)
        fmt = params.get("response_format") or {}
        kind = fmt.get("type") if isinstance(fmt, dict) else None
        if kind == "json_object":
            schema = fmt.get("schema")
            if isinstance(schema, dict):
                return LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
            return LlamaGrammar.from_string(JSON_GBNF, verbose=False)
        if kind == "json_schema":
            spec = fmt.get("json_schema") or {}
            schema = spec.get("schema") if isinstance(spec, dict) else None
            if not isinstance(schema, dict):
                raise InvalidRequest(
                    "response_format json_schema needs a `json_schema.schema` object."
                )
            try:
                return LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
            except (ValueError, RuntimeError, KeyError, TypeError) as exc:
                raise InvalidRequest(f"This JSON schema cannot be enforced: {exc}") from exc
        if kind not in (None, "text"):
            raise InvalidRequest(f"Unknown response_format type {kind!r}.")
        grammar_text = params.get("grammar") or params.get("guided_grammar")
        if isinstance(grammar_text, str) and grammar_text.strip():
            return LlamaGrammar.from_string(grammar_text, verbose=False)
        guided_json = params.get("guided_json")
        if guided_json:
            text = guided_json if isinstance(guided_json, str) else json.dumps(guided_json)
            return LlamaGrammar.from_json_schema(text, verbose=False)
        return None

    def _generate(
        self,
        tokens: list[int],
        params: dict[str, Any],
        stops: list[str],
        grammar: LlamaGrammar | None,
        cancelled: Cancelled,
    ) -> Iterator[Event]:
        """Sample tokens and yield text deltas, then one `done` event with usage."""
        import llama_cpp

        llm = self.llm
        self._check_fits(len(tokens))
        seed = params.get("seed")
        llm.set_seed(int(seed) if isinstance(seed, int) else _RANDOM_SEED)
        max_tokens = params.get("max_tokens")
        if max_tokens is None:
            max_tokens = params.get("max_completion_tokens")
        limit = llm.n_ctx() - len(tokens)
        if isinstance(max_tokens, int) and max_tokens > 0:
            limit = min(limit, max_tokens)
        vocab = llm._model.vocab
        stop_ids = set(params.get("stop_token_ids") or [])
        stops = [s for s in stops if s]
        longest_stop = max((len(s) for s in stops), default=0)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pending = ""
        stopped_by_string = False
        produced = 0
        finish = "length"
        special = bool(params.get("_special_tokens"))
        temperature = params.get("temperature")
        if limit <= 0:
            yield "done", self._usage(len(tokens), 0, "length")
            return
        repeat = params.get("repeat_penalty", params.get("repetition_penalty"))
        generator = llm.generate(
            tokens,
            temp=0.8 if temperature is None else float(temperature),
            top_p=_num(params.get("top_p"), 0.95),
            top_k=int(_num(params.get("top_k"), 40)),
            min_p=_num(params.get("min_p"), 0.05),
            typical_p=_num(params.get("typical_p"), 1.0),
            repeat_penalty=_num(repeat, 1.0),
            frequency_penalty=_num(params.get("frequency_penalty"), 0.0),
            presence_penalty=_num(params.get("presence_penalty"), 0.0),
            grammar=grammar,
        )
        for token in generator:
            if llama_cpp.llama_vocab_is_eog(vocab, token) or token in stop_ids:
                finish = "stop"
                break
            produced += 1
            piece = llm.detokenize([token], special=special)
            pending += decoder.decode(piece)
            hit = _first_stop(pending, stops)
            if hit is not None:
                before = pending[:hit]
                if before:
                    yield "delta", {"text": before}
                pending = ""
                finish = "stop"
                stopped_by_string = True
                break
            # Hold back a tail that could be the start of a stop string.
            keep = _partial_stop_tail(pending, stops, longest_stop)
            ready = pending[: len(pending) - keep] if keep else pending
            if ready:
                yield "delta", {"text": ready}
                pending = pending[len(ready) :]
            if produced >= limit or cancelled():
                finish = "length"
                break
        else:
            finish = "length"
        # A stop-string hit already cleared `pending`; anything left is real text (a held-back
        # tail that never became a stop string, or the end of a length-limited answer).
        if not stopped_by_string:
            pending += decoder.decode(b"", final=True)
        if pending:
            yield "delta", {"text": pending}
        yield "done", self._usage(len(tokens), produced, finish)

    @staticmethod
    def _usage(prompt: int, completion: int, finish: str) -> dict[str, Any]:
        return {
            "finish_reason": finish,
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }

    def complete(self, params: dict[str, Any], cancelled: Cancelled) -> Iterator[Event]:
        """`/v1/completions`: the prompt as given, no template."""
        prompt = params.get("prompt")
        if isinstance(prompt, list):
            if len(prompt) != 1 or not isinstance(prompt[0], str):
                raise InvalidRequest("XinDesk takes one prompt string per completion request.")
            prompt = prompt[0]
        if not isinstance(prompt, str):
            raise InvalidRequest("`prompt` must be a string.")
        stops = _as_list(params.get("stop"))
        tokens = self.llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        grammar = self._grammar(params, None)
        yield from self._generate(tokens, params, stops, grammar, cancelled)

    def chat(self, params: dict[str, Any], cancelled: Cancelled) -> Iterator[Event]:
        """`/v1/chat/completions`, with tools and structured output."""
        from desktop.core.engine import toolcalls

        if self.template is None:
            raise ChatTemplateError(self.template_error or "This model has no chat template.")
        messages: list[dict[str, Any]] = [dict(m) for m in params.get("messages") or []]
        tools: list[dict[str, Any]] | None = params.get("tools") or None
        functions = params.get("functions")
        tool_choice: Any = params.get("tool_choice")
        if tools is None and functions:
            # The legacy `functions` form (FastGPT still sends it): same as tools.
            tools = [{"type": "function", "function": f} for f in functions]
            call = params.get("function_call")
            if isinstance(call, dict) and "name" in call:
                tool_choice = {"type": "function", "function": {"name": call["name"]}}
            elif call in ("none", "auto"):
                tool_choice = call
        if tool_choice is None:
            tool_choice = "auto"
        if tool_choice == "none":
            tools = None
        forced = bool(tools) and (tool_choice == "required" or isinstance(tool_choice, dict))
        tool_names = {
            str((t.get("function") or {}).get("name")) for t in tools or [] if isinstance(t, dict)
        }
        parser = self.spec.tool_parser
        template_tools = tools
        if tools and not self.template.supports_tools:
            # The template cannot show tools: describe them in a system message and read the
            # model's answer with the generic parser.
            messages = toolcalls.tool_result_messages_to_text(messages)
            prompt_text = toolcalls.generic_tool_prompt(tools)
            if messages and messages[0].get("role") == "system":
                messages[0] = {
                    "role": "system",
                    "content": f"{messages[0].get('content') or ''}\n\n{prompt_text}",
                }
            else:
                messages.insert(0, {"role": "system", "content": prompt_text})
            parser = "generic"
            template_tools = None
        elif tools and parser is None:
            parser = "qwen" if "<tool_call>" in self.template.template else "generic"
        extra = dict(params.get("chat_template_kwargs") or {})
        llm = self.llm
        bos = self._token_text(llm.token_bos())
        eos = self._token_text(llm.token_eos())
        prompt = render_chat(
            self.template, messages, bos_token=bos, eos_token=eos, tools=template_tools, extra=extra
        )
        tokens = self._tokenize_prompt(prompt)
        stops = list(dict.fromkeys([*self.template.stop, *_as_list(params.get("stop"))]))
        forced_schema = None
        if forced:
            try:
                forced_schema = toolcalls.forced_call_schema(tools or [], tool_choice)
            except ValueError as exc:
                raise InvalidRequest(str(exc)) from exc
        grammar = self._grammar(params, forced_schema)
        gen_params = dict(params)
        gen_params["_special_tokens"] = bool(tools) and not forced
        if forced:
            text = ""
            done: dict[str, Any] = {}
            for kind, payload in self._generate(tokens, gen_params, stops, grammar, cancelled):
                if kind == "delta":
                    text += payload["text"]
                else:
                    done = payload
            try:
                call = toolcalls.forced_call_to_tool_call(text)
            except ValueError as exc:
                if done.get("finish_reason") == "length":
                    raise InvalidRequest(
                        "The tool call was cut off by max_tokens before its arguments were "
                        "complete; allow more tokens (max_tokens) for this request."
                    ) from exc
                raise
            yield "tool_calls", {"calls": [_call_dict(call)]}
            yield "done", {**done, "finish_reason": "tool_calls"}
            return
        if not tools:
            yield from self._generate(tokens, gen_params, stops, grammar, cancelled)
            return
        stream_filter = toolcalls.ToolCallStreamFilter(parser, tool_names)
        for kind, payload in self._generate(tokens, gen_params, stops, grammar, cancelled):
            if kind == "delta":
                visible = stream_filter.feed(payload["text"])
                if visible:
                    yield "delta", {"text": visible}
                continue
            parsed = stream_filter.finish()
            if parsed.content:
                # The part the filter held back (it may be text after a tool call, too).
                yield "delta", {"text": parsed.content}
            if parsed.tool_calls:
                yield "tool_calls", {"calls": [_call_dict(c) for c in parsed.tool_calls]}
                payload = {**payload, "finish_reason": "tool_calls"}
            yield kind, payload

    # -- vectors ----------------------------------------------------------------------------------

    def embed(self, params: dict[str, Any]) -> dict[str, Any]:
        from desktop.core.engine.embedding import embed_texts

        raw = params.get("input")
        texts: list[str]
        if isinstance(raw, str):
            texts = [raw]
        elif isinstance(raw, list) and all(isinstance(x, str) for x in raw):
            texts = list(raw)
        elif isinstance(raw, list) and all(isinstance(x, int) for x in raw):
            texts = [self.llm.detokenize(list(raw)).decode("utf-8", errors="replace")]
        elif isinstance(raw, list) and all(
            isinstance(x, list) and all(isinstance(t, int) for t in x) for x in raw
        ):
            texts = [self.llm.detokenize(list(x)).decode("utf-8", errors="replace") for x in raw]
        else:
            raise InvalidRequest("`input` must be a string, a list of strings, or token ids.")
        if not texts:
            raise InvalidRequest("`input` is empty: give at least one text to embed.")
        vectors, tokens = embed_texts(self.llm, texts, normalize=True)
        return {"embeddings": vectors, "prompt_tokens": tokens}

    def rerank(self, params: dict[str, Any]) -> dict[str, Any]:
        from desktop.core.engine.rerank import cross_encoder_scores, yes_no_scores

        query = params.get("query")
        documents = params.get("documents")
        if not isinstance(query, str) or not query:
            raise InvalidRequest("`query` must be a non-empty string.")
        if not isinstance(documents, list) or not all(isinstance(d, str) for d in documents):
            raise InvalidRequest("`documents` must be a list of strings.")
        if not documents:
            return {"scores": [], "tokens": 0}
        if self.spec.rerank_kind == "llm-yes-no":
            scores, tokens = yes_no_scores(
                self.llm, query, documents, instruction=params.get("instruction")
            )
        else:
            scores, tokens = cross_encoder_scores(self.llm, query, documents)
        return {"scores": scores, "tokens": tokens}


def _peek_arch_and_pooling(path: str) -> tuple[str, int | None]:
    """Read the architecture and pooling type from the GGUF header without loading tensors."""
    from desktop.core.gguf_info import read_gguf_info

    info = read_gguf_info(path)
    return info.architecture, info.pooling_type


def _call_dict(call: ToolCall) -> dict[str, str]:
    return {"id": call.id, "name": call.name, "arguments": call.arguments}


def _num(value: Any, default: float) -> float:
    if value is None:
        return default
    return float(value)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str)]
    raise InvalidRequest("`stop` must be a string or a list of strings.")


def _first_stop(text: str, stops: list[str]) -> int | None:
    positions = [i for i in (text.find(s) for s in stops) if i >= 0]
    return min(positions) if positions else None


def _partial_stop_tail(text: str, stops: list[str], longest: int) -> int:
    """Length of the longest suffix of `text` that is a proper prefix of some stop string."""
    for size in range(min(longest - 1, len(text)), 0, -1):
        tail = text[-size:]
        if any(stop.startswith(tail) for stop in stops):
            return size
    return 0
