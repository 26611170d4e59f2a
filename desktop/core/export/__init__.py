"""FastGPT and One API export, built from the models that are running.

* `served`: what a running model offers (`ServedModel`) and which plays which role
  (`select_models`).
* `target`: the host FastGPT reaches XinDesk by, from where FastGPT runs (`resolve_host`).
* `endpoint`: the full URLs and the key (`Connection`).
* `fastgpt`: config.json (≤ 4.8.19) and model-configuration JSON (≥ 4.8.20) entries.
* `gateways`: One API and AI Proxy channels, docker-compose environment lines.
* `curl`: commands to test by hand.
* `bundle`: one call per format (`export_fastgpt`, `export_for_target`).
"""

from desktop.core.export.bundle import (
    EXPORT_FORMATS,
    FORMAT_TITLES,
    ExportFormat,
    ExportResult,
    export_fastgpt,
    export_for_target,
)
from desktop.core.export.endpoint import NO_KEY_PLACEHOLDER, Connection
from desktop.core.export.served import (
    FASTGPT_MAX_DIMENSIONS,
    ModelSelection,
    ServedModel,
    select_models,
)
from desktop.core.export.target import (
    DOCKER_HOST,
    TARGET_TITLES,
    TARGETS,
    HostChoice,
    Target,
    resolve_host,
)

__all__ = [
    "DOCKER_HOST",
    "EXPORT_FORMATS",
    "FASTGPT_MAX_DIMENSIONS",
    "FORMAT_TITLES",
    "NO_KEY_PLACEHOLDER",
    "TARGETS",
    "TARGET_TITLES",
    "Connection",
    "ExportFormat",
    "ExportResult",
    "HostChoice",
    "ModelSelection",
    "ServedModel",
    "Target",
    "export_fastgpt",
    "export_for_target",
    "resolve_host",
    "select_models",
]
