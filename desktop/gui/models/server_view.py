"""What the Connect page shows about the server, read in one go off the GUI thread, and the
test command it offers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from desktop.api.xinference import ListedModel
from desktop.client import ClientError, XinDeskClient


@dataclass(frozen=True)
class ServerView:
    """What the Connect page shows about the server, read in one go off the GUI thread."""

    endpoint: str
    xindesk: bool
    """False for a server without XinDesk's routes (a real Xinference): its keys are its own."""
    port: int | None = None
    lan_access: bool = False
    """Listening where other computers can reach it, now."""
    lan_saved: bool = False
    """The saved setting; it takes effect at the next server start."""
    lan_addresses: list[str] = field(default_factory=list)
    auth: bool = False
    keyring_available: bool = True
    keyring_message: str | None = None
    model_uid: str | None = None


def first_chat_model(models: list[ListedModel]) -> str | None:
    """The uid of a running chat model (else any running model) for the test command."""
    for model in models:
        if model.model_type == "LLM":
            return model.id
    return models[0].id if models else None


def read_server_view(client: XinDeskClient) -> ServerView:
    """Everything the page needs (runs on a worker thread)."""
    try:
        info = client.server_info()
    except ClientError as exc:
        if exc.status != 404:
            raise
        # Not an XinDesk: only the OpenAI routes are ours to show.
        return ServerView(
            endpoint=client.endpoint,
            xindesk=False,
            port=urlsplit(client.endpoint).port,
            model_uid=first_chat_model(client.list_models()),
        )
    key_info = client.api_key_info()
    settings = client.get_settings()
    return ServerView(
        endpoint=client.endpoint,
        xindesk=True,
        port=info.port,
        lan_access=info.lan_access,
        lan_saved=settings.server.lan_access,
        lan_addresses=list(info.lan_addresses),
        auth=key_info.enabled,
        keyring_available=key_info.keyring.available,
        keyring_message=key_info.keyring.message,
        model_uid=first_chat_model(client.list_models()),
    )


def curl_command(base_url: str, key: str | None, model_uid: str) -> str:
    """A one-line chat request to paste in a terminal."""
    auth = f' -H "Authorization: Bearer {key}"' if key else ""
    message = {"model": model_uid, "messages": [{"role": "user", "content": "hi"}]}
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    return (
        f"curl {base_url}/chat/completions{auth} -H \"Content-Type: application/json\" -d '{body}'"
    )
