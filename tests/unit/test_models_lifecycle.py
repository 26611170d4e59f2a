"""The parts of models-as-a-service that need no server: keep_alive durations, idle times,
which models make room for a load, memory pressure readings, the remembered-models file, and
the supervisor unloading idle models under pressure (real Gemma, in process)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from desktop.api.common import ModelState
from desktop.api.settings import ModelSettings, Settings
from desktop.core.catalog import Catalog
from desktop.core.errors import InvalidRequest, NotEnoughMemory
from desktop.core.memory.pressure import (
    Pressure,
    memory_pressure,
    parse_linux_psi,
    parse_macos_level,
)
from desktop.core.paths import resources_dir
from desktop.core.running.admission import Loaded, plan_evictions
from desktop.core.running.keep import (
    idle_limit_seconds,
    keep_alive_seconds,
    loads_at_start,
    service_options,
)
from desktop.core.running.launch import plan_launch
from desktop.core.running.memory_check import MemoryNeed
from desktop.core.running.served import ServedModel, ServedModels, ServiceOptions
from desktop.core.running.supervisor import Lifecycle, Supervisor
from desktop.core.store import ModelStore
from desktop.core.units import GiB, MiB


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (0, 0.0),
        (30, 30.0),
        ("45s", 45.0),
        ("10m", 600.0),
        ("1h30m", 5400.0),
        ("250ms", 0.25),
        ("90", 90.0),
        (-1, None),
        ("-5m", None),
    ],
)
def test_keep_alive_durations(value: object, seconds: float | None) -> None:
    assert keep_alive_seconds(value) == seconds


@pytest.mark.parametrize("value", ["soon", "10 minutes", "5x", True, [5], "nan", float("inf")])
def test_keep_alive_refuses_what_is_not_a_duration(value: object) -> None:
    with pytest.raises(InvalidRequest, match="keep_alive"):
        keep_alive_seconds(value)


def test_idle_time_by_type_pin_and_option() -> None:
    settings = Settings(models=ModelSettings(idle_unload_minutes=30))
    default = ServiceOptions()
    assert idle_limit_seconds(default, "LLM", settings) == 1800
    assert idle_limit_seconds(default, "embedding", settings) is None
    assert idle_limit_seconds(ServiceOptions(idle_minutes=2), "rerank", settings) == 120
    assert idle_limit_seconds(ServiceOptions(idle_minutes=0), "LLM", settings) is None
    assert idle_limit_seconds(ServiceOptions(pinned=True, idle_minutes=2), "LLM", settings) is None
    never = Settings(models=ModelSettings(idle_unload_minutes=0))
    assert idle_limit_seconds(default, "LLM", never) is None
    assert loads_at_start(default, "embedding")
    assert loads_at_start(default, "rerank")
    assert not loads_at_start(default, "LLM")
    assert loads_at_start(ServiceOptions(load_at_start=True), "LLM")


def test_service_options_from_a_launch_request() -> None:
    options = service_options({"pinned": True, "idle_minutes": "5", "n_ctx": 512})
    assert options == ServiceOptions(pinned=True, idle_minutes=5.0)
    with pytest.raises(InvalidRequest, match="idle_minutes"):
        service_options({"idle_minutes": -1})
    with pytest.raises(InvalidRequest, match="pinned"):
        service_options({"pinned": "sometimes"})


def _loaded(uid: str, gib: float, last_used: float, evictable: bool = True) -> Loaded:
    return Loaded(uid=uid, ram=int(gib * GiB), gpu=0, last_used=last_used, evictable=evictable)


def _need(ram_gib: float, free_gib: float) -> MemoryNeed:
    return MemoryNeed(
        ram=int(ram_gib * GiB),
        gpu=0,
        ram_free=int(free_gib * GiB),
        gpu_free=None,
        weights=int(ram_gib * GiB),
        kv_cache=0,
        compute=0,
        sequences=1,
    )


def test_evictions_take_the_least_recently_used_idle_models_first(
    gemma_gguf: Path, tmp_path: Path
) -> None:
    catalog = Catalog(resources_dir() / "catalog", tmp_path / "registrations")
    store = ModelStore(tmp_path / "models", tmp_path / "data", hf_cache_dir=tmp_path / "no-hf")
    plan = plan_launch(
        {"model_name": "gemma-3-it", "model_path": str(gemma_gguf), "model_uid": "new"},
        catalog,
        Settings(),
        store,
    )
    settings = Settings(models=ModelSettings(memory_budget_gb=10))
    loaded = [
        _loaded("old", 3, last_used=1.0),
        _loaded("pinned", 3, last_used=0.0, evictable=False),
        _loaded("recent", 3, last_used=5.0),
    ]
    # 1 GiB left under the budget: a 1 GiB model needs nothing unloaded.
    assert plan_evictions(plan, _need(1, 64), settings, loaded) == []
    # 3 GiB: the oldest idle model goes; the pinned one never does.
    assert plan_evictions(plan, _need(3, 64), settings, loaded) == ["old"]
    assert plan_evictions(plan, _need(6, 64), settings, loaded) == ["old", "recent"]
    with pytest.raises(NotEnoughMemory, match="Nothing is left to unload") as refused:
        plan_evictions(plan, _need(8, 64), settings, loaded)
    assert "pinned stay loaded" in str(refused.value)
    assert "force=true" in str(refused.value)
    # Without a budget, the RAM available decides.
    assert plan_evictions(plan, _need(2, 1), Settings(), loaded) == ["old"]


def test_pressure_readings() -> None:
    assert parse_macos_level("1\n") is Pressure.NORMAL
    assert parse_macos_level("4") is Pressure.CRITICAL
    assert parse_macos_level("") is None
    calm = "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00"
    stalled = "some avg10=23.50 avg60=10.00 avg300=1.00 total=123\nfull avg10=5.00"
    assert parse_linux_psi(calm) is Pressure.NORMAL
    assert parse_linux_psi(stalled) is Pressure.WARNING
    assert parse_linux_psi("garbage") is None
    asked: list[list[str]] = []

    def sysctl(argv: object, timeout: float) -> str:
        asked.append(list(argv))  # type: ignore[call-overload]
        return "2\n"

    assert memory_pressure(run=sysctl, platform="darwin") is Pressure.WARNING
    assert asked == [["sysctl", "-n", "kern.memorystatus_vm_pressure_level"]]
    assert memory_pressure(platform="win32") is None


def test_remembered_models_survive_and_a_damaged_file_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "served.json"
    served = ServedModels(path)
    model = ServedModel(
        uid="chat",
        model_type="LLM",
        request={"model_name": "gemma-3-it", "n_ctx": 512},
        model_path="/models/gemma.gguf",
        service=ServiceOptions(pinned=True),
    )
    served.remember(model)
    served.remember(model.model_copy(update={"uid": "other"}))
    served.forget("other")
    assert ServedModels(path).load() == [model]
    path.write_text("{not json")
    assert ServedModels(path).load() == []
    assert (tmp_path / "served.json.damaged").read_text() == "{not json"
    assert json.loads(json.dumps(model.model_dump()))["service"]["pinned"] is True


@pytest.mark.asyncio
@pytest.mark.slow
async def test_memory_pressure_unloads_the_idle_model(tmp_path: Path, gemma_gguf: Path) -> None:
    catalog = Catalog(resources_dir() / "catalog", tmp_path / "registrations")
    store = ModelStore(tmp_path / "models", tmp_path / "data", hf_cache_dir=tmp_path / "no-hf")
    levels = [Pressure.NORMAL]
    supervisor = Supervisor(
        catalog,
        Settings(),
        store,
        "127.0.0.1:0",
        lifecycle=Lifecycle(tick_s=0.05, pressure=lambda: levels[-1], pressure_every_s=0.1),
    )
    await supervisor.start()
    try:
        request = {"model_name": "gemma-3-it", "model_path": str(gemma_gguf), "n_ctx": 512}
        await supervisor.launch({**request, "model_uid": "idle"})
        await supervisor.launch({**request, "model_uid": "pinned", "pinned": True})
        assert supervisor.get("idle").needs > 100 * MiB
        await asyncio.sleep(0.5)
        assert supervisor.get("idle").state is ModelState.READY
        levels.append(Pressure.WARNING)
        for _ in range(100):
            if supervisor.get("idle").state is ModelState.UNLOADED:
                break
            await asyncio.sleep(0.1)
        assert supervisor.get("idle").state is ModelState.UNLOADED
        assert supervisor.get("pinned").state is ModelState.READY
        # The next request loads it again.
        levels.append(Pressure.NORMAL)
        params = {"prompt": "Hi", "max_tokens": 2, "temperature": 0}
        events = [kind async for kind, _ in supervisor.stream("idle", "complete", params)]
        assert events[-1] == "done"
        assert supervisor.get("idle").state is ModelState.READY
    finally:
        await supervisor.shutdown()
