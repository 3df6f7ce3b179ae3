# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Connection to an OpenStack cloud and SDK error translation.

The VIM connection (``vim``) is either ``{vimType: openstack, cloud: <name>}``
(clouds.yaml through openstacksdk's usual lookup, ``OS_CLIENT_CONFIG_FILE``
honoured) or the SOL003 ``VimConnectionInfo`` shape: ``interfaceInfo.endpoint``
is the Keystone URL, ``accessInfo`` holds ``username``, ``project``,
``projectDomain``, ``userDomain``, ``region``. ``apiTimeout`` bounds each API call
(seconds; default the driver's timeout, at most 120). Secrets (``password``, or a whole
``accessInfo``/``auth``) come through ``credentials`` and are never returned,
logged, or put into an error message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError

try:
    import openstack
    from openstack import exceptions as sdk_exceptions

    HAS_OPENSTACKSDK = True
    SDK_IMPORT_ERROR: str | None = None
except ImportError as _exc:  # pragma: no cover - depends on the host
    openstack = None  # type: ignore[assignment]
    sdk_exceptions = None  # type: ignore[assignment]
    HAS_OPENSTACKSDK = False
    SDK_IMPORT_ERROR = str(_exc)

try:
    from keystoneauth1 import exceptions as ks_exceptions
except ImportError:  # pragma: no cover - comes with openstacksdk
    ks_exceptions = None  # type: ignore[assignment]

T = TypeVar("T")

_ACCESS_KEYS = {
    "username": "username",
    "userId": "user_id",
    "password": "password",
    "project": "project_name",
    "projectId": "project_id",
    "projectDomain": "project_domain_name",
    "projectDomainId": "project_domain_id",
    "userDomain": "user_domain_name",
    "userDomainId": "user_domain_id",
    "applicationCredentialId": "application_credential_id",
    "applicationCredentialSecret": "application_credential_secret",
    "token": "token",
}


def require_sdk() -> None:
    if not HAS_OPENSTACKSDK:
        raise VimError(
            "the openstack VIM driver needs openstacksdk (pip install openstacksdk): "
            f"{SDK_IMPORT_ERROR}"
        )


def sdk_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = []
    if sdk_exceptions is not None:
        errors.append(sdk_exceptions.SDKException)
    if ks_exceptions is not None:
        errors.append(ks_exceptions.ClientException)
    return tuple(errors) or (RuntimeError,)


def describe(exc: BaseException) -> str:
    """A one-line message of an SDK error (no traceback, no request body)."""
    details = getattr(exc, "details", None)
    status = getattr(exc, "status_code", None)
    text = str(details or getattr(exc, "message", None) or exc or type(exc).__name__)
    text = " ".join(text.split())
    if len(text) > 400:
        text = text[:400] + "…"
    return f"HTTP {status}: {text}" if status else text


def is_not_found(exc: BaseException) -> bool:
    return sdk_exceptions is not None and isinstance(exc, sdk_exceptions.NotFoundException)


def is_conflict(exc: BaseException) -> bool:
    return sdk_exceptions is not None and isinstance(exc, sdk_exceptions.ConflictException)


def call(what: str, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one SDK call; an SDK error becomes a VimError that names ``what``."""
    try:
        return func(*args, **kwargs)
    except VimError:
        raise
    except sdk_errors() as exc:
        raise VimError(f"{what}: {describe(exc)}") from None


def _auth_from_sol003(vim: dict[str, Any], credentials: dict[str, Any]) -> dict[str, Any]:
    access = dict(vim.get("accessInfo") or {})
    access.update(credentials.get("accessInfo") or {})
    access.update({k: v for k, v in credentials.items() if k in _ACCESS_KEYS})
    interface = vim.get("interfaceInfo") or {}
    endpoint = interface.get("endpoint") or interface.get("authUrl") or access.get("authUrl")
    if not endpoint:
        raise VimError("VIM connection: interfaceInfo.endpoint (the Keystone URL) is missing")
    auth: dict[str, Any] = {"auth_url": str(endpoint)}
    for key, name in _ACCESS_KEYS.items():
        if access.get(key) not in (None, ""):
            auth[name] = str(access[key])
    return auth


def _api_timeout(vim: dict[str, Any], default: float) -> float:
    """``apiTimeout``: seconds one API call may take before it fails (a VIM that stops
    answering fails the reconcile instead of holding it until the task timeout)."""
    value = vim.get("apiTimeout")
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise VimError(
            f"VIM connection: apiTimeout must be a positive number of seconds, not {value!r}"
        )
    return float(value)


def connect(vim: dict[str, Any], credentials: dict[str, Any] | None, api_timeout: float) -> Any:
    """An ``openstack.connection.Connection`` for the VIM connection (authenticated lazily)."""
    require_sdk()
    if openstack is None:  # require_sdk() raised already; this keeps type checkers informed
        raise VimError("the OpenStack VIM needs the Python library openstacksdk")
    creds = dict(credentials or {})
    access = dict(vim.get("accessInfo") or {})
    region = (
        vim.get("region_name")
        or vim.get("regionName")
        or access.get("region")
        or creds.get("region_name")
    )
    common: dict[str, Any] = {"api_timeout": _api_timeout(vim, api_timeout)}
    if region:
        common["region_name"] = str(region)
    interface = vim.get("interfaceInfo") or {}
    verify = vim.get("verify", interface.get("verify"))
    if verify is not None:
        common["verify"] = verify
    cacert = vim.get("cacert") or interface.get("cacert")
    if cacert:
        common["cacert"] = str(cacert)
    try:
        if vim.get("cloud"):
            extra: dict[str, Any] = {}
            if creds.get("auth"):
                extra["auth"] = dict(creds["auth"])
            elif creds.get("password"):
                extra["auth"] = {"password": creds["password"]}
            if vim.get("cloudsFile"):  # a clouds.yaml outside openstacksdk's usual places
                config = openstack.config.OpenStackConfig(config_files=[str(vim["cloudsFile"])])
                region_config = config.get_one(cloud=str(vim["cloud"]), **common, **extra)
                return openstack.connection.Connection(config=region_config)
            return openstack.connect(cloud=str(vim["cloud"]), **common, **extra)
        if vim.get("auth") or creds.get("auth"):
            auth = {**dict(vim.get("auth") or {}), **dict(creds.get("auth") or {})}
        else:
            auth = _auth_from_sol003(vim, creds)
        auth_type = (
            vim.get("auth_type")
            or creds.get("auth_type")
            or (
                "v3applicationcredential"
                if "application_credential_id" in auth
                else "v3token"
                if "token" in auth and "password" not in auth
                else "password"
            )
        )
        return openstack.connect(
            load_yaml_config=False,
            load_envvars=False,
            auth_type=str(auth_type),
            auth=auth,
            **common,
        )
    except sdk_errors() as exc:
        raise VimError(f"cannot connect to the OpenStack VIM: {describe(exc)}") from None
