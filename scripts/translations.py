"""Keep the window's translations in step with the code.

    python scripts/translations.py update   # extract tr() strings into resources/translations/*.ts
    python scripts/translations.py release  # compile the .ts files into the .qm files the app loads
    python scripts/translations.py check    # exit 1: a string is new or untranslated, .qm stale

Translators edit the .ts files with Qt Linguist (`pyside6-linguist`). The tests run `check`'s
logic, so a string added without its translation fails CI.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("xindesk.scripts.translations")

REPO = Path(__file__).resolve().parents[1]
SOURCES = REPO / "desktop" / "gui"
TS_DIR = REPO / "resources" / "translations"
LANGUAGES = ("zh_CN",)


def _tool(name: str) -> str:
    """PySide6's wrappers sit beside the Python that runs this script (or on PATH)."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found: install PySide6 (pip install -e '.[dev]')")
    return found


def ts_file(language: str) -> Path:
    return TS_DIR / f"xindesk_{language}.ts"


def qm_file(language: str) -> Path:
    return TS_DIR / f"xindesk_{language}.qm"


def _python_sources() -> list[str]:
    return sorted(str(p) for p in SOURCES.rglob("*.py"))


def update(target: Path, language: str) -> None:
    """Merge the strings found in the sources into `target` (keeping existing translations)."""
    subprocess.run(
        [
            _tool("pyside6-lupdate"),
            *_python_sources(),
            "-no-obsolete",
            "-locations",
            "none",
            "-target-language",
            language,
            "-ts",
            str(target),
        ],
        check=True,
        capture_output=True,
    )


def release(source: Path, target: Path) -> None:
    subprocess.run(
        [_tool("pyside6-lrelease"), str(source), "-qm", str(target)],
        check=True,
        capture_output=True,
    )


@dataclass(frozen=True)
class Message:
    context: str
    source: str
    translation: str
    finished: bool


def read_ts(path: Path) -> list[Message]:
    root = ET.parse(path).getroot()
    messages = []
    for context in root.iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            translation = message.find("translation")
            text = "" if translation is None else "".join(translation.itertext())
            kind = None if translation is None else translation.get("type")
            messages.append(
                Message(name, message.findtext("source") or "", text, kind is None and bool(text))
            )
    return messages


def problems(language: str) -> list[str]:
    """What is wrong with one language's files: missing strings, unfinished ones, a stale .qm."""
    found: list[str] = []
    ts = ts_file(language)
    if not ts.exists():
        return [f"{ts} is missing: run `python scripts/translations.py update`"]
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / ts.name
        shutil.copy(ts, fresh)
        update(fresh, language)
        have = {(m.context, m.source) for m in read_ts(ts)}
        for message in read_ts(fresh):
            key = (message.context, message.source)
            if key not in have:
                found.append(f"new string not in {ts.name}: [{message.context}] {message.source}")
            elif not message.finished:
                found.append(f"untranslated: [{message.context}] {message.source}")
        stale = {(m.context, m.source) for m in read_ts(fresh)}
        for key in sorted(have - stale):
            found.append(f"string no longer in the code: [{key[0]}] {key[1]}")
        compiled = Path(tmp) / "fresh.qm"
        release(ts, compiled)
        if (
            not qm_file(language).exists()
            or compiled.read_bytes() != qm_file(language).read_bytes()
        ):
            found.append(
                f"{qm_file(language).name} is stale: run `python scripts/translations.py release`"
            )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["update", "release", "check"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    TS_DIR.mkdir(parents=True, exist_ok=True)
    failed = False
    for language in LANGUAGES:
        if args.action == "update":
            update(ts_file(language), language)
            todo = sum(not m.finished for m in read_ts(ts_file(language)))
            log.info(
                "%s: %d strings, %d to translate",
                ts_file(language).name,
                len(read_ts(ts_file(language))),
                todo,
            )
        elif args.action == "release":
            release(ts_file(language), qm_file(language))
            log.info("wrote %s", qm_file(language))
        else:
            for problem in problems(language):
                failed = True
                log.error("%s", problem)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
