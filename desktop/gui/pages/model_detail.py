"""One model's page inside the Models page: what it is, its sizes, and the quality / size levels
(quantizations) with their download size and whether each runs on this computer.

Two kinds of model are shown: a catalog family (`GET /v1/xindesk/catalog/{type}/{name}` with a
context length, which adds the memory fit and marks the recommended level) and a repository
found on a hub (`GET /v1/xindesk/repo`). Download starts a download job; Launch opens the launch
options dialog (a catalog model that is not on disk is downloaded first by the server). A hub
repository can be added to "my models" (`POST /v1/xindesk/repo/register`) so it launches by
name like a catalog model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.api.common import Verdict
from desktop.api.downloads import DownloadJobView, StartDownload
from desktop.api.hubs import HubName
from desktop.api.library import (
    CatalogModelFiles,
    HardwareView,
    InstalledModelView,
    RepoFiles,
)
from desktop.api.xinference import LaunchRequest, Registration
from desktop.core.units import human_bytes
from desktop.gui.context import GuiContext
from desktop.gui.dialogs.launch import LaunchDialog, LaunchTarget, context_choices
from desktop.gui.models.catalog_model import (
    CatalogEntry,
    context_label,
    size_label,
    type_name,
    words_label,
)
from desktop.gui.models.quant_model import QuantColumn, QuantModel, QuantRow, rows_from_catalog
from desktop.gui.models.quant_model import rows_from_repo as quant_rows_from_repo
from desktop.gui.widgets.common import Banner, fit_columns, table_view
from desktop.gui.widgets.model_summary import ModelSummary, RepoRef, Subject
from desktop.gui.widgets.register_row import RegisterRow

log = logging.getLogger("xindesk.gui.models")


@dataclass(frozen=True)
class DetailAnswer:
    """What one reload read from the server: a catalog model's files, or a repository's with
    the models on disk; the hardware the first time."""

    serial: int
    hardware: HardwareView | None = None
    catalog: CatalogModelFiles | None = None
    repo: RepoFiles | None = None
    installed: list[InstalledModelView] = field(default_factory=list)


def gpu_usable(hardware: HardwareView) -> bool:
    """Whether models can put layers on a GPU of this machine."""
    return hardware.gpu_offload and bool(hardware.gpus)


class ModelDetail(QWidget):
    """The model page.

    Signals:
        back_requested(): the person wants the list again.
        catalog_changed(): a repository was added to the catalog (the list reloads).
    """

    back_requested = Signal()
    catalog_changed = Signal()

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._subject: Subject | None = None
        self._hardware: HardwareView | None = None
        self._serial = 0
        self._loading = False

        self.back_button = QPushButton(self)
        self.back_button.setObjectName("backButton")
        self.back_button.setFlat(True)
        self.back_button.clicked.connect(self.back_requested)
        self.summary = ModelSummary(self)

        self.size_label = QLabel(self)
        self.size_combo = QComboBox(self)
        self.size_combo.setObjectName("sizeCombo")
        self.size_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.context_label = QLabel(self)
        self.context_combo = QComboBox(self)
        self.context_combo.setObjectName("contextCombo")
        self.context_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        choices = QFormLayout()
        choices.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        choices.addRow(self.size_label, self.size_combo)
        choices.addRow(self.context_label, self.context_combo)

        self.banner = Banner(self)
        self._action_page = ""
        self.banner.action.clicked.connect(self._banner_action)
        self.table_heading = QLabel(self)
        self.table_heading.setObjectName("subheading")
        self.busy = QProgressBar(self)
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(160)
        self.busy.setTextVisible(False)
        self.busy.hide()
        self.busy_label = QLabel(self)
        self.busy_label.setObjectName("hint")
        self.busy_label.hide()
        table_head = QHBoxLayout()
        table_head.addWidget(self.table_heading)
        table_head.addStretch(1)
        table_head.addWidget(self.busy_label)
        table_head.addWidget(self.busy)

        self.quants = QuantModel(self)
        self.table = table_view(self, "quantTable")
        self.table.setModel(self.quants)
        fit_columns(self.table, QuantColumn.QUALITY)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(self._double_clicked)
        self.fit_note = QLabel(self)
        self.fit_note.setObjectName("hint")
        # Its tooltip lists the server's estimate assumptions: data, not words to translate.
        self.fit_note.setProperty("xindesk_data_tooltip", True)
        self.fit_note.setWordWrap(True)

        # A searched repository can be kept as one of "my models".
        self.register_row = RegisterRow(self)
        self.register_row.button.clicked.connect(self.register)
        self.register_row.hide()

        self.selection_label = QLabel(self)
        self.selection_label.setObjectName("hint")
        self.download_button = QPushButton(self)
        self.download_button.setObjectName("downloadButton")
        self.download_button.clicked.connect(self.download)
        self.launch_button = QPushButton(self)
        self.launch_button.setObjectName("primary")
        self.launch_button.clicked.connect(self.open_launch_dialog)
        buttons = QHBoxLayout()
        buttons.addWidget(self.selection_label, 1)
        buttons.addWidget(self.download_button)
        buttons.addWidget(self.launch_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.back_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.summary)
        layout.addLayout(choices)
        layout.addWidget(self.banner)
        layout.addLayout(table_head)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.fit_note)
        layout.addWidget(self.register_row)
        layout.addLayout(buttons)

        self.size_combo.currentIndexChanged.connect(self._size_changed)
        self.context_combo.currentIndexChanged.connect(self._context_changed)
        self.launch_dialog: LaunchDialog | None = None
        self.retranslate()
        self._update_buttons()

    # -- what is shown --------------------------------------------------------------------------

    @property
    def subject(self) -> Subject | None:
        return self._subject

    def show_catalog(self, entry: CatalogEntry) -> None:
        """Show a catalog family (its smallest size first: the one most computers run)."""
        self._subject = entry
        self._fill_choices(entry.sizes, entry.context_length)
        self.register_row.hide()
        self.summary.set_subject(self._subject)
        self.reload()

    def show_repo(self, repo_id: str, hub: HubName | None = None) -> None:
        """Show a repository found on a hub."""
        self._subject = RepoRef(repo_id, hub)
        self._fill_choices((), None)
        self.register_row.suggest(repo_id)
        self.register_row.show()
        self.summary.set_subject(self._subject)
        self.reload()

    def _fill_choices(self, sizes: tuple[str, ...], max_context: int | None) -> None:
        for combo in (self.size_combo, self.context_combo):
            combo.blockSignals(True)
            combo.clear()
        for size in sizes:
            self.size_combo.addItem(size_label(size), size)
        several = len(sizes) > 1
        self.size_label.setVisible(several)
        self.size_combo.setVisible(several)
        wanted = self.ctx.settings.models.default_context_length
        choices = context_choices(max_context)
        for tokens in choices:
            self.context_combo.addItem("", tokens)
        fitting = [n for n in choices if n <= wanted] or choices[:1]
        self.context_combo.setCurrentIndex(choices.index(fitting[-1]))
        self._label_context_items()
        for combo in (self.size_combo, self.context_combo):
            combo.blockSignals(False)

    def _label_context_items(self) -> None:
        for index in range(self.context_combo.count()):
            tokens = int(self.context_combo.itemData(index))
            self.context_combo.setItemText(
                index,
                self.tr("{0} tokens ({1})").format(context_label(tokens), words_label(tokens)),
            )

    def selected_size(self) -> str | None:
        data = self.size_combo.currentData()
        if data is not None:
            return str(data)
        if isinstance(self._subject, CatalogEntry) and self._subject.sizes:
            return self._subject.sizes[0]
        return None

    def context_length(self) -> int:
        data = self.context_combo.currentData()
        return int(data) if data is not None else self.ctx.settings.models.default_context_length

    def select_context(self, tokens: int) -> None:
        index = self.context_combo.findData(tokens)
        if index >= 0:
            self.context_combo.setCurrentIndex(index)

    def selected_row(self) -> QuantRow | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.quants.record(rows[0].row())

    def select_quantization(self, quantization: str) -> bool:
        for row, record in enumerate(self.quants.records()):
            if record.quantization == quantization and record.available:
                self.table.selectRow(row)
                return True
        return False

    # -- loading --------------------------------------------------------------------------------

    def reload(self, *, keep_rows: bool = False) -> None:
        """Ask the server for the files, their sizes and the memory fit again; with
        `keep_rows` (the same model at another context) the rows stay, and so does the
        selection, while only their figures are updated."""
        subject = self._subject
        if subject is None:
            return
        self._serial += 1
        serial = self._serial
        self.banner.clear()
        if not keep_rows:
            self.quants.set_records([])
            self.fit_note.clear()
        self._set_loading(True)
        client = self.ctx.session.client
        need_hardware = self._hardware is None
        size, context = self.selected_size(), self.context_length()

        def fetch() -> DetailAnswer:
            hardware = client.hardware() if need_hardware else None
            if isinstance(subject, CatalogEntry):
                files = client.catalog_files(
                    subject.model_type, subject.name, size=size, context_length=context
                )
                return DetailAnswer(serial, hardware, catalog=files)
            repo = client.repo_files(subject.repo_id, hub=subject.hub, context_length=context)
            return DetailAnswer(serial, hardware, repo=repo, installed=client.installed())

        self.ctx.tasks.run(fetch, self._loaded, self._load_failed)

    def _loaded(self, answer: DetailAnswer) -> None:
        if answer.serial != self._serial:
            return  # an older request; a newer one is on its way
        self._set_loading(False)
        if answer.hardware is not None:
            self._hardware = answer.hardware
        if answer.catalog is not None:
            rows = rows_from_catalog(answer.catalog.specs)
            sizes = answer.catalog.sizes or []
            notes = [s.fit_note for s in sizes if s.fit_note]
            assumptions = [a for s in sizes for a in s.assumptions]
            hint = next((s.recommended for s in sizes if s.recommended), None)
        elif answer.repo is not None:
            repo = answer.repo
            rows = quant_rows_from_repo(repo, answer.installed)
            notes = [repo.fit_note] if repo.fit_note else []
            assumptions = list(repo.assumptions)
            hint = repo.recommended
            if isinstance(self._subject, RepoRef):
                self._subject = RepoRef(self._subject.repo_id, repo.hub)
                self.summary.set_subject(self._subject)
        else:
            return
        self.quants.set_records(rows)
        stale = next((row.note for row in rows if row.available and row.note), None)
        if not rows:
            self.banner.show_info(
                self.tr("There are no downloadable GGUF files for this model right now.")
            )
        elif not any(row.available for row in rows):
            self.banner.show_error(
                self.tr(
                    "The hub does not have the files of this model right now. Try another size "
                    "or another download source in Settings."
                )
            )
        elif stale:
            self.banner.show_info(stale)
        self._show_fit_note(notes, assumptions)
        if self.selected_row() is None:
            row = self.quants.recommended_row(hint)
            if row >= 0:
                self.table.selectRow(row)
        self._update_buttons()

    def _load_failed(self, message: str) -> None:
        self._serial += 1
        self._set_loading(False)
        self.banner.show_error(message)
        self._update_buttons()

    def _show_fit_note(self, notes: list[str], assumptions: list[str]) -> None:
        hardware = self._hardware
        if hardware is not None and gpu_usable(hardware):
            where = self.tr("this computer's GPU memory ({0} free) and RAM ({1} free)").format(
                human_bytes(hardware.gpu_free_bytes), human_bytes(hardware.ram_available_bytes)
            )
        else:
            where = self.tr("this computer's RAM ({0} free; no GPU XinDesk can use)").format(
                human_bytes(hardware.ram_available_bytes if hardware is not None else None)
            )
        text = self.tr(
            "“On this computer” is an estimate for {0} tokens of context with {1}. Smaller levels "
            "need less memory and answer faster, a little less accurately. ★ marks the best one "
            "that runs well here."
        ).format(f"{self.context_length():,}", where)
        if notes:
            text += " " + " ".join(notes)
        self.fit_note.setText(text)
        self.fit_note.setToolTip("\n".join(dict.fromkeys(assumptions)))

    def _set_loading(self, loading: bool) -> None:
        self._loading = loading
        self.busy.setVisible(loading)
        self.busy_label.setVisible(loading)
        self._update_buttons()

    @property
    def loading(self) -> bool:
        return self._loading

    # -- actions --------------------------------------------------------------------------------

    def download(self) -> None:
        row = self.selected_row()
        subject = self._subject
        if row is None or subject is None:
            return
        if isinstance(subject, CatalogEntry):
            body = StartDownload(
                model_name=subject.name,
                model_type=subject.model_type,
                quantization=row.quantization,
            )
            if row.model_size:
                body.model_size_in_billions = row.model_size
        else:
            body = StartDownload(repo_id=subject.repo_id, quantization=row.quantization)
            if row.hub:
                body.hub = row.hub
        self.download_button.setEnabled(False)
        client = self.ctx.session.client
        self.ctx.tasks.run(
            lambda: client.start_download(body), self._download_started, self._failed
        )

    def _download_started(self, job: DownloadJobView) -> None:
        self._update_buttons()
        self.ctx.navigator.downloads_changed.emit()
        self.banner.show_info(
            self.tr("Downloading {0}. It carries on in the background.").format(job.label)
        )
        self._offer_action(self.tr("Open Downloads"), "downloads")

    def _offer_action(self, text: str, page: str) -> None:
        self._action_page = page
        self.banner.action.setText(text)
        self.banner.action.show()

    def _banner_action(self) -> None:
        if self._action_page:
            self.ctx.navigator.go(self._action_page)

    def _failed(self, message: str) -> None:
        self._update_buttons()
        self.banner.show_error(message)

    def register(self) -> None:
        subject = self._subject
        if not isinstance(subject, RepoRef):
            return
        body = self.register_row.request(subject)
        self.register_row.button.setEnabled(False)
        client = self.ctx.session.client
        self.ctx.tasks.run(lambda: client.register_repo(body), self._registered, self._failed)

    def _registered(self, family: Registration) -> None:
        self.register_row.button.setEnabled(True)
        self.banner.show_info(
            self.tr(
                "Added as “{0}”: it is in the {1} list now, and apps can launch it by that name."
            ).format(family.model_name, type_name(self.register_row.model_type()))
        )
        self.catalog_changed.emit()

    def launch_request(self) -> LaunchTarget | None:
        """What Launch would start with the current choices (None: nothing to launch)."""
        row = self.selected_row()
        subject = self._subject
        if row is None or subject is None or not row.available:
            return None
        hardware = self._hardware
        partial = row.verdict is Verdict.PARTIAL_OFFLOAD
        if isinstance(subject, CatalogEntry):
            body = LaunchRequest(
                model_name=subject.name,
                model_type=subject.model_type,
                quantization=row.quantization,
            )
            title = subject.name
            if row.model_size:
                body.model_size_in_billions = row.model_size
                title = self.tr("{0} {1}").format(subject.name, size_label(row.model_size))
            model_type = subject.model_type
            max_context = subject.context_length
            register = None
            title = self.tr("{0}, {1}").format(title, row.quantization)
        else:
            body = LaunchRequest(
                quantization=row.quantization, model_type=self.register_row.model_type()
            )
            model_type, max_context = None, None
            register = self.register_row.request(subject)
            title = self.tr("{0}, {1}").format(subject.repo_id, row.quantization)
        return LaunchTarget(
            title=title,
            body=body,
            model_type=model_type,
            max_context=max_context,
            context_length=self.context_length(),
            gpu_layers=row.gpu_layers if partial else None,
            gpu_available=gpu_usable(hardware) if hardware is not None else None,
            cpu_threads=hardware.cpu_logical_cores if hardware is not None else None,
            download_size=None if row.downloaded else row.size,
            register=register,
        )

    def open_launch_dialog(self) -> LaunchDialog | None:
        request = self.launch_request()
        if request is None:
            return None
        dialog = LaunchDialog(self.ctx, request, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.launched.connect(self._launched)
        self.launch_dialog = dialog
        dialog.destroyed.connect(self._dialog_gone)
        dialog.open()
        return dialog

    def _dialog_gone(self) -> None:
        self.launch_dialog = None

    def _launched(self, uid: str) -> None:
        if isinstance(self._subject, RepoRef):
            self.catalog_changed.emit()
        self.ctx.navigator.running_changed.emit()
        self.ctx.navigator.go("running", uid)

    def _double_clicked(self) -> None:
        self.open_launch_dialog()

    # -- looks ----------------------------------------------------------------------------------

    def _size_changed(self) -> None:
        self.reload()

    def _context_changed(self) -> None:
        self.reload(keep_rows=True)

    def _selection_changed(self) -> None:
        self._update_buttons()

    def _update_buttons(self) -> None:
        row = self.selected_row()
        usable = row is not None and row.available and not self._loading
        self.launch_button.setEnabled(usable)
        self.download_button.setEnabled(usable and row is not None and not row.downloaded)
        if row is None:
            self.selection_label.setText(self.tr("Pick a quality / size level above."))
            self.download_button.setText(self.tr("Download"))
        else:
            self.selection_label.setText(
                self.tr("Selected: {0}, {1}").format(
                    row.quantization, human_bytes(row.size) if row.size is not None else "–"
                )
            )
            self.download_button.setText(
                self.tr("Downloaded") if row.downloaded else self.tr("Download")
            )

    def retranslate(self) -> None:
        self.back_button.setText(self.tr("← All models"))
        self.size_label.setText(self.tr("Model size (billions of parameters)"))
        self.size_combo.setToolTip(
            self.tr("Bigger models know more and write better, but need more memory.")
        )
        for index in range(self.size_combo.count()):
            self.size_combo.setItemText(index, size_label(str(self.size_combo.itemData(index))))
        self.context_label.setText(self.tr("Plan for this much text (context length)"))
        self.context_combo.setToolTip(
            self.tr(
                "How much text the model keeps in mind at once: the conversation plus any "
                "documents. Longer needs more memory."
            )
        )
        self._label_context_items()
        self.table_heading.setText(self.tr("Quality / size level (quantization)"))
        self.busy_label.setText(self.tr("Checking the files and the memory each needs…"))
        self.launch_button.setText(self.tr("Launch…"))
        self.launch_button.setToolTip(
            self.tr("Start the model so apps can use it (it is downloaded first if needed)")
        )
        self.download_button.setToolTip(self.tr("Only download it now, to launch later"))
        self.quants.retranslate()
        self._update_buttons()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
