"""Export routes (under /v1/xindesk/export): FastGPT and One API config from the running models."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from desktop.api.export import ExportAnswer, ExportFormat, Target
from desktop.core.export import export_for_target
from desktop.server.deps import StateDep, require_api_key
from desktop.server.presenters import running

router = APIRouter(
    prefix="/v1/xindesk/export", dependencies=[Depends(require_api_key)], tags=["export"]
)

FormatParam = Annotated[
    ExportFormat,
    Query(
        alias="format",
        description="legacy, legacy-full (FastGPT ≤ 4.8.19 config.json), v4.9 (model-config "
        "JSON, ≥ 4.8.20), oneapi, aiproxy, env (docker-compose lines) or curl.",
    ),
]
TargetParam = Annotated[
    Target,
    Query(
        description="Where FastGPT runs: same (this machine), docker (Docker on this machine) "
        "or lan (another machine; needs LAN access and a key)."
    ),
]


@router.get("/fastgpt")
async def fastgpt(
    state: StateDep,
    fmt: FormatParam = "v4.9",
    target: TargetParam = "docker",
    host: str | None = Query(None, description="A host to write instead of the target's."),
) -> ExportAnswer:
    """The config to paste into FastGPT (or One API), built from the running models; the key
    fields hold this server's API key."""
    supervisor = state.supervisor
    result = export_for_target(
        fmt,
        running.model_list(supervisor).data,
        target=target,
        port=state.port,
        listen_host=state.host,
        api_key=state.api_key,
        host=host or None,
    )
    return ExportAnswer(
        format=result.format,
        content_type=result.content_type,
        text=result.text,
        warnings=list(result.warnings),
    )
