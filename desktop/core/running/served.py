"""The models the server serves, remembered across restarts (`AppPaths.served_models_file`).

FastGPT keeps calling the endpoint it was given, every day; a model that is gone after a reboot
breaks every chat and knowledge-base query until someone relaunches it by hand. So every
launch is recorded (its uid, the request that launched it, the file it resolved to and how it
is to be kept) and `terminate` forgets it; on start the server lists them again, loaded or
unloaded.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from desktop.api.common import ModelType
from desktop.core.fileio import atomic_write_text

log = logging.getLogger("xindesk.supervisor")


class ServiceOptions(BaseModel):
    """How a served model is kept: pinned (never unloaded by idleness or for memory), loaded
    when the server starts, and its own idle time."""

    pinned: bool = False
    load_at_start: bool | None = Field(
        None, description="None: the default for its type (embedding and rerank load at start)."
    )
    idle_minutes: float | None = Field(
        None, ge=0, description="None: the settings' default for its type; 0: never idle-unloads."
    )


class ServedModel(BaseModel):
    """One remembered model."""

    uid: str
    model_type: ModelType
    request: dict[str, Any] = Field(description="The launch request, as it was made.")
    model_path: str = Field(description="The file the launch resolved to.")
    service: ServiceOptions = Field(default_factory=ServiceOptions)


class _ServedFile(BaseModel):
    models: list[ServedModel] = Field(default_factory=list)


class ServedModels:
    """Reads and writes the remembered models; every change is written at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._models: dict[str, ServedModel] = {}

    def load(self) -> list[ServedModel]:
        """The remembered models, in launch order. A damaged file is set aside (renamed with
        `.damaged`), not lost, and the server starts with none."""
        if not self.path.is_file():
            return []
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            parsed = _ServedFile.model_validate(raw)
        except (OSError, ValueError, ValidationError) as exc:
            aside = self.path.with_name(self.path.name + ".damaged")
            log.warning(
                "the served-models file %s is unreadable (%s); kept as %s", self.path, exc, aside
            )
            self.path.replace(aside)
            return []
        with self._lock:
            self._models = {model.uid: model for model in parsed.models}
            return list(self._models.values())

    def remember(self, model: ServedModel) -> None:
        with self._lock:
            self._models[model.uid] = model
            self._write()

    def forget(self, uid: str) -> None:
        with self._lock:
            if self._models.pop(uid, None) is not None:
                self._write()

    def get(self, uid: str) -> ServedModel | None:
        with self._lock:
            return self._models.get(uid)

    def _write(self) -> None:
        text = _ServedFile(models=list(self._models.values())).model_dump_json(indent=1)
        atomic_write_text(self.path, text)
