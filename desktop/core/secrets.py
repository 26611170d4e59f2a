"""The API key and hub tokens, kept in the operating system's keychain through keyring.

Headless Linux often has no keychain at all. Then nothing is written anywhere: the caller gets a
`SecretStoreUnavailable` with a message saying so, and the server falls back to a key given on
the command line or in the environment (`XINDESK_API_KEY`), which lives only in that process.
"""

from __future__ import annotations

import logging
import secrets as _random
from dataclasses import dataclass

from desktop.core.errors import SecretStoreUnavailable

log = logging.getLogger("xindesk.secrets")

__all__ = [
    "API_KEY",
    "MIN_LAN_KEY_LENGTH",
    "SecretStore",
    "SecretStoreUnavailable",
    "generate_api_key",
    "lan_key_problem",
]

SERVICE = "xindesk"
API_KEY = "api-key"
# The key of a remote server the window connects to (Settings → Server).
REMOTE_API_KEY = "remote-api-key"


# The shortest key that may guard a server other machines can reach: anyone on the network can
# try keys, and a short one falls to guessing (a generated key has 46 characters).
MIN_LAN_KEY_LENGTH = 16


def generate_api_key() -> str:
    """A new random key (256 bits), in the `sk-` form OpenAI-style clients expect."""
    return "sk-" + _random.token_urlsafe(32)


def lan_key_problem(key: str | None) -> str | None:
    """Why `key` cannot guard LAN access (a sentence), or None when it can."""
    if not key:
        return "LAN access needs an API key, or anyone on your network could use your models."
    if len(key) < MIN_LAN_KEY_LENGTH:
        return (
            f"LAN access needs an API key of at least {MIN_LAN_KEY_LENGTH} characters, or "
            f"someone on your network could guess it; the key in use has {len(key)}."
        )
    return None


@dataclass(frozen=True)
class SecretStore:
    """Reads and writes XinDesk's secrets in the keyring (`service` separates test stores)."""

    service: str = SERVICE

    def _backend(self) -> object:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring) or (
            type(backend).__name__ == "ChainerBackend" and not getattr(backend, "backends", None)
        ):
            raise SecretStoreUnavailable(
                "No system keychain is available (common on headless Linux), so XinDesk cannot "
                "store secrets. Pass the API key with --api-key-file or XINDESK_API_KEY instead, "
                "or install a keyring backend (e.g. gnome-keyring or keyrings.alt)."
            )
        return backend

    def get(self, name: str) -> str | None:
        import keyring.errors

        backend = self._backend()
        try:
            value = backend.get_password(self.service, name)  # type: ignore[attr-defined]
        except keyring.errors.KeyringError as exc:
            raise SecretStoreUnavailable(f"The keychain refused to read {name}: {exc}") from exc
        return value if isinstance(value, str) else None

    def set(self, name: str, value: str) -> None:
        import keyring.errors

        backend = self._backend()
        try:
            backend.set_password(self.service, name, value)  # type: ignore[attr-defined]
        except keyring.errors.KeyringError as exc:
            raise SecretStoreUnavailable(f"The keychain refused to store {name}: {exc}") from exc
        log.info("stored %s in the keychain", name)

    def delete(self, name: str) -> None:
        import keyring.errors

        backend = self._backend()
        try:
            backend.delete_password(self.service, name)  # type: ignore[attr-defined]
        except keyring.errors.PasswordDeleteError:
            return
        except keyring.errors.KeyringError as exc:
            raise SecretStoreUnavailable(f"The keychain refused to delete {name}: {exc}") from exc


API_KEY_ENV = "XINDESK_API_KEY"


def configured_api_key(explicit: str | None = None) -> str | None:
    """The server's key: given explicitly, else `XINDESK_API_KEY`, else the keychain's.

    Without a keychain this is None (the reason is logged): the server then runs without a
    key on loopback, and refuses to listen on the network.
    """
    import os

    if explicit:
        return explicit
    if os.environ.get(API_KEY_ENV):
        return os.environ[API_KEY_ENV]
    try:
        return SecretStore().get(API_KEY)
    except SecretStoreUnavailable as exc:
        log.info("%s", exc)
        return None
