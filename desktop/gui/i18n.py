"""The window's language: Qt Linguist translations, switchable while the window is open.

Every visible string goes through `tr()`; `resources/translations/xindesk_<lang>.ts` holds the
translations (edited with Qt Linguist, compiled to `.qm` by `scripts/translations.py`).
Installing a translator makes Qt send a LanguageChange event to every widget, and each page
sets its texts again in `retranslate()`, so no restart is needed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QObject, QTranslator

from desktop.core.paths import resources_dir

log = logging.getLogger("xindesk.gui.i18n")

LANGUAGES = ("en", "zh_CN")


def translations_dir() -> Path:
    return resources_dir() / "translations"


def resolve_language(choice: str) -> str:
    """'system' becomes zh_CN for any Chinese locale, else English."""
    if choice in LANGUAGES:
        return choice
    return "zh_CN" if QLocale.system().language() == QLocale.Language.Chinese else "en"


class Translations(QObject):
    """Owns the installed translators (XinDesk's and Qt's own dialogs' strings)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._installed: list[QTranslator] = []
        self.language = "en"

    def apply(self, choice: str) -> str:
        """Switch to `choice` ('system', 'en', 'zh_CN'); returns the language in effect."""
        language = resolve_language(choice)
        app = QCoreApplication.instance()
        if app is None:
            raise RuntimeError("create the QApplication before choosing a language")
        for translator in self._installed:
            QCoreApplication.removeTranslator(translator)
        self._installed.clear()
        self.language = language
        if language != "en":
            ours = QTranslator(self)
            if ours.load(f"xindesk_{language}", str(translations_dir())):
                self._installed.append(ours)
            else:
                log.warning("no compiled translation for %s in %s", language, translations_dir())
            qt_own = QTranslator(self)
            qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
            if qt_own.load(f"qtbase_{language}", qt_dir):
                self._installed.append(qt_own)
        for translator in self._installed:
            QCoreApplication.installTranslator(translator)
        # Installing or removing a translator sends LanguageChange; pages re-set their texts.
        log.info("language: %s", language)
        return language
