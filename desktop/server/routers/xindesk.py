"""XinDesk's own routes (under /v1/xindesk): things Xinference has no route for."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from desktop.api.xinference import LaunchAnswer, ServiceChange, ServiceState, WorkerInfo
from desktop.server.deps import SupervisorDep, require_api_key
from desktop.server.presenters import running

router = APIRouter(prefix="/v1/xindesk", dependencies=[Depends(require_api_key)], tags=["xindesk"])


@router.post("/models/{model_uid}/relaunch")
async def relaunch(
    model_uid: str, supervisor: SupervisorDep, wait_ready: bool = Query(True)
) -> LaunchAnswer:
    """Launch a model again with its original request (after it stopped with an error)."""
    return LaunchAnswer(model_uid=await supervisor.relaunch(model_uid, wait_ready=wait_ready))


@router.get("/models/{model_uid}/worker")
async def worker(model_uid: str, supervisor: SupervisorDep) -> WorkerInfo:
    """The model's worker process (pid, state): for diagnostics and the GUI."""
    return running.worker(supervisor.get(model_uid))


@router.post("/models/{model_uid}/load")
async def load(
    model_uid: str, supervisor: SupervisorDep, force: bool = Query(False)
) -> ServiceState:
    """Load a served model now (it is unloaded, or stopped with an error) and wait until it
    answers. Idle models are unloaded first if memory is short; `force` skips that check."""
    await supervisor.load(model_uid, force=force)
    return running.service_state(supervisor.get(model_uid), supervisor)


@router.post("/models/{model_uid}/unload")
async def unload(model_uid: str, supervisor: SupervisorDep) -> ServiceState:
    """Stop a model's worker and free its memory; it stays served and the next request that
    names it loads it again."""
    await supervisor.unload(model_uid)
    return running.service_state(supervisor.get(model_uid), supervisor)


@router.patch("/models/{model_uid}/service")
async def change_service(
    model_uid: str, body: ServiceChange, supervisor: SupervisorDep
) -> ServiceState:
    """Pin a model, load it at start, or change its idle time."""
    supervisor.set_service(model_uid, body.model_dump(exclude_none=True))
    return running.service_state(supervisor.get(model_uid), supervisor)
