"""Placeholder: the Models page (being built)."""

from __future__ import annotations

from desktop.gui.pages.base import Page


class ModelsPage(Page):
    key = "models"

    def title(self) -> str:
        return self.tr("Models")
