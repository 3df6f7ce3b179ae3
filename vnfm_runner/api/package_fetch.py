"""The ``upload_from_uri`` request (SOL005 9.5.2.4) and its checks before it is accepted.

The download itself is the package service's (vnfm_runner/pkgm/fetch.py, re-exported
here): http(s) only, bounded in size and time, through the outbound address policy.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr

from vnfm_runner.api.models import Sol
from vnfm_runner.api.problems import ApiProblem
from vnfm_runner.outbound import OutboundError, Policy
from vnfm_runner.pkgm.fetch import (
    FETCH_TIMEOUT,
    TOKEN_FIELD,
    ClientCredentials,
    FetchError,
    Source,
    fetch,
    shown,
)
from vnfm_runner.settings import Settings

__all__ = [
    "FetchError",
    "OAuth2ClientCredentials",
    "Source",
    "UploadVnfPkgFromUriRequest",
    "fetch",
    "shown",
    "source_of",
]


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


def _check_uri(policy: Policy, uri: str, name: str) -> None:
    try:
        policy.check_uri(uri)
    except OutboundError as exc:
        raise ApiProblem(exc.status, f"{name}: {exc}") from None


def source_of(body: UploadVnfPkgFromUriRequest, settings: Settings | None = None) -> Source:
    """Check the request before it is accepted: 400 naming the field, or 422 for an
    address the outbound policy refuses (the package stays CREATED)."""
    policy = Policy.from_env() if settings is None else Policy.from_settings(settings)
    timeout = float(getattr(settings, "api_fetch_timeout", FETCH_TIMEOUT))
    _check_uri(policy, body.addressInformation, "addressInformation")
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
        basic = (body.userName, body.password.get_secret_value())
        return Source(body.addressInformation, basic, policy=policy, timeout=timeout)
    if auth == "OAUTH2_CLIENT_CREDENTIALS":
        params = body.paramsOauth2ClientCredentials
        if params is None:
            raise ApiProblem(
                400, "paramsOauth2ClientCredentials: needed with authType OAUTH2_CLIENT_CREDENTIALS"
            )
        if has_basic:
            raise ApiProblem(400, "userName: not allowed with authType OAUTH2_CLIENT_CREDENTIALS")
        _check_uri(policy, params.tokenEndpoint, TOKEN_FIELD)
        credentials = ClientCredentials(
            params.clientId, params.clientPassword.get_secret_value(), params.tokenEndpoint
        )
        return Source(body.addressInformation, oauth2=credentials, policy=policy, timeout=timeout)
    if body.paramsOauth2ClientCredentials is not None:
        raise ApiProblem(400, "authType: give OAUTH2_CLIENT_CREDENTIALS with its parameters")
    return Source(body.addressInformation, policy=policy, timeout=timeout)
