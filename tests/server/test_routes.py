"""Routes that need no model loaded: errors, registrations, engines, auth (in-process app)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from desktop.api.settings import Settings
from desktop.core.paths import AppPaths
from desktop.server.app import create_app


def _client(tmp_path: Path, api_key: str | None = None) -> TestClient:
    paths = AppPaths.under(tmp_path / "home")
    settings = Settings()
    # Nothing listens on port 9: a hub that cannot be reached, whatever this machine's network.
    settings.downloads.hf_endpoint = "http://127.0.0.1:9"
    settings.downloads.modelscope_endpoint = "http://127.0.0.1:9"
    app = create_app(settings, paths, api_key=api_key, address="127.0.0.1:9997")
    return TestClient(app, base_url="http://127.0.0.1:9997")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with _client(tmp_path) as test_client:
        yield test_client


def test_malformed_json_is_a_400_with_detail(client: TestClient) -> None:
    response = client.post(
        "/v1/chat/completions", content=b"{'model': 1", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert "not valid JSON" in response.json()["detail"]


def test_missing_fields_are_a_readable_422(client: TestClient) -> None:
    response = client.post("/v1/chat/completions", json={"messages": []})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert "model" in detail


def test_empty_messages_is_xinference_400(client: TestClient) -> None:
    response = client.post("/v1/chat/completions", json={"model": "x", "messages": []})
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid input. Please specify the prompt."}


def test_unknown_uid_is_404_on_inference_and_400_on_describe(client: TestClient) -> None:
    chat = client.post(
        "/v1/chat/completions",
        json={"model": "nope", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert chat.status_code == 404
    assert "uid: nope" in chat.json()["detail"]
    assert client.get("/v1/models/nope").status_code == 400
    assert client.delete("/v1/models/nope").json()["detail"].endswith("uid: nope")
    for path in ("/v1/embeddings", "/v1/rerank"):
        body = (
            {"model": "nope", "input": "x"}
            if "emb" in path
            else {"model": "nope", "query": "q", "documents": ["d"]}
        )
        assert client.post(path, json=body).status_code == 404


def test_launch_needs_a_model_name(client: TestClient) -> None:
    response = client.post("/v1/models", json={"model_type": "LLM"})
    assert response.status_code == 400
    assert "model_name" in response.json()["detail"]


def test_seed_pytorch_launch_gets_the_gguf_command(client: TestClient) -> None:
    """The seed guide's `launch -n qwen-chat -s 14 -f pytorch` is answered with what to run."""
    response = client.post(
        "/v1/models",
        json={
            "model_name": "qwen-chat",
            "model_size_in_billions": 14,
            "model_format": "pytorch",
            "model_engine": "llama.cpp",
        },
    )
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "ggufv2" in detail
    assert "xindesk launch -n qwen-chat -s 14 -f ggufv2 -q" in detail


def test_catalog_model_not_downloaded_and_offline_says_how(client: TestClient) -> None:
    """Launching a catalog model that is not on disk downloads it first; with no hub reachable
    (these machines are offline) the answer says what is missing and what to do."""
    response = client.post(
        "/v1/models",
        json={
            "model_name": "qwen2.5-instruct",
            "model_size_in_billions": "0_5",
            "model_format": "ggufv2",
            "quantization": "Q4_K_M",
            "model_engine": "llama.cpp",
        },
    )
    assert response.status_code == 502
    detail = response.json()["detail"]
    assert "not downloaded" in detail
    assert "xindesk download qwen2.5-instruct" in detail
    assert "mirror" in detail


@pytest.mark.parametrize(("size", "quant"), [("0_5", "q4_k_m"), (0.5, "Q4_K_M"), ("0.5", "Q4_k_M")])
def test_size_and_quantization_spellings_match(
    client: TestClient, size: object, quant: str
) -> None:
    response = client.post(
        "/v1/models",
        json={
            "model_name": "qwen2.5-instruct",
            "model_size_in_billions": size,
            "model_format": "ggufv2",
            "quantization": quant,
        },
    )
    # The spec is found (the file is simply not downloaded), not "not found".
    assert "not downloaded" in response.json()["detail"]


def test_unknown_model_name_suggests(client: TestClient) -> None:
    response = client.post("/v1/models", json={"model_name": "qwen2.5-instrct"})
    assert response.status_code == 400
    assert "qwen2.5-instruct" in response.json()["detail"]


def test_non_gguf_model_path_is_refused(client: TestClient, tmp_path: Path) -> None:
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"PK\x03\x04 this is a zip file")
    response = client.post(
        "/v1/models", json={"model_name": "gemma-3-it", "model_path": str(bogus)}
    )
    assert response.status_code == 400
    assert "not a GGUF file" in response.json()["detail"]
    missing = client.post(
        "/v1/models", json={"model_name": "gemma-3-it", "model_path": str(tmp_path / "none.gguf")}
    )
    assert missing.status_code == 400
    assert "No file at" in missing.json()["detail"]
    folder = client.post(
        "/v1/models", json={"model_name": "gemma-3-it", "model_path": str(tmp_path)}
    )
    assert "is a folder" in folder.json()["detail"]


def test_other_engines_are_refused_clearly(client: TestClient) -> None:
    response = client.post("/v1/models", json={"model_name": "qwen3", "model_engine": "vLLM"})
    assert response.status_code == 400
    assert "llama.cpp" in response.json()["detail"]


def test_registrations_match_xinference_names(client: TestClient) -> None:
    names = {r["model_name"] for r in client.get("/v1/model_registrations/LLM").json()}
    assert {"qwen-chat", "qwen2.5-instruct", "gemma-3-it", "glm4-chat"} <= names
    assert all(r["is_builtin"] for r in client.get("/v1/model_registrations/LLM").json())
    family = client.get("/v1/model_registrations/LLM/qwen2.5-instruct").json()
    assert family["model_name"] == "qwen2.5-instruct"
    assert all("quantization" in s for s in family["model_specs"])
    rerank = {r["model_name"] for r in client.get("/v1/model_registrations/rerank").json()}
    assert "bge-reranker-v2-m3" in rerank
    assert client.get("/v1/model_registrations/LLM/nope").status_code == 400


def test_engines_route(client: TestClient) -> None:
    engines = client.get("/v1/engines/LLM/qwen2.5-instruct").json()
    assert list(engines) == ["llama.cpp"]
    sizes = {p["model_size_in_billions"] for p in engines["llama.cpp"]}
    assert "0_5" in sizes
    assert client.get("/v1/engines/nope").json() is None
    assert len(client.get("/v1/engines/embedding/bge-m3").json()["llama.cpp"]) > 0


def test_register_and_unregister_a_custom_gguf(client: TestClient, tmp_path: Path) -> None:
    model = {
        "version": 2,
        "model_name": "my-model",
        "model_lang": ["en"],
        "model_ability": ["chat"],
        "context_length": 2048,
        "model_family": "gemma-3-it",
        "model_specs": [
            {
                "model_format": "ggufv2",
                "model_size_in_billions": 1,
                "quantization": "Q4_K_M",
                "model_uri": str(tmp_path / "m.gguf"),
            }
        ],
    }
    import json

    assert (
        client.post(
            "/v1/model_registrations/LLM", json={"model": json.dumps(model), "persist": True}
        ).status_code
        == 200
    )
    listed = client.get("/v1/model_registrations/LLM").json()
    assert {"model_name": "my-model", "is_builtin": False} in listed
    bad = client.post("/v1/model_registrations/LLM", json={"model": "{not json"})
    assert bad.status_code == 400
    assert client.delete("/v1/model_registrations/LLM/my-model").status_code == 200
    assert client.get("/v1/model_registrations/LLM/my-model").status_code == 400


def test_cluster_routes(client: TestClient) -> None:
    assert client.get("/v1/cluster/auth").json() == {"auth": False}
    assert client.get("/v1/cluster/version").json()["version"] == "4.1.0"
    status = client.get("/status").json()
    assert "uptime" in status
    assert client.get("/v1/models").json() == {"object": "list", "data": []}
    assert client.get("/v1/models/instances").json() == []
    assert client.get("/v1/models/nope/progress").json()["stage"] == "pending"


def test_api_key_guards_every_route_but_auth_and_status(tmp_path: Path) -> None:
    with _client(tmp_path, api_key="sk-test") as client:
        assert client.get("/v1/cluster/auth").json() == {"auth": True}
        assert client.get("/status").status_code == 200
        denied = client.get("/v1/models")
        assert denied.status_code == 401
        assert "API key" in denied.json()["detail"]
        assert (
            client.get("/v1/models", headers={"Authorization": "Bearer sk-wrong"}).status_code
            == 401
        )
        assert (
            client.get("/v1/models", headers={"Authorization": "Bearer sk-test"}).status_code == 200
        )
        assert client.get("/v1/models", headers={"x-api-key": "sk-test"}).status_code == 200
        assert (
            client.post("/token", json={"username": "u", "password": "sk-test"}).json()[
                "access_token"
            ]
            == "sk-test"
        )
        assert client.post("/token", json={"username": "u", "password": "no"}).status_code == 401
