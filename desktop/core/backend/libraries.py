"""Why llama.cpp's native library would not load, in words a person can act on.

`import llama_cpp` loads `libllama` through ctypes, and with it every library the build was
linked against. A GPU build links the vendor's runtime: a CUDA build needs the NVIDIA driver
(`libcuda.so.1` / `nvcuda.dll`) and the CUDA runtime (`libcudart`, `libcublas`), a ROCm build
needs `libamdhip64` and hipBLAS/rocBLAS. On a computer without them the import fails with the
dynamic loader's terse message, wrapped by llama-cpp-python in a RuntimeError:

    Failed to load shared library '.../libllama.so': libcuda.so.1: cannot open shared object
    file: No such file or directory

`explain_load_failure` turns that into which library is missing, what provides it and what to
do. Windows does not name the missing DLL ("Could not find module ... (or one of its
dependencies)"), so there the usual suspects for the build's variant are tried one by one.
"""

from __future__ import annotations

import logging
import re
import sys
from dataclasses import asdict, dataclass
from types import ModuleType
from typing import Any

log = logging.getLogger("xindesk.native")

__all__ = ["LibraryProblem", "explain_load_failure", "import_llama_cpp"]


@dataclass(frozen=True)
class _Provider:
    pattern: re.Pattern[str]
    component: str
    advice: str


# What provides each library a llama.cpp build may link against, most specific first.
_PROVIDERS: tuple[_Provider, ...] = (
    _Provider(
        re.compile(r"^(libcuda\.so|nvcuda\.dll)", re.IGNORECASE),
        "the NVIDIA driver",
        "Install or update the NVIDIA driver (CUDA 12 builds need driver 525 or newer; "
        "`nvidia-smi` should then list your GPU). On a computer without an NVIDIA GPU, use "
        "XinDesk's CPU build instead.",
    ),
    _Provider(
        re.compile(r"^(libcudart|cudart64_|libcublas|cublas64_|cublasLt64_)", re.IGNORECASE),
        "the NVIDIA CUDA runtime (cudart / cuBLAS)",
        "Install the CUDA runtime of the version in the file name (the CUDA Toolkit, or "
        "NVIDIA's redistributable runtime), or use an XinDesk installer that bundles it.",
    ),
    _Provider(
        re.compile(
            r"^(libamdhip64|amdhip64|libhipblas|hipblas|librocblas|rocblas|libhsa-runtime64|"
            r"librocsolver|libhiprtc)",
            re.IGNORECASE,
        ),
        "AMD ROCm (the HIP runtime and hipBLAS / rocBLAS)",
        "Install ROCm for your Linux distribution (AMD's ROCm install guide) and check that "
        "your GPU is supported; on a computer without a supported AMD GPU, use XinDesk's CPU "
        "build instead.",
    ),
    _Provider(
        re.compile(r"^(libvulkan|vulkan-1)", re.IGNORECASE),
        "the Vulkan loader",
        "Install your graphics driver's Vulkan support (on Debian/Ubuntu: the libvulkan1 package).",
    ),
    _Provider(
        re.compile(r"^(libgomp|libomp|vcomp)", re.IGNORECASE),
        "the OpenMP runtime",
        "Install the OpenMP runtime (on Debian/Ubuntu: the libgomp1 package).",
    ),
    _Provider(
        re.compile(
            r"^(libstdc\+\+|libgcc_s|msvcp140|vcruntime140|GLIBCXX_|CXXABI_)", re.IGNORECASE
        ),
        "the C++ runtime",
        "On Windows install the Microsoft Visual C++ Redistributable (x64); on Linux update "
        "the system's libstdc++.",
    ),
    _Provider(
        re.compile(r"^GLIBC_"),
        "the system C library (glibc), which is older than this build needs",
        "Use a newer Linux distribution, or install XinDesk from source there.",
    ),
)

# DLLs a Windows build of each variant loads besides its own, in the order worth trying.
_WINDOWS_SUSPECTS: dict[str, tuple[str, ...]] = {
    "cuda": ("nvcuda.dll", "cudart64_12.dll", "cublas64_12.dll", "cublasLt64_12.dll"),
    "rocm": ("amdhip64_6.dll", "amdhip64.dll", "hipblas.dll", "rocblas.dll"),
    "cpu": (),
    "metal": (),
}
_WINDOWS_COMMON = ("vcruntime140.dll", "msvcp140.dll", "vcomp140.dll")

# The loaders' ways of naming the library they could not find.
_MISSING_PATTERNS = (
    # glibc: "libcuda.so.1: cannot open shared object file: No such file or directory"
    re.compile(r"([\w.+-]+\.so[\w.]*): cannot open shared object file"),
    # macOS dyld: "Library not loaded: @rpath/libggml-metal.dylib"
    re.compile(r"Library not loaded: (?:\S*/)?([\w.+-]+)"),
    # glibc symbol versions: "version `GLIBCXX_3.4.30' not found (required by ...)"
    re.compile(r"version `(GLIBC\w*_[\d.]+)' not found"),
)
_FAILED_FILE = re.compile(r"Failed to load shared library '([^']+)'")


@dataclass(frozen=True)
class LibraryProblem:
    """Why llama.cpp's library did not load.

    Attributes:
        library: The file that failed to load (e.g. ".../llama_cpp/lib/libllama.so").
        missing: The dependency that could not be found ("libcuda.so.1"), None when the
            loader did not say and no suspect could be pinned down.
        component: What provides `missing` ("the NVIDIA driver"), None when unknown.
        advice: What to do about it.
        raw: The loader's own message.
        message: All of it in one paragraph, for logs, errors and the GUI.
    """

    library: str | None
    missing: str | None
    component: str | None
    advice: str
    raw: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _missing_name(raw: str) -> str | None:
    for pattern in _MISSING_PATTERNS:
        found = pattern.search(raw)
        if found:
            return found.group(1)
    return None


def _provider(name: str) -> _Provider | None:
    return next((p for p in _PROVIDERS if p.pattern.search(name)), None)


def _windows_missing(variant: str | None) -> str | None:
    """The first of the variant's usual DLLs that Windows cannot load, if any."""
    if sys.platform == "win32":
        import ctypes

        suspects = _WINDOWS_SUSPECTS.get(variant or "", ()) + _WINDOWS_COMMON
        if variant is None:
            # Run from source the variant is unknown: try the GPU runtimes too.
            suspects = _WINDOWS_SUSPECTS["cuda"] + _WINDOWS_SUSPECTS["rocm"] + _WINDOWS_COMMON
        for name in suspects:
            try:
                ctypes.WinDLL(name)
            except OSError:
                return name
    return None


def explain_load_failure(exc: BaseException, variant: str | None = None) -> LibraryProblem:
    """Name the missing piece behind a failed `import llama_cpp`.

    Args:
        exc: What the import raised (RuntimeError from llama-cpp-python's loader,
            FileNotFoundError when the library file itself is absent, OSError from ctypes).
        variant: The build's variant from `build_info` ("cuda", ...), None from source.
    """
    raw = str(exc)
    failed = _FAILED_FILE.search(raw)
    library = failed.group(1) if failed else None
    if isinstance(exc, FileNotFoundError) and "not found" in raw and library is None:
        advice = (
            "The installation is incomplete: reinstall XinDesk (or, from source, reinstall "
            "llama-cpp-python). If LLAMA_CPP_LIB_PATH is set, it must name the folder that "
            "holds the library."
        )
        message = f"llama.cpp's library is missing ({raw}). {advice}"
        return LibraryProblem(None, None, None, advice, raw, message)

    missing = _missing_name(raw)
    if missing is None and "one of its dependencies" in raw:
        missing = _windows_missing(variant)
    provider = _provider(missing) if missing else None
    built = f"This is XinDesk's {variant.upper()} build. " if variant and variant != "cpu" else ""
    where = f" ({library})" if library else ""
    if missing and provider:
        advice = provider.advice
        message = (
            f"llama.cpp's library{where} cannot be loaded because {missing} is missing; it is "
            f"part of {provider.component}. {built}{advice}"
        )
    elif missing:
        advice = f"Install the package that provides {missing}, or reinstall XinDesk."
        message = (
            f"llama.cpp's library{where} cannot be loaded because {missing} is missing. "
            f"{built}{advice}"
        )
    else:
        advice = (
            "Reinstall XinDesk; if this is a GPU build, check that the GPU's driver and "
            "runtime are installed, or use the CPU build."
        )
        message = f"llama.cpp's library{where} cannot be loaded. {built}{advice}"
    message += f" (The system said: {raw})"
    return LibraryProblem(
        library=library,
        missing=missing,
        component=provider.component if provider else None,
        advice=advice,
        raw=raw,
        message=message,
    )


def import_llama_cpp(variant: str | None = None) -> tuple[ModuleType | None, LibraryProblem | None]:
    """`import llama_cpp`, or why it cannot be: (module, None) or (None, problem)."""
    try:
        import llama_cpp
    except (ImportError, OSError, RuntimeError) as exc:
        # ImportError covers a missing package; OSError/RuntimeError the native library
        # (llama-cpp-python wraps ctypes' OSError in a RuntimeError).
        if isinstance(exc, ImportError) and exc.name == "llama_cpp":
            advice = "Install llama-cpp-python (pip install llama-cpp-python)."
            message = f"llama-cpp-python is not installed. {advice}"
            return None, LibraryProblem(None, "llama_cpp", None, advice, str(exc), message)
        problem = explain_load_failure(exc, variant)
        log.warning("%s", problem.message)
        return None, problem
    return llama_cpp, None
