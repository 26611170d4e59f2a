"""ModelScope through `modelscope_hub.HubApi`, and its errors as ours."""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING

from desktop.api.hubs import HubName
from desktop.core.errors import HubError, HubUnreachable, InvalidRequest, ModelNotFound
from desktop.core.hub.remote import (
    PROBE_TIMEOUT,
    RemoteFile,
    RepoSummary,
    hub_errors,
    iso_time,
    lowered,
    probe_endpoint,
    reason,
    unreachable,
)

if TYPE_CHECKING:
    from modelscope_hub import HubApi as MsHubApi

#: ModelScope's default branch (Hugging Face's is "main").
MODELSCOPE_DEFAULT_REVISION = "master"
_COMMIT_RE = re.compile(r"[0-9a-f]{40}")

UNREACHABLE_HINT = (
    "Try the Hugging Face source (or a mirror of it) in Settings, and check the ModelScope "
    "address there; a proxy can be set there too."
)


class ModelScopeHub:
    """ModelScope through `modelscope_hub.HubApi`.

    `modelscope.hub.api.HubApi.get_model_files` is a shim over the same call that keeps only
    path and size; the sha256 that downloads are checked against is dropped there, so the
    package it delegates to is used directly.
    """

    name: HubName = "modelscope"

    def __init__(
        self, endpoint: str | None = None, token: str | None = None, *, api: MsHubApi | None = None
    ) -> None:
        """Args:
        endpoint: e.g. https://www.modelscope.cn; None uses the library's (MODELSCOPE_ENDPOINT
            or https://modelscope.cn).
        token: None lets modelscope use MODELSCOPE_API_TOKEN or its saved login.
        api: A modelscope_hub.HubApi to use instead of building one (tests).
        """
        from modelscope_hub import HubApi, HubConfig

        # A config of our own, not the library's process-wide default, so two hubs with
        # different addresses or tokens never share state.
        config = HubConfig(endpoint=endpoint, token=token)
        self.endpoint = (config.endpoint or "").rstrip("/")
        self._api = api or HubApi(config, user_agent={"invoked_by": "xindesk"})

    def __repr__(self) -> str:
        return f"ModelScopeHub({self.endpoint!r})"

    def probe(self, timeout: float = PROBE_TIMEOUT) -> None:
        probe_endpoint(self.name, self.endpoint, timeout, UNREACHABLE_HINT)

    def search(self, query: str, *, limit: int = 30) -> list[RepoSummary]:
        with self._errors(None):
            # The OpenAPI model list pages at 50 at most and knows a `library` filter; the
            # results are sorted by downloads here because its sort keys are not documented.
            page = self._api.list_repos(
                "model",
                search=query.strip() or None,
                page_size=max(1, min(limit, 50)),
                library="gguf",
            )
        summaries: list[RepoSummary] = []
        for repo in page.items:
            repo_id = repo.repo_id
            if not repo_id:
                continue
            tags = tuple(str(tag) for tag in (repo.tags or ()))
            # ModelScope returns no file list with a search hit; its GGUF repos say so in their
            # tags or their name, which keeps an ignored filter from listing other formats.
            if "gguf" not in lowered(tags) and "gguf" not in repo_id.lower():
                continue
            summaries.append(
                RepoSummary(
                    hub=self.name,
                    repo_id=repo_id,
                    downloads=int(repo.downloads or 0),
                    likes=int(repo.likes or 0),
                    updated=iso_time(repo.last_modified),
                    tags=tags,
                    gguf_files=None,
                )
            )
        summaries.sort(key=lambda s: -s.downloads)
        return summaries[:limit]

    def list_files(self, repo_id: str, revision: str | None = None) -> list[RemoteFile]:
        with self._errors(repo_id, revision):
            entries = self._api.list_repo_files(
                repo_id, "model", revision=revision or MODELSCOPE_DEFAULT_REVISION, recursive=True
            )
        return [
            RemoteFile(path=entry.path, size=int(entry.size), sha256=entry.sha256 or None)
            for entry in entries
            if not entry.is_dir and entry.path
        ]

    def file_url(self, repo_id: str, path: str, revision: str | None = None) -> str:
        from modelscope.hub.file_download import get_file_download_url

        url = get_file_download_url(
            repo_id, path, revision or MODELSCOPE_DEFAULT_REVISION, endpoint=self.endpoint
        )
        return str(url)

    def resolve_revision(self, repo_id: str, revision: str | None = None) -> str:
        # ModelScope downloads by branch or tag name, so the name is what gets pinned; asking
        # is still worth it, because a wrong repo or tag should fail here and not mid-download.
        if revision is None or _COMMIT_RE.fullmatch(revision):
            with self._errors(repo_id, revision):
                self._api.get_repo(repo_id, "model")
            return revision or MODELSCOPE_DEFAULT_REVISION
        with self._errors(repo_id, revision):
            known = [
                str(item.get("Revision") or item.get("name") or "")
                for item in self._api.list_repo_revisions(repo_id, "model")
            ]
        if revision not in known:
            raise ModelNotFound(
                f"{repo_id} on ModelScope ({self.endpoint}) has no revision {revision}; "
                f"it has: {', '.join(k for k in known if k) or 'none'}."
            )
        return revision

    def _errors(
        self, repo_id: str | None, revision: str | None = None
    ) -> contextlib.AbstractContextManager[None]:
        return hub_errors(_mapped_error, self.endpoint, repo_id, revision)


def _mapped_error(
    exc: Exception, endpoint: str, repo_id: str | None, revision: str | None
) -> Exception | None:
    """Our error for a modelscope_hub one, or None for anything that is not about the hub."""
    from modelscope_hub import errors

    where = f"ModelScope ({endpoint})"
    if isinstance(exc, errors.NotExistError):
        if revision:
            return ModelNotFound(
                f"{where} has no model repository {repo_id} with revision {revision}."
            )
        return ModelNotFound(f"{where} has no model repository {repo_id}.")
    if isinstance(exc, errors.NetworkError):  # RequestTimeoutError is one too
        return HubUnreachable(unreachable("modelscope", endpoint, reason(exc), UNREACHABLE_HINT))
    if isinstance(exc, errors.AuthenticationError | errors.PermissionDeniedError):
        return HubError(
            f"{where} refused access to {repo_id}: {exc}. If it is private, add a ModelScope "
            "token in Settings."
        )
    if isinstance(exc, errors.InvalidParameter) and repo_id is not None and "/" not in repo_id:
        return InvalidRequest(f"{repo_id!r} is not a valid ModelScope repository id: {exc}")
    if isinstance(exc, errors.APIError):
        return HubError(f"{where} answered HTTP {exc.status_code}: {exc.message}")
    if isinstance(exc, errors.HubError):
        return HubError(f"{where}: {exc}")
    if isinstance(exc, ValueError) and repo_id is not None:
        # modelscope_hub rejects malformed ids with a plain ValueError before any request.
        return InvalidRequest(f"{repo_id!r} is not a valid ModelScope repository id: {exc}")
    return None
