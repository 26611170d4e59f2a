"""A GPU build on a computer without its driver: every way in says exactly what is missing.

The library folder is a real one the dynamic loader refuses (`tests/fixtures/broken_lib.py`:
a libllama linked against a libcuda.so.1 that is not there), loaded through
LLAMA_CPP_LIB_PATH in child processes: the hardware probe, `xindesk doctor`, and a model
worker started by a real server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.fixtures.broken_lib import MISSING, make_driverless_cuda_lib
from tests.fixtures.server import REPO, run_server

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def driverless_lib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_driverless_cuda_lib(tmp_path_factory.mktemp("driverless-cuda"))


def python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**os.environ, **env},
        check=False,
    )


def test_the_library_really_cannot_load(driverless_lib: Path) -> None:
    """The premise: a plain `import llama_cpp` dies with the loader's words."""
    done = python("import llama_cpp", {"LLAMA_CPP_LIB_PATH": str(driverless_lib)})
    assert done.returncode != 0
    assert f"{MISSING}: cannot open shared object file" in done.stderr


def test_the_probe_names_the_missing_driver(driverless_lib: Path) -> None:
    done = python(
        "import dataclasses, json\n"
        "from desktop.core.memory.hardware import probe_hardware\n"
        "from desktop.core.memory.llama_build import probe_llama_build\n"
        "build = probe_llama_build()\n"
        "hardware = probe_hardware(build=build)\n"
        "print(json.dumps({'build': dataclasses.asdict(build), 'notes': hardware.notes}))\n",
        {"LLAMA_CPP_LIB_PATH": str(driverless_lib)},
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    problem = found["build"]["load_problem"]
    assert problem["missing"] == MISSING
    assert problem["component"] == "the NVIDIA driver"
    assert problem["library"] == str(driverless_lib / "libllama.so")
    assert found["build"]["backend"] == "CPU"
    assert any(MISSING in note for note in found["notes"])


def test_doctor_fails_and_says_what_is_missing(driverless_lib: Path) -> None:
    env = {**os.environ, "LLAMA_CPP_LIB_PATH": str(driverless_lib)}
    done = subprocess.run(
        [sys.executable, "-m", "desktop", "doctor", "--json", "--offline"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=env,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    backend = report["backend"]
    assert backend["status"] == "fail"
    assert backend["load_problem"]["missing"] == MISSING
    assert "NVIDIA driver" in backend["summary"]
    assert report["problems"] == [f"Backend: {backend['summary']}"]
    # The rest of the report is still there: that is when it is needed most.
    assert report["memory"]["ram_total_bytes"] > 0
    assert report["build"]["llama_cpp_python"]

    text = subprocess.run(
        [sys.executable, "-m", "desktop", "doctor", "--offline"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=env,
        check=False,
    )
    assert text.returncode == 1
    assert "Backend        FAIL  llama.cpp's library" in text.stdout
    assert "1 problem found:" in text.stdout
    assert "Traceback" not in text.stderr


def test_a_frozen_cuda_build_says_it_is_the_cuda_build(
    driverless_lib: Path, tmp_path: Path
) -> None:
    record = {"variant": "cuda", "version": "0.1.0", "llama_cpp_python": "0.3.36"}
    (tmp_path / "xindesk_build.json").write_text(json.dumps(record), encoding="utf-8")
    done = python(
        # What PyInstaller's bootloader sets in a frozen app.
        f"import sys; sys.frozen = True; sys._MEIPASS = {str(tmp_path)!r}\n"
        "from desktop.cli import main\n"
        "raise SystemExit(main(['doctor', '--json', '--offline']))\n",
        {"LLAMA_CPP_LIB_PATH": str(driverless_lib)},
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["build"]["frozen"] is True
    assert report["build"]["variant"] == "cuda"
    assert "This is XinDesk's CUDA build." in report["backend"]["summary"]


@pytest.mark.slow
def test_launching_a_model_says_what_is_missing(
    driverless_lib: Path, gemma_gguf: Path, tmp_path: Path
) -> None:
    with run_server(tmp_path / "home", env={"LLAMA_CPP_LIB_PATH": str(driverless_lib)}) as server:
        answer = httpx.post(
            f"{server.url}/v1/models",
            json={
                "model_uid": "gemma-no-driver",
                "model_name": "gemma-3-it",
                "model_engine": "llama.cpp",
                "model_format": "ggufv2",
                "model_path": str(gemma_gguf),
            },
            timeout=120,
        )
        assert answer.status_code == 500
        detail = answer.json()["detail"]
        assert f"because {MISSING} is missing; it is part of the NVIDIA driver" in detail
        described = httpx.get(f"{server.url}/v1/models/gemma-no-driver").json()
        assert described["status"] == "error"
        assert described["error"] == detail
        assert described["offload"] is None

        build = httpx.get(f"{server.url}/v1/xindesk/build").json()
        assert build["backend"]["status"] == "fail"
        assert build["backend"]["load_problem"]["missing"] == MISSING
        # The hardware route (the window's "this computer") still answers.
        hardware = httpx.get(f"{server.url}/v1/xindesk/hardware")
        assert hardware.status_code == 200
        assert hardware.json()["backend"] == "CPU"
        # The server is still up to launch something else.
        assert httpx.get(f"{server.url}/status").status_code == 200
    assert "Traceback" not in server.log()
