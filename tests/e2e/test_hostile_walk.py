"""Every route of the server's own OpenAPI schema, walked with hostile input: no answer is a 5xx,
none hangs, and every 4xx is JSON `{"detail": ...}`.

The routes come from `/openapi.json`, so a new route is walked without anyone remembering to add
it. For each route and method: every path parameter replaced by traversal, NUL, percent-encoded
and very long values; every query parameter by values of the wrong type and size; every
declared body field (and, for the launch, every engine option) by each value of a generic set
(wrong JSON types, huge and non-finite numbers, deep nesting, NUL, long strings); and the whole
body by bodies that are empty, not UTF-8, not JSON, 100,000 levels deep or of the wrong shape.
Chat, completion, embedding and rerank routes name real models (Gemma 3 270M and the tiny
embedding and rerank GGUFs), so the hostile values reach the engine, not only the uid check.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from desktop.core.running.engine_options import KV_KEYS
from desktop.core.running.option_bounds import LLAMA_OPTIONS
from tests.fixtures.hub_server import TestHub
from tests.fixtures.server import REPO, ServerProcess, run_server

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

# A request that takes longer than this is a hang (the slowest honest case generates a short
# answer from Gemma 270M on a busy CPU).
CLIENT_TIMEOUT_S = 90.0
CHAT_UID, EMBED_UID, RERANK_UID = "walk", "walk-embed", "walk-rerank"


@dataclass(frozen=True)
class Raw:
    """JSON text written as it is: values the json module does not write (NaN, 1e400)."""

    text: str


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    label: str
    query: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None


@dataclass
class WalkResult:
    tried: int = 0
    server_errors: list[str] = field(default_factory=list)
    hangs: list[str] = field(default_factory=list)
    not_json: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def _deep(levels: int) -> str:
    return '{"a": ' * levels + "1" + "}" * levels


HOSTILE_VALUES: list[tuple[str, Any]] = [
    ("null", None),
    ("true", True),
    ("zero", 0),
    ("-1", -1),
    ("2**64", 2**64),
    ("10**100", 10**100),
    ("1.5", 1.5),
    ("empty string", ""),
    ("100k string", "x" * 100_000),
    ("traversal", "../x"),
    ("NUL", "a\u0000b"),
    ("RTL unicode", "日本語\u202e"),
    ("list", [1, "a", None]),
    ("object", {"a": {"b": [1]}}),
    ("deep object", Raw(_deep(900))),
    ("1e400", Raw("1e400")),
    ("NaN", Raw("NaN")),
    ("-Infinity", Raw("-Infinity")),
]

HOSTILE_BODIES: list[tuple[str, bytes]] = [
    ("empty body", b""),
    ("{}", b"{}"),
    ("[]", b"[]"),
    ("null", b"null"),
    ("a string", b'"x"'),
    ("not UTF-8", b'{"model": "\xff\xfe"}'),
    ("cut JSON", b'{"model": '),
    ("100k-deep list", b"[" * 100_000 + b"]" * 100_000),
    ("100k-deep object", _deep(100_000).encode()),
    ("NUL bytes", b"\x00" * 64),
    ("1 MB string", b'{"model": "' + b"x" * 1_000_000 + b'"}'),
    ("huge number", b'{"model": 1' + b"0" * 5000 + b"}"),
]

HOSTILE_PATH_VALUES: list[tuple[str, str]] = [
    ("../x", "..%2Fx"),
    ("../../etc/passwd", "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd"),
    ("NUL", "%00"),
    ("3000 chars", "x" * 3000),
    ("unknown", "nope"),
    ("unicode", quote("日本語")),
    ("bad UTF-8", "%FF%FE"),
    ("space", "%20"),
    ("dot dot", ".."),
    ("-1", "-1"),
    ("1e400", "1e400"),
]

HOSTILE_QUERY_VALUES: list[tuple[str, str]] = [
    ("word", "abc"),
    ("-1", "-1"),
    ("0", "0"),
    ("1e400", "1e400"),
    ("20 digits", "9" * 20),
    ("5000 chars", "x" * 5000),
    ("NUL", "\x00"),
    ("true", "true"),
    ("empty", ""),
    ("traversal", "../../x"),
]

# The launch's engine options, walked beside the declared fields.
LAUNCH_OPTIONS = sorted({*LLAMA_OPTIONS, *KV_KEYS, "flash_attn", "parallel", "speculative"})
# Routes whose hostile calls must not touch the walk's own models or its server's state.
_PATH_DEFAULTS = {
    "model_uid": "walk-missing",
    "model_type": "LLM",
    "model_name": "qwen3",
    "hub": "huggingface",
    "job_id": "nope",
    "model_id": "nope",
}


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        resolved: dict[str, Any] = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
        return resolved
    return schema


def _plausible(name: str, schema: dict[str, Any], fixed: dict[str, Any]) -> Any:
    """A value of the declared type for a field the walk is not mutating."""
    if name in fixed:
        return fixed[name]
    kinds = [schema.get("type")] + [s.get("type") for s in schema.get("anyOf", [])]
    if "string" in kinds:
        return "x"
    if "integer" in kinds:
        return 1
    if "number" in kinds:
        return 1.0
    if "boolean" in kinds:
        return False
    if "array" in kinds:
        return []
    return {}


def _encode(body: dict[str, Any]) -> bytes:
    raws = {
        f"@raw{index}@": value.text
        for index, value in enumerate(body.values())
        if isinstance(value, Raw)
    }
    marked = {
        key: (f"@raw{index}@" if isinstance(value, Raw) else value)
        for index, (key, value) in enumerate(body.items())
    }
    text = json.dumps(marked)
    for mark, raw in raws.items():
        text = text.replace(f'"{mark}"', raw)
    return text.encode()


def _fixed_fields(path: str, gemma: Path, sandbox: Path) -> dict[str, Any]:
    """Valid values for the fields of a route's body, so each mutation reaches deep."""
    fixed: dict[str, Any] = {
        "messages": [{"role": "user", "content": "Hi"}],
        "prompt": "Hi",
        "input": "Hi",
        "query": "q",
        "documents": ["d"],
        "max_tokens": 2,
        "path": str(sandbox / "nothing-here.gguf"),
        "repo_id": "nobody/nothing",
    }
    if path == "/v1/models":
        # Planned in full, then refused: the uid is the walk's own running model.
        fixed.update(model_uid=CHAT_UID, model_name="gemma-3-it", model_path=str(gemma), n_ctx=64)
    elif path == "/v1/embeddings":
        fixed["model"] = EMBED_UID
    elif path == "/v1/rerank":
        fixed["model"] = RERANK_UID
    elif path in ("/api/embed", "/api/embeddings"):
        fixed["model"] = EMBED_UID
    elif path == "/api/delete":
        # Ollama's delete stops serving the model it names: never one of the walk's own.
        fixed["model"] = "walk-nothing"
    else:
        fixed["model"] = CHAT_UID
    if path == "/v1/xindesk/models-folder":
        fixed.update(path=str(sandbox / "models-elsewhere"), mode="link")
    return fixed


def _sandboxed(name: str, value: Any, sandbox: Path) -> Any:
    """Traversal in a field that names a file stays inside the walk's own folder."""
    if name.endswith("path") and value == "../x":
        return f"{sandbox}/../walk-escape"
    return value


def cases(spec: dict[str, Any], gemma: Path, sandbox: Path) -> Iterator[Case]:
    """Every hostile case for every route and method of `spec`."""
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            method = method.upper()
            params = operation.get("parameters", [])
            path_params = {p["name"] for p in params if p["in"] == "path"}
            query_params = [p["name"] for p in params if p["in"] == "query"]
            base_path = path
            for name in path_params:
                base_path = base_path.replace(
                    "{" + name + "}", _PATH_DEFAULTS.get(name, "x")
                ).replace("{" + name + ":path}", _PATH_DEFAULTS.get(name, "x"))
            content = (operation.get("requestBody") or {}).get("content", {})
            schema = _resolve(spec, content.get("application/json", {}).get("schema", {}))
            fixed = _fixed_fields(path, gemma, sandbox)
            properties = schema.get("properties", {})
            base_body = {
                name: _plausible(name, _resolve(spec, sub), fixed)
                for name, sub in properties.items()
                if name in schema.get("required", []) or name in fixed
            }
            body = _encode(base_body) if content else None

            for name in path_params:
                for label, raw in HOSTILE_PATH_VALUES:
                    hostile = path
                    for other in path_params:
                        value = raw if other == name else _PATH_DEFAULTS.get(other, "x")
                        hostile = hostile.replace("{" + other + "}", value)
                        hostile = hostile.replace("{" + other + ":path}", value)
                    yield Case(method, hostile, f"path {name}={label}", body=body)
            for name in query_params:
                for label, value in HOSTILE_QUERY_VALUES:
                    yield Case(method, base_path, f"query {name}={label}", {name: value}, body)
            yield Case(method, base_path, "unknown query", {"a\x00": "%00", "b": "x" * 3000}, body)
            if not content:
                yield Case(method, base_path, "unexpected body", body=b'{"a": [1, {"b": null}]}')
                continue
            names = list(properties)
            if path == "/v1/models":
                names += LAUNCH_OPTIONS
            for name in names:
                for label, value in HOSTILE_VALUES:
                    mutated = {**base_body, name: _sandboxed(name, value, sandbox)}
                    yield Case(method, base_path, f"body {name}={label}", body=_encode(mutated))
            for label, raw_body in HOSTILE_BODIES:
                yield Case(method, base_path, f"body: {label}", body=raw_body)


def walk(server: ServerProcess, gemma: Path, sandbox: Path) -> WalkResult:
    """Send every case; count 5xx answers, hangs and 4xx answers that are not JSON."""
    spec = httpx.get(f"{server.url}/openapi.json", timeout=30).json()
    result = WalkResult()
    headers = {"Content-Type": "application/json"}
    keep = {CHAT_UID, EMBED_UID, RERANK_UID}
    with httpx.Client(base_url=server.url, timeout=CLIENT_TIMEOUT_S) as client:
        for case in cases(spec, gemma, sandbox):
            result.tried += 1
            name = f"{case.method} {case.path[:80]} [{case.label}]"
            try:
                response = client.request(
                    case.method,
                    case.path,
                    params=case.query or None,
                    content=case.body,
                    headers=headers,
                )
            except httpx.TimeoutException:
                result.hangs.append(name)
                continue
            except httpx.TransportError as exc:
                # The connection closed without an answer: a crash or a reset.
                result.dropped.append(f"{name} -> {exc!r}")
                continue
            if response.status_code >= 500:
                result.server_errors.append(
                    f"{name} -> {response.status_code} {response.text[:200]}"
                )
            elif response.status_code >= 400:
                try:
                    detail = response.json().get("detail")
                except (ValueError, AttributeError):
                    detail = None
                if detail is None:
                    result.not_json.append(f"{name} -> {response.status_code}")
            if case.path == "/v1/xindesk/api-key" and case.method == "POST" and response.is_success:
                # A key was made: the rest of the walk uses it (it turns auth on).
                headers["Authorization"] = f"Bearer {response.json()['api_key']}"
            if case.path == "/v1/models" and case.method == "POST" and response.is_success:
                # A hostile launch that was valid after all: its model goes at once.
                for model in client.get("/v1/models", headers=headers).json()["data"]:
                    if model["id"] not in keep:
                        client.delete(f"/v1/models/{quote(model['id'], safe='')}", headers=headers)
        client.delete("/v1/xindesk/api-key", headers=headers)
    return result


def prepare_home(home: Path, hub: TestHub) -> None:
    """Settings for the walk's server: the hubs are a local test hub (searches and repository
    listings answer at once, from fixtures, instead of waiting on a network)."""
    (home / "config").mkdir(parents=True)
    (home / "config" / "settings.json").write_text(
        json.dumps({"downloads": {"hf_endpoint": hub.url, "modelscope_endpoint": hub.url}})
    )


def launch_walk_models(server: ServerProcess, gemma: Path, tiny: dict[str, Path]) -> None:
    server.launch_gguf(gemma, CHAT_UID, n_ctx=64, parallel=2)
    server.launch_gguf(tiny["embedding"], EMBED_UID, model_name=EMBED_UID, model_type="embedding")
    server.launch_gguf(tiny["reranker"], RERANK_UID, model_name=RERANK_UID, model_type="rerank")


@pytest.fixture(scope="module")
def walk_server(
    tmp_path_factory: pytest.TempPathFactory, gemma_gguf: Path, tiny_models: dict[str, Path]
) -> Iterator[ServerProcess]:
    home = tmp_path_factory.mktemp("walk-home")
    with TestHub() as hub:
        prepare_home(home, hub)
        with run_server(home) as server:
            launch_walk_models(server, gemma_gguf, tiny_models)
            yield server


# Thousands of requests, some answered by real models: minutes on a 2-core machine.
@pytest.mark.timeout(1800)
def test_no_hostile_input_gets_a_5xx_or_hangs(
    walk_server: ServerProcess, gemma_gguf: Path, tmp_path: Path
) -> None:
    sandbox = tmp_path / "walk"
    sandbox.mkdir()
    # The server runs in the repository: a relative path it took would land in it or, for
    # the walk's "../x" and "../../x", beside it.
    before = set(REPO.iterdir())
    beside = [REPO.parent / "x", REPO.parent.parent / "x"]
    assert not any(path.exists() for path in beside)
    result = walk(walk_server, gemma_gguf, sandbox)
    assert result.tried > 2500
    assert result.server_errors == []
    assert result.hangs == []
    assert result.not_json == []
    assert result.dropped == []
    # The walk's models are all still there and serving.
    listed = {m["id"] for m in httpx.get(f"{walk_server.url}/v1/models").json()["data"]}
    assert listed == {CHAT_UID, EMBED_UID, RERANK_UID}
    reply = httpx.post(
        f"{walk_server.url}/v1/chat/completions",
        json={"model": CHAT_UID, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2},
        timeout=60,
    )
    assert reply.status_code == 200, reply.text
    # Nothing was written in the repository or beside it.
    assert set(REPO.iterdir()) - before == set()
    assert not any(path.exists() for path in beside)
