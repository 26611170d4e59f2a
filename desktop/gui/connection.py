"""Which server the window talks to, with which key: the one owner of that choice.

`Connection` makes the first choice (the endpoint given, else the remote server the settings
name, else the server on this computer, which the window starts as a child), loads the key for
it, switches servers (testing another one before using it, keeping its key in the keychain),
takes a new key of the server in use, and keeps the window's own preferences (`ui.*`).

Those preferences are the window's, wherever its server runs: they change in `settings` at once,
and are saved where the window reads them at its next start. The server on this computer owns
the settings file, so while the window uses it they go through it (PATCH
/v1/xindesk/settings); while it uses a server elsewhere, whose settings are not this window's,
they go into this computer's settings file directly.

The app makes one `Connection` and hands it to the pages in `GuiContext`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from PySide6.QtCore import QObject, Signal

from desktop.api.admin import SettingsPatch
from desktop.api.settings import Settings, UiSettings
from desktop.client import ClientError, XinDeskClient
from desktop.core.paths import AppPaths
from desktop.core.settings import SettingsStore
from desktop.gui.local_server import LocalServer, LocalServerStatus, answers_status
from desktop.gui.session import ApiSession
from desktop.gui.tasks import Tasks

log = logging.getLogger("xindesk.gui.connection")

PROBE_TIMEOUT_S = 10

#: Saves window preferences; callable off the GUI thread.
UiWriter = Callable[[SettingsPatch], object]


# -- keys -------------------------------------------------------------------------------------


def local_api_key() -> str | None:
    """The key the local server uses: the environment's, else the keychain's (if any)."""
    from desktop.core.secrets import configured_api_key

    return configured_api_key()


def remote_api_key() -> str | None:
    """The key kept for the remote server, if the keychain has one."""
    from desktop.core.secrets import REMOTE_API_KEY, SecretStore, SecretStoreUnavailable

    try:
        return SecretStore().get(REMOTE_API_KEY)
    except SecretStoreUnavailable:
        return None


def store_remote_key(key: str | None) -> str | None:
    """Keep the remote server's key in the keychain; returns why not, when it cannot."""
    from desktop.core.secrets import REMOTE_API_KEY, SecretStore, SecretStoreUnavailable

    try:
        if key:
            SecretStore().set(REMOTE_API_KEY, key)
        else:
            SecretStore().delete(REMOTE_API_KEY)
    except SecretStoreUnavailable as exc:
        return str(exc)
    return None


# -- testing a server -------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """How a server answered a connection test."""

    reachable: bool
    status: int = 200
    detail: str = ""
    server: str = ""
    """"XinDesk <version>" or "Xinference"."""

    @property
    def ok(self) -> bool:
        """It answers and accepts the key."""
        return self.reachable and self.status < 400


def probe_server(url: str, key: str | None) -> Probe:
    """Ask `url` for its models (which needs the key where one is set) and what it is.

    Blocking; call it off the GUI thread.
    """
    try:
        with XinDeskClient(url, key, timeout=PROBE_TIMEOUT_S) as client:
            client.list_models()
            try:
                version = client.server_info().version
            except ClientError as exc:
                if exc.status != 404:
                    raise
                return Probe(reachable=True, server="Xinference")
            return Probe(reachable=True, server=f"XinDesk {version}")
    except ClientError as exc:
        if exc.status == 0:
            # Refused: the page says so in its own words; the client's add nothing.
            return Probe(reachable=False, status=0)
        return Probe(reachable=True, status=exc.status, detail=exc.detail)
    except (httpx.HTTPError, ValueError) as exc:
        # Timeouts, refused TLS, an address httpx cannot even parse: all "cannot reach".
        return Probe(reachable=False, status=0, detail=str(exc))


@dataclass(frozen=True)
class RemoteSwitch:
    """The outcome of switching to another server (made only when `probe.ok`)."""

    url: str
    key: str | None
    probe: Probe
    keyring_problem: str | None = None


@dataclass(frozen=True)
class LocalSwitch:
    """The outcome of switching back to this computer's server."""

    url: str
    running: bool
    """A server runs there (or this window can start one); else the choice is only saved."""
    key: str | None


# -- the owner --------------------------------------------------------------------------------


class Connection(QObject):
    """The window's link to one server, and its preferences.

    `session` is the link pages call through; `server` the local server child (None while the
    window uses a server elsewhere, or one it was given); `settings` the settings as read at
    start, with the window's own preferences as changed since.

    Signals:
        preferences_changed(): a window preference changed (which server it uses, its
            language ...); the session's `changed` says when the server link did.
    """

    preferences_changed = Signal()

    def __init__(
        self,
        paths: AppPaths,
        settings: Settings,
        tasks: Tasks,
        *,
        endpoint: str | None = None,
        api_key: str | None = None,
        server_environment: dict[str, str] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._paths = paths
        self._settings = settings
        self._tasks = tasks
        key_loader = None
        self.server: LocalServer | None = None
        if endpoint is None and settings.ui.connection == "remote" and settings.ui.remote_url:
            endpoint, key_loader = settings.ui.remote_url, remote_api_key
        if endpoint is None:
            self.server = LocalServer(settings.server.port, self, environment=server_environment)
            endpoint, key_loader = self.server.url, local_api_key
        self.session = ApiSession(endpoint, api_key, self, key_loader=key_loader)
        if self.server is not None:
            self.server.state_changed.connect(self._server_state_changed)

    def _server_state_changed(self, state: LocalServerStatus) -> None:
        """The window asks its pages to load again once its own server answers: they asked
        first while it was still starting, and what they showed then is stale."""
        server = self.server
        up = (LocalServerStatus.RUNNING, LocalServerStatus.ATTACHED)
        if server is not None and state in up and server.url == self.session.endpoint:
            self.session.reachable()

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def remote(self) -> bool:
        """The window uses a server elsewhere (the saved choice)."""
        return self._settings.ui.connection == "remote"

    @property
    def owns_server(self) -> bool:
        """The window talks to the local server it started (and so can restart it)."""
        server = self.server
        return server is not None and server.owned and server.url == self.session.endpoint

    def close(self) -> None:
        """Stop the local server if this window started it, and close the clients."""
        if self.server is not None:
            self.server.stop()
        self.session.close()

    # -- the window's preferences -------------------------------------------------------------

    def save_ui(self, patch: SettingsPatch, on_error: Callable[[str], None]) -> None:
        """Change window preferences now, and save them where the next start reads them."""
        self._remember_ui(patch)
        write = self._ui_writer()
        self._tasks.run(lambda: write(patch), None, on_error)

    def _remember_ui(self, patch: SettingsPatch) -> None:
        ui = UiSettings.model_validate({**self._settings.ui.model_dump(), **patch})
        self._settings = self._settings.model_copy(update={"ui": ui})
        self.preferences_changed.emit()

    def _ui_writer(self) -> UiWriter:
        """Where preferences are saved, chosen now (on the GUI thread) for a call later."""
        if not self.remote:
            client = self.session.client
            return lambda patch: client.update_settings({"ui": patch})
        store = SettingsStore(self._paths)
        return lambda patch: store.update({"ui": patch})

    # -- switching servers --------------------------------------------------------------------

    def test(
        self,
        url: str,
        key: str | None,
        on_done: Callable[[Probe], None],
        on_error: Callable[[str], None],
    ) -> None:
        """Check that `url` answers and accepts `key`, without switching to it."""
        self._tasks.run(lambda: probe_server(url, key), on_done, on_error)

    def switch_to_remote(
        self,
        url: str,
        key: str | None,
        on_done: Callable[[RemoteSwitch], None],
        on_error: Callable[[str], None],
    ) -> None:
        """Use the server at `url` from now on, once it answers and accepts `key`: its key goes
        into the keychain, the choice into the settings."""
        write = self._ui_writer()
        choice: SettingsPatch = {"connection": "remote", "remote_url": url}

        def work() -> RemoteSwitch:
            probe = probe_server(url, key)
            if not probe.ok:
                return RemoteSwitch(url, key, probe)
            keyring_problem = store_remote_key(key)
            write(choice)
            return RemoteSwitch(url, key, probe, keyring_problem)

        def done(switch: RemoteSwitch) -> None:
            if switch.probe.ok:
                self._remember_ui(choice)
                self.session.connect_to(url, key)
            on_done(switch)

        self._tasks.run(work, done, on_error)

    def switch_to_local(
        self, on_done: Callable[[LocalSwitch], None], on_error: Callable[[str], None]
    ) -> None:
        """Use the server on this computer from now on: the one this window runs, or one that
        answers on the port. Without either the choice is saved for the next start."""
        server = self.server
        url = server.url if server is not None else f"http://127.0.0.1:{self._settings.server.port}"
        write = self._ui_writer()
        choice: SettingsPatch = {"connection": "local"}

        def work() -> LocalSwitch:
            write(choice)
            running = server is not None or answers_status(url)
            return LocalSwitch(url, running, local_api_key() if running else None)

        def done(switch: LocalSwitch) -> None:
            self._remember_ui(choice)
            if switch.running:
                self.session.connect_to(switch.url, switch.key)
                stopped = (LocalServerStatus.STOPPED, LocalServerStatus.FAILED)
                if server is not None and server.state in stopped:
                    server.start()
            on_done(switch)

        self._tasks.run(work, done, on_error)

    def use_key(self, key: str | None, *, kept: bool = True) -> None:
        """The server in use changed its key: send `key` (None: none) from now on.

        A key the server could not keep in a keychain (`kept` False) is gone when it stops;
        the window hands it to the local server it started at each restart it does, so the key
        lasts as long as the app runs.
        """
        self.session.connect_to(self.session.endpoint, key)
        if key is not None and self.server is not None and self.owns_server:
            self.server.set_api_key(None if kept else key)
