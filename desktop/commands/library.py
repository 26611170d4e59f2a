"""Finding and fetching models: search, download, downloads."""

from __future__ import annotations

import argparse
import sys
import time

from desktop.api.common import JobState
from desktop.api.downloads import StartDownload
from desktop.commands.output import client_for, out, table
from desktop.core.units import KiB, MiB


def cmd_search(args: argparse.Namespace) -> int:
    with client_for(args) as client:
        found = client.search(args.query, hub=args.hub, limit=args.limit)
    rows = [[r.hub, r.repo_id, r.downloads, r.likes, r.updated or ""] for r in found.results]
    out(table(rows, ["Hub", "Repository", "Downloads", "Likes", "Updated"]))
    for note in found.notes:
        sys.stderr.write(f"Note: {note}\n")
    return 0


def _download_body(args: argparse.Namespace) -> StartDownload:
    target: str = args.target
    if "/" in target or args.files:
        from desktop.core.hub.references import parse_repo_reference

        hub, repo_id, extra = parse_repo_reference(target)
        files = list(args.files)
        quant = args.quantization
        if extra and extra.endswith(".gguf"):
            files.append(extra)
        elif extra and not quant:
            quant = extra
        if not files and not quant:
            raise SystemExit(
                "Name the file(s) to download after the repository, or a quantization with -q."
            )
        return StartDownload(
            repo_id=repo_id,
            files=files or None,
            quantization=None if files else quant,
            hub=args.hub or hub,
        )
    return StartDownload(
        model_name=target,
        model_type=args.model_type,
        model_size_in_billions=args.size_in_billions,
        quantization=args.quantization,
        hub=args.hub,
    )


def cmd_download(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    body = _download_body(args)
    with client_for(args) as client:
        job = client.start_download(body)
        out(f"Downloading {job.label} from {job.hub} into {job.folder}")
        bar = tqdm(
            total=job.total_bytes,
            initial=job.downloaded_bytes,
            unit="B",
            unit_scale=True,
            unit_divisor=KiB,
            file=sys.stderr,
            dynamic_ncols=True,
        )
        try:
            while job.state.active:
                time.sleep(0.5)
                job = client.download(job.id)
                bar.update(job.downloaded_bytes - bar.n)
                bar.set_postfix_str(job.state)
        except KeyboardInterrupt:
            job = client.pause_download(job.id)
            bar.close()
            out("Paused. Run the same command again to resume from where it stopped.")
            return 130
        bar.close()
    if job.state is JobState.COMPLETED:
        out(f"Done: {job.folder}")
        return 0
    out(f"Download {job.state}: {job.error or ''}".rstrip(": "))
    return 1


def cmd_downloads(args: argparse.Namespace) -> int:
    with client_for(args) as client:
        jobs = client.downloads()
    rows = [
        [
            j.id,
            j.state,
            j.label,
            f"{j.downloaded_bytes / MiB:.1f}/{j.total_bytes / MiB:.1f} MiB",
            j.error or "",
        ]
        for j in jobs
    ]
    out(table(rows, ["Id", "State", "What", "Progress", "Error"]))
    return 0


# -- export -------------------------------------------------------------------------------------
