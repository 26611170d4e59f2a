"""One API and AI Proxy channel settings, and FastGPT's docker-compose environment lines.

One API (songquanpeng/one-api) has no Xinference channel type: type 1 "OpenAI" takes the base URL
without `/v1`, type 50 "OpenAI 兼容" (v0.6.11+) takes it with `/v1`. It does not forward
`/v1/rerank` (FastGPT#1578), so the reranker always goes to XinDesk directly through
`requestUrl`. AI Proxy, FastGPT 4.9's default gateway, takes `/v1` in its base URL and does
forward rerank (reference/fastgpt.md §2.6, §3).
"""

from __future__ import annotations

import json
from typing import Any

from desktop.core.export.endpoint import Connection
from desktop.core.export.fastgpt import legacy_rerank, model_config_entries, rerank_metadata
from desktop.core.export.served import ModelSelection
from desktop.core.export.target import DOCKER_HOST, DOCKER_HOST_GATEWAY

CHANNEL_NAME = "xindesk"
ONE_API_OPENAI_TYPE = 1
ONE_API_COMPATIBLE_TYPE = 50
AI_PROXY_OPENAI_TYPE = 1


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def one_api_models(selection: ModelSelection) -> list[str]:
    """The channel's model list: exactly the uids FastGPT sends, rerankers excluded."""
    return [m.uid for m in (*selection.llms, *selection.embeddings)]


def one_api_channel(selection: ModelSelection, connection: Connection) -> dict[str, Any]:
    """Body of One API's `POST /api/channel/` for a type-1 (OpenAI) channel."""
    return {
        "type": ONE_API_OPENAI_TYPE,
        "name": CHANNEL_NAME,
        "key": connection.auth,
        "base_url": connection.base_url,
        "models": ",".join(one_api_models(selection)),
        "group": "default",
        "model_mapping": "",
    }


def _direct_rerank_lines(selection: ModelSelection, connection: Connection) -> list[str]:
    if not selection.rerankers:
        return []
    legacy = [legacy_rerank(m, connection) for m in selection.rerankers]
    current = [
        {"model": m.uid, "metadata": rerank_metadata(m, connection, default=index == 0)}
        for index, m in enumerate(selection.rerankers)
    ]
    return [
        "",
        "Rerank: One API does not forward /v1/rerank, so FastGPT calls XinDesk's reranker",
        "directly with its own URL and key:",
        f"  requestUrl (自定义请求地址):   {connection.rerank_url}",
        f"  requestAuth (自定义请求 Key):  {connection.auth}",
        "FastGPT ≤ 4.8.19, config.json:",
        _json({"reRankModels": legacy}),
        "FastGPT ≥ 4.8.20, append to 模型配置 → 配置文件 (model config → config file):",
        _json(current),
    ]


def one_api_text(selection: ModelSelection, connection: Connection) -> str:
    """What to type into One API's "add channel" page, and FastGPT's side of it."""
    models = ",".join(one_api_models(selection))
    lines = [
        "One API → 渠道 → 添加新的渠道 (Channels → Add a new channel)",
        "  类型 (type):     OpenAI",
        f"  名称 (name):     {CHANNEL_NAME}",
        f"  代理 (proxy):    {connection.base_url}        (no /v1 with the OpenAI type)",
        f"  密钥 (key):      {connection.auth}",
        f"  模型 (models):   {models}",
        "  模型重定向 (model mapping): leave empty",
        "",
        f'One API v0.6.11 and later also offer type "OpenAI 兼容" (OpenAI compatible, type '
        f"{ONE_API_COMPATIBLE_TYPE}); with it the Base URL carries /v1: {connection.v1_url}",
        "",
        "Or through One API's admin API: POST http://<one-api>/api/channel/",
        "with the header Authorization: <access token>, and the body",
        _json(one_api_channel(selection, connection)),
        *_direct_rerank_lines(selection, connection),
        "",
        "FastGPT (docker-compose.yml → fastgpt → environment):",
        "  OPENAI_BASE_URL=http://oneapi:3000/v1",
        "  CHAT_API_KEY=<a One API token (令牌) with no model restriction>",
        "Then add the models above to FastGPT without requestUrl (format v4.9 or legacy,",
        "leaving out requestUrl, requestAuth and systemEnv).",
    ]
    return "\n".join(lines) + "\n"


def ai_proxy_channel(selection: ModelSelection, connection: Connection) -> dict[str, Any]:
    """Body of AI Proxy's `POST /api/channel/`: rerankers included, it forwards rerank."""
    return {
        "type": AI_PROXY_OPENAI_TYPE,
        "name": CHANNEL_NAME,
        "key": connection.auth,
        "base_url": connection.v1_url,
        "models": [m.uid for m in selection.models],
        "model_mapping": {},
    }


def ai_proxy_text(selection: ModelSelection, connection: Connection) -> str:
    """AI Proxy channel settings (FastGPT ≥ 4.9) and the model entries to enable with it."""
    models = ", ".join(m.uid for m in selection.models)
    lines = [
        "FastGPT → 账号 → 模型提供商 → 模型渠道 → 新增渠道",
        "(Account → Model providers → Model channels → Add channel)",
        "  渠道名 (name):       " + CHANNEL_NAME,
        "  厂商 (type):         OpenAI",
        f"  代理地址 (base URL): {connection.v1_url}        (with /v1)",
        f"  密钥 (key):          {connection.auth}",
        f"  模型 (models):       {models}",
        "  模型映射 (model mapping): {}",
        "",
        "Or through AI Proxy's admin API: POST http://<aiproxy>/api/channel/",
        "with the header Authorization: Bearer <ADMIN_KEY>, and the body",
        _json(ai_proxy_channel(selection, connection)),
        "",
        "Then enable the same model ids in 模型配置 (Model config). These entries go through the",
        "channel, so they carry no requestUrl; append them to the JSON in 配置文件 (config file):",
        _json(model_config_entries(selection, None)),
    ]
    return "\n".join(lines) + "\n"


def compose_env_text(connection: Connection) -> str:
    """docker-compose lines that send every FastGPT model call straight to XinDesk."""
    lines = [
        "# docker-compose.yml → services → fastgpt",
        "    environment:",
        f"      - OPENAI_BASE_URL={connection.v1_url}",
        f"      - CHAT_API_KEY={connection.auth}",
        "      # AIPROXY_API_ENDPOINT / AIPROXY_API_TOKEN win over the two lines above",
        "      # (FastGPT 4.8.23+): comment them out, or add XinDesk as an AI Proxy channel.",
    ]
    if DOCKER_HOST in connection.base_url:
        lines += [
            "    extra_hosts:",
            f'      - "{DOCKER_HOST_GATEWAY}"   # needed on Linux; Docker Desktop has it built in',
        ]
    lines += [
        "",
        "# Then: docker-compose down && docker-compose up -d  (restart does not reread them).",
        "# FastGPT ≥ 4.8.20 without a reranker requestUrl calls $OPENAI_BASE_URL/rerank, which",
        "# XinDesk answers too.",
    ]
    return "\n".join(lines) + "\n"
