"""The first-run welcome: what this computer has, and one click to a working set of models.

A knowledge base (FastGPT, Dify) needs a chat model, an embedding model and a reranker. The
page suggests one of each that runs well here (see `desktop.gui.models.starters`), each with a
"Get it" button that launches it: the server downloads a catalog model that is not on disk
first, so one click ends with a running model. Progress shows on the card. Skipping, or getting
anything, marks the welcome as done (a window preference, saved by the connection), so the next
start opens the Models page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from functools import partial

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.api.common import MODEL_TYPES, JobState, ModelType
from desktop.api.library import HardwareView
from desktop.api.xinference import DetailedRegistration, InstanceInfo
from desktop.client import XinDeskClient
from desktop.core.units import human_bytes
from desktop.gui.context import GuiContext
from desktop.gui.models.catalog_model import CatalogEntry, size_label
from desktop.gui.models.quant_model import verdict_badge_name, verdict_text
from desktop.gui.models.starters import Machine, StarterPick, checked_pick, rough_pick
from desktop.gui.pages.base import Page
from desktop.gui.polling import Poller
from desktop.gui.widgets.common import Banner, heading

log = logging.getLogger("xindesk.gui.welcome")

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


@dataclass(frozen=True)
class Overview:
    """What the page reads from the server when it opens."""

    hardware: HardwareView
    instances: list[InstanceInfo]
    catalog: dict[ModelType, list[DetailedRegistration]]


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


class WelcomePage(Page):
    """The first-run page: this computer, three starter models, Skip."""

    key = "welcome"

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._loaded = False
        self._loading = False
        self._hardware: HardwareView | None = None
        self._watch: tuple[tuple[str, str | None], ...] = ()

        content = QWidget(self)
        self.title_label = heading(content)
        self.intro = QLabel(content)
        self.intro.setWordWrap(True)
        self.banner = Banner(content)

        self.machine_card = QFrame(content)
        self.machine_card.setObjectName("card")
        self.machine_title = QLabel(self.machine_card)
        self.machine_title.setObjectName("subheading")
        self.backend_label = QLabel(self.machine_card)
        self.backend_value = QLabel(self.machine_card)
        self.backend_value.setObjectName("backendValue")
        self.cpu_label = QLabel(self.machine_card)
        self.cpu_value = QLabel(self.machine_card)
        self.ram_label = QLabel(self.machine_card)
        self.ram_value = QLabel(self.machine_card)
        self.ram_value.setObjectName("ramValue")
        self.gpu_label = QLabel(self.machine_card)
        self.gpu_value = QLabel(self.machine_card)
        self.gpu_value.setObjectName("gpuValue")
        self.gpu_value.setWordWrap(True)
        for value in (self.backend_value, self.cpu_value, self.ram_value, self.gpu_value):
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.machine_note = QLabel(self.machine_card)
        self.machine_note.setObjectName("hint")
        self.machine_note.setWordWrap(True)
        machine_form = QFormLayout()
        machine_form.addRow(self.backend_label, self.backend_value)
        machine_form.addRow(self.cpu_label, self.cpu_value)
        machine_form.addRow(self.ram_label, self.ram_value)
        machine_form.addRow(self.gpu_label, self.gpu_value)
        machine_layout = QVBoxLayout(self.machine_card)
        machine_layout.setContentsMargins(14, 12, 14, 12)
        machine_layout.addWidget(self.machine_title)
        machine_layout.addLayout(machine_form)
        machine_layout.addWidget(self.machine_note)

        self.starters_title = QLabel(content)
        self.starters_title.setObjectName("subheading")
        self.starters_hint = QLabel(content)
        self.starters_hint.setObjectName("hint")
        self.starters_hint.setWordWrap(True)
        self.cards: dict[ModelType, StarterCard] = {}
        cards_row = QHBoxLayout()
        cards_row.setSpacing(12)
        for model_type in MODEL_TYPES:
            card = StarterCard(model_type, content)
            card.get_requested.connect(self._get_requested)
            card.changed.connect(self._update_get_all)
            card.launch_started.connect(self._started)
            card.launch_failed.connect(self._start_failed)
            card.open_requested.connect(self._open)
            card.others_requested.connect(self._others)
            self.cards[model_type] = card
            cards_row.addWidget(card, 1)

        self.get_all_button = QPushButton(content)
        self.get_all_button.setObjectName("primary")
        self.get_all_button.clicked.connect(self.get_all)
        self.skip_button = QPushButton(content)
        self.skip_button.setObjectName("skipButton")
        self.skip_button.clicked.connect(self.skip)
        bottom = QHBoxLayout()
        bottom.addWidget(self.skip_button)
        bottom.addStretch(1)
        bottom.addWidget(self.get_all_button)

        column = QVBoxLayout(content)
        column.setContentsMargins(24, 20, 24, 20)
        column.setSpacing(10)
        column.addWidget(self.title_label)
        column.addWidget(self.intro)
        column.addWidget(self.banner)
        column.addWidget(self.machine_card)
        column.addSpacing(6)
        column.addWidget(self.starters_title)
        column.addWidget(self.starters_hint)
        column.addLayout(cards_row)
        column.addSpacing(6)
        column.addLayout(bottom)
        column.addStretch(1)

        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)

        self.poller: Poller[dict[str, LaunchState]] = Poller(
            ctx.tasks, self._fetch_states, self._apply_states, self._poll_failed, 1000, self
        )
        ctx.session.changed.connect(self._session_changed)
        self.retranslate()

    def title(self) -> str:
        return self.tr("Welcome")

    # -- page life ------------------------------------------------------------------------------

    def activate(self, argument: object = None) -> None:
        if not self._loaded:
            self.load()
        elif self._watch:
            self.poller.start()

    def deactivate(self) -> None:
        self.poller.stop()

    def _session_changed(self) -> None:
        self._loaded = False
        if self.isVisible():
            self.load()

    @property
    def loading(self) -> bool:
        return self._loading

    def load(self) -> None:
        """Ask the server for the hardware, the catalog and what already runs."""
        if self._loading:
            return
        self._loading = True
        for card in self.cards.values():
            if card.pick is None:
                card.set_pick(None, checking=True)
        client = self.ctx.session.client

        def fetch() -> Overview:
            return Overview(
                hardware=client.hardware(),
                instances=client.instances(),
                catalog={
                    model_type: client.registrations(model_type, detailed=True)
                    for model_type in MODEL_TYPES
                },
            )

        self.ctx.tasks.run(fetch, self._overview_loaded, self._load_failed)

    def _overview_loaded(self, overview: Overview) -> None:
        self._loading = False
        self._loaded = True
        self._hardware = overview.hardware
        self._show_hardware()
        machine = Machine.from_api(overview.hardware)
        running = {instance.model_uid for instance in overview.instances}
        client = self.ctx.session.client
        context = self.ctx.settings.models.default_context_length
        for model_type, card in self.cards.items():
            catalog = {
                entry.name: entry
                for entry in (
                    CatalogEntry.from_api(model_type, item) for item in overview.catalog[model_type]
                )
            }
            found = rough_pick(model_type, catalog, machine)
            card.set_pick(found[1] if found else None, checking=found is not None)
            if found is None:
                continue
            uid = found[1].candidate.name
            if uid in running:
                # Already launched (an earlier click, or by hand): follow it instead.
                self._follow(card, uid)
            self.ctx.tasks.run(
                partial(checked_pick, client, model_type, catalog, machine, context),
                card.checked,
                card.check_failed,
            )

    def _load_failed(self, message: str) -> None:
        self._loading = False
        for card in self.cards.values():
            card.set_pick(card.pick, checking=False)
        self.banner.show_error(message)

    def _show_hardware(self) -> None:
        hw = self._hardware
        if hw is None:
            return
        backends = {
            "CUDA": self.tr("NVIDIA GPU (CUDA)"),
            "HIP": self.tr("AMD GPU (ROCm / HIP)"),
            "Metal": self.tr("Apple GPU (Metal)"),
            "Vulkan": self.tr("GPU (Vulkan)"),
            "CPU": self.tr("The processor only (CPU)"),
        }
        backend = hw.backend or "CPU"
        self.backend_value.setText(backends.get(backend, backend))
        cores, threads = hw.cpu_physical_cores, hw.cpu_logical_cores
        cpu = hw.cpu_name or self.tr("Unknown processor")
        if cores and threads and threads != cores:
            cpu = self.tr("{0} · {1} cores, {2} threads").format(cpu, cores, threads)
        elif cores or threads:
            cpu = self.tr("{0} · {1} cores").format(cpu, cores or threads)
        self.cpu_value.setText(cpu)
        self.ram_value.setText(
            self.tr("{0} free of {1}").format(
                human_bytes(hw.ram_available_bytes), human_bytes(hw.ram_total_bytes)
            )
        )
        if hw.gpus:
            lines = []
            for gpu in hw.gpus:
                if gpu.total_bytes:
                    memory = self.tr("{0} free of {1} video memory (VRAM)").format(
                        human_bytes(gpu.free_bytes), human_bytes(gpu.total_bytes)
                    )
                else:
                    memory = self.tr("video memory unknown")
                if gpu.unified_memory:
                    memory = self.tr("shares the computer's RAM")
                lines.append(self.tr("{0}: {1}").format(gpu.name, memory))
            self.gpu_value.setText("\n".join(lines))
        else:
            self.gpu_value.setText(self.tr("None that XinDesk can use"))
        notes = list(hw.notes)
        if backend == "CPU" or not hw.gpu_offload:
            notes.insert(
                0,
                self.tr(
                    "Models run on the processor here: small models answer quickly, big ones "
                    "slowly. The suggestions below take that into account."
                ),
            )
        self.machine_note.setText(" ".join(notes))
        self.machine_note.setVisible(bool(notes))

    # -- getting models -------------------------------------------------------------------------

    def _get_requested(self) -> None:
        card = self.sender()
        if isinstance(card, StarterCard):
            self.get(card.model_type)

    def get(self, model_type: ModelType) -> None:
        """Launch the suggestion of one kind (downloading it first when needed)."""
        card = self.cards[model_type]
        pick = card.pick
        if pick is None or card.state in IN_FLIGHT:
            return
        self.mark_done()
        card.set_state(LaunchState(STARTING))
        body = pick.launch_body()
        session = self.ctx.session
        log.info("getting the starter %s", body)
        self.ctx.tasks.run(
            lambda: session.slow_client.launch(body, wait_ready=False),
            card.started,
            card.start_failed,
        )

    def get_all(self) -> None:
        """Get every suggestion that is not running or on its way yet."""
        for model_type, card in self.cards.items():
            if card.state in (IDLE, FAILED):
                self.get(model_type)

    def _started(self, uid: str) -> None:
        card = self.sender()
        if not isinstance(card, StarterCard):
            return
        self._follow(card, uid)
        self.ctx.navigator.running_changed.emit()
        self.ctx.navigator.downloads_changed.emit()

    def _start_failed(self, message: str) -> None:
        card = self.sender()
        if not isinstance(card, StarterCard):
            return
        uid = card.uid or ""
        if uid and "already" in message and uid in message:
            # Launched before (another window, or by hand): show how that one is doing.
            self._follow(card, uid)
            return
        card.set_state(LaunchState(FAILED, message))

    def _follow(self, card: StarterCard, uid: str) -> None:
        if card.state not in IN_FLIGHT:
            card.set_state(LaunchState(STARTING))
        self._watch = (*[w for w in self._watch if w[0] != uid], (uid, card.job_id))
        if self.isVisible():
            self.poller.start()
        else:
            self.poller.poll_now()

    def _fetch_states(self) -> dict[str, LaunchState]:
        watch = self._watch
        client = self.ctx.session.client
        return {uid: launch_state(client, uid, job_id) for uid, job_id in watch}

    def _apply_states(self, states: dict[str, LaunchState]) -> None:
        for card in self.cards.values():
            state = states.get(card.uid or "")
            if state is not None:
                card.set_state(state)
        still: list[tuple[str, str | None]] = []
        for uid, job_id in self._watch:
            if uid in states and states[uid].state not in IN_FLIGHT:
                continue
            owner = self._card_for(uid)
            still.append((uid, owner.job_id if owner is not None and owner.job_id else job_id))
        self._watch = tuple(still)
        finished = [uid for uid, s in states.items() if s.state in (READY, FAILED)]
        if finished:
            self.ctx.navigator.running_changed.emit()
        if not self._watch:
            self.poller.stop()
        self._update_get_all()

    def _card_for(self, uid: str) -> StarterCard | None:
        return next((card for card in self.cards.values() if card.uid == uid), None)

    def _poll_failed(self, message: str) -> None:
        self.banner.show_error(message)

    # -- leaving --------------------------------------------------------------------------------

    def mark_done(self) -> None:
        """Remember that the welcome was seen: the next start opens the Models page."""
        if self.ctx.settings.ui.welcome_done:
            return
        self.ctx.connection.save_ui({"welcome_done": True}, self._save_failed)

    def _save_failed(self, message: str) -> None:
        log.warning("could not save welcome_done: %s", message)
        self.banner.show_error(
            self.tr("Could not save that the welcome was seen: {0}").format(message)
        )

    def skip(self) -> None:
        self.mark_done()
        self.ctx.navigator.go("models")

    def _open(self, page: str, uid: str) -> None:
        self.ctx.navigator.go(page, uid)

    def _others(self, model_type: str) -> None:
        self.ctx.navigator.go("models", model_type)

    # -- looks ----------------------------------------------------------------------------------

    def _update_get_all(self) -> None:
        idle = [c for c in self.cards.values() if c.pick is not None and c.state in (IDLE, FAILED)]
        self.get_all_button.setEnabled(bool(idle))

    def retranslate(self) -> None:
        self.title_label.setText(self.tr("Welcome to XinDesk"))
        self.intro.setText(
            self.tr(
                "XinDesk runs AI models on this computer and serves them to FastGPT, Dify or "
                "any app that speaks the OpenAI or Xinference API. Nothing leaves this machine."
            )
        )
        if self.ctx.server is not None:
            self.machine_title.setText(self.tr("This computer"))
        else:
            # A remote server: the figures are that machine's, where the models will run.
            self.machine_title.setText(
                self.tr("The server's computer ({0})").format(self.ctx.session.endpoint)
            )
        self.backend_label.setText(self.tr("Runs models on"))
        self.cpu_label.setText(self.tr("Processor"))
        self.ram_label.setText(self.tr("Memory (RAM)"))
        self.gpu_label.setText(self.tr("Graphics (GPU)"))
        if self._hardware is None:
            for value in (self.backend_value, self.cpu_value, self.ram_value, self.gpu_value):
                value.setText(self.tr("Checking…"))
            self.machine_note.hide()
        else:
            self._show_hardware()
        self.starters_title.setText(self.tr("Three models to start a knowledge base"))
        self.starters_hint.setText(
            self.tr(
                "Picked to run well on this computer. “Get it” downloads the model once and "
                "starts it; apps then reach it at {0}/v1."
            ).format(self.ctx.session.endpoint)
        )
        self.get_all_button.setText(self.tr("Get all three"))
        self.skip_button.setText(self.tr("Skip – go to all models"))
        for card in self.cards.values():
            card.retranslate()
        self._update_get_all()
