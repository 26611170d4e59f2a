"""What every page is given: the connection (server link and settings), the task runner,
translations and navigation.

State is passed in (one `GuiContext` per window), never kept in module globals, so a test can
build a window against any server.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from desktop.api.settings import Settings
from desktop.gui.connection import Connection
from desktop.gui.i18n import Translations
from desktop.gui.local_server import LocalServer
from desktop.gui.session import ApiSession
from desktop.gui.tasks import Tasks


class Navigator(QObject):
    """Lets a page open another one (e.g. "Open in chat" on a running model).

    Signals:
        open_page(str, object): page key and an argument for that page (or None).
        running_changed(): a model was launched or stopped; pages that list models reload.
        downloads_changed(): a download was started; the downloads page reloads.
    """

    open_page = Signal(str, object)
    running_changed = Signal()
    downloads_changed = Signal()

    def go(self, key: str, argument: object = None) -> None:
        self.open_page.emit(key, argument)


@dataclass
class GuiContext:
    connection: Connection
    """The one owner of the server link, its key and the window's preferences."""
    tasks: Tasks
    translations: Translations
    navigator: Navigator

    @property
    def session(self) -> ApiSession:
        """The link every page calls the server through."""
        return self.connection.session

    @property
    def server(self) -> LocalServer | None:
        """The local server child; None when the window talks to a server elsewhere."""
        return self.connection.server

    @property
    def settings(self) -> Settings:
        """The settings as read at start, with the window's preferences as changed since; the
        server owns its own settings (PATCH /v1/xindesk/settings)."""
        return self.connection.settings
