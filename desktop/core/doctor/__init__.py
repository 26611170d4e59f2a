"""`xindesk doctor`: what this computer and this build can do, and what is broken.

The checks (`local` for this computer, `network` for the server and the hubs) each give a
`Section` with a verdict; `run_doctor` puts them in a `DoctorReport`, which the command line
prints (as aligned text or `--json`), packs into a support bundle (`bundle`), and which the
server's `/v1/xindesk/diagnostics` and `/v1/xindesk/build` routes reuse. No Qt, no FastAPI.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from desktop.api.settings import Settings
from desktop.core.backend.build import read_build_info
from desktop.core.doctor.local import (
    backend_section,
    build_section,
    devices_section,
    keyring_section,
    memory_section,
    models_folder_section,
)
from desktop.core.doctor.network import hubs_section, server_section
from desktop.core.doctor.report import DoctorReport, Section
from desktop.core.errors import ConfigError
from desktop.core.paths import AppPaths
from desktop.core.secrets import SecretStore
from desktop.core.settings import load_settings as read_settings_file

__all__ = [
    "DoctorOptions",
    "DoctorReport",
    "Section",
    "build_sections",
    "local_sections",
    "run_doctor",
    "settings_or_problem",
]

log = logging.getLogger("xindesk.doctor")


@dataclass(frozen=True)
class DoctorOptions:
    """What `run_doctor` checks beyond this computer.

    Attributes:
        endpoint: The server to ask (`--endpoint`, else the default address).
        api_key: The key to send it (the configured one, or `--api-key`).
        endpoint_required: The endpoint was named explicitly: not reaching it is a failure.
        offline: Skip the server and the hubs (no network at all).
    """

    endpoint: str
    api_key: str | None = None
    endpoint_required: bool = False
    offline: bool = False


def settings_or_problem(paths: AppPaths) -> tuple[Settings | None, str | None]:
    """The settings file's settings, or None and why it cannot be read."""
    try:
        return read_settings_file(paths), None
    except ConfigError as exc:
        return None, str(exc)


def build_sections() -> list[Section]:
    """This build, its backend and the devices it sees: the part the GUI's "This build"
    shows (no keychain, no disk, no network)."""
    from desktop.core.memory.gpus import vendor_gpus
    from desktop.core.memory.hardware import probe_hardware
    from desktop.core.memory.llama_build import probe_llama_build

    info = read_build_info()
    build = probe_llama_build()
    hardware = probe_hardware(build=build)
    vendor = vendor_gpus()
    return [
        build_section(info),
        backend_section(info, build, vendor),
        devices_section(build, hardware, vendor),
        memory_section(hardware),
    ]


def local_sections(
    paths: AppPaths,
    settings: Settings | None,
    settings_error: str | None,
    *,
    store: SecretStore | None = None,
) -> list[Section]:
    """Every check of this computer (no network)."""
    return [
        *build_sections(),
        keyring_section(store or SecretStore()),
        models_folder_section(paths, settings, settings_error),
    ]


def run_doctor(paths: AppPaths, options: DoctorOptions) -> tuple[DoctorReport, Settings | None]:
    """All checks; returns the report and the settings they used (None if unreadable)."""
    settings, settings_error = settings_or_problem(paths)
    sections = local_sections(paths, settings, settings_error)
    if options.offline:
        sections.append(Section("server", "skip", "not checked (--offline)"))
        sections.append(Section("hubs", "skip", "not checked (--offline)"))
    else:
        sections.append(
            server_section(options.endpoint, options.api_key, required=options.endpoint_required)
        )
        sections.append(hubs_section((settings or Settings()).downloads))
    return DoctorReport(sections), settings
