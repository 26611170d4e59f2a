"""How llama-cpp-python is compiled for each XinDesk variant: the one place the flags live.

    python installers/cmake_args.py cuda --platform linux     # print the CMAKE_ARGS string
    python installers/cmake_args.py cuda --verify-installed   # did the installed build take?

The installer scripts (installers/*/build.*), the CI workflow and the README all take their
flags from here. Variants per platform:

    linux    cpu, cuda, rocm
    macos    metal        (llama-cpp-python turns Metal on for every Apple build)
    windows  cpu, cuda

Only today's GGML_* option names are used. llama.cpp's older names either stop the configure
or are silently ignored and give a CPU-only build, which is why the scripts also run
`--verify-installed` after compiling: it looks for the backend's library in the installed
package. Standard library only, so it runs before anything is installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from collections.abc import Sequence
from pathlib import Path

VARIANTS = ("cpu", "metal", "cuda", "rocm")
PLATFORMS = ("linux", "macos", "windows")
SUPPORTED = {
    "linux": ("cpu", "cuda", "rocm"),
    "macos": ("metal",),
    "windows": ("cpu", "cuda"),
}

# llama.cpp's own tests, tools, examples and server are not part of the Python package;
# skipping them saves a good part of the compile.
SKIP_EXTRAS = (
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_TOOLS=OFF",
    "-DLLAMA_BUILD_SERVER=OFF",
)

# CUDA 12.8 or newer 12.x. Real (SASS) code for the GPUs people have: Pascal GTX 10 (61),
# Turing (75), A100 (80), RTX 30 (86), RTX 40 (89), H100/H200 (90) and RTX 50 (120a, needs
# CUDA 12.8). 90-virtual adds PTX that newer GPUs compile at first start. CUDA 13 dropped
# Pascal: drop 61-real there.
CUDA_ARCHITECTURES = (
    "61-real",
    "75-real",
    "80-real",
    "86-real",
    "89-real",
    "90-real",
    "120a-real",
    "90-virtual",
)

# AMD GPUs ROCm 6.4 supports on desktops and workstations: RDNA2 (gfx1030), RDNA3 (gfx110x),
# RDNA3.5 APUs (gfx1150, gfx1151) and RDNA4 (gfx1200, gfx1201).
ROCM_TARGETS = (
    "gfx1030",
    "gfx1100",
    "gfx1101",
    "gfx1102",
    "gfx1150",
    "gfx1151",
    "gfx1200",
    "gfx1201",
)

# The oldest macOS llama.cpp's Metal backend supports; PySide6 sets the app's own minimum
# (build.spec writes it into Info.plist), which is higher.
MACOS_DEPLOYMENT_TARGET = "13.3"

# The ggml library each variant's build must contain (file name without "lib" and suffix).
BACKEND_LIBRARY = {
    "cpu": "ggml-cpu",
    "metal": "ggml-metal",
    "cuda": "ggml-cuda",
    "rocm": "ggml-hip",
}
GPU_LIBRARIES = ("ggml-cuda", "ggml-hip", "ggml-metal", "ggml-vulkan", "ggml-sycl")


def current_platform() -> str:
    if sys.platform == "darwin":
        return "macos"
    if sys.platform == "win32":
        return "windows"
    return "linux"


def cmake_args(variant: str, platform: str) -> list[str]:
    """The -D options for `variant` built on `platform`, in a stable order."""
    if platform not in SUPPORTED:
        raise ValueError(f"unknown platform {platform!r}: one of {', '.join(PLATFORMS)}")
    if variant not in SUPPORTED[platform]:
        raise ValueError(
            f"no {variant!r} build on {platform}: one of {', '.join(SUPPORTED[platform])}"
        )
    # A portable baseline everywhere: "native" would tune the build for the build machine's
    # CPU and crash with an illegal instruction on older ones. On x86_64 ggml still uses
    # AVX2/FMA/F16C with this (an Intel Haswell or AMD Zen class CPU, 2013 and later).
    args = ["-DGGML_NATIVE=OFF"]
    if variant == "cpu":
        # OpenMP stays on, as in llama.cpp's defaults and in the builds the tests and
        # benchmarks run: it is ggml's best tested CPU thread pool. Its runtime (libgomp on
        # Linux, vcomp140.dll on Windows) ships inside the bundle.
        args.append("-DGGML_OPENMP=ON")
    elif variant == "metal":
        args += [
            "-DGGML_METAL=ON",
            "-DCMAKE_OSX_ARCHITECTURES=arm64",
            "-DCMAKE_APPLE_SILICON_PROCESSOR=arm64",
            f"-DCMAKE_OSX_DEPLOYMENT_TARGET={MACOS_DEPLOYMENT_TARGET}",
        ]
    elif variant == "cuda":
        args += [
            "-DGGML_CUDA=ON",
            # Without this ggml-cuda links the driver library (libcuda.so / nvcuda.dll)
            # directly, and on a machine without the NVIDIA driver llama_cpp cannot even be
            # imported. With it, the CUDA runtime finds no device and XinDesk runs on the CPU.
            "-DGGML_CUDA_NO_VMM=ON",
            f"-DCMAKE_CUDA_ARCHITECTURES={';'.join(CUDA_ARCHITECTURES)}",
        ]
        if platform == "linux":
            # With the model on the GPU the CPU thread pool matters little; one runtime
            # less to ship (llama-cpp-python's own CUDA wheels do the same).
            args.append("-DGGML_OPENMP=OFF")
    elif variant == "rocm":
        targets = ";".join(ROCM_TARGETS)
        args += [
            "-DGGML_HIP=ON",
            # GPU_TARGETS is today's name; older ggml read AMDGPU_TARGETS, and CMake's HIP
            # language reads CMAKE_HIP_ARCHITECTURES. Setting all three keeps them equal.
            f"-DGPU_TARGETS={targets}",
            f"-DAMDGPU_TARGETS={targets}",
            f"-DCMAKE_HIP_ARCHITECTURES={targets}",
            # ROCm's clang would link its own OpenMP runtime, another library to ship.
            "-DGGML_OPENMP=OFF",
        ]
    return args + list(SKIP_EXTRAS)


def library_stem(filename: str) -> str:
    """The library's name without prefix and suffixes: libggml-cuda.so.0.9.1, ggml-cuda.dll
    and libggml-cuda.dylib are all "ggml-cuda"."""
    name = filename.removeprefix("lib")
    return re.split(r"\.(?:so|dll|dylib)(?:\.|$)", name, maxsplit=1)[0]


def verify_backend(variant: str, lib_dir: Path) -> list[str]:
    """Problems with the llama.cpp build in `lib_dir` for `variant`; empty when it is right."""
    if not lib_dir.is_dir():
        return [f"{lib_dir} does not exist: is llama-cpp-python installed?"]
    stems = {library_stem(path.name) for path in lib_dir.iterdir() if path.is_file()}
    problems = []
    wanted = BACKEND_LIBRARY[variant]
    if wanted not in stems:
        problems.append(
            f"no {wanted} library in {lib_dir}: llama-cpp-python was not built for {variant}"
        )
    if variant == "cpu":
        extra = sorted(stems.intersection(GPU_LIBRARIES))
        if extra:
            problems.append(f"the cpu build holds GPU backends: {', '.join(extra)}")
    return problems


def installed_lib_dir() -> Path | None:
    """llama_cpp/lib of the installed package, found without importing llama_cpp (a GPU
    build may not import on a machine without that GPU's runtime)."""
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "lib"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("variant", choices=VARIANTS)
    parser.add_argument("--platform", choices=PLATFORMS, default=current_platform())
    parser.add_argument(
        "--verify-installed",
        action="store_true",
        help="check the installed llama-cpp-python has this variant's backend library",
    )
    args = parser.parse_args(argv)
    if args.verify_installed:
        lib_dir = installed_lib_dir()
        if lib_dir is None:
            sys.stderr.write("llama-cpp-python is not installed in this Python\n")
            return 1
        problems = verify_backend(args.variant, lib_dir)
        for problem in problems:
            sys.stderr.write(f"error: {problem}\n")
        if not problems:
            names = sorted({library_stem(p.name) for p in lib_dir.iterdir() if p.is_file()})
            sys.stdout.write(f"llama-cpp-python {args.variant} build: {', '.join(names)}\n")
        return 1 if problems else 0
    try:
        flags = cmake_args(args.variant, args.platform)
    except ValueError as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    sys.stdout.write(" ".join(flags) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
