"""Fetch a VNF package's content from a URI (SOL005 9.4.6 ``upload_from_uri``).

The NFVO names where the CSAR zip lives and the server downloads it: http and
https only, at most ``limit`` bytes, within ``timeout`` seconds in all, a few
redirects. The credentials of the request serve that one download and are never
stored, logged or returned: messages show the address without its userinfo and
query (a signed URL carries its token there).
"""

from __future__ import annotations

import ipaddress
import socket
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import httpx
from pydantic import AliasChoices, Field, SecretStr

from vnfm_runner.api.models import Sol
from vnfm_runner.api.problems import ApiProblem

FETCH_TIMEOUT = 300.0  # seconds for the whole download
CONNECT_TIMEOUT = 10.0
MAX_REDIRECTS = 5
CHUNK = 1024 * 1024
# Never fetched from, redirects included: link-local addresses are where clouds serve
# instance metadata and credentials (169.254.169.254), never a package repository.
REFUSED_NETWORKS = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))


class OAuth2ClientCredentials(Sol):
    clientId: str = Field(min_length=1)
    clientPassword: SecretStr
    tokenEndpoint: str = Field(min_length=1)


class UploadVnfPkgFromUriRequest(Sol):
    """SOL005 9.5.2.4. ``userName`` is also read as ``username`` (SOL005 spells it
    both ways across versions)."""

    addressInformation: str = Field(min_length=1)
    authType: Literal["BASIC", "OAUTH2_CLIENT_CREDENTIALS"] | None = None
    userName: str | None = Field(
        default=None, validation_alias=AliasChoices("userName", "username")
    )
    password: SecretStr | None = None
    paramsOauth2ClientCredentials: OAuth2ClientCredentials | None = None


@dataclass(frozen=True)
class Source:
    """A checked request: where to fetch from and how to authenticate."""

    uri: str
    basic: tuple[str, str] | None = None
    oauth2: OAuth2ClientCredentials | None = None

    def __repr__(self) -> str:  # never the credentials
        return f"Source({shown(self.uri)!r})"


class FetchError(Exception):
    """The download failed; ``status`` and ``detail`` go into a ProblemDetails."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def shown(uri: str) -> str:
    """The address as it may appear in a message: no userinfo, no query, no fragment."""
    parts = urlsplit(uri)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _check_uri(uri: str, field: str) -> None:
    parts = urlsplit(uri)
    if parts.scheme.lower() not in ("http", "https"):
        raise ApiProblem(400, f"{field}: only http and https URIs are fetched")
    try:
        parts.port  # noqa: B018 -- raises on a bad port
    except ValueError:
        raise ApiProblem(400, f"{field}: the port is not valid") from None
    if not parts.hostname:
        raise ApiProblem(400, f"{field}: the URI has no host")


def source_of(body: UploadVnfPkgFromUriRequest) -> Source:
    """Check the request before it is accepted (400 naming the field)."""
    _check_uri(body.addressInformation, "addressInformation")
    auth = body.authType
    has_basic = body.userName is not None or body.password is not None
    if auth is None and has_basic:
        # SOL005 2.x (and tackerclient's --user-name/--password) send no authType
        auth = "BASIC"
    if auth == "BASIC":
        if body.paramsOauth2ClientCredentials is not None:
            raise ApiProblem(400, "paramsOauth2ClientCredentials: not allowed with authType BASIC")
        if body.userName is None or body.password is None:
            missing = "userName" if body.userName is None else "password"
            raise ApiProblem(400, f"{missing}: needed with authType BASIC")
        return Source(body.addressInformation, (body.userName, body.password.get_secret_value()))
    if auth == "OAUTH2_CLIENT_CREDENTIALS":
        params = body.paramsOauth2ClientCredentials
        if params is None:
            raise ApiProblem(
                400, "paramsOauth2ClientCredentials: needed with authType OAUTH2_CLIENT_CREDENTIALS"
            )
        if has_basic:
            raise ApiProblem(400, "userName: not allowed with authType OAUTH2_CLIENT_CREDENTIALS")
        _check_uri(params.tokenEndpoint, "paramsOauth2ClientCredentials.tokenEndpoint")
        return Source(body.addressInformation, oauth2=params)
    if body.paramsOauth2ClientCredentials is not None:
        raise ApiProblem(400, "authType: give OAUTH2_CLIENT_CREDENTIALS with its parameters")
    return Source(body.addressInformation)


def _token(client: httpx.Client, params: OAuth2ClientCredentials) -> str:
    where = shown(params.tokenEndpoint)
    try:
        resp = client.post(
            params.tokenEndpoint,
            data={"grant_type": "client_credentials"},
            auth=(params.clientId, params.clientPassword.get_secret_value()),
        )
    except httpx.HTTPError as exc:
        raise FetchError(502, f"no access token from {where} ({type(exc).__name__})") from None
    token = None
    if resp.status_code == 200:
        try:
            token = resp.json().get("access_token")
        except (ValueError, AttributeError):
            token = None
    if not isinstance(token, str) or not token:
        raise FetchError(502, f"no access token from {where} (HTTP {resp.status_code})")
    return token


def fetch(source: Source, target: Path, *, limit: int, timeout: float = FETCH_TIMEOUT) -> int:
    """Download the zip at ``source`` into ``target``; its size. Raises FetchError."""
    where = shown(source.uri)
    deadline = time.monotonic() + timeout
    size = 0
    try:
        with httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(CONNECT_TIMEOUT, timeout)),
            # httpx follows http(s) only and drops Authorization on a redirect to another host
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            event_hooks={"request": [_refuse_link_local]},
        ) as client:
            headers = {"Accept": "application/zip, application/octet-stream, */*"}
            if source.oauth2 is not None:
                headers["Authorization"] = f"Bearer {_token(client, source.oauth2)}"
            with client.stream("GET", source.uri, auth=source.basic, headers=headers) as resp:
                if resp.status_code != 200:
                    raise FetchError(
                        502, f"addressInformation: {where} answered HTTP {resp.status_code}"
                    )
                declared = resp.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise FetchError(
                        413, f"addressInformation: {where} is larger than {_mb(limit)}"
                    )
                with target.open("wb") as out:
                    for chunk in resp.iter_bytes(CHUNK):
                        size += len(chunk)
                        if size > limit:
                            raise FetchError(
                                413, f"addressInformation: {where} is larger than {_mb(limit)}"
                            )
                        if time.monotonic() > deadline:
                            raise httpx.ReadTimeout("deadline")
                        out.write(chunk)
    except FetchError:
        target.unlink(missing_ok=True)
        raise
    except httpx.TimeoutException:
        target.unlink(missing_ok=True)
        raise FetchError(
            504, f"addressInformation: {where} did not deliver in {timeout:g} s"
        ) from None
    except httpx.HTTPError as exc:
        target.unlink(missing_ok=True)
        raise FetchError(
            502, f"addressInformation: cannot fetch {where} ({type(exc).__name__})"
        ) from None
    if size == 0 or not zipfile.is_zipfile(target):
        target.unlink(missing_ok=True)
        raise FetchError(422, f"addressInformation: {where} is not a zip archive (CSAR)")
    return size


def _refuse_link_local(request: httpx.Request) -> None:
    """Checked before every request, so a redirect cannot lead to a refused address."""
    host = request.url.host
    try:
        infos = socket.getaddrinfo(host, request.url.port or 443, proto=socket.IPPROTO_TCP)
    except OSError:
        return  # unresolvable: the connection attempt reports it
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if any(address in net for net in REFUSED_NETWORKS):
            raise FetchError(
                422, f"addressInformation: {host} is a link-local address; it is not fetched from"
            )


def _mb(limit: int) -> str:
    return f"{limit / (1024 * 1024):g} MB"
