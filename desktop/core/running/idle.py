"""The supervisor's watch over loaded models: unload those past their idle time (or asked to
by a request's keep_alive 0), and the least recently used idle one while the system reports
memory pressure."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from desktop.core.memory.pressure import Pressure

if TYPE_CHECKING:
    from desktop.core.running.supervisor import Supervisor

log = logging.getLogger("xindesk.supervisor")


async def watch_idle(supervisor: Supervisor) -> None:
    """Every tick, unload idle models; every few seconds, heed memory pressure."""
    lifecycle = supervisor.lifecycle
    last_pressure_check = time.monotonic()
    while True:
        await asyncio.sleep(lifecycle.tick_s)
        try:
            await unload_idle(supervisor)
            if time.monotonic() - last_pressure_check >= lifecycle.pressure_every_s:
                last_pressure_check = time.monotonic()
                await relieve_pressure(supervisor)
        except Exception:
            log.exception("the idle-model check failed; it runs again")


async def unload_idle(supervisor: Supervisor) -> None:
    now = time.monotonic()
    for record in supervisor.models():
        if not supervisor.evictable(record, now):
            continue
        if record.unload_when_idle:
            record.unload_when_idle = False
            await supervisor.unload_record(record, "after its answer (keep_alive 0)")
            continue
        limit = supervisor.idle_limit(record)
        idle = now - record.last_used
        if limit is not None and idle >= limit:
            spent = f"{idle / 60:.0f} min" if idle >= 60 else f"{idle:.0f} s"
            await supervisor.unload_record(record, f"after {spent} idle")


async def relieve_pressure(supervisor: Supervisor) -> None:
    """Under memory pressure, unload the least recently used idle model (one per check, so
    the system can say whether that was enough)."""
    level = await asyncio.to_thread(supervisor.lifecycle.pressure)
    if level is None or level < Pressure.WARNING:
        return
    now = time.monotonic()
    idle = [r for r in supervisor.models() if supervisor.evictable(r, now)]
    if idle:
        oldest = min(idle, key=lambda r: r.last_used)
        await supervisor.unload_record(oldest, f"under memory pressure ({level.name.lower()})")
