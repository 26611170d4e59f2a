#!/usr/bin/env bash
# Build XinDesk for Linux x86_64: llama-cpp-python for one backend, the PyInstaller folder,
# then a .tar.gz and (when appimagetool is on PATH) an AppImage.
#
#   installers/linux/build.sh <cpu|cuda|rocm> [--skip-llama]
#
# Run it from a virtual environment where `pip install -e ".[package]"` (or ".[dev]") is done.
#   --skip-llama   freeze the llama-cpp-python already installed instead of recompiling it
#                  (its flags are then unknown and recorded as empty)
# Environment:
#   PYTHON                    the Python to use (default python3)
#   LLAMA_CPP_PYTHON_VERSION  version to compile (default: the one installed now)
#   XINDESK_DIST_DIR          PyInstaller's output folder (default dist/)
#   XINDESK_WORK_DIR          PyInstaller's work folder (default build/)
#   XINDESK_OUT_DIR           where the archives go (default out/)
# Toolchains: cuda needs nvcc (CUDA 12.8+) on PATH; rocm needs ROCm 6.x (hipconfig on PATH).
set -euo pipefail

usage() {
    echo "usage: $0 <cpu|cuda|rocm> [--skip-llama]" >&2
    exit 2
}

variant="${1:-}"
case "$variant" in
cpu | cuda | rocm) shift ;;
*) usage ;;
esac
skip_llama=0
for arg in "$@"; do
    case "$arg" in
    --skip-llama) skip_llama=1 ;;
    *) usage ;;
    esac
done

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
python="${PYTHON:-python3}"
dist_dir="${XINDESK_DIST_DIR:-$repo/dist}"
work_dir="${XINDESK_WORK_DIR:-$repo/build}"
out_dir="${XINDESK_OUT_DIR:-$repo/out}"

step() { printf '\n==> %s\n' "$*"; }

version="$("$python" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
name="XinDesk-${version}-linux-x86_64-${variant}"
cmake_args="$("$python" installers/cmake_args.py "$variant" --platform linux)"

# --- 1. llama-cpp-python, compiled for this backend ------------------------------------------
if ((skip_llama)); then
    step "llama-cpp-python: freezing the installed build (--skip-llama)"
    recorded_args=""
else
    if [[ "$variant" == cuda ]] && ! command -v nvcc >/dev/null; then
        echo "error: nvcc not found: install the CUDA Toolkit 12.8+ and put its bin/ on PATH" >&2
        exit 1
    fi
    if [[ "$variant" == rocm ]]; then
        if ! command -v hipconfig >/dev/null; then
            echo "error: hipconfig not found: install ROCm 6.x and put /opt/rocm/bin on PATH" >&2
            exit 1
        fi
        # ggml's HIP code must be compiled by ROCm's own clang (llama.cpp's build docs).
        export HIP_PATH="${HIP_PATH:-$(hipconfig -R)}"
        export HIPCXX="${HIPCXX:-$(hipconfig -l)/clang}"
    fi
    llama_version="${LLAMA_CPP_PYTHON_VERSION:-$("$python" -c 'from importlib.metadata import version; print(version("llama-cpp-python"))')}"
    step "llama-cpp-python $llama_version for $variant: CMAKE_ARGS=$cmake_args"
    # --no-cache-dir: pip's wheel cache does not know about CMAKE_ARGS and would hand back a
    # wheel built earlier with other flags.
    CMAKE_ARGS="$cmake_args" "$python" -m pip install --force-reinstall --no-deps \
        --no-cache-dir --no-binary llama-cpp-python "llama-cpp-python==$llama_version"
    recorded_args="$cmake_args"
fi
"$python" installers/cmake_args.py "$variant" --verify-installed

# --- 2. The PyInstaller folder ---------------------------------------------------------------
step "PyInstaller: $dist_dir/XinDesk"
XINDESK_VARIANT="$variant" XINDESK_CMAKE_ARGS="$recorded_args" \
    "$python" -m PyInstaller --noconfirm --clean \
    --distpath "$dist_dir" --workpath "$work_dir" build.spec
app_dir="$dist_dir/XinDesk"
if [[ ! -x "$app_dir/xindesk" ]]; then
    echo "error: PyInstaller made no $app_dir/xindesk" >&2
    exit 1
fi
if [[ "$variant" == cuda ]] && [[ -z "$(find "$app_dir" -name 'libcublas.so*' -print -quit)" ]]; then
    # The bundle ships the CUDA runtime so that users need only the driver.
    echo "error: the CUDA runtime (libcublas) is not in the bundle: put the CUDA Toolkit's" \
        "lib64 on LD_LIBRARY_PATH so PyInstaller finds it" >&2
    exit 1
fi
if [[ "$variant" == rocm ]] && [[ -n "$(find "$app_dir" -name 'libamdhip64.so*' -print -quit)" ]]; then
    # ROCm comes from the user's system: rocBLAS needs its kernel files beside it, gigabytes
    # that a bundle cannot carry, so a bundled libamdhip64/librocblas would not work anyway.
    echo "error: ROCm libraries were bundled; build.spec must leave them to the system's ROCm" >&2
    exit 1
fi

# --- 3. The archives -------------------------------------------------------------------------
mkdir -p "$out_dir"
tarball="$out_dir/$name.tar.gz"
step "tar.gz: $tarball"
# tar keeps the symbolic links PyInstaller makes (zip would copy each target again).
tar -C "$dist_dir" -czf "$tarball" XinDesk

if command -v appimagetool >/dev/null; then
    appimage="$out_dir/$name.AppImage"
    step "AppImage: $appimage"
    appdir="$work_dir/$name.AppDir"
    rm -rf "$appdir"
    mkdir -p "$appdir/usr/lib"
    cp -a "$app_dir" "$appdir/usr/lib/XinDesk"
    install -m 755 installers/linux/AppRun "$appdir/AppRun"
    install -m 644 installers/linux/xindesk.desktop "$appdir/xindesk.desktop"
    install -m 644 resources/icons/xindesk-256.png "$appdir/xindesk.png"
    ln -sf xindesk.png "$appdir/.DirIcon"
    # APPIMAGE_EXTRACT_AND_RUN: appimagetool is itself an AppImage, and build machines and
    # containers often have no FUSE to mount it with.
    ARCH=x86_64 APPIMAGE_EXTRACT_AND_RUN=1 appimagetool --no-appstream "$appdir" "$appimage"
else
    step "AppImage skipped: appimagetool not found on PATH"
    echo "(get it from https://github.com/AppImage/appimagetool/releases and run again)"
fi

step "Sizes"
du -sh "$app_dir"
du -h "$out_dir/$name".*
