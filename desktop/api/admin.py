"""XinDesk's administration routes (under /v1/xindesk): settings, the API key, hub tokens, logs,
where the server listens, its build, and a support bundle. No answer carries a hub token, nor the
API key except the one that creates it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from desktop.api.common import ModelState
from desktop.api.hubs import HubName
from desktop.api.library import GPUView, HardwareView
from desktop.api.settings import Settings

#: `PATCH /v1/xindesk/settings`: only the fields to change, nested as in the settings.
SettingsPatch = dict[str, JsonValue]


class SettingsUpdate(BaseModel):
    settings: Settings = Field(description="Every setting, as the server uses them now.")
    restart_required: list[str] = Field(
        description='Changed fields that take effect at the next start ("server.port").'
    )


# -- the API key and hub tokens -----------------------------------------------------------------


class KeyringStatus(BaseModel):
    available: bool = Field(description="Whether the OS keychain can keep secrets.")
    backend: str
    message: str | None = Field(description="Why it cannot, when it cannot.")


class ApiKeyInfo(BaseModel):
    enabled: bool = Field(description="Whether the API needs a key.")
    keyring: KeyringStatus


class ApiKeyCreated(BaseModel):
    api_key: str = Field(description="The new key; the only answer that ever carries it.")
    stored: bool = Field(description="Kept in the keychain (else only until the server stops).")
    message: str


class ApiKeyDeleted(BaseModel):
    enabled: Literal[False] = False
    message: str


class HubToken(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, description="An access token of that hub.")


class TokenState(BaseModel):
    set: bool = Field(description="A token is stored in the keychain.")
    environment: bool = Field(description="A token is given in the server's environment.")


class HubTokens(BaseModel):
    """Whether each hub has a token (never the token itself)."""

    huggingface: TokenState
    modelscope: TokenState


class HubTokenSet(BaseModel):
    hub: HubName
    set: bool


# -- logs and the server ------------------------------------------------------------------------


class LogRecord(BaseModel):
    seq: int = Field(description="Position in the server's log stream, from 1.")
    time: float = Field(description="Epoch seconds.")
    level: str
    logger: str
    message: str = Field(description="With known secrets redacted.")


class LogPage(BaseModel):
    """Records oldest first; ask again with `after=last_seq` (a `last_seq` below `after`
    means the server restarted)."""

    records: list[LogRecord]
    last_seq: int


class ServerInfo(BaseModel):
    """Where the server listens and how to reach it from this or another machine."""

    version: str
    host: str
    port: int
    lan_access: bool = Field(description="It listens where other machines can reach it.")
    auth: bool = Field(description="Requests need the API key.")
    lan_addresses: list[str] = Field(description="This machine's LAN IPv4 addresses.")
    started_at: float
    models_dir: str


# -- build and diagnostics ----------------------------------------------------------------------


class DoctorSection(BaseModel):
    """One check of `xindesk doctor`: its verdict, then the facts behind it."""

    model_config = ConfigDict(extra="allow")

    status: Literal["ok", "warn", "fail", "skip"]
    summary: str


#: `GET /v1/xindesk/build`: the doctor's build, backend, devices and memory sections by name.
BuildReport = dict[str, DoctorSection]


# The facts of `GET /v1/xindesk/build` a reader needs, typed. The answer is a `BuildReport`
# (the doctor's sections, loose); these read the same JSON and keep every other fact as extra.


class BuildFacts(DoctorSection):
    """The `build` section: what was built, and how."""

    version: str
    variant: str | None = Field(None, description="cpu, cuda, rocm or metal (frozen builds).")
    frozen: bool = Field(False, description="A packaged app, not a run from source.")
    llama_cpp_python: str | None = None


class LoadProblem(BaseModel):
    model_config = ConfigDict(extra="allow")

    message: str = Field(description="Which library is missing, in words.")


class BackendFacts(DoctorSection):
    """The `backend` section: what llama.cpp was built for and what it runs models on."""

    built_for: str | None = None
    running_on: str | None = Field(None, description="CPU, or the GPU backend models use.")
    load_problem: LoadProblem | None = Field(None, description="Why llama.cpp cannot load.")


class GgmlDevice(BaseModel):
    """A device in llama.cpp's backend registry."""

    model_config = ConfigDict(extra="allow")

    name: str
    description: str = ""
    kind: str = Field("", description="cpu, gpu, igpu or accel.")
    total_bytes: int | None = None


class DevicesFacts(DoctorSection):
    """The `devices` section: the devices llama.cpp sees, and the GPUs with their memory."""

    ggml: list[GgmlDevice] = Field(default_factory=list)
    gpus: list[GPUView] = Field(default_factory=list)


class BuildSections(BaseModel):
    """`GET /v1/xindesk/build` as its readers (the window, `xindesk doctor`) take it."""

    model_config = ConfigDict(extra="allow")

    build: BuildFacts
    backend: BackendFacts
    devices: DevicesFacts
    memory: DoctorSection


class HardwareError(BaseModel):
    error: str = Field(description="Why the hardware could not be probed.")


class DiagnosticModel(BaseModel):
    uid: str
    name: str
    type: str
    quantization: str
    status: ModelState
    error: str | None
    memory_bytes: int | None


class FailedDownload(BaseModel):
    id: str
    label: str
    hub: str
    error: str | None


class DownloadsSummary(BaseModel):
    counts: dict[str, int] = Field(description="Jobs by state.")
    failed: list[FailedDownload]


class DiskSpace(BaseModel):
    models_dir: str
    free_bytes: int


class Diagnostics(BaseModel):
    """`GET /v1/xindesk/diagnostics`: a support bundle. It holds no key, token or proxy
    password, so it can be shared."""

    generated_at: float
    version: str
    python: str
    platform: str
    server: ServerInfo
    hardware: HardwareView | HardwareError
    settings: Settings
    models: list[DiagnosticModel]
    downloads: DownloadsSummary
    keyring: KeyringStatus
    disk: DiskSpace
    logs: list[str] = Field(description="The last log lines.")
    doctor: dict[str, JsonValue] = Field(description="`xindesk doctor --json` of the server.")
