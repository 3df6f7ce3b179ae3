"""One delivery attempt: POST a notification to a subscriber's callbackUri.

Callback authentication (SOL013 8.3.4) as the subscription asked: HTTP Basic
(``paramsBasic``) or an OAuth 2.0 access token obtained with the client
credentials grant from ``paramsOauth2ClientCredentials.tokenEndpoint`` and
cached until shortly before it expires. Credentials never reach a log or an
error message: failures are described by status code or exception type.

The callback and the token endpoint are reached through the outbound address
policy (vnfm_runner/outbound.py, checked again at each connection: the
subscription was checked when it was made, but names and settings change), and
one attempt, token request included, ends within ``timeout`` seconds of
wall-clock time however slowly the subscriber answers.
"""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from vnfm_runner.outbound import OutboundError, Policy, client, deadline

NOTIFICATION_VERSION = "2.0.0"  # SOL003 VNF LCM v2 notification endpoint
TOKEN_MARGIN = 30.0  # seconds before its expiry a cached token is fetched again


class DeliveryError(Exception):
    """A failed attempt; the message holds no secret."""


@dataclass(frozen=True)
class Outcome:
    ok: bool
    detail: str  # "HTTP 204", "HTTP 503", "ConnectTimeout", ...


class Sender:
    def __init__(self, timeout: float, policy: Policy | None = None) -> None:
        self.timeout = timeout
        self.client = client(policy or Policy.from_env(), timeout=timeout)
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.client.close()

    def send(
        self,
        sub_id: str,
        uri: str,
        notification: dict[str, Any],
        authentication: dict[str, Any] | None,
        version: str = NOTIFICATION_VERSION,
    ) -> Outcome:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Version": version,
        }
        try:
            with deadline(self.timeout):
                headers.update(self._auth_headers(sub_id, authentication))
                resp = self.client.post(uri, json=notification, headers=headers)
        except DeliveryError as exc:
            return Outcome(False, str(exc))
        except OutboundError as exc:
            return Outcome(False, f"callbackUri: {exc}")
        except httpx.InvalidURL:  # stored before the address checks
            return Outcome(False, "callbackUri: not a valid URI")
        except httpx.HTTPError as exc:
            return Outcome(False, type(exc).__name__)
        if resp.status_code == 401:
            self.forget_token(sub_id)  # a revoked or rotated token: fetch a new one next time
        return Outcome(200 <= resp.status_code < 300, f"HTTP {resp.status_code}")

    def forget_token(self, sub_id: str) -> None:
        with self._lock:
            self._tokens.pop(sub_id, None)

    def _auth_headers(self, sub_id: str, auth: dict[str, Any] | None) -> dict[str, str]:
        kinds = (auth or {}).get("authType") or []
        if (
            auth
            and "OAUTH2_CLIENT_CREDENTIALS" in kinds
            and auth.get("paramsOauth2ClientCredentials")
        ):
            return {"Authorization": f"Bearer {self._token(sub_id, auth)}"}
        if auth and "BASIC" in kinds and auth.get("paramsBasic"):
            params = auth["paramsBasic"]
            pair = f"{params.get('userName', '')}:{params.get('password', '')}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        return {}

    def _token(self, sub_id: str, auth: dict[str, Any]) -> str:
        with self._lock:
            cached = self._tokens.get(sub_id)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        params = auth["paramsOauth2ClientCredentials"]
        endpoint = str(params.get("tokenEndpoint") or "")
        if not endpoint.startswith(("http://", "https://")):
            raise DeliveryError("no usable tokenEndpoint")
        try:
            resp = self.client.post(
                endpoint,
                data={"grant_type": "client_credentials"},
                auth=(str(params.get("clientId", "")), str(params.get("clientPassword", ""))),
                headers={"Accept": "application/json"},
            )
        except OutboundError as exc:
            raise DeliveryError(f"token endpoint: {exc}") from None
        except httpx.HTTPError as exc:
            raise DeliveryError(f"token endpoint: {type(exc).__name__}") from None
        if resp.status_code != 200:
            raise DeliveryError(f"token endpoint: HTTP {resp.status_code}")
        try:
            body = resp.json()
            token = str(body["access_token"])
            ttl = float(body.get("expires_in") or 300)
        except (ValueError, KeyError, TypeError):
            raise DeliveryError("token endpoint: no access_token in the answer") from None
        with self._lock:
            self._tokens[sub_id] = (token, time.monotonic() + max(1.0, ttl - TOKEN_MARGIN))
        return token
