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
from dataclasses import dataclass
from functools import partial

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.api.common import MODEL_TYPES, ModelType
from desktop.api.library import HardwareView
from desktop.api.xinference import DetailedRegistration, InstanceInfo
from desktop.core.units import human_bytes
from desktop.gui.context import GuiContext
from desktop.gui.models.catalog_model import CatalogEntry
from desktop.gui.models.starters import Machine, checked_pick, rough_pick
from desktop.gui.pages.base import Page
from desktop.gui.polling import Poller
from desktop.gui.widgets.common import Banner, heading
from desktop.gui.widgets.starter_card import (
    FAILED,
    IDLE,
    IN_FLIGHT,
    READY,
    STARTING,
    LaunchState,
    StarterCard,
    launch_state,
)

log = logging.getLogger("xindesk.gui.welcome")


@dataclass(frozen=True)
class Overview:
    """What the page reads from the server when it opens."""

    hardware: HardwareView
    instances: list[InstanceInfo]
    catalog: dict[ModelType, list[DetailedRegistration]]


class WelcomePage(Page):
    """The first-run page: this computer, three starter models, Skip."""

    key = "welcome"

    def __init__(self, ctx: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._loaded = False
        self._loading = False
        # The server link changed (or the server came up) while a load was in flight: that
        # load asked the old one, so load again when it ends.
        self._load_again = False
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
        if self._loading:
            self._load_again = True
        elif self.isVisible():
            self.load()

    def _loaded_again(self) -> bool:
        """Whether a change came during the load that just ended, whose answer is then stale:
        load again now (or when the page is next shown)."""
        if not self._load_again:
            return False
        self._load_again = False
        self._loaded = False
        if self.isVisible():
            self.load()
        return True

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
        if self._loaded_again():
            return
        self._loaded = True
        self.banner.clear()
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
        if self._loaded_again():
            return
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
