"""The Settings page's downloads card: where models come from (hub, mirrors, proxy) and how
many download at once; saved on the server, which downloads them."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from desktop.api.admin import SettingsPatch, SettingsUpdate
from desktop.api.hubs import DOWNLOAD_SOURCES
from desktop.api.settings import PROXY_SCHEMES, WEB_SCHEMES
from desktop.gui.context import GuiContext
from desktop.gui.pages.settings.section import ServerSnapshot, SettingsSection, url_problem
from desktop.gui.widgets.common import Banner

HF_MIRROR = "https://hf-mirror.com"


class DownloadsSection(SettingsSection):
    """The server's download settings, checked here before they are sent."""

    def __init__(self, ctx: GuiContext, banner: Banner, parent: QWidget | None = None) -> None:
        super().__init__(ctx, banner, parent)
        self._fill = True
        self.source = QComboBox(self)
        for choice in DOWNLOAD_SOURCES:
            self.source.addItem("", choice)
        self.hf_endpoint = QLineEdit(self)
        self.hf_endpoint.setPlaceholderText("https://huggingface.co")
        self.mirror_button = QPushButton(self)
        self.mirror_button.clicked.connect(lambda: self.hf_endpoint.setText(HF_MIRROR))
        mirror_row = QHBoxLayout()
        mirror_row.addWidget(self.hf_endpoint, 1)
        mirror_row.addWidget(self.mirror_button)
        self.modelscope_endpoint = QLineEdit(self)
        self.modelscope_endpoint.setPlaceholderText("https://www.modelscope.cn")
        self.proxy = QLineEdit(self)
        self.proxy.setPlaceholderText("http://127.0.0.1:7890")
        self.max_parallel = QSpinBox(self)
        self.max_parallel.setRange(1, 8)
        self.max_parallel.setMaximumWidth(90)
        self.source_label = QLabel(self)
        self.hf_label = QLabel(self)
        self.modelscope_label = QLabel(self)
        self.proxy_label = QLabel(self)
        self.parallel_label = QLabel(self)
        form = QFormLayout()
        form.addRow(self.source_label, self.source)
        form.addRow(self.hf_label, mirror_row)
        form.addRow(self.modelscope_label, self.modelscope_endpoint)
        form.addRow(self.proxy_label, self.proxy)
        form.addRow(self.parallel_label, self.max_parallel)
        self.save_button = QPushButton(self)
        self.save_button.setObjectName("primary")
        self.save_button.clicked.connect(self.save)
        row = QHBoxLayout()
        row.addWidget(self.save_button)
        row.addStretch(1)
        self.column.addLayout(form)
        self.column.addLayout(row)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(self.tr("Downloads"))
        self.source_label.setText(self.tr("Download models from"))
        sources = {
            "auto": self.tr("Automatic (the one that answers)"),
            "huggingface": self.tr("Hugging Face"),
            "modelscope": self.tr("ModelScope (faster in mainland China)"),
        }
        for index, choice in enumerate(DOWNLOAD_SOURCES):
            self.source.setItemText(index, sources[choice])
        self.hf_label.setText(self.tr("Hugging Face mirror"))
        self.mirror_button.setText(self.tr("Use hf-mirror.com"))
        self.modelscope_label.setText(self.tr("ModelScope address"))
        self.proxy_label.setText(self.tr("Proxy"))
        self.parallel_label.setText(self.tr("Downloads at the same time"))
        self.save_button.setText(self.tr("Save download settings"))

    def refill(self) -> None:
        """Show the server's values at its next reading (the page opened, the server changed,
        they were saved): not on every reading, so saving a token does not undo values typed
        here but not saved yet."""
        self._fill = True

    def show_state(self, snapshot: ServerSnapshot | None) -> None:
        self.setEnabled(snapshot is None or snapshot.xindesk)
        if snapshot is None or snapshot.settings is None or not self._fill:
            return
        self._fill = False
        downloads = snapshot.settings.downloads
        self.source.setCurrentIndex(max(0, self.source.findData(downloads.source)))
        self.hf_endpoint.setText(downloads.hf_endpoint or "")
        self.modelscope_endpoint.setText(downloads.modelscope_endpoint or "")
        self.proxy.setText(downloads.proxy or "")
        self.max_parallel.setValue(downloads.max_parallel)

    def save(self) -> None:
        """Check the addresses, then save the download settings on the server."""
        hf = self.hf_endpoint.text().strip().rstrip("/")
        modelscope = self.modelscope_endpoint.text().strip().rstrip("/")
        proxy = self.proxy.text().strip()
        problems = []
        if hf and url_problem(hf, WEB_SCHEMES):
            problems.append(
                self.tr(
                    "The Hugging Face mirror must be a web address starting with http:// or "
                    "https://, e.g. https://hf-mirror.com"
                )
            )
        if modelscope and url_problem(modelscope, WEB_SCHEMES):
            problems.append(
                self.tr(
                    "The ModelScope address must be a web address starting with http:// or "
                    "https://, e.g. https://www.modelscope.cn"
                )
            )
        if proxy and url_problem(proxy, PROXY_SCHEMES):
            problems.append(
                self.tr(
                    "The proxy must look like http://host:port (or https://, socks5://), "
                    "e.g. http://127.0.0.1:7890"
                )
            )
        if problems:
            self.banner.show_error("\n".join(problems))
            return
        patch: SettingsPatch = {
            "downloads": {
                "source": str(self.source.currentData()),
                "hf_endpoint": hf or None,
                "modelscope_endpoint": modelscope or None,
                "proxy": proxy or None,
                "max_parallel": self.max_parallel.value(),
            }
        }
        self.banner.clear()
        self.save_button.setEnabled(False)
        client = self.ctx.session.client
        self.ctx.tasks.run(lambda: client.update_settings(patch), self._saved, self._failed)

    def _saved(self, _update: SettingsUpdate) -> None:
        self.save_button.setEnabled(True)
        self.banner.show_info(self.tr("Download settings saved."))
        self.refill()
        self.reload_requested.emit()

    def _failed(self, message: str) -> None:
        self.save_button.setEnabled(True)
        self.banner.show_error(message)
