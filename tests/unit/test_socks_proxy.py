"""A socks5:// download proxy (the settings accept one) must reach both hub libraries' HTTP
stacks without an import error: huggingface_hub uses httpx, modelscope uses requests."""

from __future__ import annotations

import httpx
import pytest
import requests


def test_httpx_takes_a_socks_proxy() -> None:
    # Without socksio installed httpx raises ImportError while building the client.
    with (
        httpx.Client(proxy="socks5://127.0.0.1:9", timeout=2) as client,
        pytest.raises(httpx.ConnectError),
    ):
        client.get("http://example.invalid/")


def test_requests_takes_a_socks_proxy() -> None:
    # Without PySocks, requests raises InvalidSchema("Missing dependencies for SOCKS support").
    proxies = {"http": "socks5h://127.0.0.1:9", "https": "socks5h://127.0.0.1:9"}
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get("http://example.invalid/", proxies=proxies, timeout=2)
