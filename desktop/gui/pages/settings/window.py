"""The Settings page's window card: keep the server running in the tray, start at login."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QCheckBox, QSystemTrayIcon, QWidget

from desktop.gui import autostart
from desktop.gui.context import GuiContext
from desktop.gui.pages.settings.section import SettingsSection
from desktop.gui.widgets.common import Banner, hint

log = logging.getLogger("xindesk.gui.settings")


class WindowSection(SettingsSection):
    """How the window behaves: closing it to the tray, and starting XinDesk at login (an
    entry of this computer's login items, and the preference)."""

    def __init__(self, ctx: GuiContext, banner: Banner, parent: QWidget | None = None) -> None:
        super().__init__(ctx, banner, parent)
        self.autostart: autostart.Autostart = autostart.for_this_system()
        self.keep_in_tray = QCheckBox(self)
        self.keep_in_tray.setChecked(ctx.settings.ui.keep_running_in_tray)
        self.keep_in_tray.toggled.connect(self._keep_in_tray_changed)
        # Without a tray area, closing the window always quits.
        self.keep_in_tray.setEnabled(QSystemTrayIcon.isSystemTrayAvailable())
        self.tray_hint = hint(self)
        self.start_at_login = QCheckBox(self)
        self.start_at_login.setChecked(self._autostart_enabled())
        self.start_at_login.toggled.connect(self._start_at_login_changed)
        self.column.addWidget(self.keep_in_tray)
        self.column.addWidget(self.tray_hint)
        self.column.addWidget(self.start_at_login)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(self.tr("Window"))
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

    def _keep_in_tray_changed(self, keep: bool) -> None:
        self.save_ui({"keep_running_in_tray": keep})

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
        self.save_ui({"start_at_login": start})
