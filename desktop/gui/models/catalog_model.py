"""The built-in catalog (and the models a person added) as a table per model type.

Each row is one family from `GET /v1/model_registrations/{type}?detailed=true`: its name, a
one-line description, the sizes on offer, how long a text it reads, its languages and what it
can do. A filter proxy narrows the rows as a person types.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from desktop.api.common import MODEL_TYPES, ModelType
from desktop.api.xinference import Registration
from desktop.gui.models.record_table import RecordTableModel


def as_model_type(value: object) -> ModelType:
    """A model type held by a widget (a combo box's item data) as the contract's type."""
    for model_type in MODEL_TYPES:
        if value == model_type:
            return model_type
    raise ValueError(f"not a model type: {value!r}")


def size_number(size: str) -> float:
    """A catalog size key ("0_5", "7") as a number, for ordering; unknown text sorts last."""
    try:
        return float(size.replace("_", "."))
    except ValueError:
        return float("inf")


def size_label(size: str | None) -> str:
    """ "0_5" -> "0.5B", "7" -> "7B" (billions of parameters)."""
    if not size:
        return ""
    return QCoreApplication.translate("ModelFacts", "{0}B").format(size.replace("_", "."))


def context_label(tokens: int | None) -> str:
    """32768 -> "32K" (tokens), as model pages write context lengths."""
    if not tokens:
        return "–"
    if tokens >= 1024 and tokens % 1024 == 0:
        return QCoreApplication.translate("ModelFacts", "{0}K").format(tokens // 1024)
    return str(tokens)


def words_label(tokens: int) -> str:
    """About how many English words fit in `tokens` (a token is about three quarters of one)."""
    words = int(tokens * 0.75)
    rounded = round(words, -3) if words >= 10_000 else round(words, -2)
    return QCoreApplication.translate("ModelFacts", "about {0:,} words").format(int(rounded))


def language_name(code: str) -> str:
    names = {
        "en": QCoreApplication.translate("ModelFacts", "English"),
        "zh": QCoreApplication.translate("ModelFacts", "Chinese"),
        "multilingual": QCoreApplication.translate("ModelFacts", "many languages"),
        "de": QCoreApplication.translate("ModelFacts", "German"),
        "fr": QCoreApplication.translate("ModelFacts", "French"),
        "es": QCoreApplication.translate("ModelFacts", "Spanish"),
        "it": QCoreApplication.translate("ModelFacts", "Italian"),
        "pt": QCoreApplication.translate("ModelFacts", "Portuguese"),
        "hi": QCoreApplication.translate("ModelFacts", "Hindi"),
        "th": QCoreApplication.translate("ModelFacts", "Thai"),
        "ja": QCoreApplication.translate("ModelFacts", "Japanese"),
        "ko": QCoreApplication.translate("ModelFacts", "Korean"),
    }
    return names.get(code, code)


def ability_name(ability: str) -> str:
    names = {
        "chat": QCoreApplication.translate("ModelFacts", "chat"),
        "generate": QCoreApplication.translate("ModelFacts", "text completion"),
        "tools": QCoreApplication.translate("ModelFacts", "tool calls"),
        "vision": QCoreApplication.translate("ModelFacts", "reads images"),
        "reasoning": QCoreApplication.translate("ModelFacts", "thinks step by step"),
        "hybrid": QCoreApplication.translate("ModelFacts", "thinking on or off"),
    }
    return names.get(ability, ability)


def type_name(model_type: str) -> str:
    """The kind of model in plain words."""
    names = {
        "LLM": QCoreApplication.translate("ModelFacts", "Chat"),
        "embedding": QCoreApplication.translate("ModelFacts", "Embedding"),
        "rerank": QCoreApplication.translate("ModelFacts", "Rerank"),
    }
    return names.get(model_type, model_type)


@dataclass(frozen=True)
class CatalogEntry:
    """One model family as the Models page shows it.

    Attributes:
        name: The name it launches by (Xinference's model_name).
        model_type: "LLM", "embedding" or "rerank".
        description: The catalog's description ("" when it has none).
        sizes: Size keys as the API writes them ("0_5", "7"), smallest first; empty when the
            catalog gives none (embedding and rerank models).
        quantizations: Quantization names per size key ("" for no size), catalog spelling.
        context_length: Longest text it reads, in tokens (max_tokens for embedding/rerank).
        languages: Language codes.
        abilities: "chat", "tools", "vision", ... (chat models only).
        dimensions: Vector size of an embedding model.
        builtin: Part of XinDesk's catalog (False: added by the person).
        repos: The hub repositories its files come from (to recognise downloaded files).
    """

    name: str
    model_type: ModelType
    description: str
    sizes: tuple[str, ...]
    quantizations: tuple[tuple[str, tuple[str, ...]], ...]
    context_length: int | None
    languages: tuple[str, ...]
    abilities: tuple[str, ...]
    dimensions: int | None
    builtin: bool
    repos: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, model_type: ModelType, family: Registration) -> CatalogEntry:
        """From one item of `registrations(model_type, detailed=True)`."""
        quants: dict[str, list[str]] = {}
        repos: list[str] = []
        for spec in family.model_specs:
            if spec.model_format != "ggufv2":
                continue
            if spec.model_id and spec.model_id not in repos:
                repos.append(spec.model_id)
            raw = spec.model_size_in_billions
            names = quants.setdefault("" if raw is None else str(raw), [])
            if spec.quantization and spec.quantization not in names:
                names.append(spec.quantization)
        sizes = sorted((key for key in quants if key), key=size_number)
        llm = model_type == "LLM"
        context = family.context_length if llm else family.max_tokens
        languages = family.model_lang if llm else family.language
        return cls(
            name=family.model_name,
            model_type=model_type,
            description=family.model_description or "",
            sizes=tuple(sizes),
            quantizations=tuple((key, tuple(names)) for key, names in quants.items()),
            context_length=context or None,
            languages=tuple(languages or ()),
            abilities=tuple(family.model_ability or ()),
            dimensions=family.dimensions,
            builtin=family.is_builtin,
            repos=tuple(repos),
        )

    def quantizations_for(self, size: str | None) -> tuple[str, ...]:
        """The quantizations the catalog lists for one size (any size when None)."""
        found: list[str] = []
        for key, names in self.quantizations:
            if size is None or key == (size or ""):
                found.extend(name for name in names if name not in found)
        return tuple(found)

    def summary(self) -> str:
        """The one-line description: the catalog's, or one written from the facts."""
        if self.description:
            return self.description.splitlines()[0]
        if self.model_type == "embedding":
            if self.dimensions:
                return QCoreApplication.translate(
                    "ModelFacts", "Turns text into vectors for search ({0} dimensions)"
                ).format(self.dimensions)
            return QCoreApplication.translate("ModelFacts", "Turns text into vectors for search")
        if self.model_type == "rerank":
            return QCoreApplication.translate(
                "ModelFacts", "Sorts search results by how well they answer the question"
            )
        return ""

    def sizes_text(self) -> str:
        """ "1B", "4B, 12B, 27B", or for long lists the range: "0.6B – 235B (8 sizes)"."""
        if len(self.sizes) > 4:
            return QCoreApplication.translate("ModelFacts", "{0} – {1} ({2} sizes)").format(
                size_label(self.sizes[0]), size_label(self.sizes[-1]), len(self.sizes)
            )
        return ", ".join(size_label(size) for size in self.sizes) or "–"

    @property
    def downloadable(self) -> bool:
        """The catalog lists GGUF files for it (some families only lend their chat template
        to models launched from a file)."""
        return any(names for _key, names in self.quantizations)

    def languages_text(self) -> str:
        """ "English, Chinese", or for long lists the first two and how many more."""
        names = [language_name(code) for code in self.languages]
        if len(names) > 3:
            return QCoreApplication.translate("ModelFacts", "{0} and {1} more").format(
                ", ".join(names[:2]), len(names) - 2
            )
        return ", ".join(names) or "–"

    def abilities_text(self) -> str:
        return ", ".join(ability_name(a) for a in self.abilities if a != "generate") or "–"


class CatalogColumn(IntEnum):
    NAME = 0
    DESCRIPTION = 1
    SIZES = 2
    CONTEXT = 3
    LANGUAGES = 4
    ABILITIES = 5


class CatalogModel(RecordTableModel[CatalogEntry]):
    """The families of one model type, by name."""

    column_count = len(CatalogColumn)

    def __init__(self, model_type: ModelType, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model_type = model_type

    def set_registrations(self, registrations: Sequence[Registration]) -> None:
        """Show the families that have files to download, by name."""
        entries = [CatalogEntry.from_api(self.model_type, r) for r in registrations]
        wanted = [entry for entry in entries if entry.downloadable]
        self.set_records(sorted(wanted, key=lambda e: e.name.lower()))

    def entry(self, name: str) -> CatalogEntry | None:
        row = self.row_of(name)
        return self.record(row) if row >= 0 else None

    def key(self, record: CatalogEntry) -> Hashable:
        return record.name

    def header(self, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                CatalogColumn.NAME: self.tr("Model"),
                CatalogColumn.DESCRIPTION: self.tr("What it is"),
                CatalogColumn.SIZES: self.tr("Sizes"),
                CatalogColumn.CONTEXT: self.tr("Reads up to"),
                CatalogColumn.LANGUAGES: self.tr("Languages"),
                CatalogColumn.ABILITIES: self.tr("Can do"),
            }[CatalogColumn(column)]
        if role == Qt.ItemDataRole.ToolTipRole:
            return {
                CatalogColumn.NAME: self.tr("The name the model launches by"),
                CatalogColumn.DESCRIPTION: self.tr("A short description"),
                CatalogColumn.SIZES: self.tr(
                    "Billions of parameters: bigger models know more but need more memory"
                ),
                CatalogColumn.CONTEXT: self.tr(
                    "The longest text the model can read at once, in tokens (context length)"
                ),
                CatalogColumn.LANGUAGES: self.tr("Languages the model was trained for"),
                CatalogColumn.ABILITIES: self.tr("What the model can do besides answering"),
            }[CatalogColumn(column)]
        return None

    def cell(self, record: CatalogEntry, column: int, role: int) -> Any:
        col = CatalogColumn(column)
        if role == Qt.ItemDataRole.DisplayRole:
            if col is CatalogColumn.NAME:
                if record.builtin:
                    return record.name
                return self.tr("{0} (added by you)").format(record.name)
            return {
                CatalogColumn.DESCRIPTION: record.summary(),
                CatalogColumn.SIZES: record.sizes_text(),
                CatalogColumn.CONTEXT: context_label(record.context_length),
                CatalogColumn.LANGUAGES: record.languages_text(),
                CatalogColumn.ABILITIES: record.abilities_text(),
            }[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            if col is CatalogColumn.DESCRIPTION and record.description:
                return record.description
            if col is CatalogColumn.LANGUAGES and record.languages:
                return ", ".join(language_name(code) for code in record.languages)
            if col is CatalogColumn.CONTEXT and record.context_length:
                return self.tr("{0} tokens, {1}").format(
                    f"{record.context_length:,}", words_label(record.context_length)
                )
        return None


class CatalogFilter(QSortFilterProxyModel):
    """Keeps the rows whose name, description, languages or abilities contain the text."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._words: tuple[str, ...] = ()

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self._words = tuple(text.lower().split())
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        if not self._words:
            return True
        source = self.sourceModel()
        if not isinstance(source, CatalogModel):
            return True
        entry = source.record(source_row)
        haystack = " ".join(
            (
                entry.name,
                entry.summary(),
                entry.sizes_text(),
                " ".join(entry.languages),
                entry.languages_text(),
                " ".join(entry.abilities),
                entry.abilities_text(),
            )
        ).lower()
        return all(word in haystack for word in self._words)
