"""The installer scripts, their CI workflow and the icons, checked without building anything.

The builds themselves run on hosted CI (.github/workflows/installers.yml) and, for the Linux CPU
variant, in tests/packaging. Here: the llama-cpp-python flags per backend, that the scripts
parse and refuse bad arguments, that the workflow only calls what exists with variants the flags
know, and that the .ico/.icns hold every size and match the SVG.
"""

from __future__ import annotations

import importlib.util
import re
import struct
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
INSTALLERS = REPO / "installers"
WORKFLOW = REPO / ".github" / "workflows" / "installers.yml"
ICONS = REPO / "resources" / "icons"

# llama.cpp's build options before the GGML_* rename: some stop the configure, others are
# ignored without a word and give a CPU-only build.
OBSOLETE = re.compile(
    r"(?:\b|(?<=-D))LLAMA_(?:CUBLAS|CUDA|METAL|METAL_EMBED_LIBRARY|HIPBLAS|HIP|NATIVE|VULKAN|OPENMP"
    r"|AVX2?|AVX512|FMA|F16C|RPC|SYCL|CANN)\b|(?:\b|(?<=-D))GGML_HIPBLAS\b"
)


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"xindesk_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


cmake_args = load(INSTALLERS / "cmake_args.py")
icons = load(REPO / "scripts" / "icons.py")


def flags(variant: str, platform: str) -> dict[str, str]:
    """{"GGML_CUDA": "ON", ...} for the variant's -D options."""
    out = {}
    for arg in cmake_args.cmake_args(variant, platform):
        assert arg.startswith("-D"), arg
        name, _, value = arg[2:].partition("=")
        assert name not in out, f"{name} given twice"
        out[name] = value
    return out


# -- llama-cpp-python's flags per backend -----------------------------------------------------

COMBINATIONS = [(v, p) for p, variants in cmake_args.SUPPORTED.items() for v in variants]


@pytest.mark.parametrize(("variant", "platform"), COMBINATIONS)
def test_every_build_is_portable_and_skips_llama_cpp_extras(variant: str, platform: str) -> None:
    got = flags(variant, platform)
    assert got["GGML_NATIVE"] == "OFF"
    for extra in ("TESTS", "EXAMPLES", "TOOLS", "SERVER"):
        assert got[f"LLAMA_BUILD_{extra}"] == "OFF"
    backends = {"GGML_CUDA", "GGML_HIP", "GGML_METAL", "GGML_VULKAN"}
    turned_on = {name for name in backends if got.get(name) == "ON"}
    expected = {"cpu": set(), "metal": {"GGML_METAL"}, "cuda": {"GGML_CUDA"}, "rocm": {"GGML_HIP"}}
    assert turned_on == expected[variant]


@pytest.mark.parametrize("platform", ["linux", "windows"])
def test_cuda_imports_without_the_driver_and_covers_current_gpus(platform: str) -> None:
    got = flags("cuda", platform)
    assert got["GGML_CUDA_NO_VMM"] == "ON"
    architectures = got["CMAKE_CUDA_ARCHITECTURES"].split(";")
    for wanted in ("61-real", "75-real", "86-real", "89-real", "90-real", "90-virtual"):
        assert wanted in architectures
    # Linux CUDA builds drop OpenMP; Windows keeps it (vcomp140.dll ships in the bundle).
    assert got.get("GGML_OPENMP") == ("OFF" if platform == "linux" else None)


def test_rocm_names_its_gpu_targets_in_all_three_places() -> None:
    got = flags("rocm", "linux")
    targets = got["GPU_TARGETS"].split(";")
    assert {"gfx1030", "gfx1100", "gfx1201"} <= set(targets)
    assert got["AMDGPU_TARGETS"] == got["CMAKE_HIP_ARCHITECTURES"] == got["GPU_TARGETS"]
    assert got["GGML_OPENMP"] == "OFF"


def test_metal_is_an_apple_silicon_build() -> None:
    got = flags("metal", "macos")
    assert got["CMAKE_OSX_ARCHITECTURES"] == "arm64"
    assert got["CMAKE_OSX_DEPLOYMENT_TARGET"] == "13.3"


@pytest.mark.parametrize(
    ("variant", "platform"),
    [
        ("metal", "linux"),
        ("metal", "windows"),
        ("rocm", "windows"),
        ("cuda", "macos"),
        ("cpu", "macos"),
    ],
)
def test_builds_a_platform_cannot_make_are_refused(variant: str, platform: str) -> None:
    with pytest.raises(ValueError, match="no '"):
        cmake_args.cmake_args(variant, platform)
    result = subprocess.run(
        [sys.executable, str(INSTALLERS / "cmake_args.py"), variant, "--platform", platform],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"no {variant!r} build on {platform}" in result.stderr


def test_the_command_line_prints_the_flags_as_one_cmake_args_string() -> None:
    result = subprocess.run(
        [sys.executable, str(INSTALLERS / "cmake_args.py"), "cuda", "--platform", "linux"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == " ".join(cmake_args.cmake_args("cuda", "linux")) + "\n"


def test_no_obsolete_option_name_in_the_installers_the_workflow_or_the_readme() -> None:
    files = [p for p in INSTALLERS.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    files += [WORKFLOW, REPO / "README.md"]
    assert len(files) > 8
    for path in files:
        text = path.read_text(encoding="utf-8")
        found = OBSOLETE.findall(text)
        assert not found, f"{path.relative_to(REPO)} uses obsolete llama.cpp options {found}"
    # The pattern itself is alive.
    assert OBSOLETE.search("CMAKE_ARGS=-DLLAMA_CUBLAS=on")
    assert OBSOLETE.search("-DLLAMA_HIPBLAS=ON")
    assert OBSOLETE.search("cmake -DGGML_HIPBLAS=on")
    assert OBSOLETE.search("set LLAMA_CUDA in the environment")
    assert not OBSOLETE.search("-DGGML_CUDA=ON LLAMA_CPP_PYTHON_VERSION LLAMA_BUILD_TESTS")


# -- Checking what was built ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "stem"),
    [
        ("libggml-cuda.so", "ggml-cuda"),
        ("libggml-cuda.so.0.9.4", "ggml-cuda"),
        ("ggml-cuda.dll", "ggml-cuda"),
        ("libggml-metal.dylib", "ggml-metal"),
        ("libllama.so.0", "llama"),
        ("llama.lib", "llama.lib"),
    ],
)
def test_library_stem(filename: str, stem: str) -> None:
    assert cmake_args.library_stem(filename) == stem


def test_the_installed_llama_cpp_python_is_recognised_as_the_cpu_build() -> None:
    lib_dir = cmake_args.installed_lib_dir()
    assert lib_dir is not None
    assert cmake_args.verify_backend("cpu", lib_dir) == []
    problems = cmake_args.verify_backend("cuda", lib_dir)
    assert len(problems) == 1
    assert "not built for cuda" in problems[0]
    result = subprocess.run(
        [sys.executable, str(INSTALLERS / "cmake_args.py"), "rocm", "--verify-installed"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "no ggml-hip library" in result.stderr


def test_a_gpu_build_is_recognised_by_its_backend_library(tmp_path: Path) -> None:
    for name in ("ggml.dll", "ggml-base.dll", "ggml-cpu.dll", "ggml-cuda.dll", "llama.dll"):
        (tmp_path / name).write_bytes(b"")
    assert cmake_args.verify_backend("cuda", tmp_path) == []
    assert cmake_args.verify_backend("rocm", tmp_path) != []
    cpu_problems = cmake_args.verify_backend("cpu", tmp_path)
    assert cpu_problems == ["the cpu build holds GPU backends: ggml-cuda"]
    assert "does not exist" in cmake_args.verify_backend("cpu", tmp_path / "missing")[0]


# -- The scripts ------------------------------------------------------------------------------

SHELL_SCRIPTS = [
    INSTALLERS / "linux" / "build.sh",
    INSTALLERS / "linux" / "AppRun",
    INSTALLERS / "macos" / "build.sh",
]


@pytest.mark.parametrize("script", SHELL_SCRIPTS, ids=lambda p: str(p.relative_to(INSTALLERS)))
def test_shell_scripts_parse_and_are_executable(script: Path) -> None:
    subprocess.run(["bash", "-n", str(script)], check=True)
    assert script.stat().st_mode & 0o111, f"{script} is not executable"
    assert script.read_text(encoding="utf-8").startswith("#!/")


@pytest.mark.parametrize(
    ("script", "argv"),
    [
        ("linux/build.sh", []),
        ("linux/build.sh", ["metal"]),
        ("linux/build.sh", ["cpu", "--fast"]),
        ("macos/build.sh", ["cuda"]),
    ],
)
def test_build_scripts_refuse_bad_arguments_before_doing_anything(
    script: str, argv: list[str]
) -> None:
    result = subprocess.run(
        ["bash", str(INSTALLERS / script), *argv],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert result.returncode == 2
    assert "usage:" in result.stderr


@pytest.mark.parametrize(
    ("script", "platform"),
    [("linux/build.sh", "linux"), ("macos/build.sh", "macos"), ("windows/build.ps1", "windows")],
)
def test_each_script_takes_its_flags_from_cmake_args_and_verifies_the_build(
    script: str, platform: str
) -> None:
    text = (INSTALLERS / script).read_text(encoding="utf-8")
    assert re.search(rf"installers/cmake_args\.py \S+ --platform {platform}\b", text)
    assert "--verify-installed" in text
    assert "--no-binary llama-cpp-python" in text
    assert "--no-cache-dir" in text
    assert "XINDESK_VARIANT" in text
    assert "XINDESK_CMAKE_ARGS" in text
    assert "build.spec" in text


def test_the_windows_script_offers_exactly_the_windows_variants() -> None:
    text = (INSTALLERS / "windows" / "build.ps1").read_text(encoding="utf-8")
    match = re.search(r"\[ValidateSet\(([^)]*)\)\]", text)
    assert match is not None
    offered = set(re.findall(r'"(\w+)"', match.group(1)))
    assert offered == set(cmake_args.SUPPORTED["windows"])
    assert "XINDESK_CUDA_RUNTIME_DIR" in text
    assert (INSTALLERS / "windows" / "xindesk.iss").exists()
    assert r"installers\windows\xindesk.iss" in text


def test_the_windows_installer_is_per_user_and_checks_for_the_nvidia_driver() -> None:
    text = (INSTALLERS / "windows" / "xindesk.iss").read_text(encoding="utf-8")
    setup = dict(
        line.split("=", 1)
        for line in text.split("[Setup]", 1)[1].split("\n[", 1)[0].splitlines()
        if "=" in line and not line.startswith(";")
    )
    assert re.fullmatch(r"\{\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}", setup["AppId"])
    assert setup["PrivilegesRequired"] == "lowest"
    assert setup["AppVersion"] == "{#AppVersion}"
    assert setup["SetupIconFile"] == r"..\..\resources\icons\xindesk.ico"
    assert (INSTALLERS / "windows" / setup["SetupIconFile"].replace("\\", "/")).resolve() == (
        ICONS / "xindesk.ico"
    )
    assert "{sys}\\nvcuda.dll" in text
    assert '#if Variant == "cuda"' in text
    assert "desktopicon" in text
    assert "{uninstallexe}" in text or "UninstallDisplayIcon" in text


def test_the_desktop_entry_names_the_icon_the_appimage_carries() -> None:
    entry = dict(
        line.split("=", 1)
        for line in (INSTALLERS / "linux" / "xindesk.desktop").read_text("utf-8").splitlines()
        if "=" in line
    )
    assert entry["Type"] == "Application"
    assert entry["Exec"] == "xindesk"
    script = (INSTALLERS / "linux" / "build.sh").read_text(encoding="utf-8")
    assert f'"$appdir/{entry["Icon"]}.png"' in script
    apprun = (INSTALLERS / "linux" / "AppRun").read_text(encoding="utf-8")
    assert "usr/lib/XinDesk/xindesk" in apprun
    assert "usr/lib/XinDesk" in script


# -- The CI workflow --------------------------------------------------------------------------

RUNNER_PLATFORMS = {"macos": "macos", "windows": "windows", "ubuntu": "linux"}
SCRIPT_FOR = {
    "linux": "installers/linux/build.sh",
    "macos": "installers/macos/build.sh",
    "windows": "installers/windows/build.ps1",
}


def workflow() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return data


def matrix() -> list[dict[str, str]]:
    entries: list[dict[str, str]] = workflow()["jobs"]["build"]["strategy"]["matrix"]["include"]
    return entries


def platform_of(runner: str) -> str:
    return RUNNER_PLATFORMS[runner.split("-")[0]]


def test_the_matrix_builds_the_five_installers_with_known_variants() -> None:
    built = set()
    for entry in matrix():
        platform = platform_of(entry["os"])
        assert entry["variant"] in cmake_args.SUPPORTED[platform], entry
        built.add((platform, entry["variant"]))
    assert built == {
        ("macos", "metal"),
        ("windows", "cuda"),
        ("linux", "cuda"),
        ("linux", "rocm"),
        ("linux", "cpu"),
    }
    arm_macs = {e["os"] for e in matrix() if e["variant"] == "metal"}
    assert arm_macs <= {"macos-14", "macos-15", "macos-latest"}


def test_every_installers_path_the_workflow_names_exists() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    named = set(re.findall(r"installers/[\w./-]+\.\w+", text))
    assert named >= set(SCRIPT_FOR.values()) | {"installers/smoke_test.py"}
    for path in named:
        assert (REPO / path).is_file(), f"the workflow calls {path}, which does not exist"


def test_each_os_runs_its_own_script_with_the_matrix_variant() -> None:
    steps = workflow()["jobs"]["build"]["steps"]
    runs = [(step.get("if", ""), step.get("run", "")) for step in steps if "run" in step]
    for platform, script in SCRIPT_FOR.items():
        os_name = {"linux": "Linux", "macos": "macOS", "windows": "Windows"}[platform]
        calls = [run for condition, run in runs if script in run]
        assert calls, f"nothing runs {script}"
        assert all("${{ matrix.variant }}" in run for run in calls)
        conditions = [condition for condition, run in runs if script in run]
        assert conditions == [f"runner.os == '{os_name}'"]
    smoke = [run for _, run in runs if "installers/smoke_test.py" in run]
    assert len(smoke) == 3
    assert all("installers/smoke_test.py ${{ matrix.variant }}" in run for run in smoke)
    uploads = [step for step in steps if str(step.get("uses", "")).startswith("actions/upload")]
    assert uploads
    assert uploads[0]["with"]["path"] == "out/"


# -- Icons ------------------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def ico_images(data: bytes) -> dict[int, bytes]:
    reserved, kind, count = struct.unpack_from("<HHH", data, 0)
    assert (reserved, kind) == (0, 1)
    images = {}
    for index in range(count):
        width, height, _, _, planes, bits, size, offset = struct.unpack_from(
            "<BBBBHHII", data, 6 + 16 * index
        )
        side = width or 256
        assert (height or 256) == side
        assert (planes, bits) == (1, 32)
        images[side] = data[offset : offset + size]
    return images


def icns_images(data: bytes) -> dict[bytes, bytes]:
    assert data[:4] == b"icns"
    assert struct.unpack(">I", data[4:8])[0] == len(data)
    images, offset = {}, 8
    while offset < len(data):
        kind = data[offset : offset + 4]
        (length,) = struct.unpack(">I", data[offset + 4 : offset + 8])
        images[kind] = data[offset + 8 : offset + length]
        offset += length
    assert offset == len(data)
    return images


def test_the_ico_holds_every_windows_size() -> None:
    images = ico_images((ICONS / "xindesk.ico").read_bytes())
    assert sorted(images) == [16, 24, 32, 48, 64, 128, 256]
    for side, png in images.items():
        assert png_size(png) == (side, side)


def test_the_icns_holds_every_macos_size() -> None:
    images = icns_images((ICONS / "xindesk.icns").read_bytes())
    assert set(images) == set(icons.ICNS_TYPES)
    for kind, png in images.items():
        side = icons.ICNS_TYPES[kind]
        assert png_size(png) == (side, side), kind
    assert png_size(images[b"ic10"]) == (1024, 1024)


def test_the_pngs_have_the_size_in_their_name() -> None:
    for side in icons.PNG_SIZES:
        assert png_size((ICONS / f"xindesk-{side}.png").read_bytes()) == (side, side)


def test_the_icons_are_the_current_svg(qapp: Any) -> None:
    """The committed files were rendered from today's SVG (run scripts/icons.py after editing
    it): the 32 and 256 pixel images match a fresh rendering, pixel by pixel."""
    from PySide6.QtGui import QImage

    def pixels(png: bytes) -> QImage:
        return QImage.fromData(png).convertToFormat(QImage.Format.Format_ARGB32)

    ico = ico_images((ICONS / "xindesk.ico").read_bytes())
    for side in (32, 256):
        fresh = pixels(icons.render_png(icons.SVG, side))
        stored = pixels(ico[side])
        worst = max(
            abs(a - b)
            for y in range(side)
            for x in range(side)
            for a, b in zip(
                fresh.pixelColor(x, y).getRgb(), stored.pixelColor(x, y).getRgb(), strict=True
            )
        )
        # Qt versions may round antialiased edges differently by a step or two.
        assert worst <= 3, f"{side}px icon differs from the SVG by {worst}: run scripts/icons.py"
    # Drawn, and on a transparent background (the rounded corners stay see-through).
    large = pixels(ico[256])
    assert large.pixelColor(128, 128).alpha() == 255
    assert large.pixelColor(0, 0).alpha() == 0
