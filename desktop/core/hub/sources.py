"""The download source ("auto", "huggingface", "modelscope") as hubs: which to try, in which
order, at which address.

`hub_order` is the one policy for every place that turns a source into hubs: the download
manager's listings and downloads (`hubs_for`), catalog downloads (`catalog.download`), and the
catalog spec a launch prefers (`running.launch`).
"""

from __future__ import annotations

from collections.abc import Callable

from desktop.api.hubs import HUB_NAMES, HubName
from desktop.api.settings import DownloadSettings
from desktop.core.errors import InvalidRequest
from desktop.core.hub.huggingface import HuggingFaceHub
from desktop.core.hub.modelscope import ModelScopeHub
from desktop.core.hub.remote import RemoteHub


def hub_order(source: str | None) -> tuple[HubName, ...]:
    """The hubs to try for a download source: "auto" (or none given) is every hub, Hugging Face
    (or its mirror) first, then ModelScope; a hub's name is that hub alone.

    Raises:
        InvalidRequest: `source` names no hub.
    """
    if source in (None, "", "auto"):
        return HUB_NAMES
    for name in HUB_NAMES:
        if source == name:
            return (name,)
    raise InvalidRequest(f"Unknown download hub {source!r}; use huggingface, modelscope or auto.")


def endpoint_for(hub: HubName, settings: DownloadSettings) -> str | None:
    """The hub's address from the settings; None means the library's default."""
    return settings.hf_endpoint if hub == "huggingface" else settings.modelscope_endpoint


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
    """The hubs of the settings' download source, in `hub_order`, at the settings' addresses."""
    return [
        open_hub(name, endpoint=endpoint_for(name, settings), token=token_for(name))
        for name in hub_order(settings.source)
    ]
