"""The Settings page's server card: this computer's server, or another XinDesk or Xinference.

The card only asks; the connection (`desktop.gui.connection`) tests the other server, keeps its
key and switches the window over.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QWidget,
)

from desktop.api.settings import WEB_SCHEMES
from desktop.gui.connection import LocalSwitch, Probe, RemoteSwitch
from desktop.gui.context import GuiContext
from desktop.gui.pages.settings.section import ServerSnapshot, SettingsSection, url_problem
from desktop.gui.widgets.common import Banner, hint


class ServerSection(SettingsSection):
    """Which server the window uses, with a test before switching to another one."""

    def __init__(self, ctx: GuiContext, banner: Banner, parent: QWidget | None = None) -> None:
        super().__init__(ctx, banner, parent)
        self.use_local = QRadioButton(self)
        self.use_remote = QRadioButton(self)
        group = QButtonGroup(self)
        group.addButton(self.use_local)
        group.addButton(self.use_remote)
        remote = ctx.connection.remote
        (self.use_remote if remote else self.use_local).setChecked(True)
        self.use_remote.toggled.connect(self._choice_changed)
        self.remote_url = QLineEdit(ctx.settings.ui.remote_url or "", self)
        self.remote_key = QLineEdit(self)
        self.remote_key.setEchoMode(QLineEdit.EchoMode.Password)
        if remote and ctx.session.api_key:
            self.remote_key.setText(ctx.session.api_key)
        self.remote_form = QWidget(self)
        form = QFormLayout(self.remote_form)
        form.setContentsMargins(24, 0, 0, 0)
        self.remote_url_label = QLabel(self.remote_form)
        self.remote_key_label = QLabel(self.remote_form)
        form.addRow(self.remote_url_label, self.remote_url)
        form.addRow(self.remote_key_label, self.remote_key)
        self.test_button = QPushButton(self)
        self.test_button.clicked.connect(self.test_connection)
        self.switch_button = QPushButton(self)
        self.switch_button.setObjectName("primary")
        self.switch_button.clicked.connect(self.switch_server)
        self.state = hint(self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.test_button)
        buttons.addWidget(self.switch_button)
        buttons.addStretch(1)
        self.column.addWidget(self.use_local)
        self.column.addWidget(self.use_remote)
        self.column.addWidget(self.remote_form)
        self.column.addLayout(buttons)
        self.column.addWidget(self.state)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(self.tr("Server"))
        self.use_local.setText(self.tr("This computer (XinDesk runs the models here)"))
        self.use_remote.setText(
            self.tr("Another server: another XinDesk, or an Xinference cluster")
        )
        self.remote_url_label.setText(self.tr("Address"))
        self.remote_url.setPlaceholderText("http://192.168.1.20:9997")
        self.remote_key_label.setText(self.tr("API key"))
        self.remote_key.setPlaceholderText(self.tr("Leave empty if the server needs no key"))
        self.test_button.setText(self.tr("Test connection"))
        self.show_state(None)

    def show_state(self, snapshot: ServerSnapshot | None) -> None:
        endpoint = self.ctx.session.endpoint
        remote = self.ctx.connection.remote
        wants_remote = self.use_remote.isChecked()
        self.remote_form.setEnabled(wants_remote)
        self.test_button.setVisible(wants_remote)
        self.switch_button.setText(
            self.tr("Connect to this server") if wants_remote else self.tr("Use this computer")
        )
        # Already on this computer: nothing to switch to.
        self.switch_button.setVisible(wants_remote or remote)
        self.state.setText(
            self.tr("Now using the server at {0}.").format(endpoint)
            if remote
            else self.tr("Now using the server on this computer ({0}).").format(endpoint)
        )

    def _choice_changed(self) -> None:
        self.banner.clear()
        self.show_state(None)

    def _remote_input(self) -> tuple[str, str | None] | None:
        url = self.remote_url.text().strip().rstrip("/")
        if url.endswith("/v1"):
            # People paste the base URL they give FastGPT; the server's address is without it.
            url = url[: -len("/v1")]
        if url_problem(url, WEB_SCHEMES):
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
        self._busy(True)
        self.ctx.connection.test(url, key, lambda probe: self._tested(url, probe), self._failed)

    def _tested(self, url: str, probe: Probe) -> None:
        self._busy(False)
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
            given = self._remote_input()
            if given is None:
                return
            url, key = given
            self._busy(True)
            self.ctx.connection.switch_to_remote(url, key, self._switched_remote, self._failed)
        else:
            self._busy(True)
            self.ctx.connection.switch_to_local(self._switched_local, self._failed)

    def _switched_remote(self, switch: RemoteSwitch) -> None:
        self._busy(False)
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

    def _switched_local(self, switch: LocalSwitch) -> None:
        self._busy(False)
        if not switch.running:
            self.banner.show_info(
                self.tr(
                    "Saved. Quit XinDesk (from the tray icon's menu) and open it again to start "
                    "the server on this computer."
                )
            )
            return
        self.banner.show_info(self.tr("Now using the server on this computer."))

    def _busy(self, busy: bool) -> None:
        self.test_button.setEnabled(not busy)
        self.switch_button.setEnabled(not busy)

    def _failed(self, message: str) -> None:
        self._busy(False)
        self.banner.show_error(message)
