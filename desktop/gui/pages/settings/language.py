"""The Settings page's language card: English, Chinese, or the system's language."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QWidget

from desktop.gui.context import GuiContext
from desktop.gui.pages.settings.section import SettingsSection
from desktop.gui.widgets.common import Banner

LANGUAGE_CHOICES = ("en", "zh_CN", "system")


class LanguageSection(SettingsSection):
    """The window's language, switched at once and kept for the next start."""

    def __init__(self, ctx: GuiContext, banner: Banner, parent: QWidget | None = None) -> None:
        super().__init__(ctx, banner, parent)
        self.combo = QComboBox(self)
        for choice in LANGUAGE_CHOICES:
            self.combo.addItem("", choice)
        self.combo.setCurrentIndex(max(0, self.combo.findData(ctx.settings.ui.language)))
        self.combo.currentIndexChanged.connect(self._chosen)
        row = QHBoxLayout()
        row.addWidget(self.combo)
        row.addStretch(1)
        self.column.addLayout(row)
        self.retranslate()

    def retranslate(self) -> None:
        self.title.setText(self.tr("Language"))
        # Each language is named in itself, so anyone can find theirs whatever is shown now.
        names = {"en": "English", "zh_CN": "简体中文", "system": self.tr("Follow the system")}
        for index, choice in enumerate(LANGUAGE_CHOICES):
            self.combo.setItemText(index, names[choice])

    def _chosen(self, index: int) -> None:
        choice = str(self.combo.itemData(index))
        self.ctx.translations.apply(choice)
        self.save_ui({"language": choice})
