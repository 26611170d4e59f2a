#!/usr/bin/env bash
# Build XinDesk for Apple Silicon Macs: llama-cpp-python with Metal, the PyInstaller
# XinDesk.app, then a .dmg, signed and notarized when the Apple credentials are given.
#
#   installers/macos/build.sh [metal] [--skip-llama]
#
# Run it from a virtual environment where `pip install -e ".[package]"` (or ".[dev]") is done,
# on an arm64 Mac with the Xcode command line tools.
#   --skip-llama   freeze the llama-cpp-python already installed instead of recompiling it
# Environment:
#   PYTHON                       the Python to use (default python3)
#   LLAMA_CPP_PYTHON_VERSION     version to compile (default: the one installed now)
#   XINDESK_DIST_DIR / XINDESK_WORK_DIR / XINDESK_OUT_DIR   as in installers/linux/build.sh
# Signing and notarization (all optional; without them the app is signed ad hoc, which runs
# on the machine that built it but is stopped by Gatekeeper when downloaded):
#   MACOS_CODESIGN_IDENTITY      "Developer ID Application: Name (TEAMID)", in the keychain
#   APPLE_ID, APPLE_TEAM_ID, APPLE_APP_SPECIFIC_PASSWORD   for notarytool
set -euo pipefail

usage() {
    echo "usage: $0 [metal] [--skip-llama]" >&2
    exit 2
}

variant=metal
skip_llama=0
for arg in "$@"; do
    case "$arg" in
    metal) variant=metal ;;
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
identity="${MACOS_CODESIGN_IDENTITY:-}"
entitlements="$repo/installers/macos/entitlements.plist"

step() { printf '\n==> %s\n' "$*"; }

if [[ "$(uname -m)" != arm64 ]]; then
    echo "error: the Metal build is for Apple Silicon; run it on an arm64 Mac" >&2
    exit 1
fi
version="$("$python" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
name="XinDesk-${version}-macos-arm64-${variant}"
cmake_args="$("$python" installers/cmake_args.py "$variant" --platform macos)"

# --- 1. llama-cpp-python with Metal ----------------------------------------------------------
if ((skip_llama)); then
    step "llama-cpp-python: freezing the installed build (--skip-llama)"
    recorded_args=""
else
    llama_version="${LLAMA_CPP_PYTHON_VERSION:-$("$python" -c 'from importlib.metadata import version; print(version("llama-cpp-python"))')}"
    step "llama-cpp-python $llama_version for $variant: CMAKE_ARGS=$cmake_args"
    # --no-cache-dir: pip's wheel cache ignores CMAKE_ARGS and could return an older build.
    CMAKE_ARGS="$cmake_args" "$python" -m pip install --force-reinstall --no-deps \
        --no-cache-dir --no-binary llama-cpp-python "llama-cpp-python==$llama_version"
    recorded_args="$cmake_args"
fi
"$python" installers/cmake_args.py "$variant" --verify-installed

# --- 2. XinDesk.app --------------------------------------------------------------------------
step "PyInstaller: $dist_dir/XinDesk.app"
XINDESK_VARIANT="$variant" XINDESK_CMAKE_ARGS="$recorded_args" \
    "$python" -m PyInstaller --noconfirm --clean \
    --distpath "$dist_dir" --workpath "$work_dir" build.spec
app="$dist_dir/XinDesk.app"
if [[ ! -x "$app/Contents/MacOS/XinDesk" ]]; then
    echo "error: PyInstaller made no $app/Contents/MacOS/XinDesk" >&2
    exit 1
fi

# --- 3. Signature ----------------------------------------------------------------------------
if [[ -n "$identity" ]]; then
    step "codesign: $identity (hardened runtime)"
    # One signature over every binary in the bundle, with the hardened runtime notarization
    # requires and the entitlements the app needs under it.
    codesign --force --deep --timestamp --options runtime \
        --entitlements "$entitlements" --sign "$identity" "$app"
else
    step "codesign: ad hoc (MACOS_CODESIGN_IDENTITY is not set)"
    echo "The app is not signed for distribution: on other Macs Gatekeeper will refuse it"
    echo "until the user allows it (System Settings > Privacy & Security > Open Anyway)."
    codesign --force --deep --sign - "$app"
fi
codesign --verify --deep --strict "$app"

# --- 4. The disk image -----------------------------------------------------------------------
mkdir -p "$out_dir"
dmg="$out_dir/$name.dmg"
step "dmg: $dmg"
staging="$work_dir/dmg"
rm -rf "$staging" "$dmg"
mkdir -p "$staging"
# ditto keeps the bundle's symbolic links; a copy that resolves them breaks the signature.
ditto "$app" "$staging/XinDesk.app"
ln -s /Applications "$staging/Applications"
# hdiutil fails now and then on busy CI machines ("Resource busy"): try three times.
for attempt in 1 2 3; do
    if hdiutil create -volname XinDesk -srcfolder "$staging" -ov -format UDZO "$dmg"; then
        break
    fi
    if ((attempt == 3)); then
        echo "error: hdiutil could not create $dmg" >&2
        exit 1
    fi
    sleep 10
done

# --- 5. Notarization -------------------------------------------------------------------------
if [[ -n "$identity" ]]; then
    codesign --force --timestamp --sign "$identity" "$dmg"
fi
if [[ -n "$identity" && -n "${APPLE_ID:-}" && -n "${APPLE_TEAM_ID:-}" && -n "${APPLE_APP_SPECIFIC_PASSWORD:-}" ]]; then
    step "notarytool: submitting $dmg (this waits for Apple's answer)"
    result="$(xcrun notarytool submit "$dmg" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
        --password "$APPLE_APP_SPECIFIC_PASSWORD" --wait)"
    echo "$result"
    if ! grep -q "status: Accepted" <<<"$result"; then
        submission="$(awk '/^ *id:/ {print $2; exit}' <<<"$result")"
        echo "error: notarization was not accepted; Apple's log follows" >&2
        xcrun notarytool log "$submission" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
            --password "$APPLE_APP_SPECIFIC_PASSWORD" >&2 || true
        exit 1
    fi
    xcrun stapler staple "$dmg"
    spctl --assess --type open --context context:primary-signature --verbose "$dmg"
else
    step "notarization skipped: needs MACOS_CODESIGN_IDENTITY, APPLE_ID, APPLE_TEAM_ID and APPLE_APP_SPECIFIC_PASSWORD"
fi

step "Sizes"
du -sh "$app"
du -h "$dmg"
