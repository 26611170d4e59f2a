"""The settings file: reading it, and the one writer that changes it.

The settings' shape is `desktop.api.settings.Settings` (the same model the REST API answers
with). Every change goes through `SettingsStore.update`: it validates a partial patch, writes
the patch on top of what the file holds (atomically), and announces the change to the
listeners that subscribed (the supervisor, the download manager). Nothing mutates a shared
settings object in place.

The server owns the store of its computer's file. The window writes only when no server of
this computer is in use (it talks to another machine), and then only its own `ui` section,
through a store of its own.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from desktop.api.settings import SCHEMA_VERSION, Settings
from desktop.core.errors import ConfigError, InvalidSettings
from desktop.core.fileio import atomic_write_text
from desktop.core.paths import AppPaths

log = logging.getLogger("xindesk.settings")

# Fields read once when the server starts: a change waits for a restart.
RESTART_FIELDS = ("server.host", "server.port", "server.lan_access", "server.ollama_port")

# Fields whose values are checked more strictly than older versions of XinDesk checked them. A
# value the file holds from then that fails the check is dropped with a warning (the field, or
# the list item, goes back to its default) instead of keeping the app from starting; the next
# save writes the file without it. Any other invalid value still stops the load.
DROPPABLE_FIELDS = (
    "downloads.hf_endpoint",
    "downloads.modelscope_endpoint",
    "downloads.proxy",
    "ui.remote_url",
    "server.cors_origins",
    "server.allowed_hosts",
)


def load_settings(paths: AppPaths) -> Settings:
    """Read the settings file; a missing file gives the defaults."""
    file = paths.settings_file
    if not file.exists():
        return Settings()
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"Cannot read the settings file {file}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"The settings file {file} does not hold a JSON object.")
    version = raw.get("schema_version", SCHEMA_VERSION)
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise ConfigError(
            f"The settings file {file} was written by a newer XinDesk "
            f"(schema {version}, this one reads {SCHEMA_VERSION})."
        )
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        kept = _without_droppable_errors(raw, exc, file)
        if kept is None:
            raise ConfigError(f"The settings file {file} has invalid values: {exc}") from exc
    try:
        return Settings.model_validate(kept)
    except ValidationError as exc:
        raise ConfigError(f"The settings file {file} has invalid values: {exc}") from exc


def _without_droppable_errors(
    raw: dict[str, Any], exc: ValidationError, file: Path
) -> dict[str, Any] | None:
    """`raw` without the values that failed in `DROPPABLE_FIELDS`; None when another failed."""
    locations = [error["loc"] for error in exc.errors()]
    names = [".".join(str(part) for part in loc if isinstance(part, str)) for loc in locations]
    if any(name not in DROPPABLE_FIELDS for name in names):
        return None
    kept = copy.deepcopy(raw)
    # List items last to first, so removing one does not shift the others' indexes.
    for loc, name in sorted(
        zip(locations, names, strict=True), key=lambda pair: pair[0], reverse=True
    ):
        section_name, field_name, *index = loc
        section = kept.get(str(section_name))
        if not isinstance(section, dict):
            return None
        if index and isinstance(index[0], int) and isinstance(section.get(field_name), list):
            del section[str(field_name)][index[0]]
            log.warning(
                "The settings file %s: item %d of %s is not valid and was left out.",
                file,
                index[0] + 1,
                name,
            )
        else:
            section.pop(str(field_name), None)
            log.warning(
                "The settings file %s: %s is not valid and was reset to its default.", file, name
            )
    return kept


def save_settings(settings: Settings, paths: AppPaths) -> None:
    """Write the whole file atomically: a crash mid-write leaves the old file.

    For a first file or a test's fixture; a running program changes settings through
    `SettingsStore.update`, which writes only what changed on top of the file.
    """
    atomic_write_text(paths.settings_file, settings.model_dump_json(indent=2))
    log.debug("settings saved to %s", paths.settings_file)


def models_dir_of(settings: Settings, paths: AppPaths) -> Path:
    """The models folder: the setting, else the data folder's default."""
    return settings.models.models_dir or paths.default_models_dir


@dataclass(frozen=True)
class SettingsChange:
    """What one update did: the settings before and after, and the dotted names that changed."""

    old: Settings
    new: Settings
    changed: tuple[str, ...]

    def touches(self, prefix: str) -> bool:
        """Whether a changed field is `prefix` or lies under it ("downloads" or "models.x")."""
        return any(name == prefix or name.startswith(prefix + ".") for name in self.changed)


Listener = Callable[[SettingsChange], None]


class SettingsStore:
    """The live settings of one program, and the one way to change them.

    `current` is a snapshot: replaced, never changed in place, so a reader holding it sees a
    consistent set. A patch is validated against the live settings and saved on top of what the
    file holds: settings a test or an embedding program passed in without saving them stay out
    of the file.
    """

    def __init__(self, paths: AppPaths, settings: Settings | None = None) -> None:
        self.paths = paths
        self._current = settings if settings is not None else load_settings(paths)
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    @property
    def current(self) -> Settings:
        return self._current

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` after every change; returns the function that unsubscribes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def preview(self, patch: dict[str, Any]) -> Settings:
        """The settings `update(patch)` would make, validated; nothing is saved or announced."""
        unknown = unknown_keys(Settings, patch)
        if unknown:
            raise InvalidSettings(f"Unknown settings: {', '.join(unknown)}.")
        return _validated(deep_merge(self._current.model_dump(mode="json"), patch))

    def update(self, patch: dict[str, Any]) -> SettingsChange:
        """Apply a partial, nested patch: validate it, save it, announce it.

        Raises `InvalidSettings` for unknown names or invalid values, before anything is
        written or changed.
        """
        unknown = unknown_keys(Settings, patch)
        if unknown:
            raise InvalidSettings(f"Unknown settings: {', '.join(unknown)}.")
        with self._lock:
            old = self._current
            new = _validated(deep_merge(old.model_dump(mode="json"), patch))
            on_file = load_settings(self.paths)
            saved = _validated(deep_merge(on_file.model_dump(mode="json"), patch))
            atomic_write_text(self.paths.settings_file, saved.model_dump_json(indent=2))
            self._current = new
            change = SettingsChange(old, new, tuple(changed_fields(old, new)))
        log.info("settings changed: %s", ", ".join(change.changed) or "nothing")
        for listener in list(self._listeners):
            listener(change)
        return change


def deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """`base` with `patch` laid over it, nested objects merged key by key."""
    merged = dict(base)
    for key, value in patch.items():
        current = merged.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def unknown_keys(model: type[BaseModel], patch: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted names in `patch` that are no setting: the settings ignore unknown keys when read
    from a file, so without this a misspelt name would be accepted and change nothing."""
    unknown: list[str] = []
    for key, value in patch.items():
        field = model.model_fields.get(key)
        if field is None:
            unknown.append(prefix + key)
            continue
        section = field.annotation
        if isinstance(value, dict) and isinstance(section, type) and issubclass(section, BaseModel):
            unknown.extend(unknown_keys(section, value, f"{prefix}{key}."))
    return unknown


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested settings as one level of dotted names ("server.port": 9997)."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value
    return flat


def changed_fields(old: Settings, new: Settings) -> list[str]:
    """The dotted names whose values differ, sorted."""
    before = flatten(old.model_dump(mode="json"))
    after = flatten(new.model_dump(mode="json"))
    names = before.keys() | after.keys()
    return sorted(name for name in names if before.get(name) != after.get(name))


def _validated(data: dict[str, Any]) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()[:5]
        ]
        raise InvalidSettings("Invalid settings: " + "; ".join(problems)) from exc
