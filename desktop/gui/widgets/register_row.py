"""The row under a searched repository's levels: "Add to my models as [name] [kind] [Add]", so
apps launch the repository by name like a catalog model."""

from __future__ import annotations

import re

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from desktop.api.common import MODEL_TYPES, ModelType
from desktop.api.library import RegisterRepo
from desktop.gui.models.catalog_model import as_model_type, type_name
from desktop.gui.models.search_model import guess_model_type
from desktop.gui.widgets.model_summary import RepoRef

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def default_model_name(repo_id: str) -> str:
    """The name a registered repository launches by: the repository's own name, with only the
    characters model names allow (the server picks the same default)."""
    return _UNSAFE_NAME.sub("-", repo_id.split("/")[-1]).strip("-") or "model"


class RegisterRow(QWidget):
    """The name and kind a repository is added as; `button` adds it (the page sends it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel(self)
        self.name = QLineEdit(self)
        self.name.setObjectName("registerName")
        self.kind = QComboBox(self)
        for model_type in MODEL_TYPES:
            self.kind.addItem("", model_type)
        self.button = QPushButton(self)
        self.button.setObjectName("registerButton")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.name, 1)
        layout.addWidget(self.kind)
        layout.addWidget(self.button)
        self.retranslate()

    def suggest(self, repo_id: str) -> None:
        """Propose the repository's own name and the kind its name suggests."""
        self.name.setText(default_model_name(repo_id))
        self.kind.setCurrentIndex(max(0, self.kind.findData(guess_model_type(repo_id))))

    def model_type(self) -> ModelType:
        return as_model_type(self.kind.currentData())

    def request(self, repo: RepoRef) -> RegisterRepo:
        """The registration of `repo` as chosen here (the repository's name when none is)."""
        body = RegisterRepo(
            repo_id=repo.repo_id,
            model_name=self.name.text().strip() or default_model_name(repo.repo_id),
            model_type=self.model_type(),
        )
        if repo.hub:
            body.hub = repo.hub
        return body

    def retranslate(self) -> None:
        self.label.setText(self.tr("Add to my models as"))
        for index in range(self.kind.count()):
            self.kind.setItemText(index, type_name(str(self.kind.itemData(index))))
        self.button.setText(self.tr("Add"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
