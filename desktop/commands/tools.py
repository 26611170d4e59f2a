"""Export (FastGPT, One API) with its check, and the doctor."""

from __future__ import annotations

import argparse
import json
import os
import sys

from desktop.client import default_endpoint
from desktop.commands.output import client_for, out
from desktop.core.secrets import API_KEY_ENV


def cmd_export(args: argparse.Namespace) -> int:
    """`xindesk export fastgpt`: config from the running models, or `--check` them as FastGPT."""
    if args.check:
        return _check_fastgpt(args)
    with client_for(args) as client:
        exported = client.export_fastgpt(args.format, target=args.target, host=args.host)
    for warning in exported.warnings:
        sys.stderr.write(f"Note: {warning}\n")
    sys.stdout.write(exported.text)
    return 0


def _check_fastgpt(args: argparse.Namespace) -> int:
    from desktop.core.export import select_models
    from desktop.core.export.check import CheckModels, CheckResult, run_fastgpt_check

    with client_for(args) as client:
        models = CheckModels.from_selection(select_models(client.list_models()))

    def show(result: CheckResult) -> None:
        mark = "PASS" if result.passed else "FAIL"
        out(f"{mark}  {result.name} ({result.seconds:.1f} s): {result.reason}")

    key = args.api_key or os.environ.get(API_KEY_ENV)
    results = run_fastgpt_check(args.endpoint, key, models, on_result=show)
    passed = sum(r.passed for r in results)
    out(f"{passed} of {len(results)} checks passed.")
    return 0 if passed == len(results) else 1


# -- doctor -------------------------------------------------------------------------------------


def cmd_doctor(args: argparse.Namespace) -> int:
    """`xindesk doctor`: this build, its backend, devices, memory, keychain, models folder,
    server and hubs; exit 1 when something needed to run models here is broken."""
    from desktop.core.doctor import DoctorOptions, run_doctor
    from desktop.core.paths import AppPaths
    from desktop.core.secrets import configured_api_key

    paths = AppPaths.from_environment()
    api_key = configured_api_key(args.api_key)
    options = DoctorOptions(
        endpoint=args.endpoint or default_endpoint(),
        api_key=api_key,
        endpoint_required=args.endpoint is not None,
        offline=args.offline,
    )
    report, settings = run_doctor(paths, options)
    if args.json:
        out(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        out(report.render_text())
    if args.bundle:
        from pathlib import Path

        from desktop.core.doctor.bundle import known_secrets, write_bundle
        from desktop.core.doctor.network import fetch_server_log
        from desktop.core.doctor.redact import Redactor

        server = report.section("server")
        lines: list[str] | None = None
        note: str | None = "the server was not checked (--offline)"
        if server is not None and server.details.get("reachable"):
            lines, note = fetch_server_log(options.endpoint, api_key)
        elif not args.offline:
            note = "the server did not answer"
        written = write_bundle(
            Path(args.bundle).expanduser(),
            report,
            settings=settings,
            server_log=lines,
            log_note=note,
            redactor=Redactor(known_secrets(api_key, settings)),
        )
        # Beside the report, not in it: --json keeps stdout pure JSON.
        sys.stderr.write(f"Support bundle: {written}\n")
    return report.exit_code
