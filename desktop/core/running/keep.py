"""How long a served model stays loaded: its service options read from a launch request, the
idle time that applies to it, Ollama's `keep_alive` durations, and when a model whose worker
died is loaded again."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from desktop.api.common import ModelType
from desktop.api.settings import Settings
from desktop.core.errors import InvalidRequest, ModelNotReady
from desktop.core.running.served import ServiceOptions

if TYPE_CHECKING:
    from desktop.core.running.records import RunningModel

_SERVICE_KEYS = ("pinned", "load_at_start", "idle_minutes")

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def service_options(request: dict[str, Any]) -> ServiceOptions:
    """The service options a launch request gives (the rest keep their defaults)."""
    given = {key: request[key] for key in _SERVICE_KEYS if request.get(key) is not None}
    try:
        return ServiceOptions.model_validate(given, strict=False)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise InvalidRequest(f"Bad service option: {problems}.") from exc


def loads_at_start(options: ServiceOptions, model_type: ModelType) -> bool:
    """Embedding and rerank models load at start unless told otherwise: FastGPT's knowledge
    base calls them with short time limits."""
    if options.load_at_start is not None:
        return options.load_at_start
    return model_type != "LLM"


def idle_limit_seconds(
    options: ServiceOptions, model_type: ModelType, settings: Settings
) -> float | None:
    """Seconds unused after which the model is unloaded; None when it never is."""
    if options.pinned:
        return None
    minutes = options.idle_minutes
    if minutes is None:
        minutes = settings.models.idle_unload_minutes if model_type == "LLM" else 0.0
    return minutes * 60.0 if minutes > 0 else None


def keep_alive_seconds(value: object) -> float | None:
    """Ollama's `keep_alive`: seconds as a number or a duration ("10m", "1h30m", "45s");
    a negative value keeps the model loaded for good (None); 0 unloads it after the answer.

    Raises:
        InvalidRequest: Not a number or a duration.
    """
    if isinstance(value, bool):
        raise InvalidRequest("keep_alive must be a number of seconds or a duration like '10m'.")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        try:
            seconds = float(text)
        except ValueError:
            negative = text.startswith("-")
            body = text[1:] if negative else text
            parts = _DURATION.findall(body)
            if not parts or "".join(n + u for n, u in parts) != body:
                raise InvalidRequest(
                    f"keep_alive={value!r} is not a duration; use seconds or e.g. '10m', '1h30m', "
                    "'-1' to keep the model loaded."
                ) from None
            seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
            seconds = -seconds if negative else seconds
    else:
        raise InvalidRequest("keep_alive must be a number of seconds or a duration like '10m'.")
    if not math.isfinite(seconds):
        raise InvalidRequest("keep_alive must be finite.")
    return None if seconds < 0 else seconds


#: A worker that died this many times within the window is not relaunched by requests.
CRASH_LIMIT = 3
CRASH_WINDOW_S = 600.0


def check_relaunch(record: RunningModel, now: float) -> None:
    """Raise unless a model whose worker died may be relaunched now: the first crash at once,
    the next after 2 s, then no more within the window."""
    record.crashes[:] = [t for t in record.crashes if now - t < CRASH_WINDOW_S]
    if len(record.crashes) >= CRASH_LIMIT:
        raise ModelNotReady(
            f"Model {record.uid} stopped {len(record.crashes)} times in the last "
            f"{CRASH_WINDOW_S / 60:.0f} minutes ({record.error}); it is not relaunched "
            "automatically again. Check the server log, then relaunch it by hand."
        )
    # The first crash relaunches at once, the next after 2 s, then none (the limit).
    backoff = 0.0 if len(record.crashes) == 1 else 2.0 ** (len(record.crashes) - 1)
    wait = backoff - (now - record.crashes[-1])
    if wait > 0:
        raise ModelNotReady(
            f"Model {record.uid} stopped ({record.error}); relaunching it in {wait:.0f} s.",
            retry_after=max(1, math.ceil(wait)),
        )
