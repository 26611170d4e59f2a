"""Embeddings and reranking on real llama.cpp: the tiny synthetic GGUFs and Gemma 3 270M.

The tests marked ``slow`` load llama.cpp. The rest check the pure helpers and the files the
fixtures write.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from desktop.core.engine import embedding as emb
from desktop.core.engine import rerank as rr
from desktop.core.engine import rerank_pairs as pieces_of
from desktop.core.errors import InvalidRequest
from tests.fixtures import tiny_gguf

if TYPE_CHECKING:
    from llama_cpp import Llama

QUERY = "what do cats eat"
RELATED = "cats eat fish and meat"
UNRELATED = ("the stock market fell today", "the weather is sunny")


def _load(path: Path, **kwargs: Any) -> Llama:
    from llama_cpp import Llama

    return Llama(model_path=str(path), verbose=False, **kwargs)


def _norm(vector: list[float]) -> float:
    return math.sqrt(sum(x * x for x in vector))


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (_norm(a) * _norm(b))


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tiny-gguf")


@pytest.fixture(scope="module")
def embedding_path(tiny_dir: Path) -> Path:
    return tiny_gguf.write_embedding_gguf(tiny_dir / "embed-mean.gguf")


@pytest.fixture(scope="module")
def reranker_path(tiny_dir: Path) -> Path:
    return tiny_gguf.write_reranker_gguf(tiny_dir / "rerank.gguf")


@pytest.fixture(scope="module")
def embedding_llm(embedding_path: Path) -> Iterator[Llama]:
    llm = _load(embedding_path, **emb.embedding_llama_kwargs("bert", emb.POOLING_MEAN, n_ctx=512))
    yield llm
    llm.close()


@pytest.fixture(scope="module")
def reranker_llm(reranker_path: Path) -> Iterator[Llama]:
    llm = _load(reranker_path, **rr.rerank_llama_kwargs("cross-encoder", n_ctx=512))
    yield llm
    llm.close()


@pytest.fixture(scope="module")
def gemma_yes_no_llm(gemma_gguf: Path) -> Iterator[Llama]:
    llm = _load(gemma_gguf, n_ctx=1024, **rr.rerank_llama_kwargs("llm-yes-no"))
    yield llm
    llm.close()


# -- pure helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arch", "gguf_pooling", "expected"),
    [
        ("bert", emb.POOLING_MEAN, emb.POOLING_MEAN),
        ("bert", emb.POOLING_CLS, emb.POOLING_CLS),
        ("nomic-bert", None, emb.POOLING_MEAN),
        ("bert", emb.POOLING_NONE, emb.POOLING_MEAN),
        ("gemma3", None, emb.POOLING_LAST),
        ("qwen2", None, emb.POOLING_LAST),
        ("llama", None, emb.POOLING_LAST),
        ("qwen3", emb.POOLING_LAST, emb.POOLING_LAST),
        ("qwen3", emb.POOLING_MEAN, emb.POOLING_MEAN),
    ],
)
def test_embedding_kwargs_pick_pooling(arch: str, gguf_pooling: int | None, expected: int) -> None:
    assert emb.embedding_llama_kwargs(arch, gguf_pooling) == {
        "embedding": True,
        "pooling_type": expected,
    }


def test_embedding_kwargs_refuse_a_reranker() -> None:
    with pytest.raises(InvalidRequest, match="reranker"):
        emb.embedding_llama_kwargs("bert", emb.POOLING_RANK)


def test_rerank_kwargs() -> None:
    assert rr.rerank_llama_kwargs("cross-encoder") == {
        "embedding": True,
        "pooling_type": emb.POOLING_RANK,
    }
    assert rr.rerank_llama_kwargs("llm-yes-no") == {"embedding": False, "logits_all": False}


def test_batch_kwargs_keep_all_three_equal() -> None:
    expected = {"n_ctx": 2048, "n_batch": 2048, "n_ubatch": 2048}
    assert emb.batch_kwargs(2048) == expected
    assert emb.embedding_llama_kwargs("bert", None, n_ctx=2048) == {
        "embedding": True,
        "pooling_type": emb.POOLING_MEAN,
        **expected,
    }
    assert rr.rerank_llama_kwargs("cross-encoder", n_ctx=2048)["n_ubatch"] == 2048
    assert "n_ctx" not in rr.rerank_llama_kwargs("llm-yes-no", n_ctx=2048)
    with pytest.raises(ValueError, match="positive"):
        emb.batch_kwargs(0)


def test_truncate_tokens_keeps_the_special_tokens() -> None:
    # [CLS]=2 ... [SEP]=3 around ten content tokens.
    plain = list(range(10, 20))
    tokens = [2, *plain, 3]
    assert emb.truncate_tokens(tokens, plain, 20) == tokens
    assert emb.truncate_tokens(tokens, plain, 5) == [2, 10, 11, 12, 3]
    # A decoder with only a BOS.
    assert emb.truncate_tokens([1, *plain], plain, 4) == [1, 10, 11, 12]


def test_pack_batches_respects_tokens_and_sequences() -> None:
    assert emb.pack_batches([3, 3, 3], capacity=6, max_seqs=8) == [[0, 1], [2]]
    assert emb.pack_batches([1, 1, 1], capacity=100, max_seqs=2) == [[0, 1], [2]]
    assert emb.pack_batches([], capacity=10, max_seqs=2) == []


def test_sigmoid_is_stable() -> None:
    assert rr.sigmoid(0.0) == 0.5
    assert rr.sigmoid(1000.0) == 1.0
    assert rr.sigmoid(-1000.0) == 0.0
    assert rr.sigmoid(2.0) == pytest.approx(1 / (1 + math.exp(-2.0)))


def test_tiny_files_are_small_and_reproducible(tmp_path: Path) -> None:
    first = tiny_gguf.write_embedding_gguf(tmp_path / "a.gguf")
    second = tiny_gguf.write_embedding_gguf(tmp_path / "b.gguf")
    assert first.read_bytes() == second.read_bytes()
    reranker = tiny_gguf.write_reranker_gguf(tmp_path / "r.gguf")
    for path in (first, reranker):
        assert path.read_bytes()[:4] == b"GGUF"
        assert path.stat().st_size < 2 * 1024 * 1024


def test_reranker_file_declares_rank_pooling_and_head(tmp_path: Path) -> None:
    import gguf

    reader = gguf.GGUFReader(tiny_gguf.write_reranker_gguf(tmp_path / "r.gguf"))
    pooling = reader.fields["bert.pooling_type"]
    assert int(pooling.parts[pooling.data[0]][0]) == int(gguf.PoolingType.RANK)
    names = {t.name for t in reader.tensors}
    assert {"cls.weight", "cls.bias", "cls.output.weight", "cls.output.bias"} <= names


def test_not_gguf_and_truncated_files(tmp_path: Path) -> None:
    junk = tiny_gguf.write_not_gguf(tmp_path / "junk.gguf")
    assert junk.read_bytes()[:4] != b"GGUF"
    src = tiny_gguf.write_embedding_gguf(tmp_path / "full.gguf")
    cut = tiny_gguf.write_truncated_gguf(src, tmp_path / "cut.gguf")
    assert cut.read_bytes() == src.read_bytes()[: cut.stat().st_size]
    assert cut.stat().st_size < src.stat().st_size
    with pytest.raises(ValueError, match="cannot truncate"):
        tiny_gguf.write_truncated_gguf(src, tmp_path / "same.gguf", src.stat().st_size)


# -- llama.cpp -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_pooling_constants_match_llama_cpp() -> None:
    import llama_cpp

    assert emb.POOLING_UNSPECIFIED == llama_cpp.LLAMA_POOLING_TYPE_UNSPECIFIED
    assert emb.POOLING_NONE == llama_cpp.LLAMA_POOLING_TYPE_NONE
    assert emb.POOLING_MEAN == llama_cpp.LLAMA_POOLING_TYPE_MEAN
    assert emb.POOLING_CLS == llama_cpp.LLAMA_POOLING_TYPE_CLS
    assert emb.POOLING_LAST == llama_cpp.LLAMA_POOLING_TYPE_LAST
    assert emb.POOLING_RANK == llama_cpp.LLAMA_POOLING_TYPE_RANK


@pytest.mark.slow
def test_embeddings_have_model_width_and_unit_norm(embedding_llm: Llama) -> None:
    texts = ["the cat sat on the mat", "a cat sat on a mat", "stock markets fell sharply today"]
    vectors, n_tokens = emb.embed_texts(embedding_llm, texts)
    assert len(vectors) == 3
    for vector in vectors:
        assert len(vector) == tiny_gguf.EMBEDDING_N_EMBD == embedding_llm.n_embd()
        assert _norm(vector) == pytest.approx(1.0, abs=1e-5)
    # [CLS] + words + [SEP] for each text.
    assert n_tokens == (6 + 2) + (6 + 2) + (5 + 2)
    # A bag-of-words-like model: shared words mean closer vectors.
    assert _cosine(vectors[0], vectors[1]) > _cosine(vectors[0], vectors[2])


@pytest.mark.slow
def test_identical_texts_identical_vectors_different_texts_different(
    embedding_llm: Llama,
) -> None:
    vectors, _ = emb.embed_texts(embedding_llm, ["hello world", "hello world", "goodbye moon"])
    # Equal up to float32 summation order (the two copies sit at different batch offsets).
    assert vectors[0] == pytest.approx(vectors[1], abs=1e-6)
    assert _cosine(vectors[0], vectors[2]) < 0.999
    # The same call twice is bit-for-bit the same.
    once, _ = emb.embed_texts(embedding_llm, ["hello world"])
    twice, _ = emb.embed_texts(embedding_llm, ["hello world"])
    assert once == twice
    assert once[0] == pytest.approx(vectors[0], abs=1e-6)


@pytest.mark.slow
def test_batched_embeddings_match_one_by_one(embedding_llm: Llama) -> None:
    texts = ["the sun is hot", "", "rain on the river", "my dog likes to play"]
    batched, total = emb.embed_texts(embedding_llm, texts)
    single = [emb.embed_texts(embedding_llm, [t]) for t in texts]
    assert total == sum(n for _, n in single)
    for vector, (alone, _) in zip(batched, single, strict=True):
        assert vector == pytest.approx(alone[0], abs=1e-5)


@pytest.mark.slow
def test_unnormalized_embeddings(embedding_llm: Llama) -> None:
    raw, _ = emb.embed_texts(embedding_llm, ["the cat"], normalize=False)
    unit, _ = emb.embed_texts(embedding_llm, ["the cat"])
    assert _norm(raw[0]) != pytest.approx(1.0, abs=1e-3)
    assert [x / _norm(raw[0]) for x in raw[0]] == pytest.approx(unit[0], abs=1e-6)


@pytest.mark.slow
def test_long_text_is_truncated_not_fatal(
    embedding_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Micro-batch below n_ctx: a non-causal model must never get more than n_ubatch tokens
    # in one batch, or llama.cpp aborts the process. (n_batch == n_ubatch: see batch_kwargs.)
    llm = _load(
        embedding_path, n_ctx=256, n_batch=64, n_ubatch=64, **emb.embedding_llama_kwargs("bert", 1)
    )
    try:
        with caplog.at_level(logging.WARNING, logger="xindesk.engine"):
            vectors, n_tokens = emb.embed_texts(llm, ["word " * 500, "the cat"])
        assert n_tokens == 64 + 4
        assert "cut off" in caplog.text
        assert len(vectors[0]) == tiny_gguf.EMBEDDING_N_EMBD
        assert _norm(vectors[0]) == pytest.approx(1.0, abs=1e-5)
    finally:
        llm.close()


@pytest.mark.slow
def test_cls_pooled_embedding_model(tiny_dir: Path) -> None:
    path = tiny_gguf.write_embedding_gguf(tiny_dir / "embed-cls.gguf", pooling="cls")
    llm = _load(path, **emb.embedding_llama_kwargs("bert", emb.POOLING_CLS))
    try:
        assert int(llm.pooling_type()) == emb.POOLING_CLS
        vectors, _ = emb.embed_texts(llm, ["red apple", "blue sky"])
        assert all(len(v) == tiny_gguf.EMBEDDING_N_EMBD for v in vectors)
        assert vectors[0] != vectors[1]
    finally:
        llm.close()


@pytest.mark.slow
def test_embed_texts_refuses_a_rank_context(reranker_llm: Llama) -> None:
    with pytest.raises(InvalidRequest, match="embeddings"):
        emb.embed_texts(reranker_llm, ["hello"])


@pytest.mark.slow
def test_rerank_pair_layout_is_llama_server_layout(reranker_llm: Llama) -> None:
    cls_id, sep_id = reranker_llm.token_bos(), reranker_llm.token_eos()
    query = reranker_llm.tokenize(QUERY.encode(), add_bos=False)
    doc = reranker_llm.tokenize(RELATED.encode(), add_bos=False)
    tokens, truncated = rr.pair_tokens(reranker_llm, QUERY, RELATED, 512, None)
    assert not truncated
    assert tokens == [cls_id, *query, sep_id, *doc, sep_id]


@pytest.mark.slow
def test_cross_encoder_scores(reranker_llm: Llama) -> None:
    documents = [UNRELATED[0], RELATED, UNRELATED[1]]
    scores, n_tokens = rr.cross_encoder_scores(reranker_llm, QUERY, documents)
    assert len(scores) == 3
    assert all(0.0 < s < 1.0 for s in scores)
    assert scores[1] > max(scores[0], scores[2])
    # [CLS] q [SEP] d [SEP] per document.
    assert n_tokens == sum(4 + 3 + len(d.split()) for d in documents)
    again, _ = rr.cross_encoder_scores(reranker_llm, QUERY, documents)
    assert again == scores
    # Other documents in the batch do not change a document's score.
    alone, _ = rr.cross_encoder_scores(reranker_llm, QUERY, [RELATED])
    assert alone[0] == pytest.approx(scores[1], abs=1e-5)


@pytest.mark.slow
def test_cross_encoder_refuses_an_embedding_context(embedding_llm: Llama) -> None:
    with pytest.raises(InvalidRequest, match="cross-encoder"):
        rr.cross_encoder_scores(embedding_llm, QUERY, [RELATED])


@pytest.mark.slow
def test_cross_encoder_reads_long_documents_in_pieces_and_cuts_what_cannot_fit(
    reranker_llm: Llama, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="xindesk.engine"):
        scores, n_tokens = rr.cross_encoder_scores(reranker_llm, QUERY, ["fish " * 9000, RELATED])
    assert f"first {pieces_of.MAX_PIECES} pieces" in caplog.text
    assert 512 < n_tokens <= pieces_of.MAX_PIECES * 512 + (4 + 3 + 5)
    assert all(0.0 < s < 1.0 for s in scores)
    caplog.clear()
    # A query that leaves no room for any document: the pair is cut to the context instead.
    with caplog.at_level(logging.WARNING, logger="xindesk.engine"):
        scores, n_tokens = rr.cross_encoder_scores(reranker_llm, "cats " * 900, [RELATED])
    assert "was cut" in caplog.text
    assert n_tokens == 512
    assert 0.0 < scores[0] < 1.0


@pytest.mark.slow
def test_rerank_template_in_gguf_is_used(tiny_dir: Path, reranker_llm: Llama) -> None:
    path = tiny_gguf.write_reranker_gguf(
        tiny_dir / "rerank-template.gguf", rerank_template="[CLS]{query}[SEP]{document}[SEP]"
    )
    llm = _load(path, **rr.rerank_llama_kwargs("cross-encoder"))
    try:
        import llama_cpp

        stored = llama_cpp.llama_model_chat_template(llm.model, b"rerank")
        assert stored == b"[CLS]{query}[SEP]{document}[SEP]"
        tokens, _ = rr.pair_tokens(llm, QUERY, RELATED, 512, "[CLS]{query}[SEP]{document}[SEP]")
        default, _ = rr.pair_tokens(reranker_llm, QUERY, RELATED, 512, None)
        assert tokens == default
        scores, _ = rr.cross_encoder_scores(llm, QUERY, [RELATED])
        expected, _ = rr.cross_encoder_scores(reranker_llm, QUERY, [RELATED])
        assert scores == pytest.approx(expected, abs=1e-6)
    finally:
        llm.close()


@pytest.mark.slow
def test_gemma_answer_tokens_and_frame(gemma_yes_no_llm: Llama) -> None:
    yes_id, no_id = rr.answer_token_ids(gemma_yes_no_llm)
    assert yes_id != no_id
    assert gemma_yes_no_llm.detokenize([yes_id]) == b"yes"
    assert gemma_yes_no_llm.detokenize([no_id]) == b"no"
    prefix, suffix = rr.yes_no_frame(gemma_yes_no_llm)
    # The base model has no chat template: Qwen3-Reranker's ChatML prompt, no <think> block.
    assert prefix.startswith("<|im_start|>system\nJudge whether the Document")
    assert suffix == "<|im_end|>\n<|im_start|>assistant\n"


@pytest.mark.slow
def test_yes_no_frame_through_a_known_chat_template() -> None:
    gemma_it = (
        b"{{ bos_token }}{% for m in messages %}<start_of_turn>{{ m.role }}\n"
        b"{{ m.content }}<end_of_turn>\n{% endfor %}"
    )
    # llama.cpp's Gemma format folds the system prompt into the first user turn.
    assert rr.chat_template_frame(gemma_it, "SYS") == (
        "<start_of_turn>user\nSYS\n\n",
        "<end_of_turn>\n<start_of_turn>model\n",
    )
    assert rr.chat_template_frame(b"not a template llama.cpp knows", "SYS") is None


@pytest.mark.slow
def test_gemma_yes_no_scores(gemma_yes_no_llm: Llama) -> None:
    query = "What is the capital of France?"
    documents = [
        "Paris is the capital of France.",
        "The stock market fell sharply today.",
        "Bananas are a yellow fruit rich in potassium.",
    ]
    scores, n_tokens = rr.yes_no_scores(gemma_yes_no_llm, query, documents)
    assert len(scores) == 3
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert n_tokens > 3 * 50
    again, _ = rr.yes_no_scores(gemma_yes_no_llm, query, documents)
    assert again == pytest.approx(scores, abs=1e-6)
    # Each document is scored after the same cached prefix, whatever the order.
    reversed_scores, _ = rr.yes_no_scores(gemma_yes_no_llm, query, documents[::-1])
    assert reversed_scores[::-1] == pytest.approx(scores, abs=1e-5)
    custom, _ = rr.yes_no_scores(
        gemma_yes_no_llm, query, documents, instruction="Find the answer to a geography question"
    )
    assert all(0.0 <= s <= 1.0 for s in custom)


@pytest.mark.slow
def test_gemma_yes_no_cuts_long_documents(
    gemma_gguf: Path, caplog: pytest.LogCaptureFixture
) -> None:
    llm = _load(gemma_gguf, n_ctx=256, n_batch=64, **rr.rerank_llama_kwargs("llm-yes-no"))
    try:
        with caplog.at_level(logging.WARNING, logger="xindesk.engine"):
            scores, n_tokens = rr.yes_no_scores(llm, "capital of France", ["Paris " * 400, "x"])
        assert "cut off" in caplog.text
        assert all(0.0 <= s <= 1.0 for s in scores)
        assert n_tokens <= 2 * 256
    finally:
        llm.close()


@pytest.mark.slow
def test_yes_no_refuses_an_embedding_context(embedding_llm: Llama) -> None:
    with pytest.raises(InvalidRequest, match="logits"):
        rr.yes_no_scores(embedding_llm, QUERY, [RELATED])


@pytest.mark.slow
def test_gemma_as_embedding_model_uses_last_token(gemma_gguf: Path) -> None:
    llm = _load(gemma_gguf, n_ctx=512, n_batch=512, **emb.embedding_llama_kwargs("gemma3", None))
    try:
        assert int(llm.pooling_type()) == emb.POOLING_LAST
        vectors, n_tokens = emb.embed_texts(llm, ["hello world", "hello world", "stock market"])
        assert all(len(v) == llm.n_embd() == 640 for v in vectors)
        assert all(_norm(v) == pytest.approx(1.0, abs=1e-5) for v in vectors)
        assert vectors[0] == pytest.approx(vectors[1], abs=1e-5)
        assert _cosine(vectors[0], vectors[2]) < 0.99
        assert n_tokens > 3
    finally:
        llm.close()


@pytest.mark.slow
@pytest.mark.parametrize("n_bytes", [0, 4, 24, 200, 5000, None])
def test_broken_tiny_files_fail_to_load(tmp_path: Path, n_bytes: int | None) -> None:
    src = tiny_gguf.write_embedding_gguf(tmp_path / "full.gguf")
    cut = tiny_gguf.write_truncated_gguf(src, tmp_path / "cut.gguf", n_bytes)
    with pytest.raises(ValueError, match="Failed to load model"):
        _load(cut, embedding=True)


@pytest.mark.slow
def test_not_gguf_fails_to_load(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Failed to load model"):
        _load(tiny_gguf.write_not_gguf(tmp_path / "junk.gguf"))


@pytest.mark.slow
def test_truncated_gemma_fails_to_load(gemma_gguf: Path, tmp_path: Path) -> None:
    cut = tiny_gguf.write_truncated_gguf(gemma_gguf, tmp_path / "gemma-cut.gguf")
    with pytest.raises(ValueError, match="Failed to load model"):
        _load(cut)


@pytest.fixture(scope="module")
def small_reranker_llm(reranker_path: Path) -> Iterator[Llama]:
    """The tiny cross-encoder with a context of 64 tokens: long documents do not fit."""
    llm = _load(reranker_path, **rr.rerank_llama_kwargs("cross-encoder", n_ctx=64))
    yield llm
    llm.close()


@pytest.mark.slow
def test_a_long_document_is_read_in_pieces_and_scores_as_its_best(
    small_reranker_llm: Llama,
) -> None:
    llm = small_reranker_llm
    limit = emb.token_capacity(llm)
    filler = " ".join(["the weather is sunny"] * 30)
    long_related = f"{filler} {RELATED}"
    pieces = pieces_of.document_pieces(llm, QUERY, long_related, limit, None)
    assert 1 < len(pieces) <= pieces_of.MAX_PIECES
    # Every piece fits with the query; together they hold the whole document, end included.
    for piece in pieces:
        assert not rr.pair_tokens(llm, QUERY, piece, limit, None)[1]
    assert RELATED in pieces[-1]
    assert pieces_of.document_pieces(llm, QUERY, RELATED, limit, None) == [RELATED]

    scores, _tokens = rr.cross_encoder_scores(llm, QUERY, [long_related, filler, RELATED])
    piece_scores, _ = rr.cross_encoder_scores(llm, QUERY, pieces)
    # The long document scores as its best piece: the passage at its end counts, though a
    # cut at the context would have dropped it.
    assert scores[0] == pytest.approx(max(piece_scores), abs=1e-5)
    assert len({round(score, 6) for score in piece_scores}) > 1  # each piece read apart
