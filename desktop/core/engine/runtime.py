"""The model inside a worker process: what it is, and requests turned into work for it.

Runs only in the worker process (`desktop.core.engine.worker_side`). A chat or completion model is a
`TextModel` whose requests become `batcher.Job`s (prompt tokens, sampling, answer shape) that
the worker's decode loop runs together; embedding and rerank models stay on `llama_cpp.Llama`,
whose batched embedding path they use, and answer each request in one call.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from desktop.core.engine.answers import ForcedToolAnswer, PlainAnswer, ToolStreamAnswer
from desktop.core.engine.batcher import Job
from desktop.core.engine.grammars import check_grammar, schema_grammar
from desktop.core.engine.protocol import WorkerSpec
from desktop.core.engine.reasoning import ReasoningSplit, starts_inside
from desktop.core.engine.sampler import GrammarGate, SamplingParams
from desktop.core.engine.speculative import OFF, SpeculationConfig
from desktop.core.engine.templates import ResolvedTemplate, render_chat, resolve_chat_template
from desktop.core.errors import ChatTemplateError, InvalidRequest

if TYPE_CHECKING:
    from llama_cpp import Llama

    from desktop.core.engine.draftmodel import DraftModel
    from desktop.core.engine.textmodel import TextModel

log = logging.getLogger("xindesk.engine")


class ModelRuntime:
    """Owns the loaded model and turns requests into jobs or answers."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self.text: TextModel | None = None
        self.llm: Llama | None = None
        self.draft: DraftModel | None = None
        if spec.model_type == "LLM":
            from desktop.core.engine.textmodel import TextModel

            self.text = TextModel(spec.model_path, spec.llama_kwargs, spec.parallel or 1)
            meta = self.text.metadata()
            if spec.draft_model_path and spec.speculative != "off":
                self.draft = self._load_draft(spec, self.text)
        else:
            from llama_cpp import Llama

            kwargs = _vector_llama_kwargs(spec.llama_kwargs)
            if spec.model_type == "embedding":
                from desktop.core.engine.embedding import embedding_llama_kwargs

                arch, pooling = _peek_arch_and_pooling(spec.model_path)
                kwargs.update(embedding_llama_kwargs(arch, pooling, n_ctx=kwargs.get("n_ctx")))
            else:
                from desktop.core.engine.rerank import rerank_llama_kwargs

                kwargs.update(rerank_llama_kwargs(spec.rerank_kind, n_ctx=kwargs.get("n_ctx")))
            self.llm = Llama(model_path=spec.model_path, **kwargs)
            meta = {str(k): str(v) for k, v in (getattr(self.llm, "metadata", None) or {}).items()}
        # The tokenizer's kind (llama.cpp's `tokenizer.ggml.model`: "llama" is SentencePiece,
        # "gpt2" byte-level BPE, "bert" WordPiece, "t5" Unigram).
        self.tokenizer = meta.get("tokenizer.ggml.model", "")
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
        facts: dict[str, Any] = {
            "architecture": self.architecture,
            "template_source": self.template.source if self.template else None,
            "template_error": self.template_error,
            "template_supports_tools": bool(self.template and self.template.supports_tools),
        }
        from desktop.core.engine.textmodel import longest_token_bytes

        if self.text is not None:
            text = self.text
            facts.update(
                n_ctx=text.n_ctx(),
                n_ctx_train=text.n_ctx_train(),
                n_embd=text.n_embd(),
                n_vocab=text.n_vocab,
                parallel=text.parallel,
                max_token_bytes=longest_token_bytes(text.vocab, text.n_vocab),
            )
        else:
            llm = self._vectors()
            facts.update(
                n_ctx=llm.n_ctx(),
                n_ctx_train=llm._model.n_ctx_train(),
                n_embd=llm.n_embd(),
                n_vocab=llm.n_vocab(),
                max_token_bytes=longest_token_bytes(llm._model.vocab, llm.n_vocab()),
            )
        facts["tokenizer"] = self.tokenizer
        return facts

    def _text(self) -> TextModel:
        if self.text is None:
            raise InvalidRequest("This model does not generate text.")
        return self.text

    def _vectors(self) -> Llama:
        if self.llm is None:
            raise InvalidRequest("This model does not compute embeddings or scores.")
        return self.llm

    def close(self) -> None:
        if self.draft is not None:
            self.draft.close()
        if self.text is not None:
            self.text.close()

    # -- speculative decoding ---------------------------------------------------------------------

    @staticmethod
    def _load_draft(spec: WorkerSpec, text: TextModel) -> DraftModel:
        from desktop.core.engine.draftmodel import DraftModel

        assert spec.draft_model_path is not None
        draft = DraftModel(spec.draft_model_path, spec.llama_kwargs, text.parallel)
        if draft.n_vocab != text.n_vocab:
            # Padding rows aside, the ids must mean the same tokens: checked at launch.
            log.info("draft model has %d tokens, the model %d", draft.n_vocab, text.n_vocab)
        return draft

    def speculation(self) -> SpeculationConfig:
        """How the decode loop drafts for this model (`engine.speculative`)."""
        spec = self.spec
        if spec.speculative == "off" or spec.draft_max <= 0 or self.text is None:
            return OFF
        import llama_cpp

        on_gpu = int(spec.llama_kwargs.get("n_gpu_layers", 0)) != 0 and bool(
            llama_cpp.llama_supports_gpu_offload()
        )
        config = GPU_SPECULATION if on_gpu else CPU_SPECULATION
        position_cost = 0.0
        if self.draft is not None and spec.draft_model_path:
            # A decode step of the draft model, in tokens of this one: steps of small batches
            # cost about what reading the weights costs, so the files' sizes compare them.
            import os

            share = os.path.getsize(spec.draft_model_path) / os.path.getsize(spec.model_path)
            position_cost = (config.overhead + 1) * share
        return SpeculationConfig(
            ngram=True,
            draft_max=spec.draft_max,
            overhead=config.overhead,
            split_cost=config.split_cost,
            position_cost=position_cost,
        )

    # -- text generation -------------------------------------------------------------------------

    def _token_text(self, token_id: int) -> str:
        if token_id < 0:
            return ""
        return self._text().detokenize([token_id], special=True).decode("utf-8", errors="ignore")

    def _tokenize_prompt(self, prompt: str) -> list[int]:
        text = self._text()
        tokens = text.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        bos = text.token_bos()
        # Templates usually write the BOS text themselves; add it only when they did not, so the
        # model never sees two (llama.cpp's server does the same check).
        if text.add_bos_token() and bos >= 0 and (not tokens or tokens[0] != bos):
            tokens.insert(0, bos)
        return tokens

    def _check_fits(self, n_prompt: int) -> None:
        n_ctx = self._text().n_ctx()
        if n_prompt >= n_ctx:
            raise InvalidRequest(
                f"The prompt has {n_prompt} tokens but the model was launched with a context of "
                f"{n_ctx} tokens. Shorten the conversation or relaunch the model with a larger "
                f"n_ctx."
            )

    def _grammar(
        self, params: dict[str, Any], forced: list[tuple[str, dict[str, Any]]] | None
    ) -> GrammarGate | None:
        """The grammar a request's answer must follow: a forced tool call's (`forced`: each
        tool's parameters with the field they came from, then the schema of the call),
        `response_format`'s, or llama.cpp's own `grammar` / vLLM's `guided_json`; None when the
        answer is free. A schema or grammar that cannot be enforced is an `InvalidRequest` that
        names its field."""
        from llama_cpp.llama_grammar import JSON_GBNF

        fmt = params.get("response_format") or {}
        if not isinstance(fmt, dict):
            raise InvalidRequest("response_format must be an object with a `type`.")
        kind = fmt.get("type")
        if forced is not None:
            for field, parameters in forced[:-1]:
                # Each tool's parameters alone first, so a bad one is named.
                schema_grammar(parameters, field)
            field = "tools (the call tool_choice forces)"
            grammar = schema_grammar(forced[-1][1], field)
        elif kind == "json_object":
            field = "response_format.schema"
            given = fmt.get("schema")
            grammar = JSON_GBNF if given is None else schema_grammar(given, field)
        elif kind == "json_schema":
            field = "response_format.json_schema.schema"
            spec = fmt.get("json_schema") or {}
            given = spec.get("schema") if isinstance(spec, dict) else None
            if not isinstance(given, dict):
                raise InvalidRequest(
                    "response_format json_schema needs a `json_schema.schema` object."
                )
            grammar = schema_grammar(given, field)
        elif kind not in (None, "text"):
            raise InvalidRequest(
                f"Unknown response_format type {kind!r}: use text, json_object or json_schema."
            )
        elif params.get("grammar") or params.get("guided_grammar"):
            field = "grammar" if params.get("grammar") else "guided_grammar"
            grammar = params[field]
            if not isinstance(grammar, str):
                raise InvalidRequest(f"{field} must be a string in llama.cpp's GBNF.")
        elif params.get("guided_json"):
            field = "guided_json"
            grammar = schema_grammar(params["guided_json"], field)
        else:
            return None
        check_grammar(grammar, field)
        return GrammarGate(self._text(), grammar, "root", field=field)

    def _job(
        self,
        rid: str,
        tokens: list[int],
        params: dict[str, Any],
        stops: list[str],
        answer: Any,
        grammar: GrammarGate | None,
        special: bool,
        check_fit: bool = True,
    ) -> Job:
        if check_fit:
            self._check_fits(len(tokens))
        max_tokens = params.get("max_tokens")
        if max_tokens is None:
            max_tokens = params.get("max_completion_tokens")
        return Job(
            rid=rid,
            tokens=tokens,
            sampling=SamplingParams.from_request(params),
            answer=answer,
            stops=[s for s in stops if s],
            stop_ids=frozenset(int(t) for t in params.get("stop_token_ids") or []),
            max_tokens=max_tokens if isinstance(max_tokens, int) and max_tokens > 0 else None,
            special=special,
            grammar=grammar,
            token_ids=bool(params.get("_token_ids")),
        )

    def prepare(self, rid: str, op: str, params: dict[str, Any]) -> Job:
        """A chat or completion request as a job for the decode loop (raises InvalidRequest or
        ChatTemplateError for a request that cannot run)."""
        if op == "chat":
            return self._prepare_chat(rid, params)
        if op == "complete":
            return self._prepare_complete(rid, params)
        raise InvalidRequest(f"Unknown operation {op!r}.")

    def count(self, params: dict[str, Any]) -> dict[str, Any]:
        """A chat request's prompt length in tokens (laid out by the template, with its tools),
        whether or not it fits the context."""
        job = self._prepare_chat("count", params, check_fit=False)
        return {"prompt_tokens": len(job.tokens)}

    def _prepare_complete(self, rid: str, params: dict[str, Any]) -> Job:
        """`/v1/completions`: the prompt as given, no template."""
        prompt = params.get("prompt")
        if isinstance(prompt, list):
            if len(prompt) != 1 or not isinstance(prompt[0], str):
                raise InvalidRequest("XinDesk takes one prompt string per completion request.")
            prompt = prompt[0]
        if not isinstance(prompt, str):
            raise InvalidRequest("`prompt` must be a string.")
        stops = _as_list(params.get("stop"))
        tokens = self._text().tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        grammar = self._grammar(params, None)
        return self._job(rid, tokens, params, stops, PlainAnswer(), grammar, special=False)

    def _prepare_chat(self, rid: str, params: dict[str, Any], *, check_fit: bool = True) -> Job:
        """`/v1/chat/completions`, with tools and structured output."""
        from desktop.core.engine import toolcalls

        if self.template is None:
            raise ChatTemplateError(self.template_error or "This model has no chat template.")
        messages: list[dict[str, Any]] = [dict(m) for m in params.get("messages") or []]
        tools: list[dict[str, Any]] | None = params.get("tools") or None
        functions = params.get("functions")
        tool_choice: Any = params.get("tool_choice")
        parameters = toolcalls.check_tools(tools, "tools")
        toolcalls.check_tool_choice(tool_choice)
        if tools is None and functions:
            # The legacy `functions` form (FastGPT still sends it): same as tools.
            parameters = toolcalls.check_tools(functions, "functions")
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
        extra = params.get("chat_template_kwargs") or {}
        if not isinstance(extra, dict):
            raise InvalidRequest(
                "chat_template_kwargs must be a JSON object of template variables."
            )
        taken = sorted(set(extra) & _TEMPLATE_VARIABLES)
        if taken:
            raise InvalidRequest(
                f"chat_template_kwargs cannot set {', '.join(taken)}: the server sets "
                f"{', '.join(sorted(_TEMPLATE_VARIABLES))} from the request itself."
            )
        forced_schemas = None
        if forced:
            try:
                call_schema = toolcalls.forced_call_schema(tools or [], tool_choice)
            except ValueError as exc:
                raise InvalidRequest(str(exc)) from exc
            forced_schemas = [(f, p) for f, p in parameters if p]
            forced_schemas.append(("tools", call_schema))
        grammar = self._grammar(params, forced_schemas)
        tool_names = {f.name for f in toolcalls.function_specs(tools or [])}
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
        text = self._text()
        bos = self._token_text(text.token_bos())
        eos = self._token_text(text.token_eos())
        prompt = render_chat(
            self.template, messages, bos_token=bos, eos_token=eos, tools=template_tools, extra=extra
        )
        tags = self.spec.reasoning_tags
        if tags is not None and grammar is not None and starts_inside(prompt, tags[0]):
            # A grammar shapes the answer, and would shape the reasoning the template opened
            # too, leaving no answer: the block is closed in the prompt, so the model answers
            # at once, within the grammar (llama.cpp's server does the same with a zero budget).
            prompt += f"{tags[1]}\n\n"
        tokens = self._tokenize_prompt(prompt)
        stops = list(dict.fromkeys([*self.template.stop, *_as_list(params.get("stop"))]))
        special = bool(tools) and not forced
        answer: Any
        if forced:
            answer = ForcedToolAnswer()
        elif tools:
            answer = ToolStreamAnswer(parser, tool_names)
        else:
            answer = PlainAnswer()
        if tags is not None:
            answer = ReasoningSplit(answer, tags, inside=starts_inside(prompt, tags[0]))
        return self._job(
            rid, tokens, params, stops, answer, grammar, special=special, check_fit=check_fit
        )

    # -- vectors ----------------------------------------------------------------------------------

    def embed(self, params: dict[str, Any]) -> dict[str, Any]:
        from desktop.core.engine.embedding import embed_texts, shortened

        llm = self._vectors()
        raw = params.get("input")
        texts: list[str]
        if isinstance(raw, str):
            texts = [raw]
        elif isinstance(raw, list) and all(isinstance(x, str) for x in raw):
            texts = list(raw)
        elif isinstance(raw, list) and all(isinstance(x, int) for x in raw):
            texts = [llm.detokenize(list(raw)).decode("utf-8", errors="replace")]
        elif isinstance(raw, list) and all(
            isinstance(x, list) and all(isinstance(t, int) for t in x) for x in raw
        ):
            texts = [llm.detokenize(list(x)).decode("utf-8", errors="replace") for x in raw]
        else:
            raise InvalidRequest("`input` must be a string, a list of strings, or token ids.")
        if not texts:
            raise InvalidRequest("`input` is empty: give at least one text to embed.")
        dimensions = self._dimensions(params.get("dimensions"), llm.n_embd())
        if params.get("input_type") == "query" and self.spec.query_instruction:
            # The family was trained to read search queries after its instruction (documents
            # go as they are), as sentence-transformers' prompt_name="query" does.
            texts = [f"{self.spec.query_instruction}{text}" for text in texts]
        vectors, tokens = embed_texts(llm, texts, normalize=True)
        if dimensions is not None:
            vectors = [shortened(vector, dimensions) for vector in vectors]
        return {"embeddings": vectors, "prompt_tokens": tokens}

    def _dimensions(self, asked: Any, length: int) -> int | None:
        """The length asked for vectors of `length` values: None for their own length."""
        if asked is None or asked == length:
            return None
        if not isinstance(asked, int) or isinstance(asked, bool):
            raise InvalidRequest("`dimensions` must be a whole number.")
        shortest = self.spec.matryoshka_min
        if shortest is None:
            raise InvalidRequest(
                f"{self.spec.uid} makes vectors of {length} values and was not trained to give "
                "shorter ones (Matryoshka learning), so cutting them would lose meaning: leave "
                f"`dimensions` out, or ask for {length}."
            )
        if not shortest <= asked <= length:
            raise InvalidRequest(
                f"{self.spec.uid} gives vectors of {shortest} to {length} values; `dimensions` "
                f"was {asked}."
            )
        return asked

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
                self._vectors(), query, documents, instruction=params.get("instruction")
            )
        else:
            scores, tokens = cross_encoder_scores(self._vectors(), query, documents)
        return {"scores": scores, "tokens": tokens}


# Variables every chat template gets from the request; `chat_template_kwargs` adds others.
_TEMPLATE_VARIABLES = frozenset(
    {"messages", "tools", "bos_token", "eos_token", "add_generation_prompt"}
)

# The cost of a decode step beyond its tokens, and of one more micro-batch, in tokens
# (`SpeculationConfig`). On a CPU every token of a batch adds compute; on a GPU a small
# batch costs what reading the weights costs, whatever its size.
CPU_SPECULATION = SpeculationConfig(overhead=12.0, split_cost=6.0)
GPU_SPECULATION = SpeculationConfig(overhead=48.0, split_cost=24.0)


def _vector_llama_kwargs(options: dict[str, Any]) -> dict[str, Any]:
    """`llama_cpp.Llama`'s arguments for the launch options: its flash attention is on or
    off (on where "auto" meets a quantized V cache, which needs it), and its cache types are
    ggml's numbers."""
    from desktop.core.engine.textmodel import ggml_type

    kwargs: dict[str, Any] = {"verbose": False, **options}
    for key in ("type_k", "type_v"):
        if kwargs.get(key) is not None:
            kwargs[key] = ggml_type(kwargs[key])
    mode = kwargs.get("flash_attn", "auto")
    quantized_v = kwargs.get("type_v") not in (None, 0, 1, 30)
    kwargs["flash_attn"] = mode is True or mode == "on" or (mode == "auto" and quantized_v)
    return kwargs


def _peek_arch_and_pooling(path: str) -> tuple[str, int | None]:
    """Read the architecture and pooling type from the GGUF header without loading tensors."""
    from desktop.core.memory.gguf_info import read_gguf_info

    info = read_gguf_info(path)
    return info.architecture, info.pooling_type


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str)]
    raise InvalidRequest("`stop` must be a string or a list of strings.")
