"""The Models page: the catalog by kind (chat, embedding, rerank), the models already on this
computer, and a search of Hugging Face and ModelScope; picking one opens its model page.

Typing in the search box narrows the lists at once (no network); Enter or "Search online" asks
the hubs through the server, off the GUI thread. The list and a model's page share the space:
the page has a Back button, so the quantization table gets the whole width.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.api.common import MODEL_TYPES, ModelType
from desktop.api.hubs import HUB_NAMES, HubName
from desktop.api.library import HardwareView, InstalledModelView, SearchHit, SearchResults
from desktop.api.xinference import DetailedRegistration, LaunchRequest
from desktop.gui.context import GuiContext
from desktop.gui.dialogs.launch import LaunchDialog, LaunchTarget
from desktop.gui.models.catalog_model import (
    CatalogColumn,
    CatalogEntry,
    CatalogFilter,
    CatalogModel,
)
from desktop.gui.models.installed_model import (
    InstalledTableModel,
    LocalColumn,
    file_name,
    launch_name,
)
from desktop.gui.models.record_table import RECORD_ROLE
from desktop.gui.models.search_model import SearchColumn, SearchModel
from desktop.gui.models.search_model import guess_model_type as guess_type
from desktop.gui.pages.base import Page
from desktop.gui.pages.model_detail import ModelDetail, gpu_usable
from desktop.gui.widgets.common import Banner, fit_columns, heading, hint, table_view

log = logging.getLogger("xindesk.gui.models")

INSTALLED_TAB = "installed"
ONLINE_TAB = "online"

CATALOG_WIDTHS = {
    CatalogColumn.NAME: 190,
    CatalogColumn.SIZES: 130,
    CatalogColumn.CONTEXT: 90,
    CatalogColumn.LANGUAGES: 120,
    CatalogColumn.ABILITIES: 150,
}


@dataclass(frozen=True)
class ModelsAnswer:
    """What one reload read from the server: the catalog by model type, the models on disk,
    and the hardware the first time."""

    catalog: dict[ModelType, list[DetailedRegistration]]
    installed: list[InstalledModelView]
    hardware: HardwareView | None


def _table(parent: QWidget, name: str) -> QTableView:
    view = table_view(parent, name)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.horizontalHeader().setHighlightSections(False)
    return view


class ModelsPage(Page):
    """The catalog, the models on disk and hub search; a model's page on top.

    `activate` accepts a model type ("LLM", "embedding", "rerank") to show that list.
    """

    key = "models"

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._hardware: HardwareView | None = None
        self._loading = False
        self._reload_again = False
        self._searching = False
        self._last_query = ""

        self.stack = QStackedWidget(self)
        self.list_page = QWidget(self.stack)
        self.detail = ModelDetail(ctx, self.stack)
        self.detail.back_requested.connect(self.show_list)
        self.detail.catalog_changed.connect(self.reload)
        self.stack.addWidget(self.list_page)
        self.stack.addWidget(self.detail)

        self.title_label = heading(self.list_page)
        self.intro = hint(self.list_page)

        self.search_edit = QLineEdit(self.list_page)
        self.search_edit.setObjectName("searchEdit")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.textChanged.connect(self._filter)
        self.search_edit.returnPressed.connect(self.search_online)
        self.hub_combo = QComboBox(self.list_page)
        self.hub_combo.setObjectName("hubCombo")
        for hub in (None, *HUB_NAMES):
            self.hub_combo.addItem("", hub)
        self.search_button = QPushButton(self.list_page)
        self.search_button.setObjectName("searchButton")
        self.search_button.clicked.connect(self.search_online)
        self.busy = QProgressBar(self.list_page)
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setMaximumWidth(120)
        self.busy.hide()
        search_row = QHBoxLayout()
        search_row.addWidget(self.search_edit, 1)
        search_row.addWidget(self.hub_combo)
        search_row.addWidget(self.search_button)
        search_row.addWidget(self.busy)
        self.banner = Banner(self.list_page)

        self.tabs = QTabWidget(self.list_page)
        self.tabs.setObjectName("modelTabs")
        self.catalogs: dict[ModelType, CatalogModel] = {}
        self.filters: dict[ModelType, CatalogFilter] = {}
        self.catalog_views: dict[ModelType, QTableView] = {}
        self._tab_keys: list[str] = []
        for model_type in MODEL_TYPES:
            model = CatalogModel(model_type, self)
            proxy = CatalogFilter(self)
            proxy.setSourceModel(model)
            view = _table(self.tabs, f"catalog-{model_type}")
            view.setModel(proxy)
            header = view.horizontalHeader()
            header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
            header.setSectionResizeMode(CatalogColumn.DESCRIPTION, QHeaderView.ResizeMode.Stretch)
            header.setStretchLastSection(False)
            # Long descriptions are elided in the stretched column (the tooltip has them all),
            # so the table never needs a horizontal scroll bar.
            for column, width in CATALOG_WIDTHS.items():
                header.resizeSection(column, width)
            view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            if model_type != "LLM":
                view.setColumnHidden(CatalogColumn.ABILITIES, True)
            view.clicked.connect(self._catalog_clicked)
            view.activated.connect(self._catalog_clicked)
            self.catalogs[model_type] = model
            self.filters[model_type] = proxy
            self.catalog_views[model_type] = view
            self.tabs.addTab(view, "")
            self._tab_keys.append(model_type)

        self.installed = InstalledTableModel(self)
        self.installed_filter = QSortFilterProxyModel(self)
        self.installed_filter.setSourceModel(self.installed)
        self.installed_filter.setFilterKeyColumn(-1)
        self.installed_filter.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        installed_tab = QWidget(self.tabs)
        self.installed_hint = hint(installed_tab)
        self.installed_view = _table(installed_tab, "installedTable")
        self.installed_view.setModel(self.installed_filter)
        fit_columns(self.installed_view, LocalColumn.STATE)
        self.installed_view.selectionModel().selectionChanged.connect(self._installed_selected)
        self.installed_view.activated.connect(self.launch_installed)
        self.installed_launch = QPushButton(installed_tab)
        self.installed_launch.setObjectName("primary")
        self.installed_launch.setEnabled(False)
        self.installed_launch.clicked.connect(self.launch_installed)
        installed_buttons = QHBoxLayout()
        installed_buttons.addWidget(self.installed_hint, 1)
        installed_buttons.addWidget(self.installed_launch)
        installed_layout = QVBoxLayout(installed_tab)
        installed_layout.addWidget(self.installed_view, 1)
        installed_layout.addLayout(installed_buttons)
        self.tabs.addTab(installed_tab, "")
        self._tab_keys.append(INSTALLED_TAB)

        self.results = SearchModel(self)
        online_tab = QWidget(self.tabs)
        self.online_hint = hint(online_tab)
        self.online_view = _table(online_tab, "onlineTable")
        self.online_view.setModel(self.results)
        fit_columns(self.online_view, SearchColumn.REPO)
        self.online_view.clicked.connect(self._result_clicked)
        self.online_view.activated.connect(self._result_clicked)
        online_layout = QVBoxLayout(online_tab)
        online_layout.addWidget(self.online_hint)
        online_layout.addWidget(self.online_view, 1)
        self.tabs.addTab(online_tab, "")
        self._tab_keys.append(ONLINE_TAB)

        list_layout = QVBoxLayout(self.list_page)
        list_layout.setContentsMargins(0, 0, 0, 0)
        list_layout.addWidget(self.title_label)
        list_layout.addWidget(self.intro)
        list_layout.addLayout(search_row)
        list_layout.addWidget(self.banner)
        list_layout.addWidget(self.tabs, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.addWidget(self.stack)
        ctx.session.changed.connect(self._session_changed)
        self.launch_dialog: LaunchDialog | None = None
        self.retranslate()

    def title(self) -> str:
        return self.tr("Models")

    # -- page life ------------------------------------------------------------------------------

    def activate(self, argument: object = None) -> None:
        if isinstance(argument, str) and argument in self._tab_keys:
            self.show_list()
            self.show_tab(argument)
        self.reload()

    def show_tab(self, key: str) -> None:
        self.tabs.setCurrentIndex(self._tab_keys.index(key))

    def current_tab(self) -> str:
        return self._tab_keys[self.tabs.currentIndex()]

    def show_list(self) -> None:
        self.stack.setCurrentWidget(self.list_page)

    def showing_detail(self) -> bool:
        return self.stack.currentWidget() is self.detail

    def _session_changed(self) -> None:
        self._hardware = None
        if self.isVisible():
            self.reload()

    # -- loading --------------------------------------------------------------------------------

    def reload(self) -> None:
        """Fetch the catalog, the models on disk (and the hardware, once) again."""
        if self._loading:
            # Something may have changed since that request was sent: ask again after it.
            self._reload_again = True
            return
        self._loading = True
        self._reload_again = False
        client = self.ctx.session.client
        need_hardware = self._hardware is None

        def fetch() -> ModelsAnswer:
            return ModelsAnswer(
                catalog={
                    model_type: client.registrations(model_type, detailed=True)
                    for model_type in MODEL_TYPES
                },
                installed=client.installed(),
                hardware=client.hardware() if need_hardware else None,
            )

        self.ctx.tasks.run(fetch, self._loaded, self._load_failed)

    @property
    def loading(self) -> bool:
        return self._loading

    def _loaded(self, answer: ModelsAnswer) -> None:
        self._loading = False
        if self._reload_again:
            self.reload()
        for model_type in MODEL_TYPES:
            self.catalogs[model_type].set_registrations(answer.catalog[model_type])
        self.installed.set_installed(answer.installed)
        if answer.hardware is not None:
            self._hardware = answer.hardware
        self._update_counts()
        self._installed_selected()

    def _load_failed(self, message: str) -> None:
        self._loading = False
        self._reload_again = False
        self.banner.show_error(message)

    # -- the catalog filter and the search ------------------------------------------------------

    def _filter(self, text: str) -> None:
        for proxy in self.filters.values():
            proxy.set_text(text)
        self.installed_filter.setFilterFixedString(text.strip())
        self._update_counts()

    def _update_counts(self) -> None:
        names = {
            "LLM": self.tr("Chat ({0})"),
            "embedding": self.tr("Embedding ({0})"),
            "rerank": self.tr("Rerank ({0})"),
        }
        for index, key in enumerate(self._tab_keys):
            if key in self.filters:
                self.tabs.setTabText(index, names[key].format(self.filters[key].rowCount()))
            elif key == INSTALLED_TAB:
                self.tabs.setTabText(
                    index, self.tr("On this computer ({0})").format(self.installed.rowCount())
                )
            else:
                count = self.results.rowCount()
                self.tabs.setTabText(
                    index,
                    self.tr("Online ({0})").format(count) if count else self.tr("Online search"),
                )

    def search_online(self) -> None:
        """Search Hugging Face and/or ModelScope for GGUF repositories (off the GUI thread)."""
        query = self.search_edit.text().strip()
        self.show_tab(ONLINE_TAB)
        if not query:
            self.banner.show_error(self.tr("Type a model name (or owner/repository) to search."))
            self.search_edit.setFocus()
            return
        if self._searching:
            return
        self._searching = True
        self._last_query = query
        self.banner.clear()
        self.busy.show()
        self.search_button.setEnabled(False)
        self.online_hint.setText(self.tr("Searching for “{0}”…").format(query))
        hub = self._chosen_hub()
        client = self.ctx.session.client
        self.ctx.tasks.run(
            lambda: client.search(query, hub=hub, limit=50), self._searched, self._search_failed
        )

    def _chosen_hub(self) -> HubName | None:
        chosen = self.hub_combo.currentData()
        return next((hub for hub in HUB_NAMES if hub == chosen), None)

    @property
    def searching(self) -> bool:
        return self._searching

    def _searched(self, answer: SearchResults) -> None:
        self._search_done()
        results = answer.results
        self.results.set_results(results)
        self._update_counts()
        if results:
            self.online_hint.setText(
                self.tr(
                    "{0} repositories with GGUF files for “{1}”. Click one to see its quality "
                    "levels and what runs on this computer."
                ).format(len(results), self._last_query)
            )
        else:
            self.online_hint.setText(
                self.tr("No GGUF models found for “{0}”. Try fewer or other words.").format(
                    self._last_query
                )
            )
        if answer.notes:
            self.banner.show_info(" ".join(answer.notes))

    def _search_failed(self, message: str) -> None:
        self._search_done()
        self.online_hint.setText(self.tr("The search did not work; see the message above."))
        self.banner.show_error(message)

    def _search_done(self) -> None:
        self._searching = False
        self.busy.hide()
        self.search_button.setEnabled(True)

    # -- opening a model ------------------------------------------------------------------------

    def _catalog_clicked(self, index: QModelIndex | QPersistentModelIndex) -> None:
        entry = index.data(RECORD_ROLE)
        if isinstance(entry, CatalogEntry):
            self.open_entry(entry)

    def open_entry(self, entry: CatalogEntry) -> None:
        """Show a catalog model's page."""
        self.banner.clear()
        self.detail.show_catalog(entry)
        self.stack.setCurrentWidget(self.detail)

    def _result_clicked(self, index: QModelIndex | QPersistentModelIndex) -> None:
        hit = index.data(RECORD_ROLE)
        if isinstance(hit, SearchHit):
            self.open_repo(hit.repo_id, hit.hub)

    def open_repo(self, repo_id: str, hub: HubName | None = None) -> None:
        """Show a hub repository's page."""
        self.banner.clear()
        self.detail.show_repo(repo_id, hub)
        self.stack.setCurrentWidget(self.detail)

    # -- models on disk -------------------------------------------------------------------------

    def selected_local(self) -> InstalledModelView | None:
        rows = self.installed_view.selectionModel().selectedRows()
        if not rows:
            return None
        record = rows[0].data(RECORD_ROLE)
        return record if isinstance(record, InstalledModelView) else None

    def _installed_selected(self) -> None:
        local = self.selected_local()
        self.installed_launch.setEnabled(local is not None and local.usable)

    def _family_of(self, local: InstalledModelView) -> CatalogEntry | None:
        """The catalog family a downloaded file belongs to (its chat template and facts)."""
        if not local.repo_id:
            return None
        for model in self.catalogs.values():
            for entry in model.records():
                if local.repo_id in entry.repos:
                    return entry
        return None

    def launch_request_for(self, local: InstalledModelView) -> LaunchTarget:
        family = self._family_of(local)
        hardware = self._hardware
        name = family.name if family is not None else launch_name(local)
        guess = family.model_type if family else guess_type(local.repo_id or file_name(local))
        return LaunchTarget(
            title=file_name(local),
            body=LaunchRequest(model_name=name, model_path=local.path, model_type=guess),
            model_type=family.model_type if family is not None else None,
            max_context=local.context_length,
            context_length=self.ctx.settings.models.default_context_length,
            gpu_available=gpu_usable(hardware) if hardware is not None else None,
            cpu_threads=hardware.cpu_logical_cores if hardware is not None else None,
        )

    def launch_installed(self) -> LaunchDialog | None:
        """Open the launch options for the selected file on disk."""
        local = self.selected_local()
        if local is None or not local.usable:
            return None
        dialog = LaunchDialog(self.ctx, self.launch_request_for(local), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.launched.connect(self._launched)
        dialog.destroyed.connect(self._dialog_gone)
        self.launch_dialog = dialog
        dialog.open()
        return dialog

    def _dialog_gone(self) -> None:
        self.launch_dialog = None

    def _launched(self, uid: str) -> None:
        self.ctx.navigator.running_changed.emit()
        self.ctx.navigator.go("running", uid)

    # -- looks ----------------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.title_label.setText(self.tr("Models"))
        self.intro.setText(
            self.tr(
                "Chat models answer questions; embedding models turn documents into vectors for "
                "a knowledge base; rerank models sort search results. Pick one to see its sizes "
                "and what runs on this computer."
            )
        )
        self.search_edit.setPlaceholderText(
            self.tr("Filter the list, or press Enter to search Hugging Face and ModelScope")
        )
        hubs = {
            None: self.tr("Hugging Face and ModelScope"),
            "huggingface": self.tr("Hugging Face"),
            "modelscope": self.tr("ModelScope"),
        }
        for index in range(self.hub_combo.count()):
            self.hub_combo.setItemText(index, hubs[self.hub_combo.itemData(index)])
        self.hub_combo.setToolTip(self.tr("Where to search online"))
        self.search_button.setText(self.tr("Search online"))
        self.installed_hint.setText(
            self.tr("Models downloaded, imported, or found in the Hugging Face cache.")
        )
        self.installed_launch.setText(self.tr("Launch…"))
        if not self._last_query:
            self.online_hint.setText(
                self.tr(
                    "Type a name above and press Enter to search Hugging Face and ModelScope "
                    "for models that run here (GGUF files)."
                )
            )
        self.installed.retranslate()
        self.results.retranslate()
        for model in self.catalogs.values():
            model.retranslate()
        self._update_counts()
        tips = {
            "LLM": self.tr("Models that chat, answer questions and write"),
            "embedding": self.tr("Models that turn text into vectors, for knowledge bases"),
            "rerank": self.tr("Models that sort search results by how well they answer"),
            INSTALLED_TAB: self.tr("Model files already on this computer"),
            ONLINE_TAB: self.tr("Search results from Hugging Face and ModelScope"),
        }
        for index, key in enumerate(self._tab_keys):
            self.tabs.setTabToolTip(index, tips[key])
