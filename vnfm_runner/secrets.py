"""Secrets: which values are secret, sealing them at rest, and redacting them on output.

One function, :func:`is_secret`, decides by a key's name whether its value is a
secret (any case, any depth). Secrets are stored sealed (Fernet) and shown as
``********``.

The sealing keyring is ``$VNFM_HOME/secret.key`` (mode 0600): one Fernet key a
line, the first seals, every line opens. ``vnfm keys rotate --sealing`` puts a
new key first, re-seals every sealed value with it, then drops the old key
(:mod:`vnfm_runner.cli.keys_cmds`). The keyring is read on every use, so a
rotation takes effect in every process at once.
"""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

REDACTED = "********"

# Normalised key names (lower case, no "_", "-", "." or spaces) that hold secrets...
_SECRET_NAMES = frozenset(
    {
        "token",
        "accesstoken",
        "refreshtoken",
        "authtoken",
        "idtoken",
        "bearertoken",
        "sessiontoken",
        "authorization",
        "keymaterial",
        "sshkey",
    }
)
# ...and the parts that make any name a secret's (clientPassword, OS_PASSWORD, apiKey).
_SECRET_PARTS = ("password", "passwd", "passphrase", "secret", "apikey", "privatekey")
_NOISE = re.compile(r"[\s_.\-]")

# Fernet tokens are URL-safe base64 of version byte 0x80 and a timestamp: "gAAAAA…".
_SEALED = re.compile(r"gAAAAA[A-Za-z0-9_\-]+=*")


def is_secret(name: Any) -> bool:
    """Whether the value under this key (dict key, option, env name) is a secret."""
    return isinstance(name, str) and _secret_name(name)


# Every API answer is redacted key by key, and documents repeat the same few hundred
# keys: remembered, a listing's redaction costs a dict lookup per key, not a regex.
@functools.lru_cache(maxsize=4096)
def _secret_name(name: str) -> bool:
    norm = _NOISE.sub("", name.lower())
    return norm in _SECRET_NAMES or any(part in norm for part in _SECRET_PARTS)


def redact(value: Any) -> Any:
    """A copy with every secret-named key's value replaced (records and output)."""
    if isinstance(value, dict):
        return {
            k: (REDACTED if is_secret(k) and v is not None else redact(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def split_secrets(value: Any) -> tuple[Any, Any]:
    """(value without its secrets, the secrets alone in the same shape), at any depth.

    ``merge(*split_secrets(v)) == v``; the second part is empty ({} / None) when
    there is no secret.
    """
    if isinstance(value, dict):
        public: dict[str, Any] = {}
        secret: dict[str, Any] = {}
        for k, v in value.items():
            if is_secret(k):
                secret[k] = v
                continue
            public[k], hidden = split_secrets(v)
            if hidden:
                secret[k] = hidden
        return public, secret
    if isinstance(value, list):
        parts = [split_secrets(v) for v in value]
        hidden_items = [s for _, s in parts]
        return [p for p, _ in parts], (hidden_items if any(hidden_items) else None)
    return value, None


def merge(public: Any, secret: Any) -> Any:
    """``public`` with ``secret`` (from :func:`split_secrets`) put back."""
    if isinstance(public, dict) and isinstance(secret, dict):
        out = dict(public)
        for k, v in secret.items():
            out[k] = merge(out.get(k), v) if k in out else v
        return out
    if isinstance(public, list) and isinstance(secret, list) and len(public) == len(secret):
        return [merge(p, s) if s else p for p, s in zip(public, secret, strict=True)]
    return public if secret is None else secret


def looks_sealed(text: str) -> bool:
    return bool(_SEALED.fullmatch(text))


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` atomically with a 0600 file (readers see the old or the new)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class SecretBox:
    """Seals and opens values with the home's keyring."""

    def __init__(self, home: Path) -> None:
        self.path = home / "secret.key"

    def _keys(self) -> list[bytes]:
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process made it first
            else:
                with os.fdopen(fd, "wb") as out:
                    out.write(Fernet.generate_key() + b"\n")
        return self.path.read_bytes().split()

    def _fernet(self) -> MultiFernet:
        return MultiFernet([Fernet(k) for k in self._keys()])

    def seal(self, data: Any) -> str:
        return self._fernet().encrypt(json.dumps(data).encode()).decode()

    def open_any(self, token: str) -> Any:
        return json.loads(self._fernet().decrypt(token.encode()))

    def open(self, token: str) -> dict[str, Any]:
        value = self.open_any(token)
        return value if isinstance(value, dict) else {}

    # -- rotation (vnfm keys rotate --sealing) ---------------------------------------------
    def begin_rotation(self) -> None:
        """A new key seals from now on; the old ones still open what they sealed."""
        write_private(self.path, b"\n".join([Fernet.generate_key(), *self._keys()]) + b"\n")

    def reseal(self, token: str) -> str | None:
        """The token sealed again with the first key, or None if no key opens it."""
        try:
            return self._fernet().rotate(token.encode()).decode()
        except InvalidToken:
            return None

    def reseal_text(self, text: str) -> str:
        """``text`` with every sealed value in it sealed again (files, JSON strings)."""
        return _SEALED.sub(lambda m: self.reseal(m.group(0)) or m.group(0), text)

    def finish_rotation(self) -> None:
        """Drop every key but the first: what they sealed cannot be opened any more."""
        write_private(self.path, self._keys()[0] + b"\n")
