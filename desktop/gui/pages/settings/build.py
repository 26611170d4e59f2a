"""The Settings page's "This build" card: what the server was built for, what it runs models on
(or exactly what is missing), its devices, and a button that copies the support info.

The facts come from the server (`GET /v1/xindesk/build`, the same shapes as `xindesk doctor
--json`), since the server is what runs the models, here or on another computer.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop import __version__
from desktop.api.admin import BackendFacts, BuildFacts, BuildSections, DevicesFacts, Diagnostics
from desktop.core.units import human_bytes
from desktop.gui.context import GuiContext
from desktop.gui.pages.logs import diagnostics_text
from desktop.gui.widgets.common import hint, say_copied

log = logging.getLogger("xindesk.gui.settings")


class BuildCard(QFrame):
    """Version, variant, backend and devices of the server, with "Copy support info".

    `reload()` asks the server again (when the page is shown or the server changed).
    """

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("card")
        self._data: BuildSections | None = None
        self._error: str | None = None
        self._not_xindesk = False

        self.title = QLabel(self)
        self.title.setObjectName("subheading")
        self.version_value = QLabel(self)
        self.version_value.setObjectName("buildVersion")
        # Version numbers and device names are data, the same in every language.
        self.version_value.setProperty("xindesk_data", True)
        self.variant_value = QLabel(self)
        self.variant_value.setObjectName("buildVariant")
        self.backend_value = QLabel(self)
        self.backend_value.setObjectName("buildBackend")
        self.devices_value = QLabel(self)
        self.devices_value.setObjectName("buildDevices")
        self.devices_value.setProperty("xindesk_data", True)
        for value in (self.variant_value, self.backend_value, self.devices_value):
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.form = QFormLayout()
        for value in (
            self.version_value,
            self.variant_value,
            self.backend_value,
            self.devices_value,
        ):
            self.form.addRow(QLabel(self), value)
        self.copy_hint = hint(self)
        self.copy_button = QPushButton(self)
        self.copy_button.setObjectName("copySupportInfo")
        self.copy_button.clicked.connect(self.copy_support_info)
        self.copy_status = QLabel(self)
        self.copy_status.setObjectName("hint")
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.copy_status, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 14)
        layout.setSpacing(8)
        layout.addWidget(self.title)
        layout.addLayout(self.form)
        layout.addWidget(self.copy_hint)
        layout.addLayout(buttons)
        self.retranslate()

    # -- loading ------------------------------------------------------------------------------

    def reload(self) -> None:
        self._not_xindesk = False
        client = self.ctx.session.client
        self.ctx.tasks.run(client.build_info, self._loaded, self._failed)

    def _loaded(self, data: BuildSections) -> None:
        self._data, self._error = data, None
        self._render()

    def _failed(self, message: str) -> None:
        self._data, self._error = None, message
        self._render()

    def show_not_xindesk(self) -> None:
        """The server is a real Xinference: it has no build to report."""
        self._data, self._error, self._not_xindesk = None, None, True
        self._render()

    # -- support info -------------------------------------------------------------------------

    def copy_support_info(self) -> None:
        """Copy the window's facts and the server's diagnostics (with the doctor's report)."""
        self.copy_button.setEnabled(False)
        self.copy_status.setText(self.tr("Collecting…"))
        self.ctx.tasks.run(self.ctx.session.client.diagnostics, self._copied, self._copy_failed)

    def _copied(self, bundle: Diagnostics) -> None:
        QGuiApplication.clipboard().setText(diagnostics_text(self.ctx, bundle, None))
        self.copy_button.setEnabled(True)
        say_copied(self.copy_status, self.tr("Copied"), self.copy_status.clear)

    def _copy_failed(self, message: str) -> None:
        # Most needed when the server is broken: copy what the window knows.
        QGuiApplication.clipboard().setText(diagnostics_text(self.ctx, None, message))
        self.copy_button.setEnabled(True)
        self.copy_status.setText(self.tr("Copied (without the server's part: {0})").format(message))

    # -- what a person reads ------------------------------------------------------------------

    def retranslate(self) -> None:
        self.title.setText(self.tr("This build"))
        labels = (
            self.tr("Version"),
            self.tr("Build"),
            self.tr("Runs models on"),
            self.tr("Devices"),
        )
        for row, text in enumerate(labels):
            item = self.form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            if item is not None and isinstance(label := item.widget(), QLabel):
                label.setText(text)
        self.copy_hint.setText(
            self.tr(
                "For a bug report: the versions, backend, devices, settings and the server's "
                "recent log, never your API key or tokens."
            )
        )
        self.copy_button.setText(self.tr("Copy support info"))
        self.copy_status.clear()
        self._render()

    def _render(self) -> None:
        data = self._data
        if data is None or self._not_xindesk:
            self.version_value.setText(__version__)
            self.devices_value.setText("–")
            self.variant_value.setText("–")
            if self._not_xindesk:
                text = self.tr("This server is not XinDesk: it does not report its build.")
            elif self._error:
                text = self.tr("Cannot ask the server: {0}").format(self._error)
            else:
                text = self.tr("Asking the server…")
            self.backend_value.setText(text)
            return
        server_version = data.build.version
        self.version_value.setText(
            server_version
            if server_version == __version__
            else self.tr("{0} (this window: {1})").format(server_version, __version__)
        )
        self.variant_value.setText(self.variant_text(data.build))
        self.backend_value.setText(self.backend_text(data.backend, data.devices))
        self.devices_value.setText(self.devices_text(data.devices))

    def variant_text(self, build: BuildFacts) -> str:
        names = {
            "cpu": self.tr("CPU build"),
            "cuda": self.tr("NVIDIA CUDA build"),
            "rocm": self.tr("AMD ROCm build"),
            "metal": self.tr("Apple Metal build"),
        }
        llama = build.llama_cpp_python or "?"
        if not build.frozen:
            return self.tr("Run from source (llama-cpp-python {0})").format(llama)
        name = names.get(build.variant or "", self.tr("Unknown build"))
        return self.tr("{0} (llama-cpp-python {1})").format(name, llama)

    def backend_text(self, backend: BackendFacts, devices: DevicesFacts) -> str:
        """Built for what, running on what; or which library is missing."""
        if backend.load_problem is not None:
            return self.tr("llama.cpp cannot be loaded, so no model can run. {0}").format(
                backend.load_problem.message
            )
        built_for = backend.built_for or "CPU"
        if backend.running_on != "CPU":
            gpus = [d for d in devices.ggml if d.kind in ("gpu", "igpu")]
            where = ", ".join(f"{d.description or d.name} ({d.name})" for d in gpus)
            return self.tr("Built for {0}: models run on {1}").format(built_for, where)
        if built_for == "CPU":
            return self.tr("Built for the processor (CPU): models run on the CPU")
        return self.tr(
            "Built for {0}, but no graphics card it can use was found: models run on the CPU"
        ).format(built_for)

    @staticmethod
    def devices_text(devices: DevicesFacts) -> str:
        memory = {gpu.name: gpu.total_bytes for gpu in devices.gpus}
        lines = []
        for device in devices.ggml:
            line = f"{device.name}: {device.description}"
            total = device.total_bytes or memory.get(device.description)
            if total:
                line += f" ({human_bytes(total)})"
            lines.append(line)
        return "\n".join(lines) or "–"

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
