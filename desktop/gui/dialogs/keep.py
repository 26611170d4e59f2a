"""How a served model is kept: pinned (never unloaded), loaded when the server starts, and the
minutes it may sit unused before its memory is freed."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.api.xinference import ServiceChange
from desktop.gui.models.running_model import RunningRow

#: The longest idle time the dialog offers, in minutes (a week).
MAX_IDLE_MINUTES = 7 * 24 * 60


class KeepDialog(QDialog):
    """Edits one served model's pin, load at start and idle time."""

    def __init__(self, row: RunningRow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Keep {0}").format(row.uid))
        self.pinned = QCheckBox(self.tr("Pinned: never unload it (idle or to make room)"), self)
        self.pinned.setChecked(row.pinned)
        self.load_at_start = QCheckBox(self.tr("Load it when the server starts"), self)
        self.load_at_start.setChecked(row.load_at_start)
        self.idle = QSpinBox(self)
        self.idle.setRange(0, MAX_IDLE_MINUTES)
        self.idle.setSuffix(self.tr(" min"))
        self.idle.setSpecialValueText(self.tr("Never"))
        self.idle.setValue(int(row.idle_minutes or 0))
        hint = QLabel(
            self.tr(
                "An unloaded model frees its memory and loads again, in a few seconds, for "
                "the next request that names it."
            ),
            self,
        )
        hint.setWordWrap(True)
        hint.setObjectName("hint")
        form = QFormLayout()
        form.addRow(self.tr("Unload after"), self.idle)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.pinned.toggled.connect(self._pinned_changed)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pinned)
        layout.addWidget(self.load_at_start)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(buttons)
        self._pinned_changed(row.pinned)

    def _pinned_changed(self, pinned: bool) -> None:
        # A pinned model is never unloaded for idleness: its idle time does not apply.
        self.idle.setEnabled(not pinned)

    def change(self) -> ServiceChange:
        return ServiceChange(
            pinned=self.pinned.isChecked(),
            load_at_start=self.load_at_start.isChecked(),
            idle_minutes=float(self.idle.value()),
        )
