"""The head of a model's page: its name, where it comes from, what it is and its facts (for a
catalog family), or a word on a repository found by search."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from desktop.api.hubs import HubName
from desktop.gui.models.catalog_model import (
    CatalogEntry,
    ability_name,
    language_name,
    size_label,
    type_name,
    words_label,
)
from desktop.gui.models.search_model import hub_name
from desktop.gui.widgets.common import heading


@dataclass(frozen=True)
class RepoRef:
    """A repository found on a hub."""

    repo_id: str
    hub: HubName | None = None


#: What a model's page shows: a catalog family, or a repository found on a hub.
Subject = CatalogEntry | RepoRef


class ModelSummary(QWidget):
    """Title, source, description and facts of one model (`set_subject`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._subject: Subject | None = None
        self.title = heading(self)
        # The model's or repository's name: data, not words to translate.
        self.title.setProperty("xindesk_data", True)
        self.title.setWordWrap(True)
        self.source_label = QLabel(self)
        self.source_label.setObjectName("hint")
        self.source_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.description = QLabel(self)
        self.description.setWordWrap(True)
        self.facts = QLabel(self)
        self.facts.setObjectName("hint")
        self.facts.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.source_label)
        layout.addWidget(self.description)
        layout.addWidget(self.facts)

    def set_subject(self, subject: Subject) -> None:
        self._subject = subject
        self._describe()

    def _describe(self) -> None:
        subject = self._subject
        if isinstance(subject, CatalogEntry):
            self.title.setText(subject.name)
            self.source_label.setText(
                self.tr("{0} model from the XinDesk catalog").format(type_name(subject.model_type))
                if subject.builtin
                else self.tr("{0} model you added").format(type_name(subject.model_type))
            )
            self.description.setText(subject.description or subject.summary())
            # The catalog's own description (English): data, unlike the words for a repository.
            self.description.setProperty("xindesk_data", bool(subject.description))
            facts = []
            if subject.context_length:
                facts.append(
                    self.tr("Reads up to {0} tokens ({1})").format(
                        f"{subject.context_length:,}", words_label(subject.context_length)
                    )
                )
            if subject.languages:
                facts.append(
                    self.tr("Languages: {0}").format(
                        ", ".join(language_name(code) for code in subject.languages)
                    )
                )
            abilities = [ability_name(a) for a in subject.abilities if a != "generate"]
            if abilities:
                facts.append(self.tr("Can do: {0}").format(", ".join(abilities)))
            if len(subject.sizes) == 1:
                facts.append(self.tr("Size: {0} parameters").format(size_label(subject.sizes[0])))
            if subject.dimensions:
                facts.append(self.tr("Vectors of {0} numbers").format(subject.dimensions))
            self.facts.setText("  ·  ".join(facts))
        elif isinstance(subject, RepoRef):
            self.title.setText(subject.repo_id)
            self.source_label.setText(
                self.tr("Repository on {0}").format(hub_name(subject.hub))
                if subject.hub
                else self.tr("Repository on a model hub")
            )
            self.description.setProperty("xindesk_data", False)
            self.description.setText(
                self.tr(
                    "Found by search. Pick a quality / size level to download it, or add it to "
                    "your models so apps can launch it by name."
                )
            )
            self.facts.setText("")
        self.facts.setVisible(bool(self.facts.text()))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._describe()
        super().changeEvent(event)
