"""Export routes (under /v1/xindesk/export): FastGPT and One API config from the running models,
and the check that sends FastGPT's requests to this server (for clients that cannot run the
check themselves, such as the page at `/`)."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from typing import Annotated

import anyio
from fastapi import APIRouter, Body, Depends, Query

from desktop.api.export import (
    CheckOutcome,
    CheckReport,
    CheckRun,
    ExportAnswer,
    ExportFormat,
    Target,
)
from desktop.core.errors import ModelNotFound
from desktop.core.export import export_for_target, select_models
from desktop.server.deps import StateDep, require_api_key
from desktop.server.presenters import running
from desktop.server.presenters.attributes import view_of

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


def own_endpoint(host: str, port: int) -> str:
    """Where this process reaches its own server listening on `host`: that address, or
    loopback when it listens on every address."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return f"http://{host}:{port}"
    if address.is_unspecified:
        host = "127.0.0.1" if address.version == 4 else "[::1]"
    elif address.version == 6:
        host = f"[{address}]"
    return f"http://{host}:{port}"


@router.post("/check")
async def check(state: StateDep, body: Annotated[CheckRun | None, Body()] = None) -> CheckReport:
    """Send FastGPT's requests to this server, with its key, to the models the export writes
    (or the ones named), and say of each whether FastGPT would accept the answer."""
    # Loaded here: the check's HTTP client is megabytes an idle server does not carry.
    from desktop.core.export.check import CheckModels, run_fastgpt_check

    served = running.model_list(state.supervisor).data
    chosen = CheckModels.from_selection(select_models(served))
    if body is not None:
        uids = {model.id for model in served}
        for uid in (body.chat, body.embedding, body.rerank):
            if uid is not None and uid not in uids:
                raise ModelNotFound(f"No model {uid!r} is served here; name a served model.")
        chosen = replace(
            chosen,
            chat=body.chat or chosen.chat,
            embedding=body.embedding or chosen.embedding,
            rerank=body.rerank or chosen.rerank,
        )
    endpoint = own_endpoint(state.host, state.port)
    # Blocking HTTP to this very server: off the event loop, which must stay free to answer.
    results = await anyio.to_thread.run_sync(
        lambda: run_fastgpt_check(endpoint, state.api_key, chosen)
    )
    outcomes = [view_of(CheckOutcome, result) for result in results]
    return CheckReport(
        endpoint=endpoint,
        results=outcomes,
        passed=sum(outcome.passed for outcome in outcomes),
        total=len(outcomes),
    )
