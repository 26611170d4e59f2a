"""What the Settings page's cards share: the server's settings as read in one go, the card
itself, and the address check of the fields that take one."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from PySide6.QtCore import QCoreApplication, QEvent, Signal
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from desktop.api.admin import HubTokens, SettingsPatch
from desktop.api.settings import Settings
from desktop.client import ClientError, XinDeskClient
from desktop.gui.context import GuiContext
from desktop.gui.widgets.common import Banner


@dataclass(frozen=True)
class ServerSnapshot:
    """The server-side settings the page shows, read in one go."""

    xindesk: bool
    """False for a server without XinDesk's routes (a real Xinference)."""
    settings: Settings | None = None
    models_dir: str | None = None
    tokens: HubTokens | None = None


def read_snapshot(client: XinDeskClient) -> ServerSnapshot:
    """Blocking; runs off the GUI thread."""
    try:
        settings = client.get_settings()
    except ClientError as exc:
        if exc.status == 404:
            return ServerSnapshot(xindesk=False)
        raise
    info = client.server_info()
    return ServerSnapshot(
        xindesk=True, settings=settings, models_dir=info.models_dir, tokens=client.hub_tokens()
    )


def url_problem(value: str, schemes: tuple[str, ...]) -> bool:
    """True when `value` is not an absolute address with one of `schemes` and a host."""
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        return True
    return parts.scheme.lower() not in schemes or not parts.hostname


class SettingsSection(QFrame):
    """One card of the Settings page: a title, its fields, and the page's banner for what a
    person must read.

    Subclasses add their fields to `column`, set every text in `retranslate` (called again on
    a language switch) and show the current state in `show_state`, which the page calls whenever
    the server's settings were read, the server changed or a window preference did.

    Signals:
        reload_requested(): the section changed something on the server; the page reads it
            again.
    """

    reload_requested = Signal()

    def __init__(self, ctx: GuiContext, banner: Banner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.banner = banner
        self.setObjectName("card")
        self.column = QVBoxLayout(self)
        self.column.setContentsMargins(16, 12, 16, 14)
        self.column.setSpacing(8)
        self.title = QLabel(self)
        self.title.setObjectName("subheading")
        self.column.addWidget(self.title)

    def retranslate(self) -> None:
        """Set every visible text again in the current language."""

    def show_state(self, snapshot: ServerSnapshot | None) -> None:
        """Show the current state; `snapshot` is the server's side (None: not read yet)."""

    def save_ui(self, patch: SettingsPatch) -> None:
        """Change window preferences (the connection keeps them); a failure shows above."""
        self.ctx.connection.save_ui(patch, self._save_failed)

    def _save_failed(self, message: str) -> None:
        self.banner.show_error(
            QCoreApplication.translate("SettingsSection", "Could not save the setting: {0}").format(
                message
            )
        )

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
