"""A small typed client of XinDesk's REST API (the same API FastGPT and xinference-client use).

The GUI and the command line talk to the server only through this.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Imported where a client is made or used instead: `xindesk serve` loads this module for
    # its errors and never makes a client, and httpx also loads rich, click and pygments for
    # its own command line when they are installed (5 MiB of an idle server's memory).
    import httpx

DEFAULT_ENDPOINT = "http://127.0.0.1:9997"


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

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.ConnectError as exc:
            raise self._unreachable() from exc
        self._raise_for_status(response)
        if not response.content:
            return None
        return response.json()

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", "/status")
        return result

    def cluster_version(self) -> dict[str, Any]:
        """Xinference's version route (XinDesk answers it too): {"version", ...}."""
        result: dict[str, Any] = self._request("GET", "/v1/cluster/version")
        return result

    def chat_stream(self, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """POST a streaming chat completion and yield each chunk as the server sends it."""
        import httpx
        from httpx_sse import connect_sse

        try:
            with connect_sse(
                self._http, "POST", "/v1/chat/completions", json={**body, "stream": True}
            ) as source:
                if source.response.status_code >= 400:
                    source.response.read()
                    self._raise_for_status(source.response)
                for event in source.iter_sse():
                    if event.data.strip() == "[DONE]":
                        return
                    chunk: dict[str, Any] = event.json()
                    if "error" in chunk and "choices" not in chunk:
                        raise ClientError(500, str(chunk["error"]))
                    yield chunk
        except httpx.ConnectError as exc:
            raise self._unreachable() from exc

    def launch(self, body: dict[str, Any], *, wait_ready: bool = True) -> str:
        result = self._request("POST", "/v1/models", json=body, params={"wait_ready": wait_ready})
        return str(result["model_uid"])

    def list_models(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._request("GET", "/v1/models")["data"]
        return result

    def describe(self, uid: str) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", f"/v1/models/{uid}")
        return result

    def instances(self, uid: str | None = None) -> list[dict[str, Any]]:
        params = {"model_uid": uid} if uid else {}
        result: list[dict[str, Any]] = self._request("GET", "/v1/models/instances", params=params)
        return result

    def progress(self, uid: str) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", f"/v1/models/{uid}/progress")
        return result

    def cancel_launch(self, uid: str) -> None:
        self._request("POST", f"/v1/models/{uid}/cancel")

    def terminate(self, uid: str) -> None:
        self._request("DELETE", f"/v1/models/{uid}")

    def relaunch(self, uid: str) -> str:
        result = self._request("POST", f"/v1/xindesk/models/{uid}/relaunch")
        return str(result["model_uid"])

    def registrations(self, model_type: str, detailed: bool = False) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._request(
            "GET", f"/v1/model_registrations/{model_type}", params={"detailed": detailed}
        )
        return result

    def engines(self, model_name: str, model_type: str | None = None) -> dict[str, Any] | None:
        path = (
            f"/v1/engines/{model_type}/{model_name}" if model_type else f"/v1/engines/{model_name}"
        )
        result: dict[str, Any] | None = self._request("GET", path)
        return result

    def cached(self, model_name: str | None = None) -> list[dict[str, Any]]:
        params = {"model_name": model_name} if model_name else {}
        result: list[dict[str, Any]] = self._request("GET", "/v1/cache/models", params=params)[
            "list"
        ]
        return result

    # -- XinDesk's model library: downloads, search, installed models, hardware ---------------

    def start_download(self, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._request("POST", "/v1/xindesk/downloads", json=body)
        return result

    def downloads(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._request("GET", "/v1/xindesk/downloads")["downloads"]
        return result

    def download(self, job_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", f"/v1/xindesk/downloads/{job_id}")
        return result

    def pause_download(self, job_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._request("POST", f"/v1/xindesk/downloads/{job_id}/pause")
        return result

    def resume_download(self, job_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._request("POST", f"/v1/xindesk/downloads/{job_id}/resume")
        return result

    def cancel_download(self, job_id: str, *, delete_files: bool = True) -> dict[str, Any]:
        result: dict[str, Any] = self._request(
            "POST",
            f"/v1/xindesk/downloads/{job_id}/cancel",
            params={"delete_files": delete_files},
        )
        return result

    def forget_download(self, job_id: str) -> None:
        self._request("DELETE", f"/v1/xindesk/downloads/{job_id}")

    def search(self, query: str, *, hub: str | None = None, limit: int = 30) -> dict[str, Any]:
        params: dict[str, Any] = {"q": query, "limit": limit}
        if hub:
            params["hub"] = hub
        result: dict[str, Any] = self._request("GET", "/v1/xindesk/search", params=params)
        return result

    def repo_files(
        self, repo_id: str, *, hub: str | None = None, context_length: int | None = None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"repo_id": repo_id}
        if hub:
            params["hub"] = hub
        if context_length:
            params["context_length"] = context_length
        result: dict[str, Any] = self._request("GET", "/v1/xindesk/repo", params=params)
        return result

    def hardware(self) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", "/v1/xindesk/hardware")
        return result

    def installed(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._request("GET", "/v1/xindesk/installed")["models"]
        return result

    def import_model(self, path: str) -> dict[str, Any]:
        result: dict[str, Any] = self._request(
            "POST", "/v1/xindesk/installed/import", json={"path": path}
        )
        return result

    # -- administration: settings, API key, hub tokens, logs, server, diagnostics -------------

    def set_api_key(self, key: str | None) -> None:
        """Send `key` from now on (None: no key), e.g. after the key was replaced."""
        if key:
            self._http.headers["Authorization"] = f"Bearer {key}"
        else:
            self._http.headers.pop("Authorization", None)

    def get_settings(self) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", "/v1/xindesk/settings")
        return result

    def update_settings(self, patch: dict[str, Any]) -> dict[str, Any]:
        """Change some settings; the answer has `settings` and `restart_required`."""
        result: dict[str, Any] = self._request("PATCH", "/v1/xindesk/settings", json=patch)
        return result

    def api_key_info(self) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", "/v1/xindesk/api-key")
        return result

    def create_api_key(self, *, use: bool = True) -> dict[str, Any]:
        """Create or replace the server's key; with `use`, this client sends it from now on."""
        result: dict[str, Any] = self._request("POST", "/v1/xindesk/api-key")
        if use:
            self.set_api_key(str(result["api_key"]))
        return result

    def delete_api_key(self) -> dict[str, Any]:
        result: dict[str, Any] = self._request("DELETE", "/v1/xindesk/api-key")
        return result

    def hub_tokens(self) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", "/v1/xindesk/hub-tokens")
        return result

    def set_hub_token(self, hub: str, token: str) -> dict[str, Any]:
        result: dict[str, Any] = self._request(
            "PUT", f"/v1/xindesk/hub-tokens/{hub}", json={"token": token}
        )
        return result

    def delete_hub_token(self, hub: str) -> dict[str, Any]:
        result: dict[str, Any] = self._request("DELETE", f"/v1/xindesk/hub-tokens/{hub}")
        return result

    def logs(
        self,
        after: int = 0,
        level: str | None = None,
        contains: str | None = None,
        limit: int = 500,
    ) -> dict[str, Any]:
        """Log records after seq `after`; ask again with the answer's `last_seq`."""
        params: dict[str, Any] = {"after": after, "limit": limit}
        if level:
            params["level"] = level
        if contains:
            params["contains"] = contains
        result: dict[str, Any] = self._request("GET", "/v1/xindesk/logs", params=params)
        return result

    def server_info(self) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", "/v1/xindesk/server")
        return result

    def diagnostics(self) -> dict[str, Any]:
        result: dict[str, Any] = self._request("GET", "/v1/xindesk/diagnostics")
        return result

    def build_info(self) -> dict[str, Any]:
        """The server's build and backend, as `xindesk doctor` reports them: `build`
        (version, variant, frozen ...), `backend` (what it was built for, what it runs on,
        or exactly what is missing) and `devices`."""
        result: dict[str, Any] = self._request("GET", "/v1/xindesk/build")
        return result

    def move_models_folder(self, path: str, mode: str = "move") -> dict[str, Any]:
        """Make `path` the models folder; `move` takes the downloaded files along, `link`
        leaves them where they are. Answers `models_dir` and `mode`."""
        result: dict[str, Any] = self._request(
            "POST", "/v1/xindesk/models-folder", json={"path": path, "mode": mode}
        )
        return result

    def catalog_files(
        self,
        model_type: str,
        model_name: str,
        *,
        size: str | None = None,
        context_length: int | None = None,
        hub: str | None = None,
    ) -> dict[str, Any]:
        """A catalog model's quantizations with exact files and sizes (`specs`); with
        `context_length`, each row also has a memory `fit` and `recommended` is marked."""
        params: dict[str, Any] = {}
        if size is not None:
            params["size"] = size
        if context_length:
            params["context_length"] = context_length
        if hub:
            params["hub"] = hub
        result: dict[str, Any] = self._request(
            "GET", f"/v1/xindesk/catalog/{model_type}/{model_name}", params=params
        )
        return result

    def register_repo(self, body: dict[str, Any]) -> dict[str, Any]:
        """Make a hub repository launchable by name (`repo_id`, optional `model_name`,
        `model_type`, `hub`); answers the new registration."""
        result: dict[str, Any] = self._request("POST", "/v1/xindesk/repo/register", json=body)
        return result

    def export_fastgpt(
        self, format: str, target: str | None = None, host: str | None = None
    ) -> dict[str, Any]:
        """FastGPT / One API config from the running models (`GET /v1/xindesk/export/fastgpt`):
        `{"format", "content_type", "text", "warnings"}`."""
        params: dict[str, Any] = {"format": format}
        if target:
            params["target"] = target
        if host:
            params["host"] = host
        result: dict[str, Any] = self._request("GET", "/v1/xindesk/export/fastgpt", params=params)
        return result

    def start_relaunch(self, uid: str) -> str:
        """Relaunch a model without waiting for it to load (follow it with `list_models`)."""
        result = self._request(
            "POST", f"/v1/xindesk/models/{uid}/relaunch", params={"wait_ready": False}
        )
        return str(result["model_uid"])
