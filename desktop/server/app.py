"""The application factory. State lives on `app.state`, created in the lifespan."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from desktop import __version__
from desktop.core.catalog import Catalog
from desktop.core.paths import AppPaths, resources_dir
from desktop.core.settings import Settings
from desktop.core.supervisor import Supervisor
from desktop.server.deps import ServerState
from desktop.server.errors import install_error_handlers
from desktop.server.routers import openai, xindesk, xinference

log = logging.getLogger("xindesk.server")


def create_app(
    settings: Settings,
    paths: AppPaths,
    *,
    api_key: str | None = None,
    address: str | None = None,
    launch_on_start: list[dict[str, Any]] | None = None,
) -> FastAPI:
    """Build the API. `api_key` None means open (allowed only on loopback, see `cli.serve`)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        catalog = Catalog(resources_dir() / "catalog", paths.registrations_dir)
        supervisor = Supervisor(
            catalog,
            settings,
            settings.models_dir(paths),
            address or f"{settings.server.host}:{settings.server.port}",
        )
        app.state.xd = ServerState(
            settings=settings,
            catalog=catalog,
            supervisor=supervisor,
            api_key=api_key,
            started_at=time.time(),
        )
        log.info("XinDesk %s API ready (auth %s)", __version__, "on" if api_key else "off")
        for request in launch_on_start or []:
            # Not awaited: the API answers while the model loads (its state shows "loading").
            await supervisor.launch(request, wait_ready=False)
        try:
            yield
        finally:
            await supervisor.shutdown()

    app = FastAPI(
        title="XinDesk",
        version=__version__,
        description="Xinference- and OpenAI-compatible API for local GGUF models.",
        lifespan=lifespan,
    )
    if settings.server.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.server.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    install_error_handlers(app)
    app.include_router(xinference.public)
    app.include_router(xinference.router)
    app.include_router(openai.router)
    app.include_router(xindesk.router)
    return app
