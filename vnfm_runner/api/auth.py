"""SOL013 8: HTTP Basic, or OAuth 2.0 client credentials with bearer tokens.

Access tokens are JWTs (HS256) signed with a key kept in ``$VNFM_HOME/api/token.key``
(mode 0600) and carrying ``exp``: any server on the same home accepts them. The
key is read again whenever the file changes (checked on each use), so
``vnfm keys rotate --tokens`` or deleting the file revokes every token issued
before, in every server, without a restart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from vnfm_runner.api.config import ApiSettings
from vnfm_runner.api.problems import ApiProblem
from vnfm_runner.api.schemas import OAuthError, TokenResponse
from vnfm_runner.secrets import write_private

KEY_BYTES = 32


def token_key_path(api_dir: Path) -> Path:
    return api_dir / "token.key"


def rotate_token_key(api_dir: Path) -> None:
    """A new signing key: every token signed with the old one stops working."""
    write_private(token_key_path(api_dir), secrets.token_bytes(KEY_BYTES))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Authenticator:
    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings
        self.clients = settings.oauth_client_map()
        self.user = settings.api_user
        self.password = settings.api_password.get_secret_value() if settings.api_password else None
        self._key: bytes | None = None
        self._key_stamp: tuple[int, int, int] | None = None

    @property
    def schemes(self) -> list[str]:
        out = []
        if self.user and self.password:
            out.append('Basic realm="vnfm"')
        if self.clients:
            out.append('Bearer realm="vnfm"')
        return out or ['Basic realm="vnfm"']

    def _key_bytes(self) -> bytes:
        """The signing key, read again when the file was replaced, changed or removed."""
        path = token_key_path(self.settings.api_dir)
        for _attempt in range(3):
            try:
                st = path.stat()
            except FileNotFoundError:
                rotate_token_key(self.settings.api_dir)  # first use, or deleted: revoked
                continue
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
            if self._key is None or stamp != self._key_stamp:
                try:
                    key = path.read_bytes()
                except FileNotFoundError:
                    continue
                if len(key) < KEY_BYTES:  # cut short (a crash while written): never sign with it
                    rotate_token_key(self.settings.api_dir)
                    continue
                self._key, self._key_stamp = key, stamp
            return self._key
        raise ApiProblem(503, "the token signing key is being replaced; try again")

    # -- tokens -----------------------------------------------------------------------------
    def issue(self, client_id: str, ttl: int | None = None) -> tuple[str, int]:
        ttl = self.settings.api_token_ttl if ttl is None else ttl
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        stamp = int(time.time())
        claims = {"sub": client_id, "iat": stamp, "exp": stamp + ttl, "jti": secrets.token_hex(8)}
        payload = _b64(json.dumps(claims).encode())
        signing = f"{header}.{payload}".encode()
        sig = _b64(hmac.new(self._key_bytes(), signing, hashlib.sha256).digest())
        return f"{header}.{payload}.{sig}", ttl

    def verify(self, token: str) -> dict[str, Any]:
        try:
            header, payload, sig = token.split(".")
            signing = f"{header}.{payload}".encode()
            good = hmac.new(self._key_bytes(), signing, hashlib.sha256).digest()
            if not hmac.compare_digest(good, _unb64(sig)):
                raise ValueError("signature")
            if json.loads(_unb64(header)).get("alg") != "HS256":
                raise ValueError("alg")
            claims = json.loads(_unb64(payload))
        except (ValueError, binascii.Error):
            raise self._unauthorized("the access token is not valid", "invalid_token") from None
        if not isinstance(claims, dict) or claims.get("sub") not in self.clients:
            raise self._unauthorized("the access token is not valid", "invalid_token")
        if int(claims.get("exp", 0)) <= time.time():
            raise self._unauthorized("the access token has expired", "invalid_token")
        return claims

    # -- requests -----------------------------------------------------------------------------
    def _unauthorized(self, detail: str, error: str | None = None) -> ApiProblem:
        schemes = self.schemes
        if error:
            schemes = [f'{s}, error="{error}"' if s.startswith("Bearer") else s for s in schemes]
        return ApiProblem(401, detail, headers={"WWW-Authenticate": ", ".join(schemes)})

    def _basic_ok(self, user: str, password: str) -> bool:
        if not (self.user and self.password):
            return False
        same_user = hmac.compare_digest(user.encode(), self.user.encode())
        same_password = hmac.compare_digest(password.encode(), self.password.encode())
        return same_user and same_password

    def check(self, request: Request) -> str:
        """The caller's identity, or 401."""
        header = request.headers.get("authorization")
        if not header:
            if self.settings.api_anonymous:
                return "anonymous"
            raise self._unauthorized("credentials are needed (HTTP Basic or an OAuth2 token)")
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            user, password = _basic_pair(value)
            if user is not None and password is not None and self._basic_ok(user, password):
                return user
            raise self._unauthorized("wrong user name or password")
        if scheme == "bearer" and value.strip():
            return str(self.verify(value.strip())["sub"])
        raise self._unauthorized("unsupported authorization scheme")


def _basic_pair(value: str) -> tuple[str | None, str | None]:
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError, binascii.Error):
        return None, None
    return (user, password) if sep else (None, None)


router = APIRouter(tags=["oauth2"])


@router.post(
    "/oauth2/token",
    summary="OAuth 2.0 client credentials grant (RFC 6749 4.4)",
    response_model=TokenResponse,
    responses={400: {"model": OAuthError}, 401: {"model": OAuthError}},
)
async def token(request: Request) -> JSONResponse:
    auth: Authenticator = request.app.state.ctx.auth
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode(errors="replace")).items()}
    client_id, secret = form.get("client_id"), form.get("client_secret")
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        client_id, secret = _basic_pair(header[6:])
    if form.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "grant_type must be client_credentials")
    known = auth.clients.get(client_id or "")
    if not known or not secret or not hmac.compare_digest(known.encode(), secret.encode()):
        return _oauth_error(401, "invalid_client", "unknown client or wrong secret")
    access, ttl = auth.issue(str(client_id))
    return JSONResponse(
        {"access_token": access, "token_type": "Bearer", "expires_in": ttl},
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="vnfm"'} if status == 401 else {}
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )
