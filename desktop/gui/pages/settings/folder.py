"""The Settings page's models-folder card: where the server keeps downloaded models, and moving
them to another folder."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QWidget,
)

from desktop.api.library import ModelsFolderMoved
from desktop.gui.context import GuiContext
from desktop.gui.pages.settings.section import ServerSnapshot, SettingsSection
from desktop.gui.widgets.common import Banner, hint


class FolderSection(SettingsSection):
    """The server's models folder, with Change… (a folder of this computer, so only for the
    server on this computer)."""

    def __init__(self, ctx: GuiContext, banner: Banner, parent: QWidget | None = None) -> None:
        super().__init__(ctx, banner, parent)
        self._models_dir: str | None = None
        self.path = QLabel(self)
        # Mostly the server's folder path: data, not words to translate.
        self.path.setProperty("xindesk_data", True)
        self.path.setWordWrap(True)
        self.button = QPushButton(self)
        self.button.clicked.connect(self._choose)
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)  # no figures: the move reports only when it is done
        self.busy.setMaximumWidth(160)
        self.busy.hide()
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(self.busy)
        row.addWidget(self.button)
        self.hint = hint(self)
        self.column.addLayout(row)
        self.column.addWidget(self.hint)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(self.tr("Models folder"))
        self.button.setText(self.tr("Change…"))
        self.hint.setText(
            self.tr(
                "Where downloaded models are kept. Changing it moves the models already "
                "downloaded into the new folder."
            )
        )

    def show_state(self, snapshot: ServerSnapshot | None) -> None:
        self.setEnabled(snapshot is None or snapshot.xindesk)
        if snapshot is not None and not snapshot.xindesk:
            self.path.setText(
                self.tr("This server is not XinDesk: change its settings on that server.")
            )
        elif snapshot is not None and snapshot.models_dir and not self.busy.isVisible():
            self._models_dir = snapshot.models_dir
            self.path.setText(snapshot.models_dir)
        # A folder dialog browses this computer: it can only pick a folder for a server here.
        self.button.setEnabled(not self.ctx.connection.remote and not self.busy.isVisible())

    def _choose(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, self.tr("Choose the models folder"), self._models_dir or ""
        )
        if folder:
            self.change(folder)

    def change(self, folder: str) -> None:
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
        self.busy.show()
        self.button.setEnabled(False)
        self.path.setText(self.tr("Moving the models to {0}…").format(folder))
        client = self.ctx.session.slow_client
        self.ctx.tasks.run(
            lambda: client.move_models_folder(folder, "move"), self._moved, self._failed
        )

    def _moved(self, moved: ModelsFolderMoved) -> None:
        self.busy.hide()
        self.banner.show_info(self.tr("Models folder is now {0}.").format(moved.models_dir))
        self.ctx.navigator.downloads_changed.emit()
        self.reload_requested.emit()

    def _failed(self, message: str) -> None:
        self.busy.hide()
        self.banner.show_error(message)
        self.reload_requested.emit()
