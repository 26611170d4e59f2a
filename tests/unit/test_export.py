"""FastGPT / One API export and the "test as FastGPT" check, without a model.

The field lists below are written down from reference/fastgpt.md (§1.2–1.4 for FastGPT ≤ 4.8.19's
config.json, §2.2–2.3 for the ≥ 4.8.20 model-configuration JSON), not from the code under test,
so a renamed or mistyped field fails here. The check is driven against a fake endpoint
(httpx.MockTransport) that records what it was sent and can misbehave in FastGPT's ways.
"""

from __future__ import annotations

import json
import math
import shlex
import socket
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from fastapi.testclient import TestClient

from desktop.api.settings import Settings
from desktop.core.errors import ConfigError
from desktop.core.export import (
    DOCKER_HOST,
    NO_KEY_PLACEHOLDER,
    Connection,
    ExportResult,
    export_fastgpt,
    export_for_target,
    resolve_host,
    select_models,
)
from desktop.core.export.check import CheckModels, CheckResult, check_names, run_fastgpt_check
from desktop.core.export.gateways import ai_proxy_channel, one_api_channel
from desktop.core.netaddr import lan_ipv4_addresses
from desktop.core.paths import AppPaths
from desktop.server.app import create_app

Number = (int, float)

# -- FastGPT's fields, from the reference -----------------------------------------------------

# FG-4.8.19 LLMModelItemType (§1.2); maxTemperature is required in ≤ 4.8.19.
LEGACY_LLM_FIELDS: dict[str, type | tuple[type, ...]] = {
    "provider": str,
    "model": str,
    "name": str,
    "maxContext": int,
    "maxResponse": int,
    "quoteMaxToken": int,
    "maxTemperature": Number,
    "charsPointsPrice": Number,
    "censor": bool,
    "vision": bool,
    "datasetProcess": bool,
    "usedInClassify": bool,
    "usedInExtractFields": bool,
    "usedInToolCall": bool,
    "usedInQueryExtension": bool,
    "toolChoice": bool,
    "functionCall": bool,
    "customCQPrompt": str,
    "customExtractPrompt": str,
    "defaultSystemChatPrompt": str,
    "defaultConfig": dict,
    "fieldMap": dict,
}
# FG-4.8.19 VectorModelItemType (§1.3).
LEGACY_VECTOR_FIELDS: dict[str, type | tuple[type, ...]] = {
    "provider": str,
    "model": str,
    "name": str,
    "charsPointsPrice": Number,
    "defaultToken": int,
    "maxToken": int,
    "weight": int,
    "defaultConfig": dict,
    "dbConfig": dict,
    "queryConfig": dict,
}
# FG-4.8.19 ReRankModelItemType (§1.4): requestUrl is required, requestAuth always sent.
LEGACY_RERANK_FIELDS: dict[str, type | tuple[type, ...]] = {
    "provider": str,
    "model": str,
    "name": str,
    "charsPointsPrice": Number,
    "requestUrl": str,
    "requestAuth": str,
}
# SystemEnvType (§1.1) and the config.json sample (§1.6).
LEGACY_SYSTEM_ENV: dict[str, type | tuple[type, ...]] = {
    "vectorMaxProcess": int,
    "qaMaxProcess": int,
    "tokenWorkers": int,
    "pgHNSWEfSearch": int,
    "oneapiUrl": str,
    "chatApiKey": str,
}
# FastGPTConfigFileType (§1.1), subPlans being optional.
LEGACY_FILE_KEYS = {
    "feConfigs",
    "systemEnv",
    "llmModels",
    "vectorModels",
    "reRankModels",
    "audioSpeechModels",
    "whisperModel",
}
# FG-4.11 BaseModelItemType (§2.2) plus what updateWithJson requires (§2.3), for a direct
# connection (requestUrl/requestAuth).
V49_BASE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "type": str,
    "provider": str,
    "model": str,
    "name": str,
    "isActive": bool,
    "isCustom": bool,
    "isDefault": bool,
    "requestUrl": str,
    "requestAuth": str,
    "charsPointsPrice": Number,
}
V49_LLM_FIELDS: dict[str, type | tuple[type, ...]] = {
    **V49_BASE_FIELDS,
    "isDefaultDatasetTextModel": bool,
    "maxContext": int,
    "maxResponse": int,
    "quoteMaxToken": int,
    "maxTemperature": Number,
    "showTopP": bool,
    "responseFormatList": list,
    "showStopSign": bool,
    "censor": bool,
    "vision": bool,
    "reasoning": bool,
    "datasetProcess": bool,
    "usedInClassify": bool,
    "usedInExtractFields": bool,
    "usedInToolCall": bool,
    "useInEvaluation": bool,
    "functionCall": bool,
    "toolChoice": bool,
    "defaultSystemChatPrompt": str,
    "defaultConfig": dict,
    "fieldMap": dict,
}
V49_EMBEDDING_FIELDS: dict[str, type | tuple[type, ...]] = {
    **V49_BASE_FIELDS,
    "defaultToken": int,
    "maxToken": int,
    "weight": int,
    "normalization": bool,
    "defaultConfig": dict,
    "dbConfig": dict,
    "queryConfig": dict,
}
V49_RERANK_FIELDS = V49_BASE_FIELDS
# ModelProviderIdType (§2.2): anything else shows no icon or breaks grouping.
PROVIDERS = {
    "OpenAI",
    "Claude",
    "Gemini",
    "Meta",
    "MistralAI",
    "Groq",
    "Grok",
    "Jina",
    "AliCloud",
    "Qwen",
    "Doubao",
    "DeepSeek",
    "ChatGLM",
    "Ernie",
    "Moonshot",
    "MiniMax",
    "SparkDesk",
    "Hunyuan",
    "Baichuan",
    "StepFun",
    "Yi",
    "Siliconflow",
    "PPIO",
    "Ollama",
    "BAAI",
    "FishAudio",
    "Intern",
    "Moka",
    "Other",
}
ROLE_FLAGS = ("datasetProcess", "usedInClassify", "usedInExtractFields", "usedInToolCall")

KEY = "sk-test-export"


def _assert_fields(entry: dict[str, Any], fields: dict[str, type | tuple[type, ...]]) -> None:
    missing = set(fields) - set(entry)
    assert not missing, f"{entry.get('model')} lacks {sorted(missing)}"
    for name, kind in fields.items():
        value = entry[name]
        # bool is an int in Python; FastGPT's numbers must not be booleans.
        assert not (isinstance(value, bool) and kind is not bool), (name, value)
        assert isinstance(value, kind), f"{entry.get('model')}.{name} = {value!r}"


def _strict_json(text: str) -> Any:
    """Parse as FastGPT's JSON.parse would: no comments, NaN or duplicate keys."""

    def no_constants(name: str) -> Any:
        raise AssertionError(f"{name} is not JSON")

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _v in pairs]
        assert len(keys) == len(set(keys)), f"duplicate keys in {keys}"
        return dict(pairs)

    return json.loads(text, parse_constant=no_constants, object_pairs_hook=no_duplicates)


# -- running models, as GET /v1/models describes them ---------------------------------------


def _llm(uid: str, name: str, abilities: list[str], context: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": uid,
        "object": "model",
        "model_type": "LLM",
        "model_name": name,
        "model_ability": abilities,
        "context_length": context,
        "multimodal_projector": None,
        "status": "ready",
        **extra,
    }


def _embedding(uid: str, dims: int, max_tokens: int, name: str = "bge-m3") -> dict[str, Any]:
    return {
        "id": uid,
        "model_type": "embedding",
        "model_name": name,
        "dimensions": dims,
        "max_tokens": max_tokens,
        "status": "ready",
    }


def _reranker(uid: str) -> dict[str, Any]:
    return {
        "id": uid,
        "model_type": "rerank",
        "model_name": "bge-reranker-v2-m3",
        "status": "ready",
    }


GEMMA = _llm("gemma", "gemma-3-it", ["chat", "vision"], 2048)
QWEN = _llm("qwen", "qwen2.5-instruct", ["chat", "tools"], 32768)
QWEN3 = _llm("qwen3", "qwen3", ["chat", "reasoning", "hybrid", "tools"], 8192)
EMBED = _embedding("embed", 1024, 8192)
RERANK = _reranker("rerank")
RUNNING = [GEMMA, QWEN, EMBED, RERANK]

CONNECTION = Connection.for_host("192.168.1.20", 9997, KEY)


def _export(fmt: Any, models: list[dict[str, Any]] | None = None, **kw: Any) -> ExportResult:
    return export_fastgpt(
        fmt, select_models(RUNNING if models is None else models), CONNECTION, **kw
    )


def _by_model(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["model"]: e for e in entries}


# -- FastGPT ≥ 4.8.20 model-configuration JSON ------------------------------------------------


def test_v49_is_strict_json_with_every_field_typed() -> None:
    result = _export("v4.9")
    assert result.content_type == "json"
    entries = _strict_json(result.text)
    assert isinstance(entries, list)
    assert [e["model"] for e in entries] == ["gemma", "qwen", "embed", "rerank"]
    fields = {"llm": V49_LLM_FIELDS, "embedding": V49_EMBEDDING_FIELDS, "rerank": V49_RERANK_FIELDS}
    for entry in entries:
        assert set(entry) == {"model", "metadata"}
        metadata = entry["metadata"]
        # updateWithJson overwrites metadata.model with the top-level model (FastGPT#4312).
        assert metadata["model"] == entry["model"]
        _assert_fields(metadata, fields[metadata["type"]])
        assert metadata["provider"] in PROVIDERS
        assert metadata["isActive"] is True
        assert metadata["requestAuth"] == KEY
    assert all(isinstance(f, str) for e in entries[:2] for f in e["metadata"]["responseFormatList"])


def test_v49_request_urls_are_absolute_endpoint_urls() -> None:
    entries = _by_model(_strict_json(_export("v4.9").text))
    paths = {
        "gemma": "/v1/chat/completions",
        "qwen": "/v1/chat/completions",
        "embed": "/v1/embeddings",
        "rerank": "/v1/rerank",
    }
    for uid, path in paths.items():
        url = urlparse(entries[uid]["metadata"]["requestUrl"])
        assert (url.scheme, url.netloc, url.path) == ("http", "192.168.1.20:9997", path)


def test_v49_values_follow_the_running_models() -> None:
    entries = _by_model(_strict_json(_export("v4.9").text))
    gemma, qwen = entries["gemma"]["metadata"], entries["qwen"]["metadata"]
    # Gemma 3 declares no tool ability: prompt mode. Qwen2.5 Instruct calls tools.
    assert (gemma["toolChoice"], gemma["functionCall"]) == (False, False)
    assert (qwen["toolChoice"], qwen["functionCall"]) == (True, False)
    assert gemma["maxContext"] == 2048
    assert qwen["maxContext"] == 32768
    for llm in (gemma, qwen):
        assert 0 < llm["maxResponse"] < llm["maxContext"]
        assert llm["quoteMaxToken"] + llm["maxResponse"] <= llm["maxContext"]
        assert llm["maxTemperature"] > 0
    # Gemma is vision-capable, but no projector is loaded: the server reads text only.
    assert gemma["vision"] is False
    assert entries["qwen"]["metadata"]["provider"] == "Qwen"
    embed = entries["embed"]["metadata"]
    assert embed["maxToken"] == 8192
    assert 0 < embed["defaultToken"] <= embed["maxToken"]
    assert embed["defaultConfig"] == {}
    assert entries["rerank"]["metadata"]["provider"] == "BAAI"


def test_v49_one_default_per_type_and_every_role_served() -> None:
    entries = [e["metadata"] for e in _strict_json(_export("v4.9").text)]
    for kind in ("llm", "embedding", "rerank"):
        defaults = [e["model"] for e in entries if e["type"] == kind and e["isDefault"]]
        assert len(defaults) == 1, (kind, defaults)
    llms = [e for e in entries if e["type"] == "llm"]
    for flag in ROLE_FLAGS:
        assert any(e[flag] for e in llms), flag
    assert sum(e["isDefaultDatasetTextModel"] for e in llms) == 1


def test_v49_warns_that_the_import_replaces_the_list() -> None:
    warnings = " ".join(_export("v4.9").warnings)
    assert "replaces the whole model list" in warnings
    assert "append" in warnings


def test_vision_reasoning_and_tools_come_from_abilities() -> None:
    with_projector = {**GEMMA, "multimodal_projector": "mmproj-gemma.gguf"}
    result = _export("v4.9", [with_projector, QWEN3, EMBED])
    entries = _by_model(_strict_json(result.text))
    assert entries["gemma"]["metadata"]["vision"] is True
    assert entries["qwen3"]["metadata"]["reasoning"] is True
    assert entries["qwen3"]["metadata"]["toolChoice"] is True
    assert entries["gemma"]["metadata"]["reasoning"] is False
    assert not any("vision off" in w for w in result.warnings)
    # Without the projector the same model is exported with vision off, and says so.
    assert any("gemma is exported with vision off" in w for w in _export("v4.9").warnings)


def test_small_contexts_keep_sensible_budgets() -> None:
    tiny = _llm("tiny", "gemma-3-1b-it", ["chat"], 512)
    small_embed = _embedding("small-embed", 384, 256, name="all-minilm")
    entries = _by_model(_strict_json(_export("v4.9", [tiny, small_embed]).text))
    llm = entries["tiny"]["metadata"]
    assert llm["maxResponse"] >= 128
    assert llm["quoteMaxToken"] + llm["maxResponse"] <= 512
    assert entries["small-embed"]["metadata"]["defaultToken"] == 256
    assert entries["small-embed"]["metadata"]["maxToken"] == 256


def test_embeddings_over_1536_dimensions_are_flagged() -> None:
    big = _embedding("big-embed", 4096, 8192, name="Qwen3-Embedding-8B")
    result = _export("v4.9", [QWEN, big])
    warning = next(w for w in result.warnings if "big-embed" in w)
    assert "4096" in warning
    assert "1536" in warning
    # The model was not trained for shorter vectors: the export must not ask for them.
    metadata = _by_model(_strict_json(result.text))["big-embed"]["metadata"]
    assert "dimensions" not in metadata["defaultConfig"]
    assert not any("1536" in w for w in _export("v4.9").warnings)


def test_a_matryoshka_model_is_asked_for_the_vectors_fastgpt_keeps() -> None:
    big = _embedding("qwen-embed", 4096, 8192, name="Qwen3-Embedding-8B") | {
        "min_dimensions": 32,
        "query_instruction": True,
    }
    for fmt in ("v4.9", "legacy"):
        result = _export(fmt, [QWEN, big])
        assert not any("qwen-embed" in w and "1536" in w for w in result.warnings)
        text = _strict_json(result.text)
        entry = (
            _by_model(text)["qwen-embed"]["metadata"]
            if fmt == "v4.9"
            else next(v for v in text["vectorModels"] if v["model"] == "qwen-embed")
        )
        assert entry["defaultConfig"] == {"dimensions": 1536}
        # Searches send the query instruction's switch; indexing sends documents as they are.
        assert entry["queryConfig"] == {"input_type": "query"}
        assert entry["dbConfig"] == {}
    small = _embedding("small", 1024, 8192) | {"min_dimensions": 32}
    metadata = _by_model(_strict_json(_export("v4.9", [QWEN, small]).text))["small"]["metadata"]
    assert metadata["defaultConfig"] == {}


# -- FastGPT ≤ 4.8.19 config.json ------------------------------------------------------------


def test_legacy_snippet_fields_and_types() -> None:
    result = _export("legacy")
    assert result.content_type == "json"
    snippet = _strict_json(result.text)
    assert set(snippet) == {"systemEnv", "llmModels", "vectorModels", "reRankModels"}
    assert snippet["systemEnv"] == {"oneapiUrl": "http://192.168.1.20:9997/v1", "chatApiKey": KEY}
    for entry in snippet["llmModels"]:
        _assert_fields(entry, LEGACY_LLM_FIELDS)
    for entry in snippet["vectorModels"]:
        _assert_fields(entry, LEGACY_VECTOR_FIELDS)
    for entry in snippet["reRankModels"]:
        _assert_fields(entry, LEGACY_RERANK_FIELDS)
    llms = _by_model(snippet["llmModels"])
    assert llms["gemma"]["toolChoice"] is False
    assert llms["qwen"]["toolChoice"] is True
    for flag in (*ROLE_FLAGS, "usedInQueryExtension"):
        assert any(e[flag] for e in snippet["llmModels"]), flag
    rerank = snippet["reRankModels"][0]
    assert rerank["requestUrl"] == "http://192.168.1.20:9997/v1/rerank"
    assert rerank["requestAuth"] == KEY
    warnings = " ".join(result.warnings)
    assert "docker-compose down" in warnings
    assert "oneapiUrl" in warnings


def test_legacy_full_file_has_every_top_level_key() -> None:
    config = _strict_json(_export("legacy-full").text)
    assert set(config) == LEGACY_FILE_KEYS
    _assert_fields(config["systemEnv"], LEGACY_SYSTEM_ENV)
    assert config["whisperModel"]["model"] == "whisper-1"
    assert config["audioSpeechModels"] == []
    assert [m["model"] for m in config["llmModels"]] == ["gemma", "qwen"]


def test_legacy_warns_that_only_the_first_reranker_counts() -> None:
    result = _export("legacy", [QWEN, EMBED, RERANK, _reranker("rerank-2")])
    assert [r["model"] for r in _strict_json(result.text)["reRankModels"]] == ["rerank", "rerank-2"]
    assert any("only the first reranker (rerank)" in w for w in result.warnings)


# -- One API, AI Proxy, environment, curl ----------------------------------------------------


def test_one_api_channel_without_v1_and_reranker_direct() -> None:
    result = _export("oneapi")
    assert result.content_type == "text"
    text = result.text
    assert "代理 (proxy):    http://192.168.1.20:9997 " in text
    assert "模型 (models):   gemma,qwen,embed\n" in text
    assert "http://192.168.1.20:9997/v1" in text  # the "OpenAI 兼容" type
    assert "requestUrl (自定义请求地址):   http://192.168.1.20:9997/v1/rerank" in text
    assert "CHAT_API_KEY=<a One API token" in text
    assert any("does not forward rerank" in w for w in result.warnings)
    channel = one_api_channel(select_models(RUNNING), CONNECTION)
    assert channel == {
        "type": 1,
        "name": "xindesk",
        "key": KEY,
        "base_url": "http://192.168.1.20:9997",
        "models": "gemma,qwen,embed",
        "group": "default",
        "model_mapping": "",
    }
    # The channel body is in the text as JSON a person can post as it is.
    assert json.dumps(channel, ensure_ascii=False, indent=2) in text


def test_ai_proxy_channel_with_v1_and_rerank_through_it() -> None:
    result = _export("aiproxy")
    channel = ai_proxy_channel(select_models(RUNNING), CONNECTION)
    assert channel["base_url"] == "http://192.168.1.20:9997/v1"
    assert channel["models"] == ["gemma", "qwen", "embed", "rerank"]
    start = result.text.index("\n[\n")
    entries = _strict_json(result.text[start:])
    assert [e["model"] for e in entries] == ["gemma", "qwen", "embed", "rerank"]
    assert all("requestUrl" not in e["metadata"] for e in entries)


def test_env_lines_for_docker() -> None:
    docker = Connection.for_host(DOCKER_HOST, 9997, KEY)
    text = export_fastgpt("env", select_models(RUNNING), docker).text
    assert "      - OPENAI_BASE_URL=http://host.docker.internal:9997/v1\n" in text
    assert f"      - CHAT_API_KEY={KEY}\n" in text
    assert '"host.docker.internal:host-gateway"' in text
    lan_text = export_fastgpt("env", select_models(RUNNING), CONNECTION).text
    assert "host-gateway" not in lan_text


def test_curl_commands_run_in_a_shell_and_carry_json() -> None:
    text = _export("curl").text
    commands = [c for c in text.split("\n\n") if "curl " in c]
    assert len(commands) == 4
    urls = []
    for command in commands:
        body = command[command.index("curl ") :]
        words = shlex.split(body.replace("\\\n", " "))
        assert words[:4] == ["curl", "--location", "--request", "POST"]
        urls.append(words[4])
        assert words[words.index("--header") + 1] == f"Authorization: Bearer {KEY}"
        payload = _strict_json(words[words.index("--data-raw") + 1])
        assert payload["model"] in {"gemma", "embed", "rerank"}
    assert urls == [
        "http://192.168.1.20:9997/v1/chat/completions",
        "http://192.168.1.20:9997/v1/chat/completions",
        "http://192.168.1.20:9997/v1/embeddings",
        "http://192.168.1.20:9997/v1/rerank",
    ]


def test_no_key_gives_a_placeholder_and_says_so() -> None:
    open_server = Connection.for_host("127.0.0.1", 9997, None)
    result = export_fastgpt("v4.9", select_models(RUNNING), open_server)
    entries = _strict_json(result.text)
    assert {e["metadata"]["requestAuth"] for e in entries} == {NO_KEY_PLACEHOLDER}
    assert any("placeholder" in w for w in result.warnings)


# -- which models -------------------------------------------------------------------------------


def test_selection_leaves_out_broken_and_completion_models() -> None:
    broken = {**QWEN, "id": "broken", "status": "error"}
    base = _llm("base", "my-base", ["generate"], 4096)
    selection = select_models([broken, base, GEMMA])
    assert [m.uid for m in selection.llms] == ["gemma"]
    text = " ".join(selection.warnings)
    assert "Left out broken" in text
    assert "Left out base" in text
    assert "No embedding model is running" in text
    assert "No rerank model is running" in text


def test_selection_by_uid_and_from_a_uid_mapping() -> None:
    chosen = select_models(RUNNING, uids=["qwen", "embed", "gone"])
    assert [m.uid for m in chosen.models] == ["qwen", "embed"]
    assert "gone is not running." in chosen.warnings
    # xinference-client's list_models() answers {uid: description} without `id`.
    mapping = {d["id"]: {k: v for k, v in d.items() if k != "id"} for d in RUNNING}
    assert [m.uid for m in select_models(mapping).models] == ["gemma", "qwen", "embed", "rerank"]


def test_nothing_running_still_exports_valid_json() -> None:
    result = _export("v4.9", [])
    assert _strict_json(result.text) == []
    assert any("No chat model is running" in w for w in result.warnings)
    assert _strict_json(_export("legacy-full", []).text)["llmModels"] == []


# -- where FastGPT runs ------------------------------------------------------------------------


def _address(ip: str, family: int = socket.AF_INET) -> SimpleNamespace:
    return SimpleNamespace(family=family, address=ip)


INTERFACES = {
    "lo": [_address("127.0.0.1")],
    "docker0": [_address("172.17.0.1")],
    "eth0": [_address("fe80::1", socket.AF_INET6), _address("203.0.113.7")],
    "wlan0": [_address("169.254.10.10"), _address("192.168.1.20")],
}


def test_same_machine_is_loopback_with_a_docker_hint() -> None:
    choice = resolve_host("same", listen_host="127.0.0.1", api_key=None)
    assert choice.host == "127.0.0.1"
    assert "Docker" in choice.warnings[0]


def test_docker_uses_host_docker_internal_and_warns_on_linux() -> None:
    linux = resolve_host("docker", listen_host="127.0.0.1", api_key=None, platform="linux")
    assert linux.host == "host.docker.internal"
    text = " ".join(linux.warnings)
    assert "host-gateway" in text
    assert "Turn on LAN access" in text
    listening = resolve_host("docker", listen_host="0.0.0.0", api_key=KEY, platform="linux")
    assert not any("LAN access" in w for w in listening.warnings)
    mac = resolve_host("docker", listen_host="127.0.0.1", api_key=None, platform="darwin")
    assert mac == resolve_host("docker", listen_host="::1", api_key=None, platform="win32")
    assert mac.warnings == ()


def test_lan_needs_lan_access_and_a_key() -> None:
    with pytest.raises(ConfigError, match=r"listens on 127\.0\.0\.1 only"):
        resolve_host("lan", listen_host="127.0.0.1", api_key=KEY, interfaces=INTERFACES)
    with pytest.raises(ConfigError, match="needs an API key"):
        resolve_host("lan", listen_host="0.0.0.0", api_key=None, interfaces=INTERFACES)


def test_lan_picks_a_private_address_of_a_real_interface() -> None:
    assert lan_ipv4_addresses(INTERFACES) == ["192.168.1.20", "203.0.113.7"]
    choice = resolve_host("lan", listen_host="0.0.0.0", api_key=KEY, interfaces=INTERFACES)
    assert choice.host == "192.168.1.20"
    assert "203.0.113.7" in choice.warnings[0]
    bound = resolve_host("lan", listen_host="10.0.0.5", api_key=KEY, interfaces=INTERFACES)
    assert bound.host == "10.0.0.5"
    override = resolve_host(
        "lan", listen_host="0.0.0.0", api_key=KEY, host="nas.local", interfaces=INTERFACES
    )
    assert override.host == "nas.local"
    with pytest.raises(ConfigError, match="no LAN IPv4 address"):
        resolve_host("lan", listen_host="0.0.0.0", api_key=KEY, interfaces={"lo": []})


def test_export_for_target_writes_the_chosen_host() -> None:
    result = export_for_target(
        "v4.9",
        RUNNING,
        target="docker",
        port=9997,
        listen_host="0.0.0.0",
        api_key=KEY,
        platform="linux",
    )
    urls = {e["metadata"]["requestUrl"] for e in _strict_json(result.text)}
    assert "http://host.docker.internal:9997/v1/rerank" in urls
    assert "host-gateway" in result.warnings[0]
    ipv6 = Connection.for_host("fd00::5", 9997)
    assert ipv6.rerank_url == "http://[fd00::5]:9997/v1/rerank"
    assert Connection.from_endpoint("http://127.0.0.1:9997/v1/").chat_url == (
        "http://127.0.0.1:9997/v1/chat/completions"
    )


# -- the REST route, in process -----------------------------------------------------------------


@pytest.fixture
def app_client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings()
    settings.downloads.hf_endpoint = "http://127.0.0.1:9"
    settings.downloads.modelscope_endpoint = "http://127.0.0.1:9"
    app = create_app(settings, AppPaths.under(tmp_path / "home"), api_key=KEY)
    with TestClient(app, base_url="http://127.0.0.1:9997") as client:
        yield client


def test_route_answers_format_text_and_warnings(app_client: TestClient) -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    assert app_client.get("/v1/xindesk/export/fastgpt").status_code == 401
    answer = app_client.get(
        "/v1/xindesk/export/fastgpt", params={"format": "legacy", "target": "same"}, headers=auth
    ).json()
    assert set(answer) == {"format", "content_type", "text", "warnings"}
    assert (answer["format"], answer["content_type"]) == ("legacy", "json")
    assert _strict_json(answer["text"])["systemEnv"]["chatApiKey"] == KEY
    assert any("No chat model is running" in w for w in answer["warnings"])
    env = app_client.get(
        "/v1/xindesk/export/fastgpt",
        params={"format": "env", "host": "10.1.2.3"},
        headers=auth,
    ).json()
    assert env["content_type"] == "text"
    assert "OPENAI_BASE_URL=http://10.1.2.3:9997/v1" in env["text"]
    lan = app_client.get("/v1/xindesk/export/fastgpt", params={"target": "lan"}, headers=auth)
    assert lan.status_code == 400
    assert "LAN access" in lan.json()["detail"]
    wrong = app_client.get("/v1/xindesk/export/fastgpt", params={"format": "yaml"}, headers=auth)
    assert wrong.status_code == 422


# -- the check, against a fake endpoint -------------------------------------------------------


def _sse(chunks: list[dict[str, Any]]) -> bytes:
    events = [f"data: {json.dumps(c)}\r\n\r\n" for c in chunks] + ["data: [DONE]\r\n\r\n"]
    return "".join(events).encode()


def _delta(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def _completion(message: dict[str, Any]) -> dict[str, Any]:
    return {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}


class FakeEndpoint:
    """Answers like a good OpenAI-compatible server; tests override single answers."""

    def __init__(self, key: str = KEY) -> None:
        self.key = key
        self.requests: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        self.overrides: dict[str, Callable[[dict[str, Any]], httpx.Response]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append((request.url.path, dict(request.headers), body))
        if request.headers.get("authorization") != f"Bearer {self.key}":
            return httpx.Response(401, json={"detail": "Invalid or missing API key."})
        route = request.url.path.removeprefix("/v1/")
        if route in self.overrides:
            return self.overrides[route](body)
        return {
            "chat/completions": self._chat,
            "embeddings": self._embed,
            "rerank": self._rerank,
        }[route](body)

    def _chat(self, body: dict[str, Any]) -> httpx.Response:
        choice = body.get("tool_choice")
        forced = isinstance(choice, dict) or isinstance(body.get("function_call"), dict)
        if body.get("stream"):
            if body.get("tools"):
                # A call split over two chunks, as streamed tool calls arrive.
                chunks = [
                    _delta({"tool_calls": [{"index": 0, "function": {"name": "hCVbIY"}}]}),
                    _delta({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}),
                    _delta({}, "tool_calls"),
                ]
            else:
                chunks = [_delta({"role": "assistant"}), _delta({"content": "Hi!"}, "stop")]
            return httpx.Response(200, content=_sse(chunks))
        if forced:
            call = {
                "id": "call_1",
                "type": "function",
                "function": {
                    "name": "request_function",
                    "arguments": '{"city":"Paris","unit":"C"}',
                },
            }
            return httpx.Response(200, json=_completion({"content": None, "tool_calls": [call]}))
        if body.get("response_format"):
            return httpx.Response(200, json=_completion({"content": '{"answer": "yes"}'}))
        return httpx.Response(200, json=_completion({"content": "Hello there."}))

    def _embed(self, body: dict[str, Any]) -> httpx.Response:
        vector = [1 / math.sqrt(8)] * 8
        return httpx.Response(200, json={"data": [{"index": 0, "embedding": vector}]})

    def _rerank(self, body: dict[str, Any]) -> httpx.Response:
        count = len(body["documents"])
        results = [{"index": i, "relevance_score": 1 - i / count} for i in range(count)]
        return httpx.Response(200, json={"results": results})


MODELS = CheckModels(chat="gemma", embedding="embed", rerank="rerank")


def _run(endpoint: FakeEndpoint, **kw: Any) -> list[CheckResult]:
    return run_fastgpt_check(
        "http://127.0.0.1:9997",
        kw.pop("api_key", KEY),
        kw.pop("models", MODELS),
        transport=httpx.MockTransport(endpoint),
        **kw,
    )


def _failed(results: list[CheckResult]) -> dict[str, str]:
    return {r.name: r.reason for r in results if not r.passed}


def test_check_passes_a_good_endpoint_and_reports_one_by_one() -> None:
    endpoint = FakeEndpoint()
    seen: list[CheckResult] = []
    results = _run(endpoint, on_result=seen.append)
    assert _failed(results) == {}
    assert seen == results
    assert [r.name for r in results] == check_names()
    assert all(r.seconds >= 0 for r in results)


def test_check_sends_fastgpts_request_shapes() -> None:
    endpoint = FakeEndpoint()
    _run(endpoint)
    chats = [b for path, _h, b in endpoint.requests if path == "/v1/chat/completions"]
    assert all(b["temperature"] == 0.01 and b["model"] == "gemma" for b in chats)
    assert {b.get("stream", False) for b in chats} == {True, False}
    assert any(isinstance(b.get("stop"), list) for b in chats)
    assert any(b.get("tool_choice") == "auto" and b.get("stream") for b in chats)
    assert any(
        b.get("tool_choice") == {"type": "function", "function": {"name": "request_function"}}
        for b in chats
    )
    assert any(b.get("function_call") == {"name": "request_function"} for b in chats)
    assert any(b.get("response_format") for b in chats)
    assert any(m.get("role") == "tool" for b in chats for m in b["messages"] if isinstance(m, dict))
    embeds = [b for path, _h, b in endpoint.requests if path == "/v1/embeddings"]
    assert embeds[0] == {"model": "embed", "input": ["The food was delicious"]}
    assert embeds[1]["encoding_format"] == "float"
    (rerank,) = [b for path, _h, b in endpoint.requests if path == "/v1/rerank"]
    assert set(rerank) == {"model", "query", "documents"}  # no top_n, no return_documents
    assert len(rerank["documents"]) == 100
    headers = [h for path, h, _b in endpoint.requests if path == "/v1/chat/completions"]
    assert all(h["accept"] == "application/json, text/plain, */*" for h in headers)


def test_check_names_each_failure_fastgpt_would_hit() -> None:
    endpoint = FakeEndpoint()
    endpoint.overrides["rerank"] = lambda body: httpx.Response(
        200, json={"results": [{"index": i, "relevance_score": 0.5} for i in range(25)]}
    )
    endpoint.overrides["embeddings"] = lambda body: httpx.Response(
        200, json={"data": [{"index": 0, "embedding": [3.0, 4.0]}]}
    )
    failed = _failed(_run(endpoint))
    assert set(failed) == {"rerank, 100 documents", "embedding", "embedding, encoding_format float"}
    assert "Only 25 of 100 documents" in failed["rerank, 100 documents"]
    assert "not L2-normalised" in failed["embedding"]


def test_check_rejects_raw_scores_unsorted_results_and_empty_answers() -> None:
    endpoint = FakeEndpoint()
    endpoint.overrides["rerank"] = lambda body: httpx.Response(
        200, json={"results": [{"index": i, "relevance_score": 4.2 - i} for i in range(100)]}
    )
    endpoint.overrides["chat/completions"] = lambda body: (
        httpx.Response(200, content=_sse([_delta({"content": ""}, "stop")]))
        if body.get("stream")
        else httpx.Response(200, json=_completion({"content": ""}))
    )
    failed = _failed(_run(endpoint))
    assert "outside 0..1" in failed["rerank, 100 documents"]
    assert "LLM model response empty" in failed["chat, streaming"]
    assert "LLM model response empty" in failed["chat, not streaming"]
    assert "without tool_calls" in failed["tools, forced tool_choice"]

    endpoint.overrides = {
        "rerank": lambda body: httpx.Response(
            200, json={"results": [{"index": i, "relevance_score": i / 100} for i in range(100)]}
        )
    }
    assert "not sorted best first" in _failed(_run(endpoint))["rerank, 100 documents"]


def test_check_reports_an_error_inside_the_stream() -> None:
    endpoint = FakeEndpoint()
    endpoint.overrides["chat/completions"] = lambda body: httpx.Response(
        200, content=b'data: {"error": "The prompt has 9000 tokens"}\r\n\r\n'
    )
    failed = _failed(_run(endpoint))
    assert "The prompt has 9000 tokens" in failed["chat, streaming"]


def test_check_with_a_wrong_key_fails_everything_saying_why() -> None:
    results = _run(FakeEndpoint(), api_key="sk-wrong")
    assert len(results) == len(check_names())
    assert all(not r.passed and "key was refused" in r.reason for r in results)


def test_check_without_models_says_which_role_is_missing() -> None:
    failed = _failed(_run(FakeEndpoint(), models=CheckModels()))
    assert len(failed) == len(check_names())
    assert "No chat model is running" in failed["chat, streaming"]
    assert "No embedding model is running" in failed["embedding"]
    assert "No rerank model is running" in failed["rerank, 100 documents"]


def test_check_explains_an_unreachable_server() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    results = run_fastgpt_check(
        "http://127.0.0.1:9", KEY, MODELS, transport=httpx.MockTransport(refuse)
    )
    assert all("Cannot connect to http://127.0.0.1:9/v1/" in r.reason for r in results)


def test_check_stops_when_asked() -> None:
    seen: list[CheckResult] = []
    results = _run(FakeEndpoint(), on_result=seen.append, should_stop=lambda: len(seen) >= 3)
    assert [r.name for r in results] == check_names()[:3]
    assert seen == results


def test_check_models_follow_the_export() -> None:
    models = CheckModels.from_selection(select_models(RUNNING))
    assert models == CheckModels("gemma", "embed", "rerank", chat_tool_choice=False)
    qwen_first = CheckModels.from_selection(select_models([QWEN, GEMMA]))
    assert qwen_first == CheckModels("qwen", None, None, chat_tool_choice=True)


def test_the_check_fails_reasoning_left_in_the_answer_and_passes_it_apart() -> None:
    def tagged(body: dict[str, Any]) -> httpx.Response:
        if not body.get("stream"):
            return httpx.Response(200, json=_completion({"content": "Hello there."}))
        chunks = [_delta({"content": "<think>It greets me.</think>"}), _delta({"content": "Hi"})]
        return httpx.Response(200, content=_sse([*chunks, _delta({}, "stop")]))

    def apart(body: dict[str, Any]) -> httpx.Response:
        if not body.get("stream"):
            return httpx.Response(200, json=_completion({"content": "Hello there."}))
        chunks = [_delta({"reasoning_content": "It greets me."}), _delta({"content": "Hi"})]
        return httpx.Response(200, content=_sse([*chunks, _delta({}, "stop")]))

    endpoint = FakeEndpoint()
    endpoint.overrides["chat/completions"] = tagged
    failed = _failed(_run(endpoint))
    assert "<think>" in failed["chat, reasoning kept apart"]
    endpoint.overrides["chat/completions"] = apart
    results = {r.name: r for r in _run(endpoint)}
    assert results["chat, reasoning kept apart"].passed
    assert "13 characters" in results["chat, reasoning kept apart"].reason


def test_the_check_sends_the_dimensions_the_export_asks_for() -> None:
    endpoint = FakeEndpoint()
    results = _run(endpoint, models=replace(MODELS, embedding_dimensions=8))
    embeds = [b for path, _h, b in endpoint.requests if path == "/v1/embeddings"]
    assert all(b["dimensions"] == 8 for b in embeds)
    assert all(r.passed for r in results if r.name.startswith("embedding"))
    endpoint = FakeEndpoint()
    wrong = replace(MODELS, embedding_dimensions=4)
    failed = _failed(_run(endpoint, models=wrong))
    assert "Asked for 4 dimensions" in failed["embedding"]
