"""Registered VIMs and how an operation's VIM connection is chosen.

A VIM is named (``vnfm vim add``) or comes with the request as SOL003
``vimConnectionInfo``. What reaches the ``vnf_resources`` module is the
public connection (``vim``) plus the secrets apart (``vim_credentials``,
no_log, sealed in the run's extra vars). Secrets are told apart by name at any
depth (``secrets.is_secret``: ``--option password=…``, ``accessInfo.apiKey``,
``auth.password``) and stored sealed (``secrets.SecretBox``), never in clear;
every view shows them as ``********``.

What a VIM type is (its names, SOL003 ones included, its built-in VIM, its
pre-flight check, the request fields it reads) is its driver's to say: this
module asks the collection's driver registry (``module_utils/vim/registry.py``)
and names no VIM type itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vnfm_runner import paths
from vnfm_runner.domain import InstantiationState
from vnfm_runner.errors import VimConfigError
from vnfm_runner.secrets import SecretBox, merge, redact, split_secrets
from vnfm_runner.store.db import Store, now
from vnfm_runner.store.tables import VimRow

paths.ensure_core_importable()

from ansible_collections.nfv.vnfm.plugins.module_utils.vim.base import VimError  # noqa: E402
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.registry import (  # noqa: E402
    DriverInfo,
    driver_info,
    drivers,
    vim_type_names,
)

__all__ = [
    "VimRegistry",
    "VimTarget",
    "builtin_vims",
    "preflight",
    "sol003_vim_type",
    "vim_type_names",
    "vim_type_of",
]


def builtin_vims() -> dict[str, DriverInfo]:
    """The VIMs that exist without registration, by name (the local VIM)."""
    return {info.builtin_name: info for info in drivers() if info.builtin_name}


def vim_type_of(name: object) -> str | None:
    """Our vimType of a vimType name (ours or SOL003), None when no driver has it."""
    try:
        return driver_info(name).vim_type
    except VimError:
        return None


def sol003_vim_type(vim_type: str) -> str:
    """The SOL003 vimType shown for a VIM of ours."""
    try:
        return driver_info(vim_type).sol003_type
    except VimError:  # a VIM recorded before its driver went away: a name still
        return f"VNFM.{vim_type.upper()}"


def _driver(vim_type: object) -> DriverInfo:
    try:
        return driver_info(vim_type)
    except VimError as exc:
        raise VimConfigError(str(exc)) from None


@dataclass
class VimTarget:
    name: str
    connection: dict[str, Any]
    credentials: dict[str, Any] = field(default_factory=dict)

    @property
    def vim_type(self) -> str:
        return str(self.connection["vimType"])

    @property
    def driver(self) -> DriverInfo:
        """What the VIM's driver declares (VimConfigError when no driver has its type)."""
        return _driver(self.vim_type)

    @property
    def connection_data(self) -> bool:
        """Whether a request may give this VIM connection data (endpoint, credentials)."""
        return self.driver.request_fields.connection_data

    def preflight(self) -> None:
        """The driver's check that this controller can use the VIM (VimConfigError if not),
        made before anything is recorded."""
        check = self.driver.preflight
        if check is None:
            return
        try:
            check()
        except VimError as exc:
            raise VimConfigError(str(exc)) from None

    def sol003(self) -> dict[str, Any]:
        """The instance's vimConnectionInfo entry (secrets never shown)."""
        info: dict[str, Any] = {"vimId": self.name, "vimType": sol003_vim_type(self.vim_type)}
        # SOL003 credentials are accessInfo's (a named VIM's sit beside its options)
        secrets = dict(self.credentials)
        interface_secrets = secrets.pop("interfaceInfo", None)
        if self.connection.get("interfaceInfo") or interface_secrets:
            interface = dict(self.connection.get("interfaceInfo") or {})
            info["interfaceInfo"] = redact(merge(interface, interface_secrets))
        if self.connection.get("accessInfo") or secrets:
            info["accessInfo"] = redact(
                merge(dict(self.connection.get("accessInfo") or {}), secrets)
            )
        if self.connection.get("cloud"):
            info["extra"] = {"cloud": self.connection["cloud"]}
        return info


def preflight(target: VimTarget) -> None:
    """The LCM handlers' pre-flight port: :meth:`VimTarget.preflight`."""
    target.preflight()


def _builtin_target(name: str) -> VimTarget:
    return VimTarget(name, {"vimType": builtin_vims()[name].vim_type})


class VimRegistry:
    def __init__(self, store: Store, box: SecretBox) -> None:
        self.store = store
        self.box = box

    def add(
        self,
        *,
        name: str,
        vim_type: str,
        cloud: str | None = None,
        clouds_file: str | None = None,
        region: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        builtin = builtin_vims()
        if name in builtin:
            raise VimConfigError(f"the name {name!r} is the built-in {builtin[name].vim_type} VIM")
        info = next((d for d in drivers() if d.vim_type == vim_type), None)
        if info is None:
            known = ", ".join(d.vim_type for d in drivers())
            raise VimConfigError(f"unknown VIM type {vim_type!r} (known: {known})")
        connection, secret = split_secrets({"vimType": vim_type, **(options or {})})
        if info.clouds_yaml:
            if not cloud:
                raise VimConfigError(f"an {vim_type} VIM needs --cloud (a clouds.yaml entry)")
            connection["cloud"] = cloud
            if clouds_file:
                connection["cloudsFile"] = clouds_file
            if region:
                connection["regionName"] = region
        try:
            self.store.add_vim(
                VimRow(
                    name=name,
                    vim_type=vim_type,
                    connection=connection,
                    credentials=self.box.seal(secret) if secret else None,
                    created_at=now(),
                )
            )
        except KeyError:
            raise VimConfigError(f"a VIM named {name!r} already exists", 409) from None
        return self.show(name)

    def list(self) -> list[dict[str, Any]]:
        builtin = [
            {
                "name": name,
                "vimType": info.vim_type,
                "connection": {"vimType": info.vim_type},
                "builtin": True,
            }
            for name, info in builtin_vims().items()
        ]
        return builtin + [self._view(r) for r in self.store.vims()]

    def show(self, name: str) -> dict[str, Any]:
        if name in builtin_vims():
            return next(v for v in self.list() if v["name"] == name)
        row = self.store.vim(name)
        if row is None:
            raise VimConfigError(f"no VIM named {name!r}", 404)
        return self._view(row)

    def remove(self, name: str) -> None:
        builtin = builtin_vims()
        if name in builtin:
            raise VimConfigError(f"the built-in {builtin[name].vim_type} VIM cannot be removed")
        if self.store.vim(name) is None:
            raise VimConfigError(f"no VIM named {name!r}", 404)
        users = [
            r.id
            for r in self.store.instances()
            if (r.vim or {}).get("name") == name
            and r.instantiation_state == InstantiationState.INSTANTIATED
        ]
        if users:
            raise VimConfigError(f"VIM {name!r} still hosts instances: {', '.join(users)}", 409)
        self.store.remove_vim(name)

    def _view(self, row: VimRow) -> dict[str, Any]:
        # the sealed secrets are shown by name only, where they were given
        secrets = self.box.open(row.credentials) if row.credentials else {}
        return {
            "name": row.name,
            "vimType": row.vim_type,
            "connection": redact(merge(row.connection, secrets)),
            "builtin": False,
        }

    # -- per operation ------------------------------------------------------------------
    def resolve(self, name: str | None, vim_connection_info: Any, default: str) -> VimTarget:
        """The VIM of an operation: --vim NAME, else the request's vimConnectionInfo, else default."""
        if name is None and vim_connection_info:
            return self._from_sol003(vim_connection_info)
        name = name or default
        if name in builtin_vims():
            return _builtin_target(name)
        row = self.store.vim(name)
        if row is None:
            known = ", ".join([*builtin_vims(), *(r.name for r in self.store.vims())])
            raise VimConfigError(f"unknown VIM {name!r} (registered: {known})", 404)
        creds = self.box.open(row.credentials) if row.credentials else {}
        return VimTarget(row.name, dict(row.connection), creds)

    @staticmethod
    def _from_sol003(vci: Any) -> VimTarget:
        if not isinstance(vci, dict) or len(vci) != 1:
            raise VimConfigError("vimConnectionInfo must map one id to a VimConnectionInfo")
        ((vim_id, info),) = vci.items()
        if not isinstance(info, dict):
            raise VimConfigError(f"vimConnectionInfo.{vim_id} must be an object")
        driver = _sol003_driver(vim_id, info.get("vimType"))
        access = info.get("accessInfo") or {}
        if not isinstance(access, dict):
            raise VimConfigError(f"vimConnectionInfo.{vim_id}.accessInfo must be an object")
        interface = info.get("interfaceInfo") or {}
        if not isinstance(interface, dict):
            raise VimConfigError(f"vimConnectionInfo.{vim_id}.interfaceInfo must be an object")
        _check_request_fields(vim_id, driver, access, interface)
        # accessInfo's secrets (at any depth) go to the credentials, as the driver reads them
        public, secret = split_secrets(access)
        interface_public, interface_secret = split_secrets(interface)
        if interface_secret:
            secret["interfaceInfo"] = interface_secret
        # The driver's SOL003 form: interfaceInfo and accessInfo at the top.
        connection = {
            "vimType": driver.vim_type,
            "vimId": info.get("vimId", vim_id),
            "interfaceInfo": interface_public,
            "accessInfo": public,
        }
        return VimTarget(str(info.get("vimId") or vim_id), connection, secret)

    def seal(self, target: VimTarget) -> dict[str, Any]:
        """What the instance record keeps about its VIM."""
        return {
            "name": target.name,
            "connection": target.connection,
            "credentials": self.box.seal(target.credentials) if target.credentials else None,
        }

    def unseal(self, stored: dict[str, Any] | None) -> VimTarget:
        if not stored:  # an instance recorded before VIMs were recorded: the built-in one
            return _builtin_target(next(iter(builtin_vims())))
        token = stored.get("credentials")
        return VimTarget(
            str(stored["name"]), dict(stored["connection"]), self.box.open(token) if token else {}
        )


def _sol003_driver(vim_id: str, vim_type: object) -> DriverInfo:
    try:
        return driver_info(vim_type)
    except VimError:
        raise VimConfigError(
            f"vimConnectionInfo.{vim_id}.vimType {vim_type!r} is not supported "
            f"(supported: {', '.join(vim_type_names())})"
        ) from None


def _check_request_fields(
    vim_id: str, driver: DriverInfo, access: dict[str, Any], interface: dict[str, Any]
) -> None:
    """Refuse fields the driver does not read; apply the outbound address policy to the
    URLs it sends the VIM credentials to (checked here, in the API request: the
    driver's SDK cannot be pinned)."""
    accepted = driver.request_fields
    holders = {"accessInfo": access, "interfaceInfo": interface}
    for where, allowed in (
        ("accessInfo", accepted.access_info),
        ("interfaceInfo", accepted.interface_info),
    ):
        unread = sorted(set(holders[where]) - allowed) if allowed is not None else []
        if unread:
            raise VimConfigError(
                f"vimConnectionInfo.{vim_id}.{where}: a {driver.vim_type} VIM takes "
                f"{', '.join(sorted(allowed or ())) or 'no fields'}, not {', '.join(unread)}"
            )
    for where in accepted.endpoints:
        part, _, key = where.partition(".")
        value = holders.get(part, {}).get(key)
        if value is not None:
            from vnfm_runner.outbound import OutboundError, Policy

            try:
                Policy.from_env().check_uri(str(value))
            except OutboundError as exc:
                raise VimConfigError(f"vimConnectionInfo.{vim_id}.{where}: {exc}") from None
