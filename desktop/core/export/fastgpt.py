"""FastGPT's model configuration, filled in from the running models.

Two shapes (reference/fastgpt.md §1 and §2):

* FastGPT ≤ 4.8.19 reads `llmModels`, `vectorModels` and `reRankModels` from `config.json`
  (json5, read at start-up). Only the reranker has a `requestUrl`; chat and embedding calls go
  to `systemEnv.oneapiUrl` (or `OPENAI_BASE_URL`).
* FastGPT ≥ 4.8.20 keeps models in its database and imports a strict-JSON array of
  `{"model", "metadata"}` in 账号 → 模型提供商 → 模型配置 → 配置文件; every model may carry its own
  `requestUrl` (the full endpoint URL) and `requestAuth`.

Numbers come from the models: `maxContext` is the context the LLM was launched with (FastGPT
never tells the server its own `maxContext`, xorbitsai/inference#2370), tool calling is on only
for families that call tools reliably, embedding chunk sizes follow the embedding model's input
limit.
"""

from __future__ import annotations

from typing import Any

from desktop.core.export.endpoint import Connection
from desktop.core.export.served import ModelSelection, ServedModel

# FastGPT's `provider` must be one of its ModelProviderIdType values (§2.2); there is no
# "Xinference". A known family prefix gets its icon, anything else "Other".
_PROVIDERS: tuple[tuple[str, str], ...] = (
    ("qwen", "Qwen"),
    ("qwq", "Qwen"),
    ("llama", "Meta"),
    ("glm", "ChatGLM"),
    ("chatglm", "ChatGLM"),
    ("deepseek", "DeepSeek"),
    ("mistral", "MistralAI"),
    ("bge", "BAAI"),
    ("gpt-oss", "OpenAI"),
    ("yi-", "Yi"),
    ("baichuan", "Baichuan"),
    ("internlm", "Intern"),
    ("jina", "Jina"),
)

#: Context assumed for an LLM that reports none.
FALLBACK_CONTEXT = 4096
#: Input limit assumed for an embedding model that reports none.
FALLBACK_EMBEDDING_TOKENS = 512
#: FastGPT's usual chunk size; smaller when the embedding model takes less.
DEFAULT_CHUNK_TOKENS = 512
#: The UI's temperature 0..10 is scaled to 0..maxTemperature; 1 keeps it in the usual range.
MAX_TEMPERATURE = 1
#: Output formats the server enforces with a grammar (README "What the server does").
RESPONSE_FORMATS = ("text", "json_object", "json_schema")
#: Training priority FastGPT gives an embedding model (the reference uses 100).
EMBEDDING_WEIGHT = 100


def provider_for(model: ServedModel) -> str:
    name = model.model_name.lower()
    for prefix, provider in _PROVIDERS:
        if name.startswith(prefix):
            return provider
    return "Other"


def display_name(model: ServedModel) -> str:
    return f"{model.uid} (XinDesk)"


def response_budget(context: int) -> int:
    """`maxResponse`: a quarter of the context, 256 to 8192 tokens, never over half of it.

    It is only a cap on FastGPT's `max_tokens` (FastGPT#4807); the server stops at the end of
    the context anyway, so the cap's job is to leave room for the question and the quotes.
    """
    return max(min(context // 4, 8192), min(256, context // 2))


def quote_budget(context: int, response: int) -> int:
    """`quoteMaxToken`: what is left after the answer and an eighth for prompt and history."""
    return max(context - response - context // 8, context // 4)


def _llm_numbers(model: ServedModel) -> dict[str, Any]:
    context = model.context_length or FALLBACK_CONTEXT
    response = response_budget(context)
    return {
        "maxContext": context,
        "maxResponse": response,
        "quoteMaxToken": quote_budget(context, response),
        "maxTemperature": MAX_TEMPERATURE,
    }


def _tool_flags(model: ServedModel) -> dict[str, bool]:
    # toolChoice wins over functionCall in FastGPT; both off is prompt mode. functionCall stays
    # off because the server answers the legacy form with `tool_calls`, not `function_call`.
    return {"toolChoice": model.tool_calls, "functionCall": False}


def _embedding_numbers(model: ServedModel) -> dict[str, int]:
    limit = model.max_tokens or FALLBACK_EMBEDDING_TOKENS
    return {
        "defaultToken": min(DEFAULT_CHUNK_TOKENS, limit),
        "maxToken": limit,
        "weight": EMBEDDING_WEIGHT,
    }


def _embedding_bodies(model: ServedModel) -> dict[str, dict[str, Any]]:
    """What FastGPT adds to an embedding call's body: always (`defaultConfig`), when indexing
    (`dbConfig`) and when searching (`queryConfig`)."""
    return {
        "defaultConfig": (
            {"dimensions": model.sent_dimensions} if model.sent_dimensions is not None else {}
        ),
        "dbConfig": {},
        "queryConfig": {"input_type": "query"} if model.query_instruction else {},
    }


# -- FastGPT ≤ 4.8.19: config.json ----------------------------------------------------------------


def legacy_llm(model: ServedModel) -> dict[str, Any]:
    """An `llmModels` entry (FG-4.8.19 `LLMModelItemType`)."""
    return {
        "provider": provider_for(model),
        "model": model.uid,
        "name": display_name(model),
        **_llm_numbers(model),
        "charsPointsPrice": 0,
        "censor": False,
        "vision": model.vision,
        # Every chat model may serve every role, so each role has at least one model.
        "datasetProcess": True,
        "usedInClassify": True,
        "usedInExtractFields": True,
        "usedInToolCall": True,
        "usedInQueryExtension": True,
        **_tool_flags(model),
        "customCQPrompt": "",
        "customExtractPrompt": "",
        "defaultSystemChatPrompt": "",
        "defaultConfig": {},
        "fieldMap": {},
    }


def legacy_vector(model: ServedModel) -> dict[str, Any]:
    """A `vectorModels` entry (FG-4.8.19 `VectorModelItemType`)."""
    return {
        "provider": provider_for(model),
        "model": model.uid,
        "name": display_name(model),
        "charsPointsPrice": 0,
        **_embedding_numbers(model),
        **_embedding_bodies(model),
    }


def legacy_rerank(model: ServedModel, connection: Connection) -> dict[str, Any]:
    """A `reRankModels` entry: `requestUrl` is the full rerank URL, as FastGPT posts to it."""
    return {
        "provider": provider_for(model),
        "model": model.uid,
        "name": display_name(model),
        "charsPointsPrice": 0,
        "requestUrl": connection.rerank_url,
        "requestAuth": connection.auth,
    }


def legacy_models(selection: ModelSelection, connection: Connection) -> dict[str, Any]:
    """The three model lists of config.json."""
    return {
        "llmModels": [legacy_llm(m) for m in selection.llms],
        "vectorModels": [legacy_vector(m) for m in selection.embeddings],
        "reRankModels": [legacy_rerank(m, connection) for m in selection.rerankers],
    }


def legacy_direct_env(connection: Connection) -> dict[str, str]:
    """`systemEnv` keys that send FastGPT's chat and embedding calls straight to XinDesk."""
    return {"oneapiUrl": connection.v1_url, "chatApiKey": connection.auth}


def legacy_snippet(selection: ModelSelection, connection: Connection) -> dict[str, Any]:
    """The parts to merge into an existing config.json."""
    return {"systemEnv": legacy_direct_env(connection), **legacy_models(selection, connection)}


def legacy_config_file(selection: ModelSelection, connection: Connection) -> dict[str, Any]:
    """A whole config.json for FastGPT 4.8.10 – 4.8.19 (the reference's §1.6 example)."""
    return {
        "feConfigs": {"lafEnv": "https://laf.dev"},
        "systemEnv": {
            "vectorMaxProcess": 15,
            "qaMaxProcess": 15,
            "tokenWorkers": 50,
            "pgHNSWEfSearch": 100,
            **legacy_direct_env(connection),
        },
        **legacy_models(selection, connection),
        "audioSpeechModels": [],
        # Empty or missing objects crash FastGPT's UI (docs FAQ): keep the default Whisper entry.
        "whisperModel": {
            "provider": "OpenAI",
            "model": "whisper-1",
            "name": "Whisper1",
            "charsPointsPrice": 0,
        },
    }


# -- FastGPT ≥ 4.8.20: model-configuration JSON ---------------------------------------------------


def _base_metadata(
    model: ServedModel, connection: Connection | None, *, default: bool
) -> dict[str, Any]:
    """The fields every type shares; with a connection, `requestUrl` (the full endpoint URL,
    which FastGPT posts to as it is) and `requestAuth` as well."""
    metadata: dict[str, Any] = {
        "type": model.kind,
        "provider": provider_for(model),
        "model": model.uid,
        "name": display_name(model),
        "isActive": True,
        "isCustom": True,
        "isDefault": default,
        "charsPointsPrice": 0,
    }
    if connection is not None:
        metadata["requestUrl"] = connection.url_for(model.kind)
        metadata["requestAuth"] = connection.auth
    return metadata


def llm_metadata(
    model: ServedModel, connection: Connection | None, *, default: bool = False
) -> dict[str, Any]:
    """`metadata` of a `type: "llm"` entry (FG-4.11 `LLMModelItemType`)."""
    return {
        **_base_metadata(model, connection, default=default),
        "isDefaultDatasetTextModel": default,
        **_llm_numbers(model),
        "showTopP": True,
        "showStopSign": True,
        "responseFormatList": list(RESPONSE_FORMATS),
        "censor": False,
        "vision": model.vision,
        "reasoning": model.reasoning,
        "datasetProcess": True,
        "usedInClassify": True,
        "usedInExtractFields": True,
        "usedInToolCall": True,
        "useInEvaluation": True,
        **_tool_flags(model),
        "defaultSystemChatPrompt": "",
        "defaultConfig": {},
        "fieldMap": {},
    }


def embedding_metadata(
    model: ServedModel, connection: Connection | None, *, default: bool = False
) -> dict[str, Any]:
    """`metadata` of a `type: "embedding"` entry (FG-4.11 `EmbeddingModelItemType`)."""
    return {
        **_base_metadata(model, connection, default=default),
        **_embedding_numbers(model),
        # The server L2-normalises already (README, "What the server does").
        "normalization": False,
        **_embedding_bodies(model),
    }


def rerank_metadata(
    model: ServedModel, connection: Connection | None, *, default: bool = False
) -> dict[str, Any]:
    """`metadata` of a `type: "rerank"` entry: only the common fields."""
    return _base_metadata(model, connection, default=default)


def model_config_entries(
    selection: ModelSelection, connection: Connection | None
) -> list[dict[str, Any]]:
    """The array for FastGPT ≥ 4.8.20's JSON import.

    Args:
        selection: The models to export.
        connection: Direct connection (each entry gets `requestUrl` and `requestAuth`); None
            for models reached through One API or AI Proxy, which go without them.
    """
    entries: list[dict[str, Any]] = []
    for index, model in enumerate(selection.llms):
        entries.append(llm_metadata(model, connection, default=index == 0))
    for index, model in enumerate(selection.embeddings):
        entries.append(embedding_metadata(model, connection, default=index == 0))
    for index, model in enumerate(selection.rerankers):
        entries.append(rerank_metadata(model, connection, default=index == 0))
    # The import overwrites metadata.model with the top-level model (FastGPT#4312): keep both.
    return [{"model": metadata["model"], "metadata": metadata} for metadata in entries]
