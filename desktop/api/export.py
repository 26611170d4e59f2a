"""XinDesk's export route (`GET /v1/xindesk/export/fastgpt`): FastGPT, One API and AI Proxy
configuration built from the running models."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, Field

#: The formats the export writes.
ExportFormat = Literal["legacy", "legacy-full", "v4.9", "oneapi", "aiproxy", "env", "curl"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = get_args(ExportFormat)

#: Where FastGPT runs: on this machine, in Docker on this machine, or on another machine.
Target = Literal["same", "docker", "lan"]
TARGETS: tuple[Target, ...] = get_args(Target)


class ExportAnswer(BaseModel):
    """Text to copy, what kind of text it is, and what to know before pasting it."""

    format: ExportFormat
    content_type: Literal["json", "text"] = Field(
        description="json when the text is strict JSON, text otherwise."
    )
    text: str = Field(description="The configuration; its key fields hold the server's API key.")
    warnings: list[str] = Field(description="Sentences a person can act on.")
