"""The model hubs by name, and the values of the download-source setting.

A module of its own, outside `desktop.core.hub`, because the window names hubs too (its settings
page and search filter) and must not import the package that talks to them.
"""

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
