"""One model's quantization choices as a table a newcomer can pick from.

A row is one "quality / size level" (quantization): its name, what it means in plain words,
the download size, whether it runs on this computer at the chosen context (the server's memory
fit, with the estimate in the tooltip), and whether it is the recommended one or already on
disk. Rows come from the catalog route (`catalog_files`) or the repository route (`repo_files`);
levels the hub does not have right now are listed greyed out, last.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QColor, QFont

from desktop.api.common import Verdict
from desktop.api.hubs import HubName
from desktop.api.library import CatalogFileRow, FitVerdict, InstalledModelView, RepoFiles
from desktop.core.memory.quant import DEFAULT_QUANT, quant_from_filename, quant_level, sort_key
from desktop.core.units import human_bytes
from desktop.gui.models.palette import AMBER, GREEN, GREY, RED
from desktop.gui.models.record_table import RecordTableModel

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def quality_hint(quantization: str) -> str:
    """What a quantization level means, in words: how close to the original it is."""
    level = quant_level(quant_from_filename(quantization) or quantization)
    if level is None:
        return QCoreApplication.translate("QuantModel", "Unknown level")
    if level.name == "Q4_K_M":
        return QCoreApplication.translate(
            "QuantModel", "Good – the usual balance of size and quality"
        )
    bits = level.bits_per_weight
    if bits >= 15:
        return QCoreApplication.translate("QuantModel", "Original quality – largest file")
    if bits >= 8:
        return QCoreApplication.translate("QuantModel", "Near original quality – large file")
    if bits >= 5.5:
        return QCoreApplication.translate("QuantModel", "Very good quality")
    if bits >= 4.2:
        return QCoreApplication.translate("QuantModel", "Good quality, smaller file")
    if bits >= 3.4:
        return QCoreApplication.translate("QuantModel", "Fair – noticeably less accurate")
    return QCoreApplication.translate("QuantModel", "Low – only if nothing bigger fits")


def verdict_text(verdict: Verdict | None) -> str:
    """The fit badge: where the model runs on this computer."""
    if verdict is None:
        return QCoreApplication.translate("QuantModel", "Not checked")
    texts = {
        Verdict.FITS_GPU: QCoreApplication.translate("QuantModel", "Fits in GPU memory"),
        Verdict.PARTIAL_OFFLOAD: QCoreApplication.translate("QuantModel", "Partly on GPU"),
        Verdict.CPU_ONLY: QCoreApplication.translate("QuantModel", "Runs on CPU"),
        Verdict.DOES_NOT_FIT: QCoreApplication.translate("QuantModel", "Too big for this computer"),
    }
    return texts[verdict]


_COLOURS = {
    Verdict.FITS_GPU: GREEN,
    Verdict.PARTIAL_OFFLOAD: AMBER,
    Verdict.CPU_ONLY: AMBER,
    Verdict.DOES_NOT_FIT: RED,
}
_BADGES = {
    Verdict.FITS_GPU: "badgeFits",
    Verdict.PARTIAL_OFFLOAD: "badgePartial",
    Verdict.CPU_ONLY: "badgePartial",
    Verdict.DOES_NOT_FIT: "badgeNoFit",
}


def verdict_colour(verdict: Verdict | None) -> QColor:
    return GREY if verdict is None else _COLOURS[verdict]


def verdict_badge_name(verdict: Verdict | None) -> str:
    """The style sheet's object name for a badge label of this verdict."""
    return "hint" if verdict is None else _BADGES[verdict]


def fit_tooltip(fit: FitVerdict | None, note: str | None = None) -> str:
    """The estimate behind a badge: the server's sentence and the figures."""
    if fit is None:
        return note or QCoreApplication.translate(
            "QuantModel", "The memory this needs could not be estimated."
        )
    lines = [fit.message]
    if fit.ram_needed:
        lines.append(
            QCoreApplication.translate("QuantModel", "Memory (RAM): needs {0}, {1} usable").format(
                human_bytes(fit.ram_needed), human_bytes(max(0, fit.ram_budget))
            )
        )
    if fit.vram_needed:
        lines.append(
            QCoreApplication.translate("QuantModel", "GPU memory: needs {0}, {1} usable").format(
                human_bytes(fit.vram_needed), human_bytes(max(0, fit.vram_budget or 0))
            )
        )
    return "\n".join(line for line in lines if line)


@dataclass(frozen=True)
class QuantRow:
    """One quantization choice.

    Attributes:
        quantization: The name to send back (the catalog's or the repository's spelling).
        size: Bytes to download; None when the hub does not have the files now.
        files: The file paths in the repository.
        available: The hub has every file, so it can be downloaded.
        fit: The server's memory fit, None when unknown.
        recommended: The best choice for this computer.
        downloaded: Already on disk.
        note: Why it is unavailable or old (the server's words).
        model_size: The catalog size key the row belongs to ("" for none).
        hub, repo_id: Where the files are.
    """

    quantization: str
    size: int | None
    files: tuple[str, ...]
    available: bool
    fit: FitVerdict | None
    recommended: bool
    downloaded: bool
    note: str | None = None
    model_size: str = ""
    hub: HubName | None = None
    repo_id: str = ""

    @property
    def verdict(self) -> Verdict | None:
        return self.fit.verdict if self.fit else None

    @property
    def gpu_layers(self) -> int | None:
        """The offload the fit planned (llama.cpp's n_gpu_layers), None when unknown."""
        return self.fit.n_gpu_layers if self.fit else None


def _order(rows: Iterable[QuantRow]) -> list[QuantRow]:
    """Best quality first; what cannot be downloaded now goes last."""
    return sorted(rows, key=lambda r: (not r.available, sort_key(r.quantization)))


def rows_from_catalog(specs: list[CatalogFileRow]) -> list[QuantRow]:
    """Rows from `catalog_files(...).specs` (one size)."""
    rows = []
    for spec in specs:
        available = spec.size is not None and not spec.missing
        note = spec.note
        if not available and spec.missing:
            note = QCoreApplication.translate(
                "QuantModel", "Not on {0} right now (missing {1})"
            ).format(spec.repo_id, ", ".join(spec.missing))
        rows.append(
            QuantRow(
                quantization=spec.quantization,
                size=spec.size,
                files=tuple(f.path for f in spec.files),
                available=available,
                fit=spec.fit,
                recommended=bool(spec.recommended),
                downloaded=spec.downloaded,
                note=note,
                model_size=spec.model_size_in_billions or "",
                hub=spec.hub,
                repo_id=spec.repo_id,
            )
        )
    return _order(rows)


def rows_from_repo(repo: RepoFiles, installed: list[InstalledModelView]) -> list[QuantRow]:
    """Rows from `repo_files(...)`; `installed` (from `installed()`) marks what is on disk."""
    on_disk = {
        model.path.replace("\\", "/")
        for model in installed
        if model.repo_id == repo.repo_id and model.usable
    }
    rows = []
    for choice in repo.choices:
        files = tuple(f.path for f in choice.files)
        downloaded = bool(files) and any(path.endswith("/" + files[0]) for path in on_disk)
        rows.append(
            QuantRow(
                quantization=choice.quantization,
                size=choice.size if choice.complete else None,
                files=files,
                available=choice.complete,
                fit=choice.fit,
                recommended=choice.recommended,
                downloaded=downloaded,
                note=None
                if choice.complete
                else QCoreApplication.translate(
                    "QuantModel", "Some parts of this split file are missing on the hub"
                ),
                hub=repo.hub,
                repo_id=repo.repo_id,
            )
        )
    return _order(rows)


class QuantColumn(IntEnum):
    LEVEL = 0
    QUALITY = 1
    SIZE = 2
    FIT = 3
    STATUS = 4


class QuantModel(RecordTableModel[QuantRow]):
    """The choices of one model (one size), recommended row in bold."""

    column_count = len(QuantColumn)

    def key(self, record: QuantRow) -> Hashable:
        return (record.quantization, record.files)

    def enabled(self, record: QuantRow) -> bool:
        return record.available

    def recommended_row(self, hint: str | None = None) -> int:
        """The row to preselect: the recommended one; without a fit, the level the server
        suggested (`hint`), else the usual Q4_K_M, else the first downloadable; -1 if none."""
        for row, record in enumerate(self._records):
            if record.recommended:
                return row
        wanted = [quant_from_filename(name) for name in (hint, DEFAULT_QUANT) if name]
        for level in wanted:
            for row, record in enumerate(self._records):
                if record.available and quant_from_filename(record.quantization) == level:
                    return row
        for row, record in enumerate(self._records):
            if record.available:
                return row
        return -1

    def header(self, column: int, role: int) -> Any:
        col = QuantColumn(column)
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                QuantColumn.LEVEL: self.tr("Quality / size level"),
                QuantColumn.QUALITY: self.tr("What it means"),
                QuantColumn.SIZE: self.tr("Download"),
                QuantColumn.FIT: self.tr("On this computer"),
                QuantColumn.STATUS: "",
            }[col]
        if role == Qt.ItemDataRole.ToolTipRole:
            return {
                QuantColumn.LEVEL: self.tr(
                    "The quantization: how much the model's numbers were rounded to make the "
                    "file smaller. Smaller files need less memory and answer faster, a little "
                    "less accurately."
                ),
                QuantColumn.QUALITY: self.tr("How close to the original model this level is"),
                QuantColumn.SIZE: self.tr("Size of the file(s) to download"),
                QuantColumn.FIT: self.tr(
                    "Whether it runs on this computer at the chosen context length"
                ),
                QuantColumn.STATUS: None,
            }[col]
        return None

    def cell(self, record: QuantRow, column: int, role: int) -> Any:
        col = QuantColumn(column)
        if role == Qt.ItemDataRole.DisplayRole:
            if col is QuantColumn.LEVEL:
                return record.quantization
            if col is QuantColumn.QUALITY:
                return quality_hint(record.quantization)
            if col is QuantColumn.SIZE:
                return human_bytes(record.size) if record.size is not None else "–"
            if col is QuantColumn.FIT:
                if not record.available:
                    return self.tr("Not available")
                return verdict_text(record.verdict)
            return self._status(record)
        if role == Qt.ItemDataRole.ToolTipRole:
            if not record.available:
                return record.note
            if col is QuantColumn.FIT:
                return fit_tooltip(record.fit, record.note)
            if col is QuantColumn.SIZE and len(record.files) > 1:
                return self.tr("{0} files: {1}").format(len(record.files), ", ".join(record.files))
            if col is QuantColumn.LEVEL and record.files:
                return "\n".join(record.files)
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            if not record.available:
                return GREY
            if col is QuantColumn.FIT:
                return verdict_colour(record.verdict)
            return None
        if role == Qt.ItemDataRole.FontRole and record.recommended:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and col is QuantColumn.SIZE:
            return _RIGHT
        return None

    def _status(self, record: QuantRow) -> str:
        marks = []
        if record.recommended:
            marks.append(self.tr("★ Recommended"))
        if record.downloaded:
            marks.append(self.tr("✓ Downloaded"))
        return "  ".join(marks)
