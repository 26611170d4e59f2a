"""The launch options dialog: the few choices that matter, in plain words, with sane defaults.

What a person sets: the name apps call the model by (the model UID, default the model's name,
as Xinference does), how much text it keeps in mind (context length), how much of it goes on
the GPU, and how many CPU threads it uses. Rarely needed knobs sit under "Advanced options".
The launch itself runs off the GUI thread (`launch(..., wait_ready=False)`: the server answers
as soon as it accepted the launch, which for a model not on disk yet means "downloading"); an
error keeps the dialog open with the server's message, so the person can fix the field and
try again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pydantic import JsonValue
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.api.common import MODEL_TYPES, ModelType
from desktop.api.library import RegisterRepo
from desktop.api.xinference import LaunchRequest
from desktop.core.units import human_bytes
from desktop.gui.context import GuiContext
from desktop.gui.models.catalog_model import as_model_type, context_label, type_name, words_label
from desktop.gui.widgets.common import Banner, hint

log = logging.getLogger("xindesk.gui.launch")

CONTEXT_PRESETS = (2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144)
# KV cache types offered (llama.cpp's names, sent as cache_type_k / cache_type_v) and the
# memory each takes per value next to f16's: llama.cpp stores 32 values in 34 bytes (q8_0)
# or 18 bytes (q4_0), against 64 for f16.
KV_CACHE_CHOICES: tuple[tuple[str, float], ...] = (
    ("f16", 1.0),
    ("q8_0", 34 / 64),
    ("q4_0", 18 / 64),
)
FLASH_ATTN_CHOICES = ("auto", "on", "off")


@dataclass(frozen=True)
class LaunchTarget:
    """What the dialog launches and what it knows to pick defaults.

    Attributes:
        title: What is launched, for the person ("gemma-3-1b-it 1B, Q4_K_M").
        body: The launch request without the person's options (model_name, model_type,
            model_size_in_billions, quantization, or model_path ...).
        model_type: The kind of model; None: the dialog asks.
        max_context: The model's own longest context (tokens), None when unknown.
        context_length: The context to preselect.
        gpu_layers: The offload the memory fit planned; "Automatic" sends it (None: the
            server's default).
        gpu_available: Whether this computer has a GPU llama.cpp can use (None: unknown).
        cpu_threads: Logical CPUs, the most threads worth offering.
        download_size: Bytes to download before it can run; None when it is on disk.
        register: A repository to register first (a searched repository), launched by its
            name.
    """

    title: str
    body: LaunchRequest
    model_type: ModelType | None
    max_context: int | None
    context_length: int
    gpu_layers: int | None = None
    gpu_available: bool | None = None
    cpu_threads: int | None = None
    download_size: int | None = None
    register: RegisterRepo | None = None


def context_choices(max_context: int | None) -> list[int]:
    """The context lengths to offer: the usual powers of two up to the model's own."""
    if not max_context:
        return list(CONTEXT_PRESETS[:6])
    choices = [n for n in CONTEXT_PRESETS if n <= max_context]
    if max_context not in choices:
        choices.append(max_context)
    return choices


class LaunchDialog(QDialog):
    """Launch options for one model.

    Signals:
        launched(str): the server accepted the launch; the model's uid.
    """

    launched = Signal(str)

    def __init__(
        self, ctx: GuiContext, request: LaunchTarget, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.request = request
        self.setObjectName("launchDialog")
        self.setMinimumWidth(520)
        self._busy = False

        self.heading = QLabel(self)
        self.heading.setObjectName("subheading")
        self.heading.setWordWrap(True)
        self.download_note = hint(self)
        self.banner = Banner(self)

        self.uid_label = QLabel(self)
        self.uid_edit = QLineEdit(self._default_uid(), self)
        self.uid_edit.setObjectName("uidEdit")
        self.uid_hint = hint(self)

        self.type_label = QLabel(self)
        self.type_combo = QComboBox(self)
        for model_type in MODEL_TYPES:
            self.type_combo.addItem("", model_type)
        guess = request.body.model_type or "LLM"
        self.type_combo.setCurrentIndex(max(0, self.type_combo.findData(guess)))

        self.context_label = QLabel(self)
        self.context_combo = QComboBox(self)
        self.context_combo.setObjectName("contextCombo")
        for tokens in context_choices(request.max_context):
            self.context_combo.addItem("", tokens)
        self._select_context(request.context_length)
        self.context_hint = hint(self)

        self.gpu_label = QLabel(self)
        self.gpu_auto = QRadioButton(self)
        self.gpu_auto.setObjectName("gpuAuto")
        self.gpu_cpu = QRadioButton(self)
        self.gpu_cpu.setObjectName("gpuCpuOnly")
        self.gpu_layers_radio = QRadioButton(self)
        self.gpu_layers_spin = QSpinBox(self)
        self.gpu_layers_spin.setRange(1, 999)
        self.gpu_layers_spin.setValue(max(1, request.gpu_layers or 16))
        self.gpu_group = QButtonGroup(self)
        for button in (self.gpu_auto, self.gpu_cpu, self.gpu_layers_radio):
            self.gpu_group.addButton(button)
        self.gpu_auto.setChecked(True)
        self.gpu_hint = hint(self)
        gpu_row = QHBoxLayout()
        gpu_row.addWidget(self.gpu_auto)
        gpu_row.addWidget(self.gpu_cpu)
        gpu_row.addWidget(self.gpu_layers_radio)
        gpu_row.addWidget(self.gpu_layers_spin)
        gpu_row.addStretch(1)
        if request.gpu_available is False:
            # Nothing to offload to: say so instead of offering choices that do nothing.
            for widget in (self.gpu_auto, self.gpu_layers_radio, self.gpu_layers_spin):
                widget.setEnabled(False)
            self.gpu_cpu.setChecked(True)

        self.threads_label = QLabel(self)
        self.threads_auto = QRadioButton(self)
        self.threads_auto.setObjectName("threadsAuto")
        self.threads_set = QRadioButton(self)
        self.threads_spin = QSpinBox(self)
        self.threads_spin.setRange(1, max(1, request.cpu_threads or 256))
        self.threads_spin.setValue(max(1, (request.cpu_threads or 8) // 2))
        self.threads_group = QButtonGroup(self)
        self.threads_group.addButton(self.threads_auto)
        self.threads_group.addButton(self.threads_set)
        self.threads_auto.setChecked(True)
        threads_row = QHBoxLayout()
        threads_row.addWidget(self.threads_auto)
        threads_row.addWidget(self.threads_set)
        threads_row.addWidget(self.threads_spin)
        threads_row.addStretch(1)

        self.advanced_toggle = QToolButton(self)
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced_toggle.setAutoRaise(True)
        self.advanced_toggle.toggled.connect(self._show_advanced)
        self.advanced = QWidget(self)
        self.flash_attn_label = QLabel(self.advanced)
        self.flash_attn = QComboBox(self.advanced)
        self.flash_attn.setObjectName("flashAttnCombo")
        for mode in FLASH_ATTN_CHOICES:
            self.flash_attn.addItem("", mode)
        self.kv_label = QLabel(self.advanced)
        self.kv_combo = QComboBox(self.advanced)
        self.kv_combo.setObjectName("kvCacheCombo")
        for name, _share in KV_CACHE_CHOICES:
            self.kv_combo.addItem("", name)
        self.kv_hint = hint(self.advanced)
        self.batch_label = QLabel(self.advanced)
        self.batch_spin = QSpinBox(self.advanced)
        self.batch_spin.setRange(0, 8192)
        self.batch_spin.setSingleStep(128)
        self.batch_spin.setValue(0)
        advanced_form = QFormLayout(self.advanced)
        advanced_form.setContentsMargins(16, 0, 0, 0)
        advanced_form.addRow(self.flash_attn_label, self.flash_attn)
        advanced_form.addRow(self.kv_label, self.kv_combo)
        advanced_form.addRow(self.kv_hint)
        advanced_form.addRow(self.batch_label, self.batch_spin)
        self.advanced.hide()

        form = QFormLayout()
        # Plain-language labels are long: each sits above its field, hints below it.
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(self.uid_label, self.uid_edit)
        form.addRow(self.uid_hint)
        if request.model_type is None:
            form.addRow(self.type_label, self.type_combo)
        else:
            self.type_label.hide()
            self.type_combo.hide()
        form.addRow(self.context_label, self.context_combo)
        form.addRow(self.context_hint)
        form.addRow(self.gpu_label, gpu_row)
        form.addRow(self.gpu_hint)
        form.addRow(self.threads_label, threads_row)

        self.cancel_button = QPushButton(self)
        self.cancel_button.clicked.connect(self.reject)
        self.launch_button = QPushButton(self)
        self.launch_button.setObjectName("primary")
        self.launch_button.setDefault(True)
        self.launch_button.clicked.connect(self.launch)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.launch_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.download_note)
        layout.addWidget(self.banner)
        layout.addLayout(form)
        layout.addWidget(self.advanced_toggle, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.advanced)
        layout.addStretch(1)
        layout.addLayout(buttons)

        self.context_combo.currentIndexChanged.connect(self._show_context_hint)
        self.kv_combo.currentIndexChanged.connect(self._show_kv_hint)
        self.gpu_layers_spin.valueChanged.connect(lambda _: self.gpu_layers_radio.setChecked(True))
        self.threads_spin.valueChanged.connect(lambda _: self.threads_set.setChecked(True))
        self.retranslate()

    # -- what is sent ---------------------------------------------------------------------------

    def _default_uid(self) -> str:
        register = self.request.register
        name = register.model_name if register is not None else None
        return name or self.request.body.model_name or ""

    def model_type(self) -> ModelType:
        if self.request.model_type is not None:
            return self.request.model_type
        return as_model_type(self.type_combo.currentData())

    def context_length(self) -> int:
        return int(self.context_combo.currentData())

    def body(self) -> LaunchRequest:
        """The launch request with the person's choices."""
        uid = self.uid_edit.text().strip()
        body: dict[str, JsonValue] = {
            **self.request.body.model_dump(mode="json", exclude_unset=True),
            "model_uid": uid,
            "model_type": self.model_type(),
            "model_engine": "llama.cpp",
            "model_format": "ggufv2",
            "n_ctx": self.context_length(),
        }
        if self.request.register is not None:
            body["model_name"] = self.request.register.model_name or uid
        if self.gpu_cpu.isChecked():
            body["n_gpu_layers"] = 0
        elif self.gpu_layers_radio.isChecked():
            body["n_gpu_layers"] = self.gpu_layers_spin.value()
        elif self.request.gpu_layers is not None and self.request.gpu_available:
            # The fit planned a partial offload: "all layers" would not fit in GPU memory.
            body["n_gpu_layers"] = self.request.gpu_layers
        if self.threads_set.isChecked():
            body["n_threads"] = self.threads_spin.value()
        flash_attn = str(self.flash_attn.currentData())
        if flash_attn != "auto":
            body["flash_attn"] = flash_attn
        kv_type = str(self.kv_combo.currentData())
        if kv_type != "f16":
            body["cache_type_k"] = body["cache_type_v"] = kv_type
        if self.batch_spin.value():
            body["n_batch"] = self.batch_spin.value()
        return LaunchRequest.model_validate(body)

    def register_body(self) -> RegisterRepo | None:
        register = self.request.register
        if register is None:
            return None
        return register.model_copy(
            update={
                "model_name": register.model_name or self.uid_edit.text().strip(),
                "model_type": self.model_type(),
            }
        )

    # -- launching --------------------------------------------------------------------------------

    def launch(self) -> None:
        if self._busy:
            return
        uid = self.uid_edit.text().strip()
        if not uid:
            self.banner.show_error(self.tr("Give the model a name that apps will call it by."))
            self.uid_edit.setFocus()
            return
        self.banner.clear()
        self._set_busy(True)
        body, register = self.body(), self.register_body()
        session = self.ctx.session
        log.info("launching %s as %s", body.model_name, uid)

        def call() -> str:
            if register is not None:
                session.client.register_repo(register)
            return session.slow_client.launch(body, wait_ready=False)

        self.ctx.tasks.run(call, self._launched, self._failed)

    def _launched(self, uid: str) -> None:
        self._set_busy(False)
        self.launched.emit(uid)
        self.accept()

    def _failed(self, message: str) -> None:
        self._set_busy(False)
        uid = self.uid_edit.text().strip()
        if "already" in message and uid in message:
            message = self.tr(
                "A model is already running as “{0}”. Choose another name above, or stop "
                "that one on the Running page. ({1})"
            ).format(uid, message)
        self.banner.show_error(message)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.launch_button.setEnabled(not busy)
        self.launch_button.setText(self.tr("Launching…") if busy else self.tr("Launch"))

    def reject(self) -> None:
        # A launch already sent cannot be taken back from here; let it finish first.
        if not self._busy:
            super().reject()

    # -- looks ----------------------------------------------------------------------------------

    def _select_context(self, tokens: int) -> None:
        choices = [int(self.context_combo.itemData(i)) for i in range(self.context_combo.count())]
        fitting = [n for n in choices if n <= tokens] or choices[:1]
        self.context_combo.setCurrentIndex(choices.index(fitting[-1]))

    def _show_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_toggle.setArrowType(
            Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        )

    def _show_kv_hint(self) -> None:
        share = dict(KV_CACHE_CHOICES)[str(self.kv_combo.currentData())]
        if share >= 1.0:
            text = self.tr(
                "Full precision: the conversation's memory grows with the context length above."
            )
        else:
            text = self.tr(
                "The conversation takes {0}% of the memory it takes at full precision, so a "
                "longer context or more requests at once fit; answers change very little."
            ).format(round(share * 100))
        self.kv_hint.setText(text)

    def _show_context_hint(self) -> None:
        tokens = self.context_length()
        self.context_hint.setText(
            self.tr(
                "{0} tokens, {1} of conversation and documents. More needs more memory."
            ).format(f"{tokens:,}", words_label(tokens))
        )

    def retranslate(self) -> None:
        self.setWindowTitle(self.tr("Launch {0}").format(self.request.title))
        self.heading.setText(self.tr("Launch {0}").format(self.request.title))
        if self.request.download_size is not None:
            self.download_note.setText(
                self.tr(
                    "It is not on this computer yet: {0} will be downloaded first, then it "
                    "starts. You can follow both on the Running page."
                ).format(human_bytes(self.request.download_size))
            )
            self.download_note.show()
        else:
            self.download_note.hide()
        self.uid_label.setText(self.tr("Name clients use (model UID)"))
        self.uid_hint.setText(self.tr("Apps such as FastGPT ask for the model by this name."))
        self.type_label.setText(self.tr("Kind of model"))
        for index in range(self.type_combo.count()):
            self.type_combo.setItemText(index, type_name(str(self.type_combo.itemData(index))))
        self.context_label.setText(self.tr("How much text it can keep in mind (context length)"))
        for index in range(self.context_combo.count()):
            tokens = int(self.context_combo.itemData(index))
            self.context_combo.setItemText(
                index,
                self.tr("{0} tokens ({1})").format(context_label(tokens), words_label(tokens)),
            )
        self._show_context_hint()
        self.gpu_label.setText(self.tr("GPU offload"))
        self.gpu_auto.setText(self.tr("Automatic"))
        self.gpu_cpu.setText(self.tr("CPU only"))
        self.gpu_layers_radio.setText(self.tr("Layers:"))
        if self.request.gpu_available is False:
            self.gpu_hint.setText(
                self.tr("No GPU that XinDesk can use was found: the model runs on the CPU.")
            )
        else:
            self.gpu_hint.setText(
                self.tr(
                    "Automatic puts as much of the model on the GPU as fits. Fewer layers leave "
                    "GPU memory for other programs but answer more slowly."
                )
            )
        self.threads_label.setText(self.tr("CPU threads"))
        self.threads_auto.setText(self.tr("Automatic"))
        self.threads_set.setText(self.tr("Use:"))
        self.advanced_toggle.setText(self.tr("Advanced options"))
        self.flash_attn_label.setText(self.tr("Flash attention"))
        for index, text in enumerate(
            (
                self.tr("Automatic (on where the device supports it)"),
                self.tr("On"),
                self.tr("Off"),
            )
        ):
            self.flash_attn.setItemText(index, text)
        self.kv_label.setText(self.tr("Memory for the conversation (KV cache)"))
        for index, text in enumerate(
            (
                self.tr("Full precision (f16)"),
                self.tr("Half (q8_0)"),
                self.tr("Quarter (q4_0)"),
            )
        ):
            self.kv_combo.setItemText(index, text)
        self._show_kv_hint()
        self.batch_label.setText(self.tr("Batch size (tokens read at once)"))
        self.batch_spin.setSpecialValueText(self.tr("Automatic"))
        self.cancel_button.setText(self.tr("Cancel"))
        self._set_busy(self._busy)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
