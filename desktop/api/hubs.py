"""The model hubs by name, and the values of the download-source setting: part of the contract,
since requests name a hub and the settings a source, and the window, the command line and the
server all spell them from here."""

from __future__ import annotations

from typing import Literal

__all__ = ["DOWNLOAD_SOURCES", "HUB_NAMES", "HUB_TITLES", "DownloadSource", "HubName"]

HubName = Literal["huggingface", "modelscope"]
#: Every hub, in the order "auto" tries them.
HUB_NAMES: tuple[HubName, ...] = ("huggingface", "modelscope")
HUB_TITLES: dict[HubName, str] = {"huggingface": "Hugging Face", "modelscope": "ModelScope"}

#: The download-source setting (and a request's hub): a hub's name, or "auto" for each in turn.
DownloadSource = Literal["auto", "huggingface", "modelscope"]
DOWNLOAD_SOURCES: tuple[DownloadSource, ...] = ("auto", "huggingface", "modelscope")
