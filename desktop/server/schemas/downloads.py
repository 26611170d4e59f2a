"""Request bodies of XinDesk's download and model-library routes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from desktop.api.hubs import DownloadSource, HubName


class StartDownload(BaseModel):
    """Either a catalog model (name, size, quantization) or files of any hub repository."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model_name: str | None = Field(None, description="A catalog or registered model name.")
    model_type: Literal["LLM", "embedding", "rerank"] = "LLM"
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


class ImportModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="A .gguf file on this machine (any part of a split set).")


class RegisterRepo(BaseModel):
    """A hub repository to make launchable by name."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    repo_id: str = Field(description="owner/name, or the repository's URL.")
    hub: HubName | None = None
    model_name: str | None = Field(None, description="Name to launch it by; default from the repo.")
    model_type: Literal["LLM", "embedding", "rerank"] = "LLM"
    context_length: int | None = Field(None, ge=16)


class MoveModelsFolder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="The new models folder.")
    mode: Literal["move", "link"] = Field(
        "move", description="move: the files go there; link: they stay and are linked from there."
    )
