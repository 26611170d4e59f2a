"""Placeholder: the Running page (being built)."""

from __future__ import annotations

from desktop.gui.pages.base import Page


class RunningPage(Page):
    key = "running"

    def title(self) -> str:
        return self.tr("Running")
