"""One starter suggestion of the Welcome page: the model, its size and fit, a "Get it" button,
and where its launch stands (downloading, loading, ready), followed on the server."""

from __future__ import annotations

from dataclasses import dataclass, replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.api.common import JobState, ModelType
from desktop.client import XinDeskClient
from desktop.core.units import human_bytes
from desktop.gui.models.catalog_model import size_label
from desktop.gui.models.quant_model import verdict_badge_name, verdict_text
from desktop.gui.models.starters import StarterPick

# Launch states a card shows.
IDLE = "idle"
STARTING = "starting"
DOWNLOADING = "downloading"
LOADING = "loading"
READY = "ready"
FAILED = "error"
IN_FLIGHT = frozenset({STARTING, DOWNLOADING, LOADING})


@dataclass(frozen=True)
class LaunchState:
    """Where a starter's launch stands, with its download's figures while it downloads.

    Attributes:
        state: IDLE, STARTING, DOWNLOADING, LOADING, READY or FAILED.
        message: Why it failed.
        fraction: 0-1 of the download; None while unknown.
        job_id: The download job, once the server named it.
    """

    state: str = IDLE
    message: str = ""
    fraction: float | None = None
    done: int | None = None
    total: int | None = None
    job_id: str | None = None


def launch_state(client: XinDeskClient, uid: str, job_id: str | None) -> LaunchState:
    """Where the launch of `uid` stands: downloading (with figures), loading, ready or error.

    Blocking; runs off the GUI thread. A launch whose download failed leaves no instance
    behind, so the download job (known from an earlier answer) tells what went wrong.
    """
    found = client.instances(uid)
    if found:
        status = found[0].status
        if status == "CREATING":
            download = client.progress(uid).download
            if download is None:
                return LaunchState(DOWNLOADING)
            return LaunchState(
                DOWNLOADING,
                fraction=download.progress,
                done=download.downloaded_bytes,
                total=download.total_bytes,
                job_id=download.job_id,
            )
        if status == "READY":
            return LaunchState(READY)
        if status == "ERROR":
            replicas = found[0].replica_statuses
            return LaunchState(FAILED, (replicas[0].error_message if replicas else None) or "")
        return LaunchState(LOADING)
    if job_id:
        job = client.download(job_id)
        if job.state in (JobState.FAILED, JobState.CANCELLED):
            return LaunchState(FAILED, job.error or job.state.value)
    return LaunchState(STARTING)


class StarterCard(QFrame):
    """One suggestion: the model, its size and fit, a Get it button and the launch's progress.

    Signals:
        get_requested(): the person clicked Get it.
        launch_started(str): the server accepted the launch; the model's uid.
        launch_failed(str): the server refused it; its message.
        open_requested(str, str): page key and uid to open (Chat or Running) once it runs.
        others_requested(str): show the other models of this card's type.
        changed(): the suggestion or its state changed.
    """

    get_requested = Signal()
    changed = Signal()
    launch_started = Signal(str)
    launch_failed = Signal(str)
    open_requested = Signal(str, str)
    others_requested = Signal(str)

    def __init__(self, model_type: ModelType, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.model_type = model_type
        self.pick: StarterPick | None = None
        self.checking = False
        self.launch = LaunchState()
        self.job_id: str | None = None

        self.role = QLabel(self)
        self.role.setObjectName("subheading")
        self.role_hint = QLabel(self)
        self.role_hint.setObjectName("hint")
        self.role_hint.setWordWrap(True)
        self.model_label = QLabel(self)
        self.model_label.setObjectName("starterModel")
        # The suggested model's name: the catalog's data, not words to translate.
        self.model_label.setProperty("xindesk_data", True)
        self.model_label.setWordWrap(True)
        self.size_label = QLabel(self)
        self.size_label.setWordWrap(True)
        self.badge = QLabel(self)
        self.badge.setWordWrap(True)
        # Both tooltips carry the server's memory estimate or error: data, not our words.
        for label in (self.size_label, self.badge):
            label.setProperty("xindesk_data_tooltip", True)
        self.status = QLabel(self)
        self.status.setObjectName("starterStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.progress.hide()
        self.get_button = QPushButton(self)
        self.get_button.setObjectName("primary")
        self.get_button.clicked.connect(self._clicked)
        self.others_button = QPushButton(self)
        self.others_button.setFlat(True)
        self.others_button.clicked.connect(lambda: self.others_requested.emit(self.model_type))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.addWidget(self.role)
        layout.addWidget(self.role_hint)
        layout.addSpacing(6)
        layout.addWidget(self.model_label)
        layout.addWidget(self.size_label)
        layout.addWidget(self.badge)
        layout.addStretch(1)
        layout.addWidget(self.status)
        layout.addWidget(self.progress)
        buttons = QHBoxLayout()
        buttons.addWidget(self.others_button)
        buttons.addStretch(1)
        buttons.addWidget(self.get_button)
        layout.addLayout(buttons)
        self.retranslate()

    # -- state ----------------------------------------------------------------------------------

    @property
    def uid(self) -> str | None:
        return self.pick.candidate.name if self.pick is not None else None

    @property
    def state(self) -> str:
        return self.launch.state

    def set_pick(self, pick: StarterPick | None, *, checking: bool = False) -> None:
        self.pick = pick
        self.checking = checking
        self.retranslate()

    def checked(self, pick: StarterPick | None) -> None:
        """The server's fit confirmed or changed the suggestion."""
        if self.state in IN_FLIGHT or self.state == READY:
            self.checking = False  # already chosen and on its way; keep what was clicked
            self.retranslate()
            return
        self.set_pick(pick if pick is not None else self.pick)

    def check_failed(self, message: str) -> None:
        self.checking = False
        if self.pick is not None:
            self.pick = replace(self.pick, problem=message)
        self.retranslate()

    def started(self, uid: str) -> None:
        self.launch_started.emit(uid)

    def start_failed(self, message: str) -> None:
        self.launch_failed.emit(message)

    def set_state(self, launch: LaunchState) -> None:
        self.launch = launch
        if launch.job_id:
            self.job_id = launch.job_id
        state, fraction = launch.state, launch.fraction
        if state == DOWNLOADING and fraction is not None:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(fraction * 1000))
        elif state in (STARTING, LOADING) or (state == DOWNLOADING and fraction is None):
            self.progress.setRange(0, 0)
        self.progress.setVisible(state in IN_FLIGHT)
        self.retranslate()

    def _clicked(self) -> None:
        if self.state == READY and self.uid:
            page = "chat" if self.model_type == "LLM" else "running"
            self.open_requested.emit(page, self.uid)
            return
        self.get_requested.emit()

    # -- looks ----------------------------------------------------------------------------------

    def retranslate(self) -> None:
        roles = {
            "LLM": (
                self.tr("Chat"),
                self.tr("Answers questions and writes. FastGPT uses it for its replies."),
            ),
            "embedding": (
                self.tr("Embedding"),
                self.tr(
                    "Turns documents into vectors, so a knowledge base finds the right passages."
                ),
            ),
            "rerank": (
                self.tr("Rerank"),
                self.tr("Puts the most relevant passages first, for sharper answers."),
            ),
        }
        role, hint = roles[self.model_type]
        self.role.setText(role)
        self.role_hint.setText(hint)
        self.others_button.setText(self.tr("Other choices"))
        pick = self.pick
        if pick is None:
            self.model_label.setText(
                self.tr("Looking for a model that suits this computer…")
                if self.checking
                else self.tr("No suggestion: the catalog has none of this kind.")
            )
            self.size_label.clear()
            self.badge.clear()
            self.get_button.setEnabled(False)
            self.get_button.setText(self.tr("Get it"))
            self.status.clear()
            self.changed.emit()
            return
        name = pick.candidate.name
        if pick.candidate.size:
            name = self.tr("{0} ({1})").format(name, size_label(pick.candidate.size))
        self.model_label.setText(f"<b>{name}</b>")
        size = human_bytes(pick.download_size) if pick.download_size else "–"
        if pick.estimated:
            self.size_label.setText(
                self.tr("About {0} to download · quality level {1}").format(size, pick.quantization)
            )
        else:
            self.size_label.setText(
                self.tr("{0} to download · quality level {1}").format(size, pick.quantization)
            )
        if self.checking:
            badge = self.tr("Checking the fit…")
            self.badge.setObjectName("hint")
        else:
            badge = verdict_text(pick.verdict)
            if pick.estimated and pick.verdict:
                badge = self.tr("{0} (estimate)").format(badge)
            self.badge.setObjectName(verdict_badge_name(pick.verdict))
        self.badge.setText(badge)
        tooltip = pick.fit.message if pick.fit is not None else ""
        if pick.problem:
            tooltip = self.tr(
                "Could not check the exact files and memory with the hub, so the size and fit "
                "are estimates from this computer's memory: {0}"
            ).format(pick.problem)
        self.badge.setToolTip(tooltip)
        self.size_label.setToolTip(tooltip)
        self.badge.style().unpolish(self.badge)
        self.badge.style().polish(self.badge)
        self._show_state()

    def _show_state(self) -> None:
        launch = self.launch
        uid = self.uid or ""
        self.get_button.setEnabled(self.state not in IN_FLIGHT and self.pick is not None)
        if self.state == IDLE:
            self.get_button.setText(self.tr("Get it"))
            self.status.clear()
        elif self.state == STARTING:
            self.get_button.setText(self.tr("Starting…"))
            self.status.setText(self.tr("Asking the server to get it…"))
        elif self.state == DOWNLOADING:
            self.get_button.setText(self.tr("Downloading…"))
            if launch.total:
                self.status.setText(
                    self.tr("Downloading: {0} of {1}").format(
                        human_bytes(launch.done or 0), human_bytes(launch.total)
                    )
                )
            else:
                self.status.setText(self.tr("Downloading…"))
        elif self.state == LOADING:
            self.get_button.setText(self.tr("Starting…"))
            self.status.setText(self.tr("Downloaded. Loading it into memory…"))
        elif self.state == READY:
            self.get_button.setText(
                self.tr("Open in Chat") if self.model_type == "LLM" else self.tr("Show running")
            )
            self.status.setText(self.tr("Running. Apps call it “{0}”.").format(uid))
        else:
            self.get_button.setText(self.tr("Try again"))
            self.status.setText(self.tr("Did not work: {0}").format(launch.message))
        kind = {READY: "ready", FAILED: "error"}.get(self.state, "")
        if self.status.property("kind") != kind:
            # The style sheet colours the line by its "kind"; re-polish to apply it.
            self.status.setProperty("kind", kind)
            self.status.style().unpolish(self.status)
            self.status.style().polish(self.status)
        self.changed.emit()
