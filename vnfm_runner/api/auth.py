"""SOL013 8: HTTP Basic, or OAuth 2.0 client credentials with bearer tokens.

Access tokens are JWTs (HS256) signed with a key kept in ``$VNFM_HOME/api/token.key``
(mode 0600) and carrying ``exp``: any server on the same home accepts them, a
deleted key revokes them all.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import time
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from vnfm_runner.api.config import ApiSettings
from vnfm_runner.api.problems import ApiProblem


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

    @property
    def schemes(self) -> list[str]:
        out = []
        if self.user and self.password:
            out.append('Basic realm="vnfm"')
        if self.clients:
            out.append('Bearer realm="vnfm"')
        return out or ['Basic realm="vnfm"']

    def _key_bytes(self) -> bytes:
        if self._key is None:
            path = self.settings.api_dir / "token.key"
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                try:
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "wb") as out:
                        out.write(secrets.token_bytes(32))
                except FileExistsError:
                    pass
            self._key = path.read_bytes()
        return self._key

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


def router(auth: Authenticator) -> APIRouter:
    api = APIRouter(tags=["oauth2"])

    @api.post("/oauth2/token", summary="OAuth 2.0 client credentials grant (RFC 6749 4.4)")
    async def token(request: Request) -> JSONResponse:
        form = {
            k: v[0] for k, v in parse_qs((await request.body()).decode(errors="replace")).items()
        }
        client_id, secret = form.get("client_id"), form.get("client_secret")
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            client_id, secret = _basic_pair(header[6:])
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(
                400, "unsupported_grant_type", "grant_type must be client_credentials"
            )
        known = auth.clients.get(client_id or "")
        if not known or not secret or not hmac.compare_digest(known.encode(), secret.encode()):
            return _oauth_error(401, "invalid_client", "unknown client or wrong secret")
        access, ttl = auth.issue(str(client_id))
        return JSONResponse(
            {"access_token": access, "token_type": "Bearer", "expires_in": ttl},
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    return api


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="vnfm"'} if status == 401 else {}
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )
