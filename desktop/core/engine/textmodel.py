"""A chat/completion model on llama.cpp's low-level API: the weights, one context, the vocabulary.

`llama_cpp.Llama` owns a context with one sequence and samples through a sampler chain that
copies the whole vocabulary every token. The batching loop (`engine.batcher`) needs a context
with one sequence per parallel request instead, so this class loads the model and makes that
context itself, with the same defaults `Llama` uses for the launch options XinDesk passes.
Runs only in the model's worker process.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
from typing import Any

from desktop.core.memory.estimate import ENGINE_SWA_FULL

log = logging.getLogger("xindesk.engine")

# llama.cpp's own cap (LLAMA_MAX_SEQ); asking for more fails context creation.
MAX_PARALLEL = 64

# ggml's numbers (ggml.h `enum ggml_type`) of the types a KV cache can hold, by llama.cpp's
# names for them (`llama-server --cache-type-k`); llama-cpp-python's `type_k`/`type_v` take
# the numbers.
GGML_TYPE_IDS: dict[str, int] = {
    "f32": 0,
    "f16": 1,
    "q4_0": 2,
    "q4_1": 3,
    "q5_0": 6,
    "q5_1": 7,
    "q8_0": 8,
    "iq4_nl": 20,
    "bf16": 30,
}


def load_mode(lib: Any, *, use_mmap: bool, use_mlock: bool) -> int:
    """llama.cpp's load mode for XinDesk's `use_mmap` and `use_mlock` launch options (this
    llama.cpp has one enum where older ones had two flags)."""
    if use_mmap and use_mlock:
        return int(lib.LLAMA_LOAD_MODE_MMAP_MLOCK)
    if use_mlock:
        return int(lib.LLAMA_LOAD_MODE_MLOCK)
    if use_mmap:
        return int(lib.LLAMA_LOAD_MODE_MMAP)
    return int(lib.LLAMA_LOAD_MODE_NONE)


def flash_attn_type(lib: Any, mode: object) -> int:
    """llama.cpp's flash attention setting for the launch option: "auto" (the default: on
    where the device that holds a layer supports it, as llama-server does), "on" or "off"
    (a bool means on or off)."""
    if mode is True or mode == "on":
        return int(lib.LLAMA_FLASH_ATTN_TYPE_ENABLED)
    if mode is False or mode == "off":
        return int(lib.LLAMA_FLASH_ATTN_TYPE_DISABLED)
    return int(lib.LLAMA_FLASH_ATTN_TYPE_AUTO)


def ggml_type(kv_type: object) -> int:
    """ggml's number for a KV cache type named at launch (`running.engine_options`)."""
    if isinstance(kv_type, int):
        return kv_type
    return GGML_TYPE_IDS[str(kv_type)]


def longest_token_bytes(vocab: Any, n_vocab: int) -> int:
    """Bytes of the longest token text in a vocabulary, special tokens included.

    The text as the vocabulary stores it is never shorter than the bytes the token stands for
    (SentencePiece writes a space as the 3-byte "▁", byte-level BPE writes each byte as a
    1- or 2-byte character, byte tokens are "<0x0A>"), so a prompt of `b` bytes has at least
    b / this many tokens: the server refuses a prompt that surely cannot fit before it is
    tokenized (`running.prompt_bounds`). About 0.15 s for a 262k-token vocabulary."""
    import llama_cpp

    longest = 1
    text_of = llama_cpp.llama_vocab_get_text
    for token in range(n_vocab):
        text = text_of(vocab, token)
        if text is not None and len(text) > longest:
            longest = len(text)
    return longest


class TextModel:
    """The loaded weights and a context with `parallel` sequences of `n_ctx` tokens each."""

    def __init__(self, model_path: str, llama_kwargs: dict[str, Any], parallel: int) -> None:
        import llama_cpp
        from llama_cpp import _internals
        from llama_cpp._logger import set_verbose

        set_verbose(False)
        llama_cpp.llama_backend_init()
        self._lib = llama_cpp
        kwargs = dict(llama_kwargs)
        mparams = llama_cpp.llama_model_default_params()
        mparams.n_gpu_layers = int(kwargs.get("n_gpu_layers", 0))
        mparams.main_gpu = int(kwargs.get("main_gpu", 0))
        mparams.load_mode = load_mode(
            lib=llama_cpp,
            use_mmap=bool(kwargs.get("use_mmap", True)),
            use_mlock=bool(kwargs.get("use_mlock", False)),
        )
        self.model = _internals.LlamaModel(path_model=model_path, params=mparams, verbose=False)
        self.parallel = max(1, min(int(parallel), MAX_PARALLEL))
        n_ctx_train = self.model.n_ctx_train()
        n_ctx = int(kwargs.get("n_ctx") or n_ctx_train)
        cparams = llama_cpp.llama_context_default_params()
        # One KV stream per sequence (not a unified cache): every request gets the full context
        # it was launched with, and each sequence's attention runs over its own cells only.
        cparams.n_seq_max = self.parallel
        cparams.kv_unified = False
        cparams.n_ctx = n_ctx * self.parallel
        n_batch = min(int(kwargs.get("n_batch", 512)), cparams.n_ctx)
        cparams.n_batch = n_batch
        cparams.n_ubatch = min(int(kwargs.get("n_ubatch", 512)), n_batch)
        threads = int(kwargs.get("n_threads") or max(multiprocessing.cpu_count() // 2, 1))
        cparams.n_threads = threads
        cparams.n_threads_batch = int(kwargs.get("n_threads_batch") or threads)
        cparams.flash_attn_type = flash_attn_type(llama_cpp, kwargs.get("flash_attn", "auto"))
        cparams.offload_kqv = bool(kwargs.get("offload_kqv", True))
        if kwargs.get("rope_freq_base"):
            cparams.rope_freq_base = float(kwargs["rope_freq_base"])
        if kwargs.get("rope_freq_scale"):
            cparams.rope_freq_scale = float(kwargs["rope_freq_scale"])
        if kwargs.get("rope_scaling_type") is not None:
            cparams.rope_scaling_type = int(kwargs["rope_scaling_type"])
        for key in ("yarn_ext_factor", "yarn_attn_factor", "yarn_beta_fast", "yarn_beta_slow"):
            if kwargs.get(key) is not None:
                setattr(cparams, key, float(kwargs[key]))
        if kwargs.get("yarn_orig_ctx") is not None:
            cparams.yarn_orig_ctx = int(kwargs["yarn_orig_ctx"])
        if kwargs.get("type_k") is not None:
            cparams.type_k = ggml_type(kwargs["type_k"])
        if kwargs.get("type_v") is not None:
            cparams.type_v = ggml_type(kwargs["type_v"])
        # Sliding-window layers keep only the window's cells unless the launch asks for
        # `swa_full` (see fit.ENGINE_SWA_FULL). `engine.slots` checks that a reused prefix
        # still has its window.
        cparams.swa_full = bool(kwargs.get("swa_full", ENGINE_SWA_FULL))
        ctx = llama_cpp.llama_init_from_model(self.model.model, cparams)
        if ctx is None:
            self.model.close()  # type: ignore[no-untyped-call]
            raise ValueError(
                f"llama.cpp could not create a context of {cparams.n_ctx} tokens "
                f"({self.parallel} sequences of {n_ctx})"
            )
        self.ctx = ctx
        self.memory = llama_cpp.llama_get_memory(ctx)
        self.vocab = self.model.vocab
        self.n_batch = n_batch
        self.n_ubatch = int(cparams.n_ubatch)
        # Per sequence: llama.cpp pads the total, so ask it what each sequence really has.
        self.n_ctx_seq = min(int(llama_cpp.llama_n_ctx_seq(ctx)), n_ctx)
        self.n_vocab = self.model.n_vocab()
        self.n_swa = int(llama_cpp.llama_model_n_swa(self.model.model))
        # Whether a sequence's last cells can be dropped (speculative decoding needs it):
        # recurrent and hybrid models keep a state, not cells per position.
        self.can_rewind = not (
            llama_cpp.llama_model_is_recurrent(self.model.model)
            or llama_cpp.llama_model_is_hybrid(self.model.model)
        )
        self._pieces: dict[int, bytes] = {}
        self._special_pieces: dict[int, bytes] = {}
        self._eog: dict[int, bool] = {}
        self._buffer = ctypes.create_string_buffer(256)

    # -- facts -----------------------------------------------------------------------------------

    def n_ctx(self) -> int:
        """Tokens one request may use (prompt and answer together)."""
        return self.n_ctx_seq

    def n_ctx_train(self) -> int:
        return int(self.model.n_ctx_train())

    def n_embd(self) -> int:
        return int(self.model.n_embd())

    def metadata(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self.model.metadata().items()}

    def token_bos(self) -> int:
        return int(self.model.token_bos())

    def token_eos(self) -> int:
        return int(self.model.token_eos())

    def add_bos_token(self) -> bool:
        return bool(self.model.add_bos_token())

    # -- text ------------------------------------------------------------------------------------

    def tokenize(self, text: bytes, add_bos: bool, special: bool) -> list[int]:
        tokens: list[int] = self.model.tokenize(text, add_bos, special)
        return tokens

    def piece(self, token: int, special: bool) -> bytes:
        """The bytes of one token, cached: a token's text is looked up once per worker, not
        once per generated token."""
        cache = self._special_pieces if special else self._pieces
        found = cache.get(token)
        if found is not None:
            return found
        lib = self._lib
        n = lib.llama_token_to_piece(self.vocab, token, self._buffer, len(self._buffer), 0, special)
        if n < 0:
            self._buffer = ctypes.create_string_buffer(-n + 16)
            n = lib.llama_token_to_piece(
                self.vocab, token, self._buffer, len(self._buffer), 0, special
            )
        text = self._buffer.raw[: max(n, 0)]
        cache[token] = text
        return text

    def detokenize(self, tokens: list[int], special: bool = False) -> bytes:
        return b"".join(self.piece(t, special) for t in tokens)

    def is_eog(self, token: int) -> bool:
        found = self._eog.get(token)
        if found is None:
            found = bool(self._lib.llama_vocab_is_eog(self.vocab, token))
            self._eog[token] = found
        return found

    def close(self) -> None:
        if self.ctx is not None:
            self._lib.llama_free(self.ctx)
            self.ctx = None
        self.model.close()  # type: ignore[no-untyped-call]
