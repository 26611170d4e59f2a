"""XinDesk's export routes: FastGPT, One API and AI Proxy configuration built from the running
models (`GET /v1/xindesk/export/fastgpt`), and the check that sends FastGPT's requests to this
server (`POST /v1/xindesk/export/check`)."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

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


class CheckRun(BaseModel):
    """`POST /v1/xindesk/export/check`: which models to test; left out, the ones the export
    writes as FastGPT's defaults."""

    model_config = ConfigDict(extra="forbid")

    chat: str | None = Field(None, min_length=1, max_length=256, description="The chat model.")
    embedding: str | None = Field(
        None, min_length=1, max_length=256, description="The embedding model."
    )
    rerank: str | None = Field(None, min_length=1, max_length=256, description="The rerank model.")


class CheckOutcome(BaseModel):
    """One of FastGPT's requests and whether FastGPT would accept the answer."""

    name: str = Field(description="What was sent.")
    passed: bool
    reason: str = Field(description="Why, in words a person can act on.")
    seconds: float = Field(description="How long the request took.")


class CheckReport(BaseModel):
    """The check's answer: every request FastGPT sends, sent to this server as FastGPT would
    (its paths, headers, key and time limits)."""

    endpoint: str = Field(description="The address the requests went to.")
    results: list[CheckOutcome]
    passed: int
    total: int
