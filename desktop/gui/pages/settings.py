"""The Settings page: language, server connection, models folder, downloads, hub tokens, how
the window behaves, and what the server was built for (`settings_build.BuildCard`).

Server settings go through the server (PATCH /v1/xindesk/settings), which owns the settings
file. The window's own preferences (`ui.*`) and which server it uses are the connection's
(`desktop.gui.connection`): this page only asks it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QSystemTrayIcon,
    QWidget,
)

from desktop.api.admin import HubTokens, HubTokenSet, SettingsPatch, SettingsUpdate, TokenState
from desktop.api.hubs import DOWNLOAD_SOURCES, HUB_NAMES, HubName
from desktop.api.library import ModelsFolderMoved
from desktop.api.settings import Settings
from desktop.client import ClientError, XinDeskClient
from desktop.gui import autostart
from desktop.gui.connection import LocalSwitch, Probe, RemoteSwitch
from desktop.gui.context import GuiContext
from desktop.gui.pages.base import Page
from desktop.gui.pages.settings_build import BuildCard
from desktop.gui.widgets.common import Banner, heading, hint, scrolling_column, section

log = logging.getLogger("xindesk.gui.settings")

HF_MIRROR = "https://hf-mirror.com"
LANGUAGE_CHOICES = ("en", "zh_CN", "system")
URL_SCHEMES = ("http", "https")
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


# -- work done off the GUI thread -------------------------------------------------------------


@dataclass(frozen=True)
class ServerSnapshot:
    """The server-side settings the page shows, read in one go."""

    xindesk: bool
    """False for a server without XinDesk's routes (a real Xinference)."""
    settings: Settings | None = None
    models_dir: str | None = None
    tokens: HubTokens | None = None


def token_state(tokens: HubTokens, hub: HubName) -> TokenState:
    return tokens.huggingface if hub == "huggingface" else tokens.modelscope


def read_snapshot(client: XinDeskClient) -> ServerSnapshot:
    try:
        settings = client.get_settings()
    except ClientError as exc:
        if exc.status == 404:
            return ServerSnapshot(xindesk=False)
        raise
    info = client.server_info()
    return ServerSnapshot(
        xindesk=True,
        settings=settings,
        models_dir=info.models_dir,
        tokens=client.hub_tokens(),
    )


def url_problem(value: str, schemes: tuple[str, ...]) -> bool:
    """True when `value` is not an absolute address with one of `schemes` and a host."""
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        return True
    return parts.scheme.lower() not in schemes or not parts.hostname


# -- the page ---------------------------------------------------------------------------------


class SettingsPage(Page):
    """Everything a user can set, in plain words."""

    key = "settings"

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.autostart: autostart.Autostart = autostart.for_this_system()
        self._snapshot: ServerSnapshot | None = None
        self._tokens: HubTokens | None = None
        self._fill_downloads = True
        self._load_error = False

        content, layout = scrolling_column(self)

        self.heading = heading(content)
        self.banner = Banner(content)
        self.remote_hint = hint(content)
        layout.addWidget(self.heading)
        layout.addWidget(self.banner)
        layout.addWidget(self.remote_hint)

        layout.addWidget(self._build_language(content))
        layout.addWidget(self._build_connection(content))
        layout.addWidget(self._build_models_folder(content))
        layout.addWidget(self._build_downloads(content))
        layout.addWidget(self._build_tokens(content))
        layout.addWidget(self._build_window(content))
        self.build_card = BuildCard(ctx, content)
        layout.addWidget(self.build_card)
        layout.addStretch(1)

        ctx.session.changed.connect(self._session_changed)
        self._active = False
        self.retranslate()

    # -- building -----------------------------------------------------------------------------

    def _build_language(self, parent: QWidget) -> QFrame:
        box, self.language_title, layout = section(parent)
        self.language = QComboBox(box)
        for choice in LANGUAGE_CHOICES:
            self.language.addItem("", choice)
        self.language.setCurrentIndex(max(0, self.language.findData(self.ctx.settings.ui.language)))
        self.language.currentIndexChanged.connect(self._language_chosen)
        row = QHBoxLayout()
        row.addWidget(self.language)
        row.addStretch(1)
        layout.addLayout(row)
        return box

    def _build_connection(self, parent: QWidget) -> QFrame:
        box, self.connection_title, layout = section(parent)
        self.use_local = QRadioButton(box)
        self.use_remote = QRadioButton(box)
        group = QButtonGroup(box)
        group.addButton(self.use_local)
        group.addButton(self.use_remote)
        remote = self.ctx.settings.ui.connection == "remote"
        (self.use_remote if remote else self.use_local).setChecked(True)
        self.use_remote.toggled.connect(self._connection_choice_changed)
        self.remote_url = QLineEdit(self.ctx.settings.ui.remote_url or "", box)
        self.remote_key = QLineEdit(box)
        self.remote_key.setEchoMode(QLineEdit.EchoMode.Password)
        if remote and self.ctx.session.api_key:
            self.remote_key.setText(self.ctx.session.api_key)
        self.remote_form = QWidget(box)
        form = QFormLayout(self.remote_form)
        form.setContentsMargins(24, 0, 0, 0)
        self.remote_url_label = QLabel(self.remote_form)
        self.remote_key_label = QLabel(self.remote_form)
        form.addRow(self.remote_url_label, self.remote_url)
        form.addRow(self.remote_key_label, self.remote_key)
        self.test_button = QPushButton(box)
        self.test_button.clicked.connect(self.test_connection)
        self.switch_button = QPushButton(box)
        self.switch_button.setObjectName("primary")
        self.switch_button.clicked.connect(self.switch_server)
        self.connection_state = hint(box)
        buttons = QHBoxLayout()
        buttons.addWidget(self.test_button)
        buttons.addWidget(self.switch_button)
        buttons.addStretch(1)
        layout.addWidget(self.use_local)
        layout.addWidget(self.use_remote)
        layout.addWidget(self.remote_form)
        layout.addLayout(buttons)
        layout.addWidget(self.connection_state)
        return box

    def _build_models_folder(self, parent: QWidget) -> QFrame:
        box, self.folder_title, layout = section(parent)
        self.folder_path = QLabel(box)
        # Mostly the server's folder path: data, not words to translate.
        self.folder_path.setProperty("xindesk_data", True)
        self.folder_path.setWordWrap(True)
        self.folder_button = QPushButton(box)
        self.folder_button.clicked.connect(self._choose_folder)
        self.folder_busy = QProgressBar(box)
        self.folder_busy.setRange(0, 0)  # no figures: the move reports only when it is done
        self.folder_busy.setMaximumWidth(160)
        self.folder_busy.hide()
        row = QHBoxLayout()
        row.addWidget(self.folder_path, 1)
        row.addWidget(self.folder_busy)
        row.addWidget(self.folder_button)
        self.folder_hint = hint(box)
        layout.addLayout(row)
        layout.addWidget(self.folder_hint)
        self.folder_box = box
        return box

    def _build_downloads(self, parent: QWidget) -> QFrame:
        box, self.downloads_title, layout = section(parent)
        form = QFormLayout()
        self.source = QComboBox(box)
        for choice in DOWNLOAD_SOURCES:
            self.source.addItem("", choice)
        self.hf_endpoint = QLineEdit(box)
        self.hf_endpoint.setPlaceholderText("https://huggingface.co")
        self.mirror_button = QPushButton(box)
        self.mirror_button.clicked.connect(lambda: self.hf_endpoint.setText(HF_MIRROR))
        mirror_row = QHBoxLayout()
        mirror_row.addWidget(self.hf_endpoint, 1)
        mirror_row.addWidget(self.mirror_button)
        self.modelscope_endpoint = QLineEdit(box)
        self.modelscope_endpoint.setPlaceholderText("https://www.modelscope.cn")
        self.proxy = QLineEdit(box)
        self.proxy.setPlaceholderText("http://127.0.0.1:7890")
        self.max_parallel = QSpinBox(box)
        self.max_parallel.setRange(1, 8)
        self.max_parallel.setMaximumWidth(90)
        self.source_label = QLabel(box)
        self.hf_label = QLabel(box)
        self.modelscope_label = QLabel(box)
        self.proxy_label = QLabel(box)
        self.parallel_label = QLabel(box)
        form.addRow(self.source_label, self.source)
        form.addRow(self.hf_label, mirror_row)
        form.addRow(self.modelscope_label, self.modelscope_endpoint)
        form.addRow(self.proxy_label, self.proxy)
        form.addRow(self.parallel_label, self.max_parallel)
        self.downloads_save = QPushButton(box)
        self.downloads_save.setObjectName("primary")
        self.downloads_save.clicked.connect(self.save_downloads)
        row = QHBoxLayout()
        row.addWidget(self.downloads_save)
        row.addStretch(1)
        layout.addLayout(form)
        layout.addLayout(row)
        self.downloads_box = box
        return box

    def _build_tokens(self, parent: QWidget) -> QFrame:
        box, self.tokens_title, layout = section(parent)
        self.tokens_hint = hint(box)
        layout.addWidget(self.tokens_hint)
        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        self.token_labels: dict[HubName, QLabel] = {}
        self.token_fields: dict[HubName, QLineEdit] = {}
        self.token_states: dict[HubName, QLabel] = {}
        self.token_save: dict[HubName, QPushButton] = {}
        self.token_remove: dict[HubName, QPushButton] = {}
        for row, hub in enumerate(HUB_NAMES):
            label = QLabel(box)
            token = QLineEdit(box)
            token.setEchoMode(QLineEdit.EchoMode.Password)
            state = QLabel(box)
            save = QPushButton(box)
            remove = QPushButton(box)
            save.clicked.connect(lambda _=False, name=hub: self.save_token(name))
            remove.clicked.connect(lambda _=False, name=hub: self.remove_token(name))
            grid.addWidget(label, row, 0)
            grid.addWidget(token, row, 1)
            grid.addWidget(save, row, 2)
            grid.addWidget(remove, row, 3)
            grid.addWidget(state, row, 4)
            self.token_labels[hub] = label
            self.token_fields[hub] = token
            self.token_states[hub] = state
            self.token_save[hub] = save
            self.token_remove[hub] = remove
        layout.addLayout(grid)
        self.tokens_box = box
        return box

    def _build_window(self, parent: QWidget) -> QFrame:
        box, self.window_title, layout = section(parent)
        self.keep_in_tray = QCheckBox(box)
        self.keep_in_tray.setChecked(self.ctx.settings.ui.keep_running_in_tray)
        self.keep_in_tray.toggled.connect(self._keep_in_tray_changed)
        # Without a tray area, closing the window always quits.
        self.keep_in_tray.setEnabled(QSystemTrayIcon.isSystemTrayAvailable())
        self.tray_hint = hint(box)
        self.start_at_login = QCheckBox(box)
        self.start_at_login.setChecked(self._autostart_enabled())
        self.start_at_login.toggled.connect(self._start_at_login_changed)
        layout.addWidget(self.keep_in_tray)
        layout.addWidget(self.tray_hint)
        layout.addWidget(self.start_at_login)
        return box

    # -- Page ---------------------------------------------------------------------------------

    def title(self) -> str:
        return self.tr("Settings")

    def retranslate(self) -> None:
        self.heading.setText(self.tr("Settings"))

        self.language_title.setText(self.tr("Language"))
        # Each language is named in itself, so anyone can find theirs whatever is shown now.
        names = {"en": "English", "zh_CN": "简体中文", "system": self.tr("Follow the system")}
        for index, choice in enumerate(LANGUAGE_CHOICES):
            self.language.setItemText(index, names[choice])

        self.connection_title.setText(self.tr("Server"))
        self.use_local.setText(self.tr("This computer (XinDesk runs the models here)"))
        self.use_remote.setText(
            self.tr("Another server: another XinDesk, or an Xinference cluster")
        )
        self.remote_url_label.setText(self.tr("Address"))
        self.remote_url.setPlaceholderText("http://192.168.1.20:9997")
        self.remote_key_label.setText(self.tr("API key"))
        self.remote_key.setPlaceholderText(self.tr("Leave empty if the server needs no key"))
        self.test_button.setText(self.tr("Test connection"))

        self.folder_title.setText(self.tr("Models folder"))
        self.folder_button.setText(self.tr("Change…"))
        self.folder_hint.setText(
            self.tr(
                "Where downloaded models are kept. Changing it moves the models already "
                "downloaded into the new folder."
            )
        )

        self.downloads_title.setText(self.tr("Downloads"))
        self.source_label.setText(self.tr("Download models from"))
        sources = {
            "auto": self.tr("Automatic (the one that answers)"),
            "huggingface": self.tr("Hugging Face"),
            "modelscope": self.tr("ModelScope (faster in mainland China)"),
        }
        for index, choice in enumerate(DOWNLOAD_SOURCES):
            self.source.setItemText(index, sources[choice])
        self.hf_label.setText(self.tr("Hugging Face mirror"))
        self.mirror_button.setText(self.tr("Use hf-mirror.com"))
        self.modelscope_label.setText(self.tr("ModelScope address"))
        self.proxy_label.setText(self.tr("Proxy"))
        self.parallel_label.setText(self.tr("Downloads at the same time"))
        self.downloads_save.setText(self.tr("Save download settings"))

        self.tokens_title.setText(self.tr("Hub access tokens"))
        self.tokens_hint.setText(
            self.tr(
                "Only needed for gated or private models. Tokens are kept in the system "
                "keychain and are never shown again."
            )
        )
        self.token_labels["huggingface"].setText(self.tr("Hugging Face token"))
        self.token_labels["modelscope"].setText(self.tr("ModelScope token"))
        for hub in HUB_NAMES:
            self.token_fields[hub].setPlaceholderText(self.tr("Paste a token to save it"))
            self.token_save[hub].setText(self.tr("Save"))
            self.token_remove[hub].setText(self.tr("Remove"))

        self.window_title.setText(self.tr("Window"))
        self.keep_in_tray.setText(
            self.tr("Keep the server running in the tray when I close the window")
        )
        self.tray_hint.setText(
            self.tr(
                "Models stay available to FastGPT and other apps while the window is closed. "
                "Quit from the tray icon's menu."
            )
            if QSystemTrayIcon.isSystemTrayAvailable()
            else self.tr(
                "This desktop has no tray area, so closing the window quits XinDesk and stops "
                "the server it started."
            )
        )
        self.start_at_login.setText(self.tr("Start XinDesk when I log in"))
        self._render()

    def activate(self, argument: object = None) -> None:
        self._active = True
        self._fill_downloads = True
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
        self._fill_downloads = True
        if self._active:
            self.reload()
            self.build_card.reload()
        self._render()

    def _loaded(self, snapshot: ServerSnapshot) -> None:
        self._snapshot = snapshot
        if self._load_error:
            self._load_error = False
            self.banner.clear()
        # Filled when the page opens or the server changes, not on every reload: saving a
        # token must not undo download settings typed but not saved yet.
        if snapshot.settings is not None and self._fill_downloads:
            self._fill_downloads = False
            downloads = snapshot.settings.downloads
            self.source.setCurrentIndex(max(0, self.source.findData(downloads.source)))
            self.hf_endpoint.setText(downloads.hf_endpoint or "")
            self.modelscope_endpoint.setText(downloads.modelscope_endpoint or "")
            self.proxy.setText(downloads.proxy or "")
            self.max_parallel.setValue(downloads.max_parallel)
        self._tokens = snapshot.tokens
        if not snapshot.xindesk:
            self.build_card.show_not_xindesk()
        self._render()

    def _load_failed(self, message: str) -> None:
        self._load_error = True
        self.banner.show_error(message)

    def _render(self) -> None:
        snapshot = self._snapshot
        endpoint = self.ctx.session.endpoint
        remote = self.ctx.settings.ui.connection == "remote"
        if remote:
            self.remote_hint.setText(
                self.tr(
                    "The models folder, downloads and tokens below are those of the server at {0}."
                ).format(endpoint)
            )
        self.remote_hint.setVisible(remote)

        wants_remote = self.use_remote.isChecked()
        self.remote_form.setEnabled(wants_remote)
        self.test_button.setVisible(wants_remote)
        self.switch_button.setText(
            self.tr("Connect to this server") if wants_remote else self.tr("Use this computer")
        )
        # Already on this computer: nothing to switch to.
        self.switch_button.setVisible(wants_remote or remote)
        self.connection_state.setText(
            self.tr("Now using the server at {0}.").format(endpoint)
            if remote
            else self.tr("Now using the server on this computer ({0}).").format(endpoint)
        )

        xindesk = snapshot is None or snapshot.xindesk
        for box in (self.folder_box, self.downloads_box, self.tokens_box):
            box.setEnabled(xindesk)
        if snapshot is not None and not snapshot.xindesk:
            self.folder_path.setText(
                self.tr("This server is not XinDesk: change its settings on that server.")
            )
        elif snapshot is not None and snapshot.models_dir:
            self.folder_path.setText(snapshot.models_dir)
        # A folder dialog browses this computer: it can only pick a folder for a server here.
        self.folder_button.setEnabled(not remote and not self.folder_busy.isVisible())

        for hub in HUB_NAMES:
            state = token_state(self._tokens, hub) if self._tokens is not None else None
            if state is not None and state.set:
                text = self.tr("Saved")
            elif state is not None and state.environment:
                text = self.tr("From the server's environment")
            else:
                text = self.tr("Not set")
            self.token_states[hub].setText(text)
            self.token_remove[hub].setEnabled(state is not None and state.set)

    # -- saving the window's preferences ------------------------------------------------------

    def _save_ui(self, patch: SettingsPatch) -> None:
        """Save window preferences where this window reads them at its next start."""
        self.ctx.connection.save_ui(patch, self._save_failed)

    def _save_failed(self, message: str) -> None:
        self.banner.show_error(self.tr("Could not save the setting: {0}").format(message))

    # -- language -----------------------------------------------------------------------------

    def _language_chosen(self, index: int) -> None:
        choice = str(self.language.itemData(index))
        self.ctx.translations.apply(choice)
        self._save_ui({"language": choice})

    # -- server connection --------------------------------------------------------------------

    def _connection_choice_changed(self) -> None:
        self.banner.clear()
        self._render()

    def _remote_input(self) -> tuple[str, str | None] | None:
        url = self.remote_url.text().strip().rstrip("/")
        if url.endswith("/v1"):
            # People paste the base URL they give FastGPT; the server's address is without it.
            url = url[: -len("/v1")]
        if url_problem(url, URL_SCHEMES):
            self.banner.show_error(
                self.tr(
                    "Enter the server's address starting with http:// or https://, "
                    "e.g. http://192.168.1.20:9997"
                )
            )
            return None
        return url, self.remote_key.text().strip() or None

    def test_connection(self) -> None:
        """Check that the address answers and accepts the key, without switching to it."""
        given = self._remote_input()
        if given is None:
            return
        url, key = given
        self._connection_busy(True)
        self.ctx.connection.test(
            url, key, lambda probe: self._tested(url, probe), self._connection_failed
        )

    def _tested(self, url: str, probe: Probe) -> None:
        self._connection_busy(False)
        message = self._probe_problem(url, probe)
        if message:
            self.banner.show_error(message)
        else:
            self.banner.show_info(
                self.tr("Connected: {0} answers at {1}.").format(probe.server, url)
            )

    def _probe_problem(self, url: str, probe: Probe) -> str | None:
        if not probe.reachable:
            message = self.tr(
                "Cannot reach {0}. Check the address, that the server is running, and that "
                "it allows other computers (LAN access)."
            ).format(url)
            return f"{message} ({probe.detail})" if probe.detail else message
        if probe.status in (401, 403):
            return self.tr("{0} refused the API key. Check the key and try again.").format(url)
        if probe.status == 404:
            return self.tr("{0} answers, but it is not an XinDesk or Xinference server.").format(
                url
            )
        if probe.status >= 400:
            return self.tr("{0} answered with an error: {1}").format(url, probe.detail)
        return None

    def switch_server(self) -> None:
        """Use the chosen server from now on (a remote one only once it answers)."""
        self.banner.clear()
        if self.use_remote.isChecked():
            self._switch_to_remote()
        else:
            self._switch_to_local()

    def _switch_to_remote(self) -> None:
        given = self._remote_input()
        if given is None:
            return
        url, key = given
        self._connection_busy(True)
        self.ctx.connection.switch_to_remote(
            url, key, self._switched_remote, self._connection_failed
        )

    def _switched_remote(self, switch: RemoteSwitch) -> None:
        self._connection_busy(False)
        message = self._probe_problem(switch.url, switch.probe)
        if message:
            self.banner.show_error(message)
            return
        if switch.keyring_problem:
            self.banner.show_error(
                self.tr(
                    "Connected to {0}, but the key could not be kept in the keychain, so you "
                    "will need to enter it again next time: {1}"
                ).format(switch.url, switch.keyring_problem)
            )
        else:
            self.banner.show_info(
                self.tr("Connected to {0} ({1}).").format(switch.url, switch.probe.server)
            )

    def _switch_to_local(self) -> None:
        self._connection_busy(True)
        self.ctx.connection.switch_to_local(self._switched_local, self._connection_failed)

    def _switched_local(self, switch: LocalSwitch) -> None:
        self._connection_busy(False)
        if not switch.running:
            self.banner.show_info(
                self.tr(
                    "Saved. Quit XinDesk (from the tray icon's menu) and open it again to start "
                    "the server on this computer."
                )
            )
            self._render()
            return
        self.banner.show_info(self.tr("Now using the server on this computer."))

    def _connection_busy(self, busy: bool) -> None:
        self.test_button.setEnabled(not busy)
        self.switch_button.setEnabled(not busy)

    def _connection_failed(self, message: str) -> None:
        self._connection_busy(False)
        self.banner.show_error(message)

    # -- models folder ------------------------------------------------------------------------

    def _choose_folder(self) -> None:
        start = self._snapshot.models_dir if self._snapshot else ""
        folder = QFileDialog.getExistingDirectory(
            self, self.tr("Choose the models folder"), start or ""
        )
        if folder:
            self.change_models_folder(folder)

    def change_models_folder(self, folder: str) -> None:
        """Move the downloaded models to `folder` and use it from now on (after confirming)."""
        answer = QMessageBox.question(
            self,
            self.tr("Move the models?"),
            self.tr(
                "Your downloaded models will be moved to {0}. Large models can take a while "
                "to move to another disk. Running models must be stopped first. Continue?"
            ).format(folder),
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.banner.clear()
        self.folder_busy.show()
        self.folder_button.setEnabled(False)
        self.folder_path.setText(self.tr("Moving the models to {0}…").format(folder))
        client = self.ctx.session.slow_client
        self.ctx.tasks.run(
            lambda: client.move_models_folder(folder, "move"),
            self._folder_moved,
            self._folder_failed,
        )

    def _folder_moved(self, moved: ModelsFolderMoved) -> None:
        self.folder_busy.hide()
        self.banner.show_info(self.tr("Models folder is now {0}.").format(moved.models_dir))
        self.ctx.navigator.downloads_changed.emit()
        self.reload()

    def _folder_failed(self, message: str) -> None:
        self.folder_busy.hide()
        self.banner.show_error(message)
        self.reload()

    # -- downloads ----------------------------------------------------------------------------

    def save_downloads(self) -> None:
        """Check the addresses, then save the download settings on the server."""
        hf = self.hf_endpoint.text().strip().rstrip("/")
        modelscope = self.modelscope_endpoint.text().strip().rstrip("/")
        proxy = self.proxy.text().strip()
        problems = []
        if hf and url_problem(hf, URL_SCHEMES):
            problems.append(
                self.tr(
                    "The Hugging Face mirror must be a web address starting with http:// or "
                    "https://, e.g. https://hf-mirror.com"
                )
            )
        if modelscope and url_problem(modelscope, URL_SCHEMES):
            problems.append(
                self.tr(
                    "The ModelScope address must be a web address starting with http:// or "
                    "https://, e.g. https://www.modelscope.cn"
                )
            )
        if proxy and url_problem(proxy, PROXY_SCHEMES):
            problems.append(
                self.tr(
                    "The proxy must look like http://host:port (or https://, socks5://), "
                    "e.g. http://127.0.0.1:7890"
                )
            )
        if problems:
            self.banner.show_error("\n".join(problems))
            return
        patch: SettingsPatch = {
            "downloads": {
                "source": str(self.source.currentData()),
                "hf_endpoint": hf or None,
                "modelscope_endpoint": modelscope or None,
                "proxy": proxy or None,
                "max_parallel": self.max_parallel.value(),
            }
        }
        self.banner.clear()
        self.downloads_save.setEnabled(False)
        client = self.ctx.session.client
        self.ctx.tasks.run(
            lambda: client.update_settings(patch), self._downloads_saved, self._downloads_failed
        )

    def _downloads_saved(self, _update: SettingsUpdate) -> None:
        self.downloads_save.setEnabled(True)
        self.banner.show_info(self.tr("Download settings saved."))
        self._fill_downloads = True
        self.reload()

    def _downloads_failed(self, message: str) -> None:
        self.downloads_save.setEnabled(True)
        self.banner.show_error(message)

    # -- hub tokens ---------------------------------------------------------------------------

    def save_token(self, hub: HubName) -> None:
        field = self.token_fields[hub]
        token = field.text().strip()
        if not token:
            self.banner.show_error(self.tr("Paste the token into the field first."))
            return
        # The token leaves the window at once: nothing shows it after this.
        field.clear()
        self.banner.clear()
        client = self.ctx.session.client
        self.ctx.tasks.run(
            lambda: client.set_hub_token(hub, token), self._token_saved, self._token_failed
        )

    def remove_token(self, hub: HubName) -> None:
        self.banner.clear()
        client = self.ctx.session.client
        self.ctx.tasks.run(
            lambda: client.delete_hub_token(hub), self._token_saved, self._token_failed
        )

    def _token_saved(self, _result: HubTokenSet) -> None:
        self.reload()

    def _token_failed(self, message: str) -> None:
        self.banner.show_error(message)

    # -- window -------------------------------------------------------------------------------

    def _keep_in_tray_changed(self, keep: bool) -> None:
        self._save_ui({"keep_running_in_tray": keep})

    def _autostart_enabled(self) -> bool:
        try:
            return self.autostart.is_enabled()
        except OSError as exc:
            log.info("cannot read the start-at-login entry: %s", exc)
            return False

    def _start_at_login_changed(self, start: bool) -> None:
        try:
            if start:
                self.autostart.enable()
            else:
                self.autostart.disable()
        except OSError as exc:
            self.banner.show_error(
                self.tr("Could not change starting at login: {0}").format(str(exc))
            )
            self.start_at_login.blockSignals(True)
            self.start_at_login.setChecked(not start)
            self.start_at_login.blockSignals(False)
            return
        self._save_ui({"start_at_login": start})
