"""Placeholder: the Chat page (being built)."""

from __future__ import annotations

from desktop.gui.pages.base import Page


class ChatPage(Page):
    key = "chat"

    def title(self) -> str:
        return self.tr("Chat")
