"""Placeholder: the Welcome page (being built)."""

from __future__ import annotations

from desktop.gui.pages.base import Page


class WelcomePage(Page):
    key = "welcome"

    def title(self) -> str:
        return self.tr("Welcome")
