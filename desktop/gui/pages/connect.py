"""The Connect page: the addresses and the API key FastGPT (or any OpenAI client) needs.

It shows the base URL for each place a client may run (this computer, a FastGPT container on
this computer, other computers on the network), manages the server's API key, switches LAN
access, and hosts the FastGPT / One API export at the bottom.
"""

from __future__ import annotations

import logging
import os

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.api.admin import ApiKeyCreated, ApiKeyDeleted, SettingsUpdate
from desktop.core.netaddr import is_loopback_url
from desktop.core.secrets import API_KEY_ENV
from desktop.gui.context import GuiContext
from desktop.gui.local_server import LocalServerStatus
from desktop.gui.models.server_view import ServerView, curl_command, read_server_view
from desktop.gui.pages.base import Page
from desktop.gui.widgets.common import Banner, CopyField, heading, hint, scrolling_column, section
from desktop.gui.widgets.export_panel import ExportPanel

log = logging.getLogger("xindesk.gui.connect")


class ConnectPage(Page):
    """Addresses, API key and LAN access of the server the window talks to."""

    key = "connect"

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._view: ServerView | None = None
        self._active = False
        self._busy = False
        self._load_error = False
        self._export_widget: QWidget | None = None

        content, layout = scrolling_column(self)

        self.heading = heading(content)
        self.intro = hint(content)
        self.banner = Banner(content)
        self.banner.action.clicked.connect(self.create_key)
        layout.addWidget(self.heading)
        layout.addWidget(self.intro)
        layout.addWidget(self.banner)

        # -- base URLs
        urls, self.urls_title, urls_layout = section(content)
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(6)
        grid.setColumnStretch(1, 1)
        self.local_label = QLabel(urls)
        self.local_field = CopyField(parent=urls)
        self.docker_label = QLabel(urls)
        self.docker_field = CopyField(parent=urls)
        self.docker_hint = hint(urls)
        self.lan_label = QLabel(urls)
        self.lan_fields_box = QWidget(urls)
        self.lan_fields = QVBoxLayout(self.lan_fields_box)
        self.lan_fields.setContentsMargins(0, 0, 0, 0)
        self.lan_hint = hint(urls)
        self.lan_address_fields: list[CopyField] = []
        grid.addWidget(self.local_label, 0, 0)
        grid.addWidget(self.local_field, 0, 1)
        grid.addWidget(self.docker_label, 1, 0)
        grid.addWidget(self.docker_field, 1, 1)
        grid.addWidget(self.docker_hint, 2, 1)
        grid.addWidget(self.lan_label, 3, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.lan_fields_box, 3, 1)
        self.lan_fields.addWidget(self.lan_hint)
        urls_layout.addLayout(grid)
        self.model_hint = hint(urls)
        urls_layout.addWidget(self.model_hint)
        layout.addWidget(urls)

        # -- API key
        key_box, self.key_title, key_layout = section(content)
        self.key_state = QLabel(key_box)
        self.key_state.setWordWrap(True)
        self.key_row = QWidget(key_box)
        self.key_field = CopyField(secret=True, parent=self.key_row)
        self.show_key = QPushButton(self.key_row)
        self.show_key.setCheckable(True)
        self.show_key.toggled.connect(self._reveal)
        key_row_layout = QHBoxLayout(self.key_row)
        key_row_layout.setContentsMargins(0, 0, 0, 0)
        key_row_layout.addWidget(self.key_field, 1)
        key_row_layout.addWidget(self.show_key)
        self.create_button = QPushButton(key_box)
        self.create_button.setObjectName("primary")
        self.create_button.clicked.connect(self.create_key)
        self.off_button = QPushButton(key_box)
        self.off_button.clicked.connect(self.turn_key_off)
        buttons = QHBoxLayout()
        buttons.addWidget(self.create_button)
        buttons.addWidget(self.off_button)
        buttons.addStretch(1)
        self.keyring_hint = hint(key_box)
        key_layout.addWidget(self.key_state)
        key_layout.addWidget(self.key_row)
        key_layout.addLayout(buttons)
        key_layout.addWidget(self.keyring_hint)
        layout.addWidget(key_box)
        self.key_box = key_box

        # -- LAN access
        lan_box, self.lan_title, lan_layout = section(content)
        self.lan_switch = QCheckBox(lan_box)
        self.lan_switch.toggled.connect(self._lan_toggled)
        self.lan_switch_hint = hint(lan_box)
        self.lan_pending = hint(lan_box)
        lan_layout.addWidget(self.lan_switch)
        lan_layout.addWidget(self.lan_switch_hint)
        lan_layout.addWidget(self.lan_pending)
        layout.addWidget(lan_box)
        self.lan_box = lan_box

        # -- test command
        test_box, self.test_title, test_layout = section(content)
        self.test_hint = hint(test_box)
        self.curl_field = CopyField(parent=test_box)
        test_layout.addWidget(self.test_hint)
        test_layout.addWidget(self.curl_field)
        layout.addWidget(test_box)

        # -- FastGPT / One API export (filled by the export widget)
        export_box, self.export_title, export_layout = section(content)
        self.export_hint = hint(export_box)
        export_layout.addWidget(self.export_hint)
        self._export_layout = export_layout
        layout.addWidget(export_box)
        layout.addStretch(1)

        ctx.session.changed.connect(self._session_changed)
        ctx.navigator.running_changed.connect(self._session_changed)
        if ctx.server is not None:
            ctx.server.state_changed.connect(self._server_state_changed)
        self.retranslate()
        self.set_export_widget(ExportPanel(ctx))

    # -- Page ---------------------------------------------------------------------------------

    def title(self) -> str:
        return self.tr("Connect")

    def retranslate(self) -> None:
        self.heading.setText(self.tr("Connect"))
        self.intro.setText(
            self.tr(
                "Point FastGPT, Dify or any OpenAI-compatible app at one of these addresses. "
                "For the model name, use the model's ID from the Running page."
            )
        )
        self.urls_title.setText(self.tr("Base URL for FastGPT / OpenAI clients"))
        self.local_label.setText(self.tr("This computer"))
        self.docker_label.setText(self.tr("FastGPT in Docker on this computer"))
        self.docker_hint.setText(
            self.tr(
                "Inside a container, 127.0.0.1 is the container itself, so use this address. "
                'On Linux, also add extra_hosts: ["host.docker.internal:host-gateway"] to '
                "FastGPT's docker-compose.yml and turn on network access below."
            )
        )
        self.lan_label.setText(self.tr("Other computers"))
        self.key_title.setText(self.tr("API key"))
        self.show_key.setText(self.tr("Hide") if self.show_key.isChecked() else self.tr("Show"))
        self.off_button.setText(self.tr("Turn off"))
        self.lan_title.setText(self.tr("Network access"))
        self.lan_switch.setText(self.tr("Allow other computers on my network"))
        self.lan_switch_hint.setText(
            self.tr(
                "Other computers must send the API key, so a key is needed first. "
                "The change takes effect when the server restarts."
            )
        )
        self.test_title.setText(self.tr("Test it from a terminal"))
        self.export_title.setText(self.tr("FastGPT / One API"))
        if self._export_widget is None:
            self.export_hint.setText(
                self.tr("Ready-to-paste FastGPT and One API settings will appear here.")
            )
        self._render()

    def activate(self, argument: object = None) -> None:
        self._active = True
        self.reload()
        if isinstance(self._export_widget, ExportPanel):
            self._export_widget.refresh()

    def deactivate(self) -> None:
        self._active = False
        if isinstance(self._export_widget, ExportPanel):
            self._export_widget.stop()

    # -- public -------------------------------------------------------------------------------

    def set_export_widget(self, widget: QWidget) -> None:
        """Show `widget` (the FastGPT / One API export) in this page's last section."""
        if self._export_widget is not None:
            self._export_layout.removeWidget(self._export_widget)
            self._export_widget.deleteLater()
        self._export_widget = widget
        self.export_hint.hide()
        widget.setParent(self.export_hint.parentWidget())
        self._export_layout.addWidget(widget)
        widget.show()

    def reload(self) -> None:
        """Read the server's addresses and key state again."""
        client = self.ctx.session.client
        self.ctx.tasks.run(lambda: read_server_view(client), self._loaded, self._load_failed)

    def base_url(self) -> str:
        """The base URL a client on this computer (or of a remote server) uses."""
        view = self._view
        endpoint = self.ctx.session.endpoint
        if view is not None and view.xindesk and view.port and is_loopback_url(endpoint):
            return f"http://127.0.0.1:{view.port}/v1"
        return f"{endpoint}/v1"

    # -- loading ------------------------------------------------------------------------------

    def _session_changed(self) -> None:
        if self._active:
            self.reload()

    def _server_state_changed(self, state: object) -> None:
        if self._active and state in (LocalServerStatus.RUNNING, LocalServerStatus.ATTACHED):
            self.reload()

    def _loaded(self, view: ServerView) -> None:
        self._view = view
        if self._load_error:
            # The server answers again (it was starting, or the window switched servers).
            self._load_error = False
            self.banner.clear()
        self._render()

    def _load_failed(self, message: str) -> None:
        self._load_error = True
        self.banner.show_error(message)

    def _render(self) -> None:
        view = self._view
        session_key = self.ctx.session.api_key
        endpoint = self.ctx.session.endpoint
        on_this_computer = is_loopback_url(endpoint)
        base = self.base_url()

        self.local_field.set_value(base)
        if view is not None and view.xindesk and view.port and on_this_computer:
            self.local_label.setText(self.tr("This computer"))
            self.docker_field.set_value(f"http://host.docker.internal:{view.port}/v1")
            docker_visible = True
        else:
            self.local_label.setText(self.tr("This server"))
            docker_visible = False
        for widget in (self.docker_label, self.docker_field, self.docker_hint):
            widget.setVisible(docker_visible)

        lan_known = view is not None and view.xindesk and on_this_computer
        addresses = view.lan_addresses if view is not None and view.lan_access else []
        self._set_lan_addresses(addresses, view.port if view is not None else None)
        self.lan_label.setVisible(lan_known)
        self.lan_fields_box.setVisible(lan_known)
        self.lan_hint.setVisible(lan_known and not addresses)
        if view is not None and view.lan_access and not view.lan_addresses:
            self.lan_hint.setText(self.tr("No network connection was found on this computer."))
        else:
            self.lan_hint.setText(
                self.tr(
                    "Not reachable from other computers. Turn on "
                    '"Allow other computers on my network" below to use XinDesk from them.'
                )
            )

        # The API key and LAN access belong to an XinDesk server; a real Xinference manages
        # its own keys.
        manages_keys = view is not None and view.xindesk
        self.key_box.setVisible(view is None or manages_keys)
        self.lan_box.setVisible(view is None or manages_keys)
        auth = view is not None and view.auth
        if view is None:
            self.key_state.setText(self.tr("Reading the server's settings…"))
        elif auth:
            self.key_state.setText(
                self.tr("On: every client must send this key (FastGPT: the model's API key field).")
            )
        else:
            self.key_state.setText(
                self.tr(
                    "Off: any program on this computer can use the server without a key. "
                    "Create a key to require one."
                )
            )
        shown_key = session_key if auth and session_key else ""
        self.key_field.set_value(shown_key)
        self.key_row.setVisible(bool(shown_key))
        self.create_button.setText(self.tr("Replace key…") if auth else self.tr("Create key"))
        self.create_button.setEnabled(view is not None and not self._busy)
        self.off_button.setVisible(auth)
        self.off_button.setEnabled(not self._busy)
        if view is not None and not view.keyring_available:
            self.keyring_hint.setText(
                self.tr(
                    "This computer has no keychain, so a new key lasts only until the server "
                    "stops: {0}"
                ).format(view.keyring_message or "")
            )
            self.keyring_hint.show()
        else:
            self.keyring_hint.hide()

        self.lan_switch.blockSignals(True)
        self.lan_switch.setChecked(view is not None and view.lan_saved)
        self.lan_switch.blockSignals(False)
        self.lan_switch.setEnabled(view is not None and not self._busy)
        if view is not None and view.lan_saved != view.lan_access:
            self.lan_pending.setText(
                self.tr("Waiting for a server restart: until then, other computers {0}.").format(
                    self.tr("cannot connect") if view.lan_saved else self.tr("can still connect")
                )
            )
            self.lan_pending.show()
        else:
            self.lan_pending.hide()

        uid = view.model_uid if view is not None else None
        self.model_hint.setText(
            self.tr("Model name to use: {0}").format(uid)
            if uid
            else self.tr("No model is running yet: start one on the Models page.")
        )
        revealed = self.show_key.isChecked()
        key_text = session_key if revealed else self.tr("<your API key>")
        self.curl_field.set_value(
            curl_command(
                base, key_text if auth and session_key else None, uid or self.tr("<model ID>")
            )
        )
        # Show the start of the command, not its end.
        self.curl_field.edit.setCursorPosition(0)
        self.test_hint.setText(
            self.tr(
                "Paste this into a terminal: the model should answer with a short message. "
                "Press Show above to include the key."
            )
            if auth and not revealed
            else self.tr(
                "Paste this into a terminal: the model should answer with a short message."
            )
        )

    def _set_lan_addresses(self, addresses: list[str], port: int | None) -> None:
        while len(self.lan_address_fields) < len(addresses):
            copy_field = CopyField(parent=self.lan_fields_box)
            self.lan_fields.addWidget(copy_field)
            self.lan_address_fields.append(copy_field)
        for index, copy_field in enumerate(self.lan_address_fields):
            if index < len(addresses):
                copy_field.set_value(f"http://{addresses[index]}:{port}/v1")
                copy_field.show()
            else:
                copy_field.hide()

    def _reveal(self, revealed: bool) -> None:
        self.key_field.set_revealed(revealed)
        self.show_key.setText(self.tr("Hide") if revealed else self.tr("Show"))
        self._render()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._render()

    # -- API key ------------------------------------------------------------------------------

    def create_key(self) -> None:
        """Create a key, or replace the one in use after the user confirms."""
        if self._busy:
            return
        if self._view is not None and self._view.auth:
            answer = QMessageBox.question(
                self,
                self.tr("Replace the API key?"),
                self.tr(
                    "Clients using the old key will stop working until you give them the "
                    "new one. Replace the key?"
                ),
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.banner.clear()
        self._set_busy(True)
        client = self.ctx.session.client
        self.ctx.tasks.run(
            lambda: client.create_api_key(use=False), self._key_created, self._key_failed
        )

    def _key_created(self, created: ApiKeyCreated) -> None:
        self._busy = False
        # The server switched to the new key at once: every later call must send it.
        self.ctx.connection.use_key(created.api_key, kept=created.stored)
        if created.stored:
            self.banner.show_info(created.message)
        else:
            self.banner.show_error(created.message)
        self.reload()

    def _key_failed(self, message: str) -> None:
        self._busy = False
        self.banner.show_error(message)
        self._render()

    def turn_key_off(self) -> None:
        """Stop requiring a key (the server refuses while LAN access is on)."""
        if self._busy:
            return
        answer = QMessageBox.question(
            self,
            self.tr("Turn the API key off?"),
            self.tr(
                "Any program on this computer will be able to use the server without a key. "
                "Turn the key off?"
            ),
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.banner.clear()
        self._set_busy(True)
        client = self.ctx.session.client
        self.ctx.tasks.run(client.delete_api_key, self._key_deleted, self._key_failed)

    def _key_deleted(self, deleted: ApiKeyDeleted) -> None:
        self._busy = False
        self.ctx.connection.use_key(None)
        self.banner.show_info(deleted.message)
        self.reload()

    # -- LAN access ---------------------------------------------------------------------------

    def _lan_toggled(self, wanted: bool) -> None:
        # The box shows the saved state until the server agrees to the change.
        self.lan_switch.blockSignals(True)
        self.lan_switch.setChecked(not wanted)
        self.lan_switch.blockSignals(False)
        self.set_lan_access(wanted)

    def set_lan_access(self, enabled: bool) -> None:
        """Ask the server to listen for other computers (saved; takes effect at restart)."""
        if self._busy:
            return
        self.banner.clear()
        view = self._view
        server = self.ctx.server
        keyless_restart = (
            view is not None
            and not view.keyring_available
            and not os.environ.get(API_KEY_ENV)
            and not (server is not None and server.has_restart_key)
        )
        if enabled and keyless_restart and self.ctx.connection.owns_server:
            # The restarted server reads its key from the keychain; with none it would
            # refuse to listen on the network, and the window would lose its server.
            self.banner.show_error(
                self.tr(
                    "Network access needs a key the server still has after a restart, "
                    "but this computer has no keychain to keep it in. Start XinDesk from "
                    "a terminal with the XINDESK_API_KEY environment variable set to a "
                    "key, then turn network access on."
                )
            )
            return
        self._set_busy(True)
        client = self.ctx.session.client
        self.ctx.tasks.run(
            lambda: client.update_settings({"server": {"lan_access": enabled}}),
            self._lan_saved,
            self._lan_failed,
        )

    def _lan_failed(self, message: str) -> None:
        self._busy = False
        self.banner.show_error(message)
        view = self._view
        if view is not None and not view.auth:
            self.banner.action.setText(self.tr("Create key"))
            self.banner.action.show()
        self._render()

    def _lan_saved(self, update: SettingsUpdate) -> None:
        self._busy = False
        if "server.lan_access" in update.restart_required:
            self._offer_restart()
        self.reload()

    def _offer_restart(self) -> None:
        server = self.ctx.server
        if server is None or not self.ctx.connection.owns_server:
            self.banner.show_info(
                self.tr(
                    "Saved. Restart the server for this to take effect (stop `xindesk serve` "
                    "and start it again on the computer where it runs)."
                )
            )
            return
        answer = QMessageBox.question(
            self,
            self.tr("Restart the server?"),
            self.tr("Restart the server now? Running models will stop."),
        )
        if answer == QMessageBox.StandardButton.Yes:
            log.info("restarting the local server for the LAN access change")
            server.restart()
            self.ctx.navigator.running_changed.emit()
        else:
            self.banner.show_info(
                self.tr("Saved. The change takes effect the next time the server starts.")
            )
