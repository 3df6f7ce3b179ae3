"""Secrets at rest: VIM credentials are stored encrypted, never in clear.

A Fernet key is created once in ``$VNFM_HOME/secret.key`` (mode 0600). The
key never leaves that file; records hold only tokens.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

# Keys of SOL003 accessInfo (and of our own credential dicts) that are secret.
SECRET_KEYS = frozenset(
    {"password", "secret", "token", "clientSecret", "applicationCredentialSecret"}
)
REDACTED = "********"


class SecretBox:
    def __init__(self, home: Path) -> None:
        self.path = home / "secret.key"

    def _fernet(self) -> Fernet:
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(Fernet.generate_key())
        return Fernet(self.path.read_bytes().strip())

    def seal(self, data: dict[str, Any]) -> str:
        return self._fernet().encrypt(json.dumps(data).encode()).decode()

    def open(self, token: str) -> dict[str, Any]:
        value = json.loads(self._fernet().decrypt(token.encode()))
        return value if isinstance(value, dict) else {}


def redact(value: Any) -> Any:
    """A copy with every secret-named key's value replaced (for records and output)."""
    if isinstance(value, dict):
        return {k: (REDACTED if k in SECRET_KEYS else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def split_secrets(value: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(value without secrets, the secrets alone) of a flat credentials dict."""
    public = {k: v for k, v in value.items() if k not in SECRET_KEYS}
    secret = {k: v for k, v in value.items() if k in SECRET_KEYS}
    return public, secret
