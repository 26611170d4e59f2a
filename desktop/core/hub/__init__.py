"""Model hubs: search, file listings and downloads through huggingface_hub and modelscope.

`remote` holds what every hub shares, `huggingface` and `modelscope` one hub each, `sources` the
download-source policy (which hubs, in which order), `references` the model references people
paste. No module here imports the hub libraries at import time, so the GUI and the server start
fast; the download manager and its helpers live beside them.
"""

from desktop.api.hubs import HubName
from desktop.core.hub.huggingface import HuggingFaceHub
from desktop.core.hub.modelscope import ModelScopeHub
from desktop.core.hub.references import parse_repo_reference
from desktop.core.hub.remote import RemoteFile, RemoteHub, RepoSummary, first_reachable
from desktop.core.hub.sources import hub_order, hubs_for, open_hub

__all__ = [
    "HubName",
    "HuggingFaceHub",
    "ModelScopeHub",
    "RemoteFile",
    "RemoteHub",
    "RepoSummary",
    "first_reachable",
    "hub_order",
    "hubs_for",
    "open_hub",
    "parse_repo_reference",
]
