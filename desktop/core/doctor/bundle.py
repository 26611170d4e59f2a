"""The support bundle: one zip a person can attach to a bug report, with no secret in it.

    doctor.json      the doctor's report (`xindesk doctor --json`)
    doctor.txt       the same as text
    settings.json    the settings in use, proxy credentials removed
    server-log.txt   the server's recent log (GET /v1/xindesk/logs), or why it is missing
    README.txt       what the files are

Every file passes through a `Redactor` told the API key and hub tokens this machine knows (the
configured key, the keychain's, the environment's), so none of them can reach the zip even if a
log line or an error message quoted one.
"""

from __future__ import annotations

import json
import logging
import os
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from desktop.api.settings import Settings
from desktop.core.doctor.redact import Redactor, without_credentials
from desktop.core.doctor.report import DoctorReport

log = logging.getLogger("xindesk.doctor")

_README = """\
XinDesk support bundle, made {when} by `xindesk doctor --bundle`.

doctor.json     what `xindesk doctor --json` reports: build, backend, devices, memory,
                keychain, models folder, server and model hubs
doctor.txt      the same, as text
settings.json   the settings in use (proxy user names and passwords removed)
server-log.txt  the server's recent log, if the server answered

API keys and hub tokens are replaced by *** in every file.
"""


def known_secrets(api_key: str | None, settings: Settings | None) -> list[str]:
    """Every secret this machine's XinDesk may hold: the key the doctor used, the keychain's
    API keys and hub tokens, the hub token variables, and the proxy's password."""
    from desktop.core.errors import SecretStoreUnavailable
    from desktop.core.hub.wiring import TOKEN_NAMES, TOKEN_VARIABLES
    from desktop.core.secrets import API_KEY, REMOTE_API_KEY, SecretStore

    found: list[str | None] = [api_key, os.environ.get("XINDESK_API_KEY")]
    store = SecretStore()
    for name in (API_KEY, REMOTE_API_KEY, *TOKEN_NAMES.values()):
        try:
            found.append(store.get(name))
        except SecretStoreUnavailable:
            break
    for names in TOKEN_VARIABLES.values():
        found.extend(os.environ.get(name) for name in names)
    if settings is not None and settings.downloads.proxy:
        from urllib.parse import urlsplit

        found.append(urlsplit(settings.downloads.proxy).password)
    return [secret for secret in found if secret]


def shareable_settings(settings: Settings | None) -> dict[str, Any]:
    """The settings as JSON, with no credentials in any address."""
    if settings is None:
        return {"error": "The settings file could not be read (see doctor.json)."}
    data = settings.model_dump(mode="json")
    downloads = data["downloads"]
    for key in ("proxy", "hf_endpoint", "modelscope_endpoint"):
        downloads[key] = without_credentials(downloads.get(key))
    data["ui"]["remote_url"] = without_credentials(data["ui"].get("remote_url"))
    return data


def write_bundle(
    path: Path,
    report: DoctorReport,
    *,
    settings: Settings | None,
    server_log: Sequence[str] | None,
    log_note: str | None,
    redactor: Redactor,
) -> Path:
    """Write the zip to `path` (a folder gets a timestamped file in it); returns the file."""
    if path.is_dir():
        path = path / time.strftime("xindesk-support-%Y%m%d-%H%M%S.zip")
    path.parent.mkdir(parents=True, exist_ok=True)
    when = time.strftime("%Y-%m-%d %H:%M:%S %z")
    report_json = json.dumps(redactor.value(report.to_dict()), indent=2, ensure_ascii=False)
    settings_json = json.dumps(
        redactor.value(shareable_settings(settings)), indent=2, ensure_ascii=False
    )
    if server_log is not None:
        log_text = "\n".join(redactor.text(line) for line in server_log) + "\n"
    else:
        log_text = f"No server log: {redactor.text(log_note or 'the server did not answer')}\n"
    files = {
        "README.txt": _README.format(when=when),
        "doctor.json": report_json + "\n",
        "doctor.txt": redactor.text(report.render_text()) + "\n",
        "settings.json": settings_json + "\n",
        "server-log.txt": log_text,
    }
    # Written beside the target and moved into place: a half-written zip is never left.
    partial = path.with_name(path.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    partial.replace(path)
    log.info("support bundle written to %s", path)
    return path
