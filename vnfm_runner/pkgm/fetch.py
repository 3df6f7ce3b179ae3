"""Fetch a VNF package's content from a URI (SOL005 9.4.6 ``upload_from_uri``).

The NFVO names where the CSAR zip lives and the server downloads it: http and
https only, at most ``limit`` bytes, within ``timeout`` seconds of wall-clock
time in all (token request included; vnfm_runner.outbound cuts a slow peer at
the deadline), a few redirects. The source, the token endpoint and every
redirect hop obey the outbound address policy (vnfm_runner/outbound.py). The
credentials of the request serve that one download and are never stored,
logged or returned: messages show the address without its userinfo and query
(a signed URL carries its token there). The request and its checks are the
API's (api/package_fetch.py).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from vnfm_runner.outbound import OutboundError, Policy, client, deadline

FETCH_TIMEOUT = 300.0  # seconds for the whole download (VNFM_API_FETCH_TIMEOUT in the server)
CONNECT_TIMEOUT = 10.0
MAX_REDIRECTS = 5
CHUNK = 1024 * 1024
TOKEN_FIELD = "paramsOauth2ClientCredentials.tokenEndpoint"


@dataclass(frozen=True)
class ClientCredentials:
    """OAuth 2.0 client credentials for the token endpoint of the package's server."""

    client_id: str
    client_password: str = field(repr=False)
    token_endpoint: str


@dataclass(frozen=True)
class Source:
    """A checked request: where to fetch from, how to authenticate, which addresses
    may be used and how long it may take."""

    uri: str
    basic: tuple[str, str] | None = None
    oauth2: ClientCredentials | None = None
    policy: Policy = field(default_factory=Policy.from_env)
    timeout: float = FETCH_TIMEOUT

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


def _token(client: httpx.Client, params: ClientCredentials) -> str:
    where = shown(params.token_endpoint)
    try:
        resp = client.post(
            params.token_endpoint,
            data={"grant_type": "client_credentials"},
            auth=(params.client_id, params.client_password),
        )
    except OutboundError as exc:
        raise FetchError(exc.status, f"{TOKEN_FIELD}: {exc}") from None
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


def fetch(source: Source, target: Path, *, limit: int, timeout: float | None = None) -> int:
    """Download the zip at ``source`` into ``target``; its size. Raises FetchError.

    The whole of it (token, redirects, body) ends within ``timeout`` seconds
    (``source.timeout`` by default) however slowly the peer sends."""
    where = shown(source.uri)
    timeout = source.timeout if timeout is None else timeout
    size = 0
    try:
        with (
            deadline(timeout),
            client(
                source.policy,
                timeout=timeout,
                connect_timeout=CONNECT_TIMEOUT,
                # httpx follows http(s) only and drops Authorization on a redirect to another
                # host; the policy checks each hop's address as it connects
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
            ) as http,
        ):
            headers = {"Accept": "application/zip, application/octet-stream, */*"}
            if source.oauth2 is not None:
                headers["Authorization"] = f"Bearer {_token(http, source.oauth2)}"
            with http.stream("GET", source.uri, auth=source.basic, headers=headers) as resp:
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
                        out.write(chunk)
    except FetchError:
        target.unlink(missing_ok=True)
        raise
    except OutboundError as exc:  # the source or a redirect hop
        target.unlink(missing_ok=True)
        raise FetchError(exc.status, f"addressInformation: {where}: {exc}") from None
    except httpx.InvalidURL:  # a redirect's Location is checked by httpx itself
        target.unlink(missing_ok=True)
        raise FetchError(400, f"addressInformation: {where} is not a valid URI") from None
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


def _mb(limit: int) -> str:
    return f"{limit / (1024 * 1024):g} MB"
