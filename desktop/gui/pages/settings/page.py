"""The Settings page: one card per concern, the server's settings read in one go.

The cards are the language (`language`), which server the window uses (`server`), the models
folder (`folder`), downloads (`downloads`), hub tokens (`tokens`), how the window behaves
(`window`) and what the server was built for (`build`). Server settings go through the server
(PATCH /v1/xindesk/settings), which owns the settings file; the window's own preferences and
which server it uses are the connection's (`desktop.gui.connection`).
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from desktop.gui.context import GuiContext
from desktop.gui.pages.base import Page
from desktop.gui.pages.settings.build import BuildCard
from desktop.gui.pages.settings.downloads import DownloadsSection
from desktop.gui.pages.settings.folder import FolderSection
from desktop.gui.pages.settings.language import LanguageSection
from desktop.gui.pages.settings.section import ServerSnapshot, SettingsSection, read_snapshot
from desktop.gui.pages.settings.server import ServerSection
from desktop.gui.pages.settings.tokens import TokensSection
from desktop.gui.pages.settings.window import WindowSection
from desktop.gui.widgets.common import Banner, heading, hint, scrolling_column


class SettingsPage(Page):
    """Everything a user can set, in plain words."""

    key = "settings"

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._snapshot: ServerSnapshot | None = None
        self._load_error = False
        self._active = False

        content, layout = scrolling_column(self)
        self.heading = heading(content)
        self.banner = Banner(content)
        self.remote_hint = hint(content)
        layout.addWidget(self.heading)
        layout.addWidget(self.banner)
        layout.addWidget(self.remote_hint)

        self.language = LanguageSection(ctx, self.banner, content)
        self.server_choice = ServerSection(ctx, self.banner, content)
        self.folder = FolderSection(ctx, self.banner, content)
        self.downloads = DownloadsSection(ctx, self.banner, content)
        self.tokens = TokensSection(ctx, self.banner, content)
        self.window_options = WindowSection(ctx, self.banner, content)
        self.sections: tuple[SettingsSection, ...] = (
            self.language,
            self.server_choice,
            self.folder,
            self.downloads,
            self.tokens,
            self.window_options,
        )
        for section in self.sections:
            section.reload_requested.connect(self.reload)
            layout.addWidget(section)
        self.build_card = BuildCard(ctx, content)
        layout.addWidget(self.build_card)
        layout.addStretch(1)

        ctx.session.changed.connect(self._session_changed)
        ctx.connection.preferences_changed.connect(self._render)
        self.retranslate()

    # -- Page ---------------------------------------------------------------------------------

    def title(self) -> str:
        return self.tr("Settings")

    def retranslate(self) -> None:
        self.heading.setText(self.tr("Settings"))
        self._render()

    def activate(self, argument: object = None) -> None:
        self._active = True
        self.downloads.refill()
        self.reload()
        self.build_card.reload()

    def deactivate(self) -> None:
        self._active = False

    # -- loading ------------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the server's settings, models folder and token states again."""
        client = self.ctx.session.client
        self.ctx.tasks.run(lambda: read_snapshot(client), self._loaded, self._load_failed)

    def _session_changed(self) -> None:
        self.downloads.refill()
        if self._active:
            self.reload()
            self.build_card.reload()
        self._render()

    def _loaded(self, snapshot: ServerSnapshot) -> None:
        self._snapshot = snapshot
        if self._load_error:
            self._load_error = False
            self.banner.clear()
        if not snapshot.xindesk:
            self.build_card.show_not_xindesk()
        self._render()

    def _load_failed(self, message: str) -> None:
        self._load_error = True
        self.banner.show_error(message)

    def _render(self) -> None:
        remote = self.ctx.connection.remote
        if remote:
            self.remote_hint.setText(
                self.tr(
                    "The models folder, downloads and tokens below are those of the server at {0}."
                ).format(self.ctx.session.endpoint)
            )
        self.remote_hint.setVisible(remote)
        for section in self.sections:
            section.show_state(self._snapshot)
