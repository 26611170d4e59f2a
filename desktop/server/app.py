"""The application factory. State lives on `app.state`, created in the lifespan."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from desktop import __version__
from desktop.api.hubs import HUB_NAMES
from desktop.api.settings import Settings
from desktop.core.catalog import Catalog
from desktop.core.errors import XinDeskError
from desktop.core.hub.wiring import (
    TOKEN_VARIABLES,
    HubTokens,
    apply_proxy,
    build_download_manager,
    configure_clients,
    follow_download_settings,
)
from desktop.core.memory.hardware import Hardware, probe_hardware
from desktop.core.paths import AppPaths, resources_dir
from desktop.core.running.served import ServedModels
from desktop.core.running.supervisor import Lifecycle, Supervisor
from desktop.core.secrets import SecretStore
from desktop.core.settings import SettingsStore, models_dir_of
from desktop.core.store import ModelStore
from desktop.server.deps import ServerState
from desktop.server.errors import install_error_handlers
from desktop.server.guards import BrowserGuard
from desktop.server.logbuffer import LogBuffer
from desktop.server.openapi import XinDeskAPI
from desktop.server.page import add_page
from desktop.server.routers import (
    admin,
    anthropic,
    library,
    ollama,
    openai,
    responses,
    xindesk,
    xinference,
)
from desktop.server.routers import downloads as downloads_routes
from desktop.server.routers import export as export_routes

log = logging.getLogger("xindesk.server")

# The loggers whose records the GUI's log page shows (uvicorn's own say where it listens).
BUFFERED_LOGGERS = ("xindesk", "uvicorn", "uvicorn.error")


@contextmanager
def _buffered_logs(buffer: LogBuffer) -> Iterator[None]:
    """Attach `buffer` to the server's loggers for the life of the app."""
    buffer.setLevel(logging.INFO)
    loggers = [logging.getLogger(name) for name in BUFFERED_LOGGERS]
    lowered: list[tuple[logging.Logger, int]] = []
    for logger in loggers:
        logger.addHandler(buffer)
        # The log page needs INFO (where the server listens, what was downloaded) even when
        # the process logs less to its terminal, as an embedding application may choose.
        if logger.getEffectiveLevel() > logging.INFO:
            lowered.append((logger, logger.level))
            logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeHandler(buffer)
        for logger, level in lowered:
            logger.setLevel(level)


def _split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def create_app(
    settings: Settings,
    paths: AppPaths,
    *,
    api_key: str | None = None,
    address: str | None = None,
    launch_on_start: list[dict[str, Any]] | None = None,
    secret_store: SecretStore | None = None,
    hardware: Callable[[], Hardware] = probe_hardware,
) -> FastAPI:
    """Build the API. `api_key` None means open (allowed only on loopback, see `cli.serve`).

    `address` is where the server listens ("host:port"; default: the settings' address), and
    `secret_store` the keychain the API key and hub tokens are kept in (tests give their own),
    and `hardware` what describes this machine's free memory for the check before a launch.
    """
    keychain = secret_store or SecretStore()
    listen = address or f"{settings.server.host}:{settings.server.port}"
    host, port = _split_address(listen)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logs = LogBuffer()
        logs.add_secret(api_key)
        with _buffered_logs(logs):
            tokens = HubTokens(keychain)
            for hub in HUB_NAMES:
                logs.add_secret(await asyncio.to_thread(tokens.get, hub))
                # Tokens given in the environment are secrets as much as stored ones.
                for name in TOKEN_VARIABLES[hub]:
                    logs.add_secret(os.environ.get(name))
            catalog = Catalog(resources_dir() / "catalog", paths.registrations_dir)
            settings_store = SettingsStore(paths, settings)
            apply_proxy(settings.downloads)
            configure_clients()
            downloads = build_download_manager(
                paths, lambda: settings_store.current.downloads, token_for=tokens.get
            )
            follow_download_settings(settings_store, downloads)
            # Jobs that were running when the server last stopped carry on from their partial
            # files.
            downloads.start()
            # The store asks the supervisor which files are in use; the supervisor asks the
            # store which file serves a model it launches.
            store = ModelStore(
                models_dir_of(settings, paths),
                paths.data_dir,
                in_use=lambda path: any(
                    path == running_path for _record, running_path in supervisor.running_files()
                ),
            )
            lifecycle = Lifecycle(
                served=ServedModels(paths.served_models_file),
                hardware=hardware,
            )
            supervisor = Supervisor(
                catalog, settings, store, listen, downloads=downloads, lifecycle=lifecycle
            )
            settings_store.subscribe(lambda change: supervisor.use_settings(change.new))
            # The models served before the last stop come back: loaded (embedding, rerank,
            # "load at start") or listed unloaded until a request names them.
            await supervisor.start()
            app.state.xd = ServerState(
                settings_store=settings_store,
                paths=paths,
                catalog=catalog,
                supervisor=supervisor,
                downloads=downloads,
                store=store,
                api_key=api_key,
                started_at=time.time(),
                host=host,
                port=port,
                secret_store=keychain,
                tokens=tokens,
                logs=logs,
                started_settings=settings,
            )
            log.info("XinDesk %s API ready (auth %s)", __version__, "on" if api_key else "off")
            for request in launch_on_start or []:
                uid = str(request.get("model_uid") or request.get("model_name"))
                if supervisor.knows(uid):
                    continue  # remembered from the last run
                # Not awaited: the API answers while the model loads (its state shows "loading").
                # One that cannot start (its file gone, too little memory free) is logged, and
                # the server serves without it.
                try:
                    await supervisor.launch(request, wait_ready=False)
                except XinDeskError as exc:
                    log.error("launch of %s refused: %s", request.get("model_name"), exc)
            try:
                yield
            finally:
                await supervisor.shutdown()
                await asyncio.to_thread(downloads.close)

    app = XinDeskAPI(
        title="XinDesk",
        version=__version__,
        description="Xinference- and OpenAI-compatible API for local GGUF models.",
        lifespan=lifespan,
        # Answers are written by the standard json module, as Xinference writes them (the
        # faster pydantic writer spells floats differently: 1e-05 becomes 0.00001).
        default_response_class=JSONResponse,
    )

    def live_settings() -> Settings:
        state: ServerState | None = getattr(app.state, "xd", None)
        return state.settings if state is not None else settings

    # Host, Origin, content type, body size and CORS: one middleware decides them all.
    app.add_middleware(BrowserGuard, listen_host=host, settings=live_settings)
    install_error_handlers(app)
    app.include_router(xinference.public)
    app.include_router(xinference.router)
    app.include_router(openai.router)
    app.include_router(ollama.router)
    app.include_router(anthropic.router)
    app.include_router(responses.router)
    app.include_router(xindesk.router)
    app.include_router(downloads_routes.router)
    app.include_router(library.router)
    app.include_router(export_routes.router)
    app.include_router(admin.router)
    add_page(app, resources_dir())
    return app
