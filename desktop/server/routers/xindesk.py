"""XinDesk's own routes (under /v1/xindesk): things Xinference has no route for."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from desktop.api.xinference import LaunchAnswer, WorkerInfo
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
