"""What this copy of XinDesk was built as: the installer's variant (cpu, cuda, rocm, metal).

A frozen app (PyInstaller) carries `xindesk_build.json` at the root of its bundle, written by
`build.spec` from the build's environment:

    {"variant": "cuda", "version": "0.1.0", "llama_cpp_python": "0.3.36",
     "cmake_args": "-DGGML_CUDA=on ...", "python": "3.11.7", "platform": "linux-x86_64"}

Run from source there is no such file and no variant: the llama-cpp-python installed in the
environment is whatever it is, and `desktop.core.memory.llama_build.probe_llama_build` says what
it has.
The variant is what the build *meant* to be; comparing it with what actually loaded is how
`xindesk doctor` tells "built for CUDA, no NVIDIA GPU here" from "this is a CPU build".
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("xindesk.build")

BUILD_FILE = "xindesk_build.json"
VARIANTS = ("cpu", "cuda", "rocm", "metal")
#: How XinDesk names each variant's llama.cpp backend (as `hardware` names backends).
VARIANT_BACKENDS = {"cpu": "CPU", "cuda": "CUDA", "rocm": "HIP", "metal": "Metal"}


@dataclass(frozen=True)
class BuildInfo:
    """The facts `build.spec` recorded about a frozen build.

    Attributes:
        variant: "cpu", "cuda", "rocm" or "metal"; "unknown" when the file is missing or
            unreadable (the note says why).
        version: XinDesk's version at build time.
        llama_cpp_python: The llama-cpp-python version bundled.
        cmake_args: The CMAKE_ARGS llama-cpp-python was compiled with ("" for a stock wheel).
        python: The Python version bundled.
        platform: e.g. "linux-x86_64", "macosx-arm64", "win-amd64".
        note: Why a field is unknown, or None.
    """

    variant: str
    version: str | None = None
    llama_cpp_python: str | None = None
    cmake_args: str | None = None
    python: str | None = None
    platform: str | None = None
    note: str | None = None

    @property
    def backend(self) -> str | None:
        """The backend the variant was built for ("CUDA", ...), None when unknown."""
        return VARIANT_BACKENDS.get(self.variant)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_frozen() -> bool:
    """True inside a PyInstaller bundle."""
    return bool(getattr(sys, "frozen", False)) and hasattr(sys, "_MEIPASS")


def read_build_info(bundle_dir: Path | None = None) -> BuildInfo | None:
    """The frozen build's facts; None when running from source.

    Args:
        bundle_dir: Read `xindesk_build.json` from here instead of the bundle's root
            (`sys._MEIPASS`); given, the file is read whether or not this process is frozen.

    Never raises: a frozen app whose file is missing or damaged gets variant "unknown" and a
    note, since a support report is exactly where that must show.
    """
    if bundle_dir is None:
        if not is_frozen():
            return None
        bundle_dir = Path(getattr(sys, "_MEIPASS", ""))
    file = bundle_dir / BUILD_FILE
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return BuildInfo(variant="unknown", note=f"{file} is missing from the bundle")
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        log.warning("cannot read %s: %s", file, exc)
        return BuildInfo(variant="unknown", note=f"{file} cannot be read: {exc}")
    if not isinstance(raw, dict):
        return BuildInfo(variant="unknown", note=f"{file} does not hold a JSON object")

    def text(key: str) -> str | None:
        value = raw.get(key)
        return str(value) if value is not None else None

    variant = (text("variant") or "").strip().lower()
    note = None
    if variant not in VARIANTS:
        note = f"{file} names an unknown variant {raw.get('variant')!r}"
        variant = "unknown"
    return BuildInfo(
        variant=variant,
        version=text("version"),
        llama_cpp_python=text("llama_cpp_python"),
        cmake_args=text("cmake_args"),
        python=text("python"),
        platform=text("platform"),
        note=note,
    )
