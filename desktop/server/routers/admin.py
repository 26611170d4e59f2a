"""Administration routes (under /v1/xindesk) for the desktop GUI, which is only a REST client of
this server: settings, the API key, hub tokens, logs, where the server listens, and a support
bundle. No answer ever carries the API key (except the one that creates it) or a hub token.
"""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import sys
import time
from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query

from desktop import __version__
from desktop.api.admin import (
    ApiKeyCreated,
    ApiKeyDeleted,
    ApiKeyInfo,
    BuildReport,
    DiagnosticModel,
    Diagnostics,
    DiskSpace,
    DoctorSection,
    DownloadsSummary,
    FailedDownload,
    HardwareError,
    HubToken,
    HubTokens,
    HubTokenSet,
    KeyringStatus,
    LogPage,
    LogRecord,
    ServerInfo,
    SettingsPatch,
    SettingsUpdate,
    TokenState,
)
from desktop.api.hubs import HUB_NAMES, HUB_TITLES, HubName
from desktop.api.library import HardwareView
from desktop.api.settings import Settings
from desktop.core.doctor import DoctorReport, build_sections, local_sections
from desktop.core.doctor.local import keyring_section
from desktop.core.doctor.network import hubs_section
from desktop.core.doctor.redact import without_credentials
from desktop.core.errors import InvalidRequest, SecretStoreUnavailable
from desktop.core.hub.jobs import JobState
from desktop.core.hub.manager import free_disk_space
from desktop.core.hub.wiring import TOKEN_VARIABLES
from desktop.core.netaddr import is_loopback, lan_ipv4_addresses
from desktop.core.secrets import API_KEY, SecretStore, generate_api_key, lan_key_problem
from desktop.core.settings import RESTART_FIELDS, flatten, models_dir_of
from desktop.server.deps import ServerState, StateDep, require_api_key
from desktop.server.presenters.attributes import view_of
from desktop.server.routers.library import hardware

log = logging.getLogger("xindesk.server.admin")

router = APIRouter(prefix="/v1/xindesk", dependencies=[Depends(require_api_key)], tags=["admin"])

DIAGNOSTIC_LOG_LINES = 200


# -- settings ---------------------------------------------------------------------------------


def _check_allowed(state: ServerState, patch: SettingsPatch, new: Settings) -> None:
    current = state.settings
    if new.schema_version != current.schema_version:
        raise InvalidRequest("schema_version belongs to the settings file; it cannot be set.")
    if new.models.models_dir != current.models.models_dir:
        raise InvalidRequest(
            "The models folder cannot be changed here, because the downloaded models must move "
            'with it: use POST /v1/xindesk/models-folder with {"path": "<new folder>", "mode": '
            '"move"} (or "link" to leave the files where they are).'
        )
    server_patch = patch.get("server")
    problem = lan_key_problem(state.api_key)
    if not isinstance(server_patch, dict) or problem is None:
        return
    opens_lan = server_patch.get("lan_access") is True or (
        "host" in server_patch and not is_loopback(new.server.host)
    )
    if opens_lan:
        raise HTTPException(
            409,
            f"{problem} Create a {'new ' if state.api_key else ''}key first (POST "
            "/v1/xindesk/api-key, or `xindesk api-key create`), then turn LAN access on.",
        )


def _restart_required(state: ServerState) -> list[str]:
    now = flatten(state.settings.model_dump(mode="json"))
    started = flatten(state.started_settings.model_dump(mode="json"))
    return [name for name in RESTART_FIELDS if now.get(name) != started.get(name)]


@router.get("/settings")
async def get_settings(state: StateDep) -> Settings:
    """Every setting, as the server uses them now."""
    return state.settings


@router.patch("/settings")
async def update_settings(
    state: StateDep,
    patch: Annotated[SettingsPatch, Body(description="Only the fields to change.")],
) -> SettingsUpdate:
    """Change some settings (a partial, nested object), save them, and apply what can be
    applied at once; `restart_required` names the changed fields that wait for a restart."""
    _check_allowed(state, patch, state.settings_store.preview(patch))
    await asyncio.to_thread(state.settings_store.update, patch)
    return SettingsUpdate(settings=state.settings, restart_required=_restart_required(state))


# -- the API key ------------------------------------------------------------------------------


def _keyring_status(store: SecretStore) -> KeyringStatus:
    return KeyringStatus.model_validate(keyring_section(store).details)


@router.get("/api-key")
async def api_key_info(state: StateDep) -> ApiKeyInfo:
    """Whether the API needs a key, and whether the keychain can keep one (never the key)."""
    keyring = await asyncio.to_thread(_keyring_status, state.secret_store)
    return ApiKeyInfo(enabled=state.api_key is not None, keyring=keyring)


@router.post("/api-key")
async def create_api_key(state: StateDep) -> ApiKeyCreated:
    """Create a key (or replace the one in use): from the next request on, only it works."""
    key = generate_api_key()
    state.logs.add_secret(key)
    try:
        await asyncio.to_thread(state.secret_store.set, API_KEY, key)
    except SecretStoreUnavailable:
        stored = False
        message = (
            "No keychain is available on this machine, so the new key is not stored: it works "
            "until this server stops. To keep it, start the server with --api-key <key> or set "
            "the XINDESK_API_KEY environment variable to it."
        )
    else:
        stored = True
        message = "The new key is stored in the keychain and is in use now."
    rotated = state.api_key is not None
    state.api_key = key
    log.info("API key %s (kept in the keychain: %s)", "replaced" if rotated else "created", stored)
    return ApiKeyCreated(api_key=key, stored=stored, message=message)


@router.delete("/api-key")
async def delete_api_key(state: StateDep) -> ApiKeyDeleted:
    """Turn authentication off and remove the key from the keychain (loopback only)."""
    if state.lan_access or state.settings.server.lan_access:
        raise HTTPException(
            409,
            "The API key cannot be removed while LAN access is on: anyone on the network could "
            "use your models. Turn LAN access off first (and restart the server if it already "
            "listens on the network).",
        )
    try:
        await asyncio.to_thread(state.secret_store.delete, API_KEY)
        message = "Authentication is off; the key was removed from the keychain."
    except SecretStoreUnavailable:
        message = "Authentication is off (no keychain held the key)."
    state.api_key = None
    log.info("API key removed; authentication is off")
    return ApiKeyDeleted(enabled=False, message=message)


# -- hub tokens -------------------------------------------------------------------------------


def _hub(name: str) -> HubName:
    for hub in HUB_NAMES:
        if hub == name:
            return hub
    raise HTTPException(404, f"Unknown hub {name!r}; use one of: {', '.join(HUB_NAMES)}.")


def _token_state(state: ServerState, hub: HubName) -> TokenState:
    return TokenState(
        set=state.tokens.get(hub) is not None,
        environment=any(os.environ.get(name) for name in TOKEN_VARIABLES[hub]),
    )


@router.get("/hub-tokens")
async def hub_tokens(state: StateDep) -> HubTokens:
    """Whether a token is stored for each hub (`set`), or given in the environment (never
    the token itself)."""
    return HubTokens(
        huggingface=await asyncio.to_thread(_token_state, state, "huggingface"),
        modelscope=await asyncio.to_thread(_token_state, state, "modelscope"),
    )


@router.put("/hub-tokens/{hub}")
async def set_hub_token(hub: str, body: HubToken, state: StateDep) -> HubTokenSet:
    """Store a hub's token in the keychain; searches and downloads use it from now on."""
    name = _hub(hub)
    token = body.token.strip()
    state.logs.add_secret(token)
    try:
        await asyncio.to_thread(state.tokens.set, name, token)
    except SecretStoreUnavailable as exc:
        variable = TOKEN_VARIABLES[name][0]
        raise HTTPException(
            503, f"{exc} For {HUB_TITLES[name]}, set {variable} before starting the server."
        ) from exc
    log.info("%s token stored", HUB_TITLES[name])
    return HubTokenSet(hub=name, set=True)


@router.delete("/hub-tokens/{hub}")
async def delete_hub_token(hub: str, state: StateDep) -> HubTokenSet:
    name = _hub(hub)
    try:
        await asyncio.to_thread(state.tokens.delete, name)
    except SecretStoreUnavailable as exc:
        raise HTTPException(503, str(exc)) from exc
    log.info("%s token removed", HUB_TITLES[name])
    return HubTokenSet(hub=name, set=False)


# -- logs -------------------------------------------------------------------------------------


@router.get("/logs")
async def logs(
    state: StateDep,
    after: int = Query(0, ge=0, description="Only records after this seq (paging)."),
    level: str | None = Query(
        None, pattern="(?i)^(debug|info|warning|error|critical)$", description="At least this."
    ),
    contains: str | None = Query(None, description="Text the message holds (any case)."),
    limit: int = Query(500, ge=1, le=5000),
) -> LogPage:
    """The server's recent log records, oldest first; ask again with `after=last_seq` for
    newer ones (a `last_seq` below `after` means the server restarted)."""
    found, last_seq = state.logs.records(after=after, level=level, contains=contains, limit=limit)
    return LogPage(records=[view_of(LogRecord, entry) for entry in found], last_seq=last_seq)


# -- where the server listens -----------------------------------------------------------------


def _server_view(state: ServerState) -> ServerInfo:
    return ServerInfo(
        version=__version__,
        host=state.host,
        port=state.port,
        lan_access=state.lan_access,
        auth=state.api_key is not None,
        lan_addresses=lan_ipv4_addresses(),
        started_at=state.started_at,
        models_dir=str(models_dir_of(state.settings, state.paths)),
    )


@router.get("/server")
async def server_info(state: StateDep) -> ServerInfo:
    """Where the server listens and how to connect to it from this or another machine."""
    return await asyncio.to_thread(_server_view, state)


# -- diagnostics ------------------------------------------------------------------------------


@router.get("/build")
async def build() -> BuildReport:
    """What this server was built as and runs on: `build` (version, variant, frozen or from
    source), `backend` (built for / running on, or exactly which library is missing),
    `devices` and `memory`, in the shapes of `xindesk doctor --json`."""
    sections = await asyncio.to_thread(build_sections)
    return {section.name: DoctorSection.model_validate(section.to_dict()) for section in sections}


def _downloads_summary(state: ServerState) -> DownloadsSummary:
    jobs = state.downloads.list()
    return DownloadsSummary(
        counts=dict(Counter(job.state.value for job in jobs)),
        failed=[
            FailedDownload(id=job.id, label=job.label, hub=job.hub, error=job.error)
            for job in jobs
            if job.state is JobState.FAILED
        ],
    )


def _doctor_facts(state: ServerState) -> dict[str, Any]:
    settings = state.settings
    sections = [
        *local_sections(state.paths, settings, None, store=state.secret_store),
        hubs_section(settings.downloads),
    ]
    return DoctorReport(sections).to_dict()


def _scrub(value: Any, state: ServerState) -> Any:
    """Every string with the known secrets redacted: a last guard for what errors may quote."""
    if isinstance(value, str):
        return state.logs.redact(value)
    if isinstance(value, dict):
        return {key: _scrub(item, state) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item, state) for item in value]
    return value


@router.get("/diagnostics")
async def diagnostics(state: StateDep) -> Diagnostics:
    """A support bundle: versions, hardware, settings, models, downloads, keychain, disk and
    the last log lines. It holds no key, token or proxy password, so it can be shared."""
    proxy = without_credentials(state.settings.downloads.proxy)
    settings = state.settings.model_copy(
        update={"downloads": state.settings.downloads.model_copy(update={"proxy": proxy})}
    )
    try:
        found_hardware: HardwareView | HardwareError = await hardware()
    except Exception as exc:  # noqa: BLE001 - the bundle is most needed when something is broken
        found_hardware = HardwareError(error=f"{type(exc).__name__}: {exc}")
    models_dir = models_dir_of(state.settings, state.paths)
    models = [
        DiagnosticModel(
            uid=record.uid,
            name=record.plan.family.model_name,
            type=record.plan.model_type,
            quantization=record.quantization,
            status=record.state,
            error=record.error,
            memory_bytes=record.resident_bytes(),
        )
        for record in state.supervisor.models()
    ]
    bundle = Diagnostics(
        generated_at=time.time(),
        version=__version__,
        python=sys.version,
        platform=platform.platform(),
        server=await asyncio.to_thread(_server_view, state),
        hardware=found_hardware,
        settings=settings,
        models=models,
        downloads=_downloads_summary(state),
        keyring=await asyncio.to_thread(_keyring_status, state.secret_store),
        disk=DiskSpace(
            models_dir=str(models_dir),
            free_bytes=await asyncio.to_thread(free_disk_space, models_dir),
        ),
        logs=[entry.line() for entry in state.logs.tail(DIAGNOSTIC_LOG_LINES)],
        # The doctor's view of this computer and the hubs (what `xindesk doctor` prints).
        doctor=await asyncio.to_thread(_doctor_facts, state),
    )
    return Diagnostics.model_validate(_scrub(bundle.model_dump(mode="json"), state))
