"""Placeholder: the Connect page (being built)."""

from __future__ import annotations

from desktop.gui.pages.base import Page


class ConnectPage(Page):
    key = "connect"

    def title(self) -> str:
        return self.tr("Connect")
