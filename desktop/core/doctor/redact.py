"""Taking secrets out of anything that may be shared: support bundles, diagnostics.

Known secrets (the API key, hub tokens) are replaced wherever they appear. As a second guard,
text shaped like one (an `sk-` key, an `hf_` token, a password in a URL) is masked too, since a
secret the redactor was not told about (a key typed into a log message by someone) is exactly
the one that would leak.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REDACTED = "***"

_SHAPED_LIKE_SECRETS = (
    re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}"),  # XinDesk / OpenAI-style API keys
    re.compile(r"\bhf_[A-Za-z0-9]{16,}"),  # Hugging Face tokens
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._\-]{8,}"),  # an Authorization header's value
)
# user:password@ in any URL.
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s:@]+:[^/\s@]+@")


def without_credentials(url: str | None) -> str | None:
    """A URL (a proxy's, say) without the user name and password it may carry."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{REDACTED}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class Redactor:
    """Replaces the given secrets, and anything shaped like one, by "***"."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            value = value.replace(secret, REDACTED)
        value = _URL_CREDENTIALS.sub(rf"\1{REDACTED}@", value)
        for pattern in _SHAPED_LIKE_SECRETS:
            if pattern.groups:
                value = pattern.sub(rf"\1{REDACTED}", value)
            else:
                value = pattern.sub(REDACTED, value)
        return value

    def value(self, value: Any) -> Any:
        """Every string inside a JSON-like value redacted (keys too)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        return value
