"""The application factory. State lives on `app.state`, created in the lifespan."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from desktop import __version__
from desktop.core.catalog import Catalog
from desktop.core.hub.wiring import apply_proxy, build_download_manager
from desktop.core.paths import AppPaths, resources_dir
from desktop.core.settings import Settings
from desktop.core.store import ModelStore
from desktop.core.supervisor import Supervisor
from desktop.server.deps import ServerState
from desktop.server.errors import install_error_handlers
from desktop.server.routers import downloads as downloads_routes
from desktop.server.routers import library, openai, xindesk, xinference

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
        apply_proxy(settings.downloads)
        downloads = build_download_manager(paths, settings.downloads)
        # Jobs that were running when the server last stopped carry on from their partial files.
        downloads.start()
        supervisor = Supervisor(
            catalog,
            settings,
            settings.models_dir(paths),
            address or f"{settings.server.host}:{settings.server.port}",
            downloads=downloads,
        )
        models_dir = settings.models_dir(paths)
        store = ModelStore(
            models_dir,
            paths.data_dir,
            in_use=lambda path: any(
                path == running_path for _record, running_path in supervisor.running_files()
            ),
        )
        app.state.xd = ServerState(
            settings=settings,
            paths=paths,
            catalog=catalog,
            supervisor=supervisor,
            downloads=downloads,
            store=store,
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
            await asyncio.to_thread(downloads.close)

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
    app.include_router(downloads_routes.router)
    app.include_router(library.router)
    return app
