"""What every page is given: the server link, the task runner, settings and navigation.

State is passed in (one `GuiContext` per window), never kept in module globals, so a test can
build a window against any server.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from desktop.api.settings import Settings
from desktop.core.paths import AppPaths
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
    session: ApiSession
    tasks: Tasks
    translations: Translations
    navigator: Navigator
    paths: AppPaths
    settings: Settings
    """The settings file as read at start; the server owns writes (through PATCH /settings)."""
    server: LocalServer | None
    """The local server child; None when the window talks to a remote server."""
