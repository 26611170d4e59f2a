"""Hugging Face, or a mirror of it, through `huggingface_hub.HfApi`, and its errors as ours."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from desktop.api.hubs import HubName
from desktop.core.errors import HubError, HubUnreachable, InvalidRequest, ModelNotFound
from desktop.core.hub.remote import (
    PROBE_TIMEOUT,
    RemoteFile,
    RepoSummary,
    hub_errors,
    is_gguf,
    iso_time,
    lowered,
    probe_endpoint,
    reason,
    unreachable,
)

if TYPE_CHECKING:
    from huggingface_hub import HfApi

HF_DEFAULT_REVISION = "main"

UNREACHABLE_HINT = (
    "Try the ModelScope source, or a Hugging Face mirror (e.g. https://hf-mirror.com), in "
    "Settings; a proxy can be set there too."
)


class HuggingFaceHub:
    """Hugging Face, or a mirror of it, through `huggingface_hub.HfApi`."""

    name: HubName = "huggingface"

    def __init__(
        self, endpoint: str | None = None, token: str | None = None, *, api: HfApi | None = None
    ) -> None:
        """Args:
        endpoint: e.g. https://hf-mirror.com; None uses the library's (HF_ENDPOINT or
            https://huggingface.co).
        token: None lets huggingface_hub use HF_TOKEN or the `hf auth login` token.
        api: An HfApi to use instead of building one (tests).
        """
        from huggingface_hub import HfApi, constants

        self.endpoint = (endpoint or constants.ENDPOINT).rstrip("/")
        self._api = api or HfApi(endpoint=self.endpoint, token=token, library_name="xindesk")

    def __repr__(self) -> str:
        return f"HuggingFaceHub({self.endpoint!r})"

    def probe(self, timeout: float = PROBE_TIMEOUT) -> None:
        probe_endpoint(self.name, self.endpoint, timeout, UNREACHABLE_HINT)

    def search(self, query: str, *, limit: int = 30) -> list[RepoSummary]:
        with self._errors(None):
            models = list(
                self._api.list_models(
                    search=query.strip() or None,
                    filter="gguf",
                    sort="downloads",
                    limit=limit,
                    expand=["downloads", "likes", "lastModified", "tags", "siblings"],
                )
            )
        summaries: list[RepoSummary] = []
        for model in models:
            names = [s.rfilename for s in model.siblings] if model.siblings is not None else None
            gguf = None if names is None else sum(is_gguf(n) for n in names)
            tags = tuple(model.tags or ())
            # The hub filters on the "gguf" tag already; this keeps a mirror that ignores the
            # filter from offering repos that have nothing to download.
            if gguf == 0 or (gguf is None and tags and "gguf" not in lowered(tags)):
                continue
            summaries.append(
                RepoSummary(
                    hub=self.name,
                    repo_id=model.id,
                    downloads=model.downloads or 0,
                    likes=model.likes or 0,
                    updated=iso_time(model.last_modified),
                    tags=tags,
                    gguf_files=gguf,
                )
            )
        return summaries

    def list_files(self, repo_id: str, revision: str | None = None) -> list[RemoteFile]:
        from huggingface_hub.hf_api import RepoFile

        with self._errors(repo_id, revision):
            # expand=False: sizes and LFS hashes come with the plain tree, and the expanded
            # one (last commit, security scan) pages at 50 entries instead of 1000.
            entries = list(self._api.list_repo_tree(repo_id, recursive=True, revision=revision))
        return [
            RemoteFile(
                path=entry.path,
                size=int(entry.size),
                sha256=entry.lfs.sha256 if entry.lfs is not None else None,
            )
            for entry in entries
            if isinstance(entry, RepoFile)
        ]

    def file_url(self, repo_id: str, path: str, revision: str | None = None) -> str:
        from huggingface_hub import hf_hub_url

        with self._errors(repo_id, revision):
            return hf_hub_url(repo_id, path, revision=revision, endpoint=self.endpoint)

    def resolve_revision(self, repo_id: str, revision: str | None = None) -> str:
        with self._errors(repo_id, revision):
            info = self._api.model_info(repo_id, revision=revision)
        if not info.sha:
            raise HubError(
                f"Hugging Face ({self.endpoint}) did not say which commit {repo_id} "
                f"{revision or HF_DEFAULT_REVISION} is at."
            )
        return info.sha

    def _errors(
        self, repo_id: str | None, revision: str | None = None
    ) -> contextlib.AbstractContextManager[None]:
        return hub_errors(_mapped_error, self.endpoint, repo_id, revision)


def _mapped_error(
    exc: Exception, endpoint: str, repo_id: str | None, revision: str | None
) -> Exception | None:
    """Our error for a huggingface_hub one, or None for anything that is not about the hub."""
    import httpx2
    from huggingface_hub import errors

    where = f"Hugging Face ({endpoint})"
    if isinstance(exc, errors.GatedRepoError):
        return HubError(
            f"{repo_id} on {where} is gated: accept its terms on the model page, then add a "
            "Hugging Face token in Settings."
        )
    if isinstance(exc, errors.RepositoryNotFoundError):
        return ModelNotFound(
            f"{where} has no model repository {repo_id} (or it is private and needs a token)."
        )
    if isinstance(exc, errors.RevisionNotFoundError):
        return ModelNotFound(f"{repo_id} on {where} has no revision {revision}.")
    if isinstance(exc, errors.RemoteEntryNotFoundError):
        return ModelNotFound(f"{repo_id} on {where} has no such file or folder.")
    if isinstance(exc, errors.DisabledRepoError):
        return ModelNotFound(f"{repo_id} on {where} has been disabled by its owner.")
    if isinstance(exc, errors.HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else None
        if status == 404:
            # Mirrors do not always send the X-Error-Code header the library reads.
            return ModelNotFound(f"{where} has no model repository {repo_id}.")
        detail = exc.server_message or str(exc).strip().splitlines()[0]
        if status in (401, 403):
            return HubError(f"{where} refused access to {repo_id} (HTTP {status}): {detail}")
        return HubError(f"{where} answered HTTP {status}: {detail}")
    if isinstance(exc, errors.OfflineModeIsEnabled):
        return HubUnreachable(
            f"Hugging Face is not contacted because HF_HUB_OFFLINE is set. {UNREACHABLE_HINT}"
        )
    if isinstance(exc, httpx2.ProxyError):
        return HubUnreachable(
            f"The proxy failed on the way to {where}: {reason(exc)}. Check the proxy in Settings."
        )
    if isinstance(exc, httpx2.TransportError):
        return HubUnreachable(unreachable("huggingface", endpoint, reason(exc), UNREACHABLE_HINT))
    if isinstance(exc, errors.HFValidationError):
        return InvalidRequest(f"{repo_id!r} is not a valid Hugging Face repository id: {exc}")
    return None
