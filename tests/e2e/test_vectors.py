"""Embeddings and rerank through real clients, on real llama.cpp models.

Gemma 3 270M serves as an embedding model (decoder, last-token pooling) and as an LLM-based
(yes/no) reranker; generated tiny BERT GGUFs serve as an encoder embedder and a cross-encoder.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import httpx
import openai
import pytest
from xinference_client import RESTfulClient

from tests.fixtures.server import ServerProcess
from tests.fixtures.tiny_gguf import EMBEDDING_N_EMBD

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def _norm(vector: list[float]) -> float:
    return math.sqrt(sum(x * x for x in vector))


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (_norm(a) * _norm(b))


def test_gemma_as_embedding_model(server: ServerProcess, gemma_gguf: Path) -> None:
    client = RESTfulClient(server.url)
    uid = client.launch_model(
        model_name="gemma-embed",
        model_type="embedding",
        model_engine="llama.cpp",
        model_format="ggufv2",
        model_path=str(gemma_gguf),
        model_uid="gemma-embed",
        n_ctx=512,
    )
    described = client.list_models()[uid]
    assert described["model_type"] == "embedding"
    assert described["dimensions"] == 640
    model = client.get_model(uid)
    result = model.create_embedding(
        ["The cat sat on the mat.", "A cat sat on a mat.", "Quarterly revenue fell sharply."]
    )
    vectors = [d["embedding"] for d in result["data"]]
    assert [d["index"] for d in result["data"]] == [0, 1, 2]
    assert all(len(v) == 640 for v in vectors)
    assert all(abs(_norm(v) - 1.0) < 1e-3 for v in vectors)
    assert result["usage"]["prompt_tokens"] > 0

    # The openai client asks for base64 by default; it must decode to the same vectors.
    oai = openai.OpenAI(base_url=f"{server.url}/v1", api_key="x", max_retries=0)
    same = oai.embeddings.create(model=uid, input=["The cat sat on the mat."])
    assert _cosine(same.data[0].embedding, vectors[0]) > 0.9999
    client.terminate_model(uid)


def test_tiny_bert_embedder_through_openai(
    server: ServerProcess, tiny_models: dict[str, Path]
) -> None:
    server.launch_gguf(
        tiny_models["embedding"], "tiny-embed", model_name="tiny-embed", model_type="embedding"
    )
    oai = openai.OpenAI(base_url=f"{server.url}/v1", api_key="x", max_retries=0)
    result = oai.embeddings.create(
        model="tiny-embed",
        input=["the cat sat on the mat", "a cat sat on a mat", "stock markets fell sharply today"],
    )
    a, b, c = (d.embedding for d in result.data)
    assert _cosine(a, b) > _cosine(a, c)
    assert httpx.delete(f"{server.url}/v1/models/tiny-embed", timeout=60).status_code == 200


def test_cross_encoder_rerank(server: ServerProcess, tiny_models: dict[str, Path]) -> None:
    client = RESTfulClient(server.url)
    uid = client.launch_model(
        model_name="bge-reranker-v2-m3",
        model_type="rerank",
        model_engine="llama.cpp",
        model_format="ggufv2",
        model_path=str(tiny_models["reranker"]),
        model_uid="reranker",
    )
    assert client.list_models()[uid]["type"] == "normal"
    model = client.get_model(uid)
    documents = ["the weather is sunny", "cats eat fish and meat", "the stock market fell today"]
    result = model.rerank(documents, "what do cats eat", return_documents=True, return_len=True)
    results = result["results"]
    assert results[0]["index"] == 1
    scores = [r["relevance_score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 < s < 1.0 for s in scores)
    assert results[0]["document"] == {"text": "cats eat fish and meat"}
    assert result["meta"]["tokens"]["input_tokens"] > 0

    top = model.rerank(documents, "what do cats eat", top_n=1)
    assert len(top["results"]) == 1
    assert top["results"][0]["document"] is None
    assert top["meta"]["tokens"] is None

    # FastGPT's rerank: 100 documents, no top_n.
    many = [f"document number {i} about weather" for i in range(99)] + ["cats eat fish"]
    response = httpx.post(
        f"{server.url}/v1/rerank",
        json={"model": uid, "query": "what do cats eat", "documents": many},
        timeout=120,
    )
    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == 100
    assert body["results"][0]["index"] == 99
    client.terminate_model(uid)


def test_llm_yes_no_rerank_with_gemma(server: ServerProcess, gemma_gguf: Path) -> None:
    server.launch_gguf(
        gemma_gguf,
        "gemma-rerank",
        model_name="Qwen3-Reranker-0.6B",
        model_type="rerank",
        n_ctx=1024,
    )
    described = httpx.get(f"{server.url}/v1/models/gemma-rerank").json()
    assert described["type"] == "LLM-based"
    documents = [
        "Paris is the capital of France.",
        "Bananas are yellow.",
        "The stock market fell today.",
    ]
    response = httpx.post(
        f"{server.url}/v1/rerank",
        json={
            "model": "gemma-rerank",
            "query": "What is the capital of France?",
            "documents": documents,
            "return_documents": True,
        },
        timeout=120,
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert len(results) == 3
    assert all(0.0 <= r["relevance_score"] <= 1.0 for r in results)
    assert results[0]["document"]["text"] == "Paris is the capital of France."
    httpx.delete(f"{server.url}/v1/models/gemma-rerank", timeout=60)


def test_custom_registration_with_model_uri_launches(
    server: ServerProcess, gemma_gguf: Path
) -> None:
    """A custom registration whose model_uri is a local .gguf launches by name alone."""
    client = RESTfulClient(server.url)
    family = {
        "version": 2,
        "model_name": "my-gemma",
        "model_lang": ["en"],
        "model_ability": ["chat", "generate"],
        "context_length": 1024,
        "model_family": "gemma-3-it",
        "model_specs": [
            {
                "model_format": "ggufv2",
                "model_size_in_billions": "0_27",
                "quantization": "Q4_K_M",
                "model_uri": str(gemma_gguf),
            }
        ],
    }
    client.register_model(model_type="LLM", model=json.dumps(family), persist=True)
    uid = client.launch_model(
        model_name="my-gemma",
        model_engine="llama.cpp",
        model_format="ggufv2",
        model_size_in_billions=0.27,
        quantization="q4_k_m",
    )
    assert uid == "my-gemma"
    reply = client.get_model(uid).chat(
        messages=[{"role": "user", "content": "Hi"}], generate_config={"max_tokens": 4}
    )
    assert reply["choices"][0]["message"]["content"] is not None
    cached = client.list_cached_models()
    assert any(c["model_name"] == "my-gemma" for c in cached)
    client.terminate_model(uid)
    client.unregister_model(model_type="LLM", model_name="my-gemma")


def test_shorter_vectors_and_query_instructions_where_the_family_has_them(
    server: ServerProcess, tiny_models: dict[str, Path]
) -> None:
    # The tiny encoder serves under Qwen3-Embedding's name (trained for shorter vectors, with a
    # query instruction) and under bge-m3's (neither).
    for uid, name in [("mrl-embed", "Qwen3-Embedding-0.6B"), ("fixed-embed", "bge-m3")]:
        server.launch_gguf(tiny_models["embedding"], uid, model_name=name, model_type="embedding")
    described = httpx.get(f"{server.url}/v1/models/mrl-embed", timeout=30).json()
    assert described["min_dimensions"] == 32
    assert described["query_instruction"] is True
    assert (
        httpx.get(f"{server.url}/v1/models/fixed-embed", timeout=30).json()["min_dimensions"]
        is None
    )

    text = "the cat sat on the mat"
    with openai.OpenAI(base_url=f"{server.url}/v1", api_key="x", max_retries=0) as oai:
        full = oai.embeddings.create(model="mrl-embed", input=[text]).data[0].embedding
        short = oai.embeddings.create(model="mrl-embed", input=[text], dimensions=32)
        cut = short.data[0].embedding
        assert len(full) == EMBEDDING_N_EMBD
        assert len(cut) == 32
        assert abs(_norm(cut) - 1.0) < 1e-4
        # The first values of the whole vector, made unit length again.
        scale = _norm(full[:32])
        assert all(abs(x - y / scale) < 1e-4 for x, y in zip(cut, full[:32], strict=True))

        for uid, dimensions, words in [
            ("mrl-embed", 16, "32 to 64"),
            ("mrl-embed", 65, "32 to 64"),
            ("fixed-embed", 32, "was not trained"),
        ]:
            with pytest.raises(openai.BadRequestError) as refused:
                oai.embeddings.create(model=uid, input=[text], dimensions=dimensions)
            assert words in refused.value.response.json()["detail"]
        # Its own length is always fine.
        same = oai.embeddings.create(model="fixed-embed", input=[text], dimensions=64)
        assert len(same.data[0].embedding) == EMBEDDING_N_EMBD

    def vector(uid: str, body: dict[str, object]) -> list[float]:
        answer = httpx.post(
            f"{server.url}/v1/embeddings", json={"model": uid, **body}, timeout=60
        ).json()
        found: list[float] = answer["data"][0]["embedding"]
        return found

    query = vector("mrl-embed", {"input": text, "input_type": "query"})
    document = vector("mrl-embed", {"input": text, "input_type": "document"})
    instructed = vector(
        "mrl-embed",
        {
            "input": "Instruct: Given a web search query, retrieve relevant passages that "
            f"answer the query\nQuery:{text}"
        },
    )
    assert _cosine(document, full) > 0.9999
    assert _cosine(query, instructed) > 0.9999
    assert _cosine(query, document) < 0.9999
    # A family without an instruction reads a query as it is.
    plain = vector("fixed-embed", {"input": text})
    assert _cosine(vector("fixed-embed", {"input": text, "input_type": "query"}), plain) > 0.9999
    for uid in ("mrl-embed", "fixed-embed"):
        assert httpx.delete(f"{server.url}/v1/models/{uid}", timeout=60).status_code == 200
