"""A page that lists the server's records in a table while it is shown (downloads, models).

The layout: a heading with a one-line summary, a hint, a banner for errors, then either the
table (a row of buttons per record, the selected record's details under it) or, once the server
answered with nothing, an empty state whose button leads to the Models page. The page polls the
server while shown; each row's buttons ask it for one thing at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Generic, TypeVar

from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.gui.context import GuiContext
from desktop.gui.models.record_table import RecordTableModel
from desktop.gui.pages.base import Page
from desktop.gui.pending import PendingCall
from desktop.gui.polling import Poller
from desktop.gui.widgets.common import Banner, heading, hint, table_view
from desktop.gui.widgets.empty_state import EmptyState
from desktop.gui.widgets.row_actions import RowActions

R = TypeVar("R")
A = TypeVar("A", bound=RowActions)


class TablePage(Page, Generic[R, A]):
    """Rs of the server in a table, refreshed while shown, with buttons on every row.

    Subclasses build the model and the details widget, fetch and load the records, make and
    show each row's buttons and say what their actions do; they set every text in `retranslate`
    and call it at the end of their `__init__`. `activate(key)` selects that record once the
    list is loaded (e.g. right after another page started it).

    Class attributes: `name` (the object names' prefix), `actions_class` and `actions_column`
    (the row's buttons and their column), `optional_columns` (hidden in a narrow window, the
    least needed first), `fitted_columns` (as wide as their contents), `min_stretch` (the
    narrowest a stretching column may get before optional ones are hidden).
    """

    name: ClassVar[str] = "table"
    actions_class: type[A]
    actions_column: ClassVar[int] = 0
    optional_columns: ClassVar[tuple[int, ...]] = ()
    fitted_columns: ClassVar[tuple[int, ...]] = ()
    min_stretch: ClassVar[int] = 120
    poll_ms: ClassVar[int] = 1000

    def __init__(
        self, ctx: GuiContext, model: RecordTableModel[R], parent: QWidget | None = None
    ) -> None:
        super().__init__(ctx, parent)
        self.model = model
        model.setParent(self)
        self._busy: set[str] = set()
        self._loaded = False
        self._poll_error_shown = False
        self._select_when_loaded: str | None = None
        self._column_room: dict[int, int] = {}

        self.heading = heading(self)
        self.summary = QLabel(self)
        self.summary.setObjectName(f"{self.name}Summary")
        self.top_bar = QHBoxLayout()
        self.top_bar.addWidget(self.heading)
        self.top_bar.addSpacing(12)
        self.top_bar.addWidget(self.summary, 0, Qt.AlignmentFlag.AlignVCenter)
        self.top_bar.addStretch(1)
        self.hint = hint(self)
        self.banner = Banner(self)
        self.banner.action.clicked.connect(self.banner.clear)

        self.table = table_view(self, f"{self.name}Table")
        self.table.setModel(self.model)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(38)
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.viewport().installEventFilter(self)
        self.table.selectionModel().currentRowChanged.connect(self._show_details)
        self.details = self._create_details()
        self.list_page = QWidget(self)
        list_layout = QVBoxLayout(self.list_page)
        list_layout.setContentsMargins(0, 0, 0, 0)
        list_layout.addWidget(self.table, 1)
        list_layout.addWidget(self.details)

        self.empty_page = EmptyState(self)
        self.empty_label = self.empty_page.label
        self.empty_page.button.clicked.connect(self._go_to_models)

        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.list_page)
        self.stack.addWidget(self.empty_page)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.addLayout(self.top_bar)
        layout.addWidget(self.hint)
        layout.addWidget(self.banner)
        layout.addWidget(self.stack, 1)

        self._poller: Poller[list[R]] = Poller(
            ctx.tasks, self._fetch, self._apply, self._poll_failed, self.poll_ms, self
        )
        ctx.session.changed.connect(self.reload)

    # -- what subclasses say ------------------------------------------------------------------

    def _create_details(self) -> QWidget:
        """The widget under the table that shows the selected record."""
        raise NotImplementedError

    def _fetch(self) -> list[R]:
        """The records, from the server (runs off the GUI thread)."""
        raise NotImplementedError

    def _load(self, records: list[R]) -> None:
        """Give the model what `_fetch` returned."""
        raise NotImplementedError

    def _load_error(self, message: str) -> str:
        """The banner's words when the records cannot be fetched."""
        raise NotImplementedError

    def _call_error(self, keys: list[str], message: str) -> str:
        """The banner's words when an action on these rows failed."""
        raise NotImplementedError

    def _show_actions(self, actions: A, record: R, *, busy: bool) -> None:
        """Show the buttons that make sense for the record's state."""
        raise NotImplementedError

    def _describe(self, record: R) -> None:
        """Fill the details widget with the selected record."""
        raise NotImplementedError

    def _on_action(self, action: str, key: str) -> None:
        """A row's button was clicked."""
        raise NotImplementedError

    # -- page ---------------------------------------------------------------------------------

    def retranslate(self) -> None:
        """The shared part of a language switch; subclasses set their texts, then call this."""
        self.model.retranslate()
        self._show_summary()
        self._show_details()

    def activate(self, argument: object = None) -> None:
        if isinstance(argument, str) and argument:
            self._select_when_loaded = argument
        self._poller.start()

    def deactivate(self) -> None:
        self._poller.stop()

    @property
    def polling(self) -> bool:
        """Whether the page refreshes itself (only while it is shown)."""
        return self._poller.active

    def _go_to_models(self) -> None:
        self.ctx.navigator.go("models")

    def reload(self) -> None:
        """Ask the server now (another page changed something); nothing while hidden."""
        if self._poller.active:
            self._poller.poll_now()

    # -- loading ------------------------------------------------------------------------------

    def _apply(self, records: list[R]) -> None:
        if self._poll_error_shown:
            self._poll_error_shown = False
            self.banner.clear()
        self._load(records)
        self._loaded = True
        self._refresh_view()

    def _poll_failed(self, message: str) -> None:
        self._poll_error_shown = True
        self.banner.show_error(self._load_error(message))
        self.banner.action.hide()

    def _refresh_view(self) -> None:
        empty = self._loaded and self.model.rowCount() == 0
        self.stack.setCurrentWidget(self.empty_page if empty else self.list_page)
        self._sync_actions()
        if self._select_when_loaded and self.model.row_of(self._select_when_loaded) >= 0:
            self.select(self._select_when_loaded)
            self._select_when_loaded = None
        elif not self.table.selectionModel().hasSelection() and self.model.rowCount():
            self.table.selectRow(0)
        self._show_summary()
        self._show_details()

    # -- columns and row buttons --------------------------------------------------------------

    def _sync_actions(self) -> None:
        """Give each row its buttons (rows come and go as the server's records do)."""
        widest = 0
        for row, record in enumerate(self.model.records()):
            key = str(self.model.key(record))
            index = self.model.index(row, self.actions_column)
            actions = self.table.indexWidget(index)
            if not isinstance(actions, self.actions_class) or actions.key != key:
                actions = self.actions_class(key, self.table)
                actions.requested.connect(self._on_action)
                self.table.setIndexWidget(index, actions)
            self._show_actions(actions, record, busy=key in self._busy)
            widest = max(widest, actions.sizeHint().width())
        header = self.table.horizontalHeader()
        if widest and header.sectionSize(self.actions_column) < widest:
            header.resizeSection(self.actions_column, widest)
        # The header fits these columns to their titles, not to rows inserted later: fit them to
        # the rows too (a short title, as in Chinese, left "Chat (LLM)" as "…").
        for column in self.fitted_columns:
            if not header.isSectionHidden(column):
                self.table.resizeColumnToContents(column)
        self._fit_columns()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_columns()
        return super().eventFilter(watched, event)

    def _fit_columns(self) -> None:
        """In a narrow window, hide the least needed columns so the others stay readable."""
        header = self.table.horizontalHeader()
        available = self.table.viewport().width()

        def stretches(column: int) -> bool:
            return header.sectionResizeMode(column) == QHeaderView.ResizeMode.Stretch

        def needed() -> int:
            total = 0
            for column in range(self.model.columnCount()):
                if header.isSectionHidden(column):
                    continue
                total += self.min_stretch if stretches(column) else header.sectionSize(column)
            return total

        for column in reversed(self.optional_columns):
            room = self._column_room.get(column, self.min_stretch)
            if not header.isSectionHidden(column) or needed() + room > available:
                break
            header.setSectionHidden(column, False)
        for column in self.optional_columns:
            if needed() <= available:
                break
            if not header.isSectionHidden(column):
                room = self.min_stretch if stretches(column) else header.sectionSize(column)
                self._column_room[column] = room
                header.setSectionHidden(column, True)

    # -- what a person reads ------------------------------------------------------------------

    def _show_summary(self) -> None:
        self.summary.setText(self.model.summary())

    def _show_details(self, *_: object) -> None:
        record = self.selected_record()
        if record is None:
            self.details.hide()
            return
        self._describe(record)
        self.details.show()

    def selected_record(self) -> R | None:
        index = self.table.selectionModel().currentIndex()
        if not index.isValid() or index.row() >= self.model.rowCount():
            return None
        return self.model.record(index.row())

    def select(self, key: str) -> None:
        row = self.model.row_of(key)
        if row >= 0:
            self.table.selectionModel().setCurrentIndex(
                self.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )

    def actions_for(self, key: str) -> A | None:
        """The buttons shown on that record's row (None when it is not listed)."""
        row = self.model.row_of(key)
        if row < 0:
            return None
        widget = self.table.indexWidget(self.model.index(row, self.actions_column))
        return widget if isinstance(widget, self.actions_class) else None

    # -- actions ------------------------------------------------------------------------------

    def _call(self, key: str, fn: Callable[[], object]) -> None:
        """Run `fn` (a call to the server about one row) with that row's buttons disabled."""
        self._busy.add(key)
        self._sync_actions()
        self._start_call([key], fn)

    def _start_call(self, keys: list[str], fn: Callable[[], object]) -> None:
        call = PendingCall(keys, self._call_done, self._call_failed, self)
        self.ctx.tasks.run(fn, call.done, call.failed)

    def _call_done(self, keys: list[str], result: object) -> None:
        self._busy.difference_update(keys)
        if not self._poll_error_shown:
            self.banner.clear()
        self._refresh_view()
        self._poller.poll_now()

    def _call_failed(self, keys: list[str], message: str) -> None:
        self._busy.difference_update(keys)
        self.banner.show_error(self._call_error(keys, message))
        self.banner.action.show()
        self._refresh_view()
        self._poller.poll_now()
