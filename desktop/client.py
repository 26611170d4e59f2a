"""A small typed client of XinDesk's REST API (the same API FastGPT and xinference-client use).

The GUI and the command line talk to the server only through this. Requests take the models of
`desktop.api` and answers come back as them, parsed here once, so no caller reads a JSON
object by key. A real Xinference answers the Xinference and OpenAI routes too (a remote
server): the models mark XinDesk's own fields optional, so its answers parse as well.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from pydantic import BaseModel, JsonValue, TypeAdapter

from desktop.api.admin import (
    ApiKeyCreated,
    ApiKeyDeleted,
    ApiKeyInfo,
    BuildSections,
    Diagnostics,
    HubToken,
    HubTokens,
    HubTokenSet,
    LogPage,
    ServerInfo,
    SettingsPatch,
    SettingsUpdate,
)
from desktop.api.common import MODEL_TYPES
from desktop.api.downloads import DownloadJobView, DownloadList, StartDownload
from desktop.api.export import ExportAnswer, ExportFormat, Target
from desktop.api.hubs import HubName
from desktop.api.library import (
    CatalogModelFiles,
    HardwareView,
    ImportModel,
    InstalledModels,
    InstalledModelView,
    ModelsFolderMoved,
    MoveModelsFolder,
    RegisterRepo,
    RepoFiles,
    SearchResults,
)
from desktop.api.openai import ChatCompletionChunk, ChatRequest
from desktop.api.settings import Settings
from desktop.api.xinference import (
    CachedModels,
    CacheEntry,
    ClusterStatus,
    ClusterVersion,
    DetailedRegistration,
    EngineOptions,
    InstanceInfo,
    LaunchAnswer,
    LaunchProgress,
    LaunchRequest,
    ListedModel,
    ModelDescription,
    Registration,
    RegistrationName,
    ServiceChange,
    ServiceState,
)

if TYPE_CHECKING:
    # Imported where a client is made or used instead: `xindesk serve` loads this module for
    # its errors and never makes a client, and httpx also loads rich, click and pygments for
    # its own command line when they are installed (5 MiB of an idle server's memory).
    import httpx

log = logging.getLogger("xindesk.client")

DEFAULT_ENDPOINT = "http://127.0.0.1:9997"

M = TypeVar("M", bound=BaseModel)


def default_endpoint() -> str:
    return (
        os.environ.get("XINDESK_ENDPOINT")
        or os.environ.get("XINFERENCE_ENDPOINT")
        or DEFAULT_ENDPOINT
    )


class ClientError(Exception):
    """The server answered with an error (its `detail` is the message)."""

    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        self.detail = detail
        super().__init__(f"{detail} (HTTP {status})")


@cache
def _adapter(form: Any) -> TypeAdapter[Any]:
    """The parser of a type that is not one model (a list, a union); made once, on first use."""
    return TypeAdapter(form)


class _RawModelList(BaseModel):
    """`GET /v1/models` before each item is parsed by its model type."""

    data: list[dict[str, JsonValue]]


def _body(request: BaseModel) -> dict[str, JsonValue]:
    """A request model as JSON: exactly the fields it was given (extra ones included)."""
    return request.model_dump(mode="json", exclude_unset=True)


class XinDeskClient:
    """Blocking client; one instance per endpoint."""

    def __init__(
        self, endpoint: str | None = None, api_key: str | None = None, timeout: float = 600
    ) -> None:
        self.endpoint = (endpoint or default_endpoint()).rstrip("/")
        import httpx

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=self.endpoint, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> XinDeskClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _unreachable(self) -> ClientError:
        return ClientError(
            0, f"Cannot reach XinDesk at {self.endpoint}: is `xindesk serve` running?"
        )

    @staticmethod
    def _raise_for_status(response: httpx.Response) -> None:
        """An error answer becomes a ClientError carrying the server's `detail`."""
        if response.status_code < 400:
            return
        try:
            detail = str(response.json().get("detail"))
        except (ValueError, AttributeError):
            detail = response.text or response.reason_phrase
        raise ClientError(response.status_code, detail)

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        import httpx

        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.ConnectError as exc:
            raise self._unreachable() from exc
        self._raise_for_status(response)
        return response

    def _get(self, answer: type[M], method: str, path: str, **kwargs: Any) -> M:
        """Send a request and parse its answer as `answer`."""
        return answer.model_validate_json(self._send(method, path, **kwargs).content)

    def _get_as(self, form: Any, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request and parse its answer as `form` (callers annotate what it is)."""
        return _adapter(form).validate_json(self._send(method, path, **kwargs).content)

    # -- the cluster ----------------------------------------------------------------------------

    def status(self) -> ClusterStatus:
        return self._get(ClusterStatus, "GET", "/status")

    def cluster_version(self) -> ClusterVersion:
        """Xinference's version route (XinDesk answers it too)."""
        return self._get(ClusterVersion, "GET", "/v1/cluster/version")

    # -- chat -----------------------------------------------------------------------------------

    def chat_stream(self, body: ChatRequest) -> Iterator[ChatCompletionChunk]:
        """POST a streaming chat completion and yield each chunk as the server sends it."""
        import httpx
        from httpx_sse import connect_sse

        payload = {**_body(body), "stream": True}
        try:
            with connect_sse(self._http, "POST", "/v1/chat/completions", json=payload) as source:
                if source.response.status_code >= 400:
                    source.response.read()
                    self._raise_for_status(source.response)
                for event in source.iter_sse():
                    if event.data.strip() == "[DONE]":
                        return
                    data: JsonValue = event.json()
                    if isinstance(data, dict) and "error" in data and "choices" not in data:
                        # A stream that failed after it started (the status was 200 by then).
                        raise ClientError(500, str(data["error"]))
                    yield ChatCompletionChunk.model_validate(data)
        except httpx.ConnectError as exc:
            raise self._unreachable() from exc

    # -- launched models ------------------------------------------------------------------------

    def launch(self, body: LaunchRequest, *, wait_ready: bool = True) -> str:
        """Launch a model; the answer is its uid."""
        answer = self._get(
            LaunchAnswer,
            "POST",
            "/v1/models",
            json=_body(body),
            params={"wait_ready": wait_ready},
        )
        return answer.model_uid

    def list_models(self) -> list[ListedModel]:
        """The launched models. A real Xinference may also run kinds XinDesk does not know
        (image, audio): those are left out."""
        listing = self._get(_RawModelList, "GET", "/v1/models")
        models: list[ListedModel] = []
        for item in listing.data:
            if item.get("model_type") not in MODEL_TYPES:
                log.debug("leaving out %s, a %s model", item.get("id"), item.get("model_type"))
                continue
            models.append(_adapter(ListedModel).validate_python(item))
        return models

    def describe(self, uid: str) -> ModelDescription:
        description: ModelDescription = self._get_as(ModelDescription, "GET", f"/v1/models/{uid}")
        return description

    def instances(self, uid: str | None = None) -> list[InstanceInfo]:
        params = {"model_uid": uid} if uid else {}
        found: list[InstanceInfo] = self._get_as(
            list[InstanceInfo], "GET", "/v1/models/instances", params=params
        )
        return found

    def progress(self, uid: str) -> LaunchProgress:
        return self._get(LaunchProgress, "GET", f"/v1/models/{uid}/progress")

    def cancel_launch(self, uid: str) -> None:
        self._send("POST", f"/v1/models/{uid}/cancel")

    def terminate(self, uid: str) -> None:
        self._send("DELETE", f"/v1/models/{uid}")

    def relaunch(self, uid: str) -> str:
        return self._get(LaunchAnswer, "POST", f"/v1/xindesk/models/{uid}/relaunch").model_uid

    def load_model(self, uid: str, *, force: bool = False) -> ServiceState:
        """Load a served model now (it waits until the model answers)."""
        return self._get(
            ServiceState, "POST", f"/v1/xindesk/models/{uid}/load", params={"force": force}
        )

    def unload_model(self, uid: str) -> ServiceState:
        """Free a served model's memory; the next request loads it again."""
        return self._get(ServiceState, "POST", f"/v1/xindesk/models/{uid}/unload")

    def set_service(self, uid: str, change: ServiceChange) -> ServiceState:
        """Pin a served model, load it at start, or change its idle time."""
        return self._get(
            ServiceState,
            "PATCH",
            f"/v1/xindesk/models/{uid}/service",
            json=change.model_dump(exclude_none=True),
        )

    def start_relaunch(self, uid: str) -> str:
        """Relaunch a model without waiting for it to load (follow it with `list_models`)."""
        answer = self._get(
            LaunchAnswer,
            "POST",
            f"/v1/xindesk/models/{uid}/relaunch",
            params={"wait_ready": False},
        )
        return answer.model_uid

    # -- registrations, engines, cache ----------------------------------------------------------

    @overload
    def registrations(
        self, model_type: str, detailed: Literal[False] = False
    ) -> list[RegistrationName]: ...

    @overload
    def registrations(
        self, model_type: str, detailed: Literal[True]
    ) -> list[DetailedRegistration]: ...

    def registrations(
        self, model_type: str, detailed: bool = False
    ) -> list[RegistrationName] | list[DetailedRegistration]:
        form = list[DetailedRegistration] if detailed else list[RegistrationName]
        found: list[RegistrationName] | list[DetailedRegistration] = self._get_as(
            form, "GET", f"/v1/model_registrations/{model_type}", params={"detailed": detailed}
        )
        return found

    def engines(self, model_name: str, model_type: str | None = None) -> EngineOptions | None:
        """How a model launches, by engine; None for a model the server does not know.

        A real Xinference names an engine it cannot use with the reason (a string) instead of
        its options: such engines are left out.
        """
        path = (
            f"/v1/engines/{model_type}/{model_name}" if model_type else f"/v1/engines/{model_name}"
        )
        found: dict[str, JsonValue] | None = self._get_as(dict[str, JsonValue] | None, "GET", path)
        if found is None:
            return None
        usable = {engine: params for engine, params in found.items() if isinstance(params, list)}
        options: EngineOptions = _adapter(EngineOptions).validate_python(usable)
        return options

    def cached(self, model_name: str | None = None) -> list[CacheEntry]:
        params = {"model_name": model_name} if model_name else {}
        return self._get(CachedModels, "GET", "/v1/cache/models", params=params).entries

    # -- XinDesk's model library: downloads, search, installed models, hardware ---------------

    def start_download(self, body: StartDownload) -> DownloadJobView:
        return self._get(DownloadJobView, "POST", "/v1/xindesk/downloads", json=_body(body))

    def downloads(self) -> list[DownloadJobView]:
        return self._get(DownloadList, "GET", "/v1/xindesk/downloads").downloads

    def download(self, job_id: str) -> DownloadJobView:
        return self._get(DownloadJobView, "GET", f"/v1/xindesk/downloads/{job_id}")

    def pause_download(self, job_id: str) -> DownloadJobView:
        return self._get(DownloadJobView, "POST", f"/v1/xindesk/downloads/{job_id}/pause")

    def resume_download(self, job_id: str) -> DownloadJobView:
        return self._get(DownloadJobView, "POST", f"/v1/xindesk/downloads/{job_id}/resume")

    def cancel_download(self, job_id: str, *, delete_files: bool = True) -> DownloadJobView:
        return self._get(
            DownloadJobView,
            "POST",
            f"/v1/xindesk/downloads/{job_id}/cancel",
            params={"delete_files": delete_files},
        )

    def forget_download(self, job_id: str) -> None:
        self._send("DELETE", f"/v1/xindesk/downloads/{job_id}")

    def search(self, query: str, *, hub: HubName | None = None, limit: int = 30) -> SearchResults:
        params: dict[str, str | int] = {"q": query, "limit": limit}
        if hub:
            params["hub"] = hub
        return self._get(SearchResults, "GET", "/v1/xindesk/search", params=params)

    def repo_files(
        self, repo_id: str, *, hub: HubName | None = None, context_length: int | None = None
    ) -> RepoFiles:
        params: dict[str, str | int] = {"repo_id": repo_id}
        if hub:
            params["hub"] = hub
        if context_length:
            params["context_length"] = context_length
        return self._get(RepoFiles, "GET", "/v1/xindesk/repo", params=params)

    def hardware(self) -> HardwareView:
        return self._get(HardwareView, "GET", "/v1/xindesk/hardware")

    def installed(self) -> list[InstalledModelView]:
        return self._get(InstalledModels, "GET", "/v1/xindesk/installed").models

    def import_model(self, path: str) -> InstalledModelView:
        body = ImportModel(path=path)
        return self._get(
            InstalledModelView, "POST", "/v1/xindesk/installed/import", json=_body(body)
        )

    # -- administration: settings, API key, hub tokens, logs, server, diagnostics -------------

    def set_api_key(self, key: str | None) -> None:
        """Send `key` from now on (None: no key), e.g. after the key was replaced."""
        if key:
            self._http.headers["Authorization"] = f"Bearer {key}"
        else:
            self._http.headers.pop("Authorization", None)

    def get_settings(self) -> Settings:
        return self._get(Settings, "GET", "/v1/xindesk/settings")

    def update_settings(self, patch: SettingsPatch) -> SettingsUpdate:
        """Change some settings (only the fields in `patch`, nested as in the settings)."""
        return self._get(SettingsUpdate, "PATCH", "/v1/xindesk/settings", json=patch)

    def api_key_info(self) -> ApiKeyInfo:
        return self._get(ApiKeyInfo, "GET", "/v1/xindesk/api-key")

    def create_api_key(self, *, use: bool = True) -> ApiKeyCreated:
        """Create or replace the server's key; with `use`, this client sends it from now on."""
        created = self._get(ApiKeyCreated, "POST", "/v1/xindesk/api-key")
        if use:
            self.set_api_key(created.api_key)
        return created

    def delete_api_key(self) -> ApiKeyDeleted:
        return self._get(ApiKeyDeleted, "DELETE", "/v1/xindesk/api-key")

    def hub_tokens(self) -> HubTokens:
        return self._get(HubTokens, "GET", "/v1/xindesk/hub-tokens")

    def set_hub_token(self, hub: HubName, token: str) -> HubTokenSet:
        body = HubToken(token=token)
        return self._get(HubTokenSet, "PUT", f"/v1/xindesk/hub-tokens/{hub}", json=_body(body))

    def delete_hub_token(self, hub: HubName) -> HubTokenSet:
        return self._get(HubTokenSet, "DELETE", f"/v1/xindesk/hub-tokens/{hub}")

    def logs(
        self,
        after: int = 0,
        level: str | None = None,
        contains: str | None = None,
        limit: int = 500,
    ) -> LogPage:
        """Log records after seq `after`; ask again with the answer's `last_seq`."""
        params: dict[str, str | int] = {"after": after, "limit": limit}
        if level:
            params["level"] = level
        if contains:
            params["contains"] = contains
        return self._get(LogPage, "GET", "/v1/xindesk/logs", params=params)

    def server_info(self) -> ServerInfo:
        return self._get(ServerInfo, "GET", "/v1/xindesk/server")

    def diagnostics(self) -> Diagnostics:
        return self._get(Diagnostics, "GET", "/v1/xindesk/diagnostics")

    def build_info(self) -> BuildSections:
        """The server's build and backend, as `xindesk doctor` reports them: `build`
        (version, variant, frozen ...), `backend` (what it was built for, what it runs on,
        or exactly what is missing) and `devices`."""
        return self._get(BuildSections, "GET", "/v1/xindesk/build")

    def move_models_folder(
        self, path: str, mode: Literal["move", "link"] = "move"
    ) -> ModelsFolderMoved:
        """Make `path` the models folder; `move` takes the downloaded files along, `link`
        leaves them where they are."""
        body = MoveModelsFolder(path=path, mode=mode)
        return self._get(ModelsFolderMoved, "POST", "/v1/xindesk/models-folder", json=_body(body))

    def catalog_files(
        self,
        model_type: str,
        model_name: str,
        *,
        size: str | None = None,
        context_length: int | None = None,
        hub: HubName | None = None,
    ) -> CatalogModelFiles:
        """A catalog model's quantizations with exact files and sizes (`specs`); with
        `context_length`, each row also has a memory `fit` and `recommended` is marked."""
        params: dict[str, str | int] = {}
        if size is not None:
            params["size"] = size
        if context_length:
            params["context_length"] = context_length
        if hub:
            params["hub"] = hub
        return self._get(
            CatalogModelFiles,
            "GET",
            f"/v1/xindesk/catalog/{model_type}/{model_name}",
            params=params,
        )

    def register_repo(self, body: RegisterRepo) -> Registration:
        """Make a hub repository launchable by name; answers the new registration."""
        return self._get(Registration, "POST", "/v1/xindesk/repo/register", json=_body(body))

    def export_fastgpt(
        self, format: ExportFormat, target: Target | None = None, host: str | None = None
    ) -> ExportAnswer:
        """FastGPT / One API config from the running models (`GET /v1/xindesk/export/fastgpt`)."""
        params: dict[str, str] = {"format": format}
        if target:
            params["target"] = target
        if host:
            params["host"] = host
        return self._get(ExportAnswer, "GET", "/v1/xindesk/export/fastgpt", params=params)
