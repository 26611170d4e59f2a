"""Talking to the model hubs (Hugging Face or a mirror of it, ModelScope) through their libraries.

Every API call goes through `huggingface_hub` or `modelscope_hub` (the package `modelscope` itself
delegates to since 1.3x), never through URLs we build: the libraries know the routes, paging,
authentication and retries, and our test hub speaks exactly what they call. The one request of
our own is `first_reachable`'s probe, a HEAD to the hub's address with a short timeout, because
neither library can ask "is it there at all?" without half a minute of retries. This module
turns the libraries' answers into small typed records and their exceptions into ours:

    repository, revision or file that does not exist  -> ModelNotFound (names hub and repo)
    connection refused, timeout, DNS, proxy failure    -> HubUnreachable (names the endpoint,
                                                          suggests the mirror / ModelScope)
    any other error status                             -> HubError
    a repo id the library rejects                      -> InvalidRequest

Proxies: both libraries honour the standard HTTPS_PROXY / HTTP_PROXY / NO_PROXY variables
(huggingface_hub through httpx2, modelscope_hub through requests), and the server process sets
them from the settings at start (`desktop.core.hub.wiring.apply_proxy`), so nothing here takes a
proxy argument. The reachability probe below uses httpx, which reads the same variables.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable
from urllib.parse import unquote, urlsplit

from desktop.api.common import HUB_NAMES as HUB_NAMES
from desktop.api.common import HubName as HubName
from desktop.api.settings import DownloadSettings
from desktop.core.errors import HubError, HubUnreachable, InvalidRequest, ModelNotFound

if TYPE_CHECKING:
    from huggingface_hub import HfApi
    from modelscope_hub import HubApi as MsHubApi

log = logging.getLogger("xindesk.hub")

HUB_TITLES: dict[HubName, str] = {"huggingface": "Hugging Face", "modelscope": "ModelScope"}

#: Seconds the reachability probe waits; a blocked hub must not cost the user minutes.
PROBE_TIMEOUT = 5.0
#: ModelScope's default branch (Hugging Face's is "main").
MODELSCOPE_DEFAULT_REVISION = "master"
HF_DEFAULT_REVISION = "main"
_COMMIT_RE = re.compile(r"[0-9a-f]{40}")

_HF_UNREACHABLE_HINT = (
    "If huggingface.co is blocked where you are, set a mirror (e.g. https://hf-mirror.com) or "
    "choose ModelScope as the download source in Settings; a proxy can be set there too."
)
_MS_UNREACHABLE_HINT = (
    "Check the network and the ModelScope address in Settings, or choose Hugging Face (or a "
    "mirror of it) as the download source; a proxy can be set there too."
)

T = TypeVar("T")


@dataclass(frozen=True)
class RemoteFile:
    """One file of a repository as the hub lists it.

    Attributes:
        path: Path inside the repository, "/"-separated.
        size: Size in bytes.
        sha256: The LFS object id on Hugging Face, `Sha256` on ModelScope; None for small
            files kept in git (Hugging Face gives only their git sha1, which is not a sha256).
    """

    path: str
    size: int
    sha256: str | None


@dataclass(frozen=True)
class RepoSummary:
    """One search hit.

    Attributes:
        gguf_files: How many `.gguf` files the repository holds, when the hub said (Hugging
            Face lists files with search results; ModelScope does not, hence None there).
        updated: ISO 8601 time of the last change, when known.
    """

    hub: HubName
    repo_id: str
    downloads: int
    likes: int
    updated: str | None
    tags: tuple[str, ...]
    gguf_files: int | None


class RemoteHub(Protocol):
    """One hub (Hugging Face, a mirror of it, or ModelScope) as the rest of the core sees it."""

    name: HubName

    def search(self, query: str, *, limit: int = 30) -> list[RepoSummary]:
        """Repositories with GGUF files matching `query`, most downloaded first."""
        ...

    def list_files(self, repo_id: str, revision: str | None = None) -> list[RemoteFile]:
        """Every file of the repository (recursively), with sizes and sha256 where known."""
        ...

    def file_url(self, repo_id: str, path: str, revision: str | None = None) -> str:
        """The URL the library itself downloads `path` from."""
        ...

    def resolve_revision(self, repo_id: str, revision: str | None = None) -> str:
        """A revision to pin downloads to: the commit sha (Hugging Face), the branch or tag
        name (ModelScope, whose download API takes names)."""
        ...


@runtime_checkable
class Probeable(Protocol):
    """A hub that can tell quickly whether it can be reached (ours can; test fakes need not)."""

    def probe(self, timeout: float = PROBE_TIMEOUT) -> None:
        """Raise HubUnreachable unless the hub's address answers within `timeout` seconds."""
        ...


# -- the hubs ------------------------------------------------------------------------------------


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
        _probe(self.name, self.endpoint, timeout, _HF_UNREACHABLE_HINT)

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
            gguf = None if names is None else sum(_is_gguf(n) for n in names)
            tags = tuple(model.tags or ())
            # The hub filters on the "gguf" tag already; this keeps a mirror that ignores the
            # filter from offering repos that have nothing to download.
            if gguf == 0 or (gguf is None and tags and "gguf" not in _lower(tags)):
                continue
            summaries.append(
                RepoSummary(
                    hub=self.name,
                    repo_id=model.id,
                    downloads=model.downloads or 0,
                    likes=model.likes or 0,
                    updated=_iso(model.last_modified),
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

    @contextlib.contextmanager
    def _errors(self, repo_id: str | None, revision: str | None = None) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            mapped = _hf_error(exc, self.endpoint, repo_id, revision)
            if mapped is None:
                raise
            raise mapped from exc


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
        _probe(self.name, self.endpoint, timeout, _MS_UNREACHABLE_HINT)

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
            if "gguf" not in _lower(tags) and "gguf" not in repo_id.lower():
                continue
            summaries.append(
                RepoSummary(
                    hub=self.name,
                    repo_id=repo_id,
                    downloads=int(repo.downloads or 0),
                    likes=int(repo.likes or 0),
                    updated=_iso(repo.last_modified),
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

    @contextlib.contextmanager
    def _errors(self, repo_id: str | None, revision: str | None = None) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            mapped = _ms_error(exc, self.endpoint, repo_id, revision)
            if mapped is None:
                raise
            raise mapped from exc


def open_hub(name: HubName, *, endpoint: str | None, token: str | None = None) -> RemoteHub:
    """The hub called `name` at `endpoint` (None: the library's default address)."""
    if name == "huggingface":
        return HuggingFaceHub(endpoint, token)
    if name == "modelscope":
        return ModelScopeHub(endpoint, token)
    raise InvalidRequest(f"Unknown model hub {name!r}; use one of: {', '.join(HUB_NAMES)}.")


def _no_token(hub: HubName) -> str | None:
    return None


def hubs_for(
    settings: DownloadSettings, token_for: Callable[[HubName], str | None] = _no_token
) -> list[RemoteHub]:
    """The hubs to try, in order: "auto" is Hugging Face (or its mirror), then ModelScope; a
    fixed source is that hub alone."""
    order: tuple[HubName, ...] = HUB_NAMES if settings.source == "auto" else (settings.source,)
    endpoints: dict[HubName, str | None] = {
        "huggingface": settings.hf_endpoint,
        "modelscope": settings.modelscope_endpoint,
    }
    return [open_hub(name, endpoint=endpoints[name], token=token_for(name)) for name in order]


def first_reachable(
    hubs: Sequence[RemoteHub],
    call: Callable[[RemoteHub], T],
    *,
    probe_timeout: float = PROBE_TIMEOUT,
) -> T:
    """`call` on the first hub that can be reached (the "auto" source's fallback).

    A hub that cannot be reached (refused, timed out, no DNS, proxy failure) is skipped; one that
    answers "not found" ends the search with ModelNotFound, because falling back would hide a
    wrong name behind a "not found" from the other hub. Each hub is first probed with a short
    timeout, since the libraries' own retries take half a minute or more to give up. A caller
    that needs to know which hub answered returns it from `call`.
    """
    if not hubs:
        raise HubError("No model hub is configured; pick a download source in Settings.")
    failures: list[HubUnreachable] = []
    for hub in hubs:
        try:
            if isinstance(hub, Probeable):
                hub.probe(probe_timeout)
            return call(hub)
        except HubUnreachable as exc:
            log.warning("%s is unreachable: %s", hub.name, exc)
            failures.append(exc)
    if len(failures) == 1:
        raise failures[0]
    raise HubUnreachable("No model hub could be reached. " + " ".join(str(f) for f in failures))


def _probe(hub: HubName, endpoint: str, timeout: float, hint: str) -> None:
    # Any HTTP answer at all means the address works; what it says is the real call's business.
    # A direct request because neither library has a bounded, retry-free call for this.
    import httpx

    try:
        httpx.head(endpoint, timeout=timeout, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise HubUnreachable(
            f"Cannot reach {HUB_TITLES[hub]} at {endpoint}: {_reason(exc)}. {hint}"
        ) from exc


# -- exceptions ----------------------------------------------------------------------------------


def _hf_error(
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
            f"Hugging Face is not contacted because HF_HUB_OFFLINE is set. {_HF_UNREACHABLE_HINT}"
        )
    if isinstance(exc, httpx2.ProxyError):
        return HubUnreachable(
            f"The proxy failed on the way to {where}: {_reason(exc)}. Check the proxy in Settings."
        )
    if isinstance(exc, httpx2.TransportError):
        return HubUnreachable(f"Cannot reach {where}: {_reason(exc)}. {_HF_UNREACHABLE_HINT}")
    if isinstance(exc, errors.HFValidationError):
        return InvalidRequest(f"{repo_id!r} is not a valid Hugging Face repository id: {exc}")
    return None


def _ms_error(
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
        return HubUnreachable(f"Cannot reach {where}: {_reason(exc)}. {_MS_UNREACHABLE_HINT}")
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


def _reason(exc: BaseException) -> str:
    """The innermost message of a transport error ("[Errno 111] Connection refused")."""
    text = str(exc).strip()
    return text or type(exc).__name__


# -- repository references -----------------------------------------------------------------------

_HF_HOSTS = frozenset({"huggingface.co", "www.huggingface.co", "hf.co", "hf-mirror.com"})
_MS_HOSTS = frozenset({"modelscope.cn", "www.modelscope.cn", "modelscope.ai", "www.modelscope.ai"})
# Hugging Face's rule for owner and name (letters, digits, "-", "_", "."), which ModelScope's fit.
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
_TAG_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_EXAMPLE = "e.g. bartowski/Qwen2.5-7B-Instruct-GGUF or a huggingface.co / modelscope.cn link"


def parse_repo_reference(text: str) -> tuple[HubName | None, str, str | None]:
    """Read what a person pastes as a model reference.

    Returns (hub or None when the text does not say, "owner/repo", file path or quantization
    or None). Accepted: "owner/repo", "owner/repo:Q4_K_M" (Ollama's quant tag), "hf.co/owner/repo"
    (with or without a tag), Hugging Face and hf-mirror.com links (a /blob/ or /resolve/ link
    gives its file), ModelScope links ("/models/owner/repo", with /files, /file/view/<rev>/<file>
    or /resolve/<rev>/<file>). A revision inside a link is not returned.
    """
    raw = text.strip()
    if not raw:
        raise InvalidRequest(f"Name a model repository, {_EXAMPLE}.")
    if "://" in raw:
        parts = urlsplit(raw)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise InvalidRequest(f"{raw!r} is not a model repository link; {_EXAMPLE}.")
        host: str | None = parts.hostname.lower()
        path = unquote(parts.path)
    else:
        head, _, rest = raw.partition("/")
        if head.lower() in _HF_HOSTS | _MS_HOSTS:
            host, path = head.lower(), rest
        elif "." in head and rest.count("/") >= 1:
            raise InvalidRequest(f"{head} is not a Hugging Face or ModelScope address; {_EXAMPLE}.")
        else:
            host, path = None, raw
    segments = [s for s in path.split("/") if s]

    if host is None:
        if len(segments) != 2:
            raise InvalidRequest(f"{raw!r} is not a model repository (owner/repo); {_EXAMPLE}.")
        name, tag = _split_tag_of(segments[1], raw)
        return None, _repo_id(segments[0], name, raw), tag
    if host in _HF_HOSTS:
        return ("huggingface", *_hf_path(segments, raw))
    if host in _MS_HOSTS:
        return ("modelscope", *_ms_path(segments, raw))
    raise InvalidRequest(f"{host} is not a Hugging Face or ModelScope address; {_EXAMPLE}.")


def _split_tag_of(name: str, raw: str) -> tuple[str, str | None]:
    """ "repo:Q4_K_M" -> ("repo", "Q4_K_M"); Ollama's ":latest" means no particular one."""
    if ":" not in name:
        return name, None
    name, _, tag = name.partition(":")
    if not _TAG_RE.fullmatch(tag):
        raise InvalidRequest(f"{tag!r} in {raw!r} is not a quantization such as Q4_K_M.")
    return name, None if tag.lower() == "latest" else tag


def _repo_id(owner: str, name: str, raw: str) -> str:
    name = name.removesuffix(".git")
    for part in (owner, name):
        if not _NAME_RE.fullmatch(part) or ".." in part:
            raise InvalidRequest(
                f"{raw!r} is not a model repository: {part!r} is not a valid owner or repository "
                f"name; {_EXAMPLE}."
            )
    return f"{owner}/{name}"


def _hf_path(segments: list[str], raw: str) -> tuple[str, str | None]:
    if segments and segments[0] in ("datasets", "spaces", "buckets"):
        raise InvalidRequest(f"{raw!r} is a Hugging Face {segments[0][:-1]}, not a model.")
    if len(segments) < 2:
        raise InvalidRequest(f"{raw!r} names no repository (owner/repo); {_EXAMPLE}.")
    owner, name, rest = segments[0], segments[1], segments[2:]
    name, tag = _split_tag_of(name, raw) if not rest else (name, None)
    if len(rest) >= 3 and rest[0] in ("blob", "resolve", "raw"):
        return _repo_id(owner, name, raw), "/".join(rest[2:])
    return _repo_id(owner, name, raw), tag


def _ms_path(segments: list[str], raw: str) -> tuple[str, str | None]:
    if segments and segments[0] == "datasets":
        raise InvalidRequest(f"{raw!r} is a ModelScope dataset, not a model.")
    if segments and segments[0] == "models":
        segments = segments[1:]
    if len(segments) < 2:
        raise InvalidRequest(f"{raw!r} names no repository (owner/repo); {_EXAMPLE}.")
    owner, name, rest = segments[0], segments[1], segments[2:]
    name, tag = _split_tag_of(name, raw) if not rest else (name, None)
    if len(rest) >= 4 and rest[:2] == ["file", "view"]:
        return _repo_id(owner, name, raw), "/".join(rest[3:])
    if len(rest) >= 3 and rest[0] == "resolve":
        return _repo_id(owner, name, raw), "/".join(rest[2:])
    return _repo_id(owner, name, raw), tag


# -- small helpers -------------------------------------------------------------------------------


def _is_gguf(path: str) -> bool:
    return path.lower().endswith(".gguf")


def _lower(values: Sequence[str]) -> set[str]:
    return {value.lower() for value in values}


def _iso(value: object) -> str | None:
    """A hub's timestamp (datetime, ISO text or epoch seconds) as ISO 8601 text."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        from datetime import UTC

        seconds = value / 1000 if value > 1e11 else value  # some answers are in milliseconds
        return datetime.fromtimestamp(seconds, tz=UTC).isoformat()
    return str(value)
