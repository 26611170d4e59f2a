"""Placeholder: the Downloads page (being built)."""

from __future__ import annotations

from desktop.gui.pages.base import Page


class DownloadsPage(Page):
    key = "downloads"

    def title(self) -> str:
        return self.tr("Downloads")
