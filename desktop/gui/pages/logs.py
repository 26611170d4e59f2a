"""Placeholder: the Logs page (being built)."""

from __future__ import annotations

from desktop.gui.pages.base import Page


class LogsPage(Page):
    key = "logs"

    def title(self) -> str:
        return self.tr("Logs")
