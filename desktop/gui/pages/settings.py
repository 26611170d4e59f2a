"""Placeholder: the Settings page (being built)."""

from __future__ import annotations

from desktop.gui.pages.base import Page


class SettingsPage(Page):
    key = "settings"

    def title(self) -> str:
        return self.tr("Settings")
