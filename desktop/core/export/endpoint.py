"""The URLs and key FastGPT uses for XinDesk: one place, so export and check agree."""

from __future__ import annotations

from dataclasses import dataclass

from desktop.core.export.served import ModelKind

#: `requestAuth` / `CHAT_API_KEY` when XinDesk has no key. FastGPT ≤ 4.8.19 sends
#: "Bearer undefined" for an empty requestAuth and One API refuses a channel without a key, so
#: a visible placeholder is clearer than nothing; XinDesk without a key accepts any bearer.
NO_KEY_PLACEHOLDER = "sk-xindesk-no-key"


@dataclass(frozen=True)
class Connection:
    """Where FastGPT sends requests and with which key.

    Attributes:
        base_url: Scheme, host and port, without `/v1` (`http://host.docker.internal:9997`).
        api_key: XinDesk's API key; None when the server needs none.
    """

    base_url: str
    api_key: str | None = None

    @classmethod
    def for_host(cls, host: str, port: int, api_key: str | None = None) -> Connection:
        shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
        return cls(f"http://{shown}:{port}", api_key)

    @classmethod
    def from_endpoint(cls, endpoint: str, api_key: str | None = None) -> Connection:
        """From an endpoint as people write it (`http://127.0.0.1:9997`, with or without `/v1`)."""
        base = endpoint.strip().rstrip("/")
        base = base.removesuffix("/v1")
        return cls(base, api_key)

    @property
    def v1_url(self) -> str:
        """The OpenAI-style base URL (`OPENAI_BASE_URL`, `oneapiUrl`, AI Proxy's address)."""
        return f"{self.base_url}/v1"

    @property
    def chat_url(self) -> str:
        return f"{self.v1_url}/chat/completions"

    @property
    def embeddings_url(self) -> str:
        return f"{self.v1_url}/embeddings"

    @property
    def rerank_url(self) -> str:
        return f"{self.v1_url}/rerank"

    def url_for(self, kind: ModelKind) -> str:
        """The full URL FastGPT posts a model of this kind to (its `requestUrl`)."""
        return {"llm": self.chat_url, "embedding": self.embeddings_url, "rerank": self.rerank_url}[
            kind
        ]

    @property
    def auth(self) -> str:
        """The bearer key to write into FastGPT and One API."""
        return self.api_key or NO_KEY_PLACEHOLDER
