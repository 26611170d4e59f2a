"""XinDesk's download routes (under /v1/xindesk/downloads): starting a download and the view of
a download job, as the list, each action and the event stream answer it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from desktop.api.common import JobState, ModelType
from desktop.api.hubs import DownloadSource, HubName


class StartDownload(BaseModel):
    """Either a catalog model (name, size, quantization) or files of any hub repository."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model_name: str | None = Field(None, description="A catalog or registered model name.")
    model_type: ModelType = "LLM"
    model_size_in_billions: str | int | float | None = None
    quantization: str | None = None
    repo_id: str | None = Field(None, description="owner/name on the hub.")
    files: list[str] | None = Field(None, description="Paths inside the repository.")
    revision: str | None = None
    hub: DownloadSource | None = Field(
        None, description="Which hub; default is the Download source setting."
    )

    @model_validator(mode="after")
    def _one_kind(self) -> StartDownload:
        if (self.model_name is None) == (self.repo_id is None):
            raise ValueError("Give either model_name (a catalog model) or repo_id with files.")
        if self.repo_id is not None and not self.files and not self.quantization:
            raise ValueError("With repo_id, name the files to download or a quantization.")
        return self


class DownloadFigures(BaseModel):
    """How far a download is; read from the disk when nothing is running."""

    downloaded_bytes: int
    total_bytes: int
    progress: float = Field(description="0-1.")
    speed_bytes_per_second: float
    eta_seconds: float | None = Field(description="None while the speed is unknown.")
    current_file: str | None = Field(description="The file being fetched now.")
    attempt: int = Field(description="Retries so far of the current file.")


class JobFileView(BaseModel):
    path: str = Field(description="Path inside the repository.")
    size: int
    sha256: str | None = None


class CatalogRefView(BaseModel):
    """Which catalog model a job downloads, when it came from the catalog."""

    model_config = ConfigDict(protected_namespaces=())

    model_name: str
    model_type: str = "LLM"
    model_size_in_billions: str | None = None
    quantization: str | None = None


class _JobRecord(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    id: str
    state: JobState
    label: str = Field(description="What is downloaded, in words.")
    hub: HubName
    repo_id: str
    revision: str | None = Field(description="The commit the files come from.")
    folder: str = Field(description="Where the files go.")
    files: list[JobFileView]
    error: str | None = Field(description="Why it failed, when it did.")
    model: CatalogRefView | None
    created_at: float
    finished_at: float | None


class DownloadJobView(DownloadFigures, _JobRecord):
    """A download job: its record, then its live figures (the class order is the wire's)."""


class DownloadList(BaseModel):
    downloads: list[DownloadJobView]
