"""One exception tree for the whole core.

The server maps these to HTTP statuses in one place (`desktop.server.errors`), and the GUI maps
them to messages; nothing else needs to know about HTTP.

    XinDeskError
    ├── InvalidRequest (ValueError)          bad input from a caller                  -> 400
    │   ├── UnsupportedModelFormat           e.g. `-f pytorch`: XinDesk runs GGUF      -> 400
    │   ├── WrongModelType                   embeddings asked of a chat model          -> 400
    │   ├── ModelAlreadyRunning              duplicate model uid                       -> 400
    │   ├── NotAGGUF                         a file that is not GGUF                   -> 400
    │   │   ├── GGUFHeaderIncomplete         a header longer than the bytes at hand    -> 400
    │   │   └── GGUFTruncated                tensor data past the end of the file      -> 400
    │   ├── ModelFileMissing                 catalog model not downloaded yet          -> 400
    │   ├── UnsafePath                       a path from outside that leaves its folder -> 400
    │   └── InvalidSettings                  an unknown setting or an invalid value    -> 422
    ├── ModelNotFound (LookupError)          unknown registration / spec               -> 400
    ├── UnknownModelUID (LookupError)        no running model with this uid            -> 400/404
    ├── ModelNotReady                        still loading, or stopped with an error   -> 503
    ├── ChatTemplateError                    no usable chat template                   -> 400
    ├── ModelLoadError                       llama.cpp could not load the file         -> 500
    ├── WorkerCrashed                        the model's process died                  -> 500
    ├── ModelStopped                         its worker stopped on purpose mid-request -> 503
    ├── LaunchCancelled                      a launch was cancelled                    -> 499
    ├── ConfigError                          settings that cannot work together        -> 400
    ├── SecretStoreUnavailable               no keychain on this machine               -> 500
    ├── DownloadNotFound (LookupError)       no download job with this id              -> 404
    ├── HubError                             a hub answered with an error               -> 502
    │   └── HubUnreachable                   no hub could be reached (offline, blocked)  -> 502
    ├── NotEnoughDiskSpace                   a download would not fit on the disk      -> 507
    ├── PathTimeout                          a look at a user's path did not finish    -> 504
    └── IntegrityError                       a downloaded file's sha256/size is wrong  -> 502
"""

from __future__ import annotations


class XinDeskError(Exception):
    """Base of every error the core raises on purpose."""


class InvalidRequest(XinDeskError, ValueError):
    """The caller asked for something malformed or impossible."""


class UnsupportedModelFormat(InvalidRequest):
    """The request names a model format other than GGUF."""


class WrongModelType(InvalidRequest):
    """The request needs another kind of model (chat, embedding, rerank).

    The server words the message for the route that was asked (`desktop.server.errors`).

    Attributes:
        uid: The model the request named.
        actual: Its type ("LLM", "embedding", "rerank").
        needed: The type the request needs.
        model_name: The model's family name, when known.
        lacks: An ability the request needs that the model lacks ("chat" for a base model
            asked to chat), when its type is the right one.
    """

    def __init__(
        self,
        uid: str,
        actual: str,
        needed: str,
        *,
        model_name: str | None = None,
        lacks: str | None = None,
    ) -> None:
        self.uid = uid
        self.actual = actual
        self.needed = needed
        self.model_name = model_name
        self.lacks = lacks
        if lacks is not None:
            text = f"Model {uid} ({model_name or uid}) is not a {lacks} model."
        else:
            text = (
                f"Model {uid} is of type {actual}; this needs one of type {needed}. Launch one "
                f"with model_type={needed!r}."
            )
        super().__init__(text)


class ModelAlreadyRunning(InvalidRequest):
    """A model with this uid is already launched."""


class NotAGGUF(InvalidRequest):
    """A path that should be a GGUF file is missing, a folder, or not GGUF."""


class ModelFileMissing(InvalidRequest):
    """A catalog model whose file is not on disk yet."""


class UnsafePath(InvalidRequest):
    """A path from outside (a hub listing, a request) that is not a plain relative path, or
    that leads out of the folder it must stay in; nothing is read or written through it."""


class InvalidSettings(InvalidRequest):
    """A settings change names an unknown setting or gives an invalid value."""


class ModelNotFound(XinDeskError, LookupError):
    """No registration (built-in or custom) matches the name, size or quantization asked for."""


class UnknownModelUID(XinDeskError, LookupError):
    """No launched model has this uid."""

    def __init__(self, uid: str, available: list[str] | None = None) -> None:
        self.uid = uid
        self.available = available or []
        super().__init__(f"Model not found in the model list, uid: {uid}")


class ModelNotReady(XinDeskError):
    """The model exists but cannot answer now (loading, or stopped with an error)."""

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class ChatTemplateError(XinDeskError):
    """No chat template could be found or rendered for a model."""


class ModelLoadError(XinDeskError):
    """llama.cpp failed to load a model file."""


class NotEnoughMemory(XinDeskError):
    """A model would not fit the memory left, even after unloading every idle model."""


class WorkerCrashed(XinDeskError):
    """The worker process that owns a model ended unexpectedly."""


class ModelStopped(XinDeskError):
    """A model's worker was stopped on purpose while a request was in flight: the model was
    terminated or relaunched, or the server is shutting down.

    Attributes:
        code: "model_terminated", "model_relaunched" or "server_shutdown".
    """

    def __init__(self, message: str, *, code: str) -> None:
        self.code = code
        super().__init__(message)


class LaunchCancelled(XinDeskError):
    """A launch was cancelled before the model became ready."""


class ConfigError(XinDeskError):
    """Settings that cannot work together (e.g. LAN access without an API key)."""


class SecretStoreUnavailable(XinDeskError):
    """No usable keyring backend on this machine (common on headless Linux)."""


class DownloadNotFound(XinDeskError, LookupError):
    """No download job with this id."""


class HubError(XinDeskError):
    """A model hub (Hugging Face, a mirror, ModelScope) answered with an error."""


class HubUnreachable(HubError):
    """No model hub could be reached: offline, blocked, or a wrong mirror address."""


class NotEnoughDiskSpace(XinDeskError):
    """A download would not fit in the free space of its folder; checked before it starts."""


class PathTimeout(XinDeskError):
    """Looking at a user's path (a stat) did not finish in time: a network mount that stopped
    answering, most likely."""


class IntegrityError(XinDeskError):
    """A downloaded file does not match the hub's size or sha256; it never counts as installed."""


class GGUFHeaderIncomplete(NotAGGUF):
    """The stream ended (or `max_bytes` was reached) before the end of the GGUF header.

    A `NotAGGUF`, so callers that only know that type still show a sensible message.

    Attributes:
        bytes_read: How far into the stream the reader got.
        needed: The smallest stream length that could get past the point where it stopped.
    """

    def __init__(self, message: str, *, bytes_read: int, needed: int) -> None:
        super().__init__(message)
        self.bytes_read = bytes_read
        self.needed = needed


class GGUFTruncated(NotAGGUF):
    """A GGUF whose header is whole but whose tensor data ends early (a cut copy or download).

    Attributes:
        size: The file's size in bytes.
        needed: Where the header says the tensor data ends.
    """

    def __init__(self, message: str, *, size: int, needed: int) -> None:
        super().__init__(message)
        self.size = size
        self.needed = needed
