"""What every command shares: its output on stdout, tables, and a client of the server."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from desktop.client import XinDeskClient
from desktop.core.secrets import API_KEY_ENV


def out(text: str) -> None:
    """Command output goes to stdout (logs go to stderr)."""
    sys.stdout.write(text + "\n")


def client_for(args: argparse.Namespace) -> XinDeskClient:
    key = args.api_key or os.environ.get(API_KEY_ENV)
    return XinDeskClient(args.endpoint, key)


def table(rows: Sequence[Sequence[object]], header: list[str]) -> str:
    cells = [header] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
