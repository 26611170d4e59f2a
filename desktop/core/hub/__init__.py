"""Model hubs: search, file listings and downloads through huggingface_hub and modelscope.

`remote` talks to the hubs (no module here imports the hub libraries at import time, so the GUI
and the server start fast); the download manager and its helpers live beside it.
"""

from desktop.core.hub.remote import (
    HubName,
    RemoteFile,
    RemoteHub,
    RepoSummary,
    first_reachable,
    hubs_for,
    open_hub,
    parse_repo_reference,
)

__all__ = [
    "HubName",
    "RemoteFile",
    "RemoteHub",
    "RepoSummary",
    "first_reachable",
    "hubs_for",
    "open_hub",
    "parse_repo_reference",
]
