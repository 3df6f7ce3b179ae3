"""Registered VIMs and how an operation's VIM connection is chosen.

A VIM is named (``vnfm vim add``) or comes with the request as SOL003
``vimConnectionInfo``. What reaches the ``vnf_resources`` module is the
public connection (``vim``) plus the secrets apart (``vim_credentials``,
no_log); secrets are stored sealed (``secrets.SecretBox``), never in clear.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vnfm_runner.errors import VIM_TYPES, VimConfigError
from vnfm_runner.secrets import REDACTED, SecretBox, redact, split_secrets
from vnfm_runner.store.db import Store, now
from vnfm_runner.store.tables import VimRow

LOCAL = "local"
SOL003_OPENSTACK = "ETSINFV.OPENSTACK_KEYSTONE.V_3"


@dataclass
class VimTarget:
    name: str
    connection: dict[str, Any]
    credentials: dict[str, Any] = field(default_factory=dict)

    @property
    def vim_type(self) -> str:
        return str(self.connection["vimType"])

    def sol003(self) -> dict[str, Any]:
        """The instance's vimConnectionInfo entry (secrets never shown)."""
        info: dict[str, Any] = {"vimId": self.name, "vimType": _sol003_type(self.vim_type)}
        if self.connection.get("interfaceInfo"):
            info["interfaceInfo"] = self.connection["interfaceInfo"]
        if self.connection.get("accessInfo") or self.credentials:
            info["accessInfo"] = {
                **redact(self.connection.get("accessInfo") or {}),
                **dict.fromkeys(self.credentials, REDACTED),
            }
        if self.connection.get("cloud"):
            info["extra"] = {"cloud": self.connection["cloud"]}
        return info


def _sol003_type(vim_type: str) -> str:
    return SOL003_OPENSTACK if vim_type == "openstack" else f"VNFM.{vim_type.upper()}"


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
        if name == LOCAL:
            raise VimConfigError("the name 'local' is the built-in local VIM")
        if vim_type not in VIM_TYPES:
            raise VimConfigError(f"unknown VIM type {vim_type!r} (known: {', '.join(VIM_TYPES)})")
        connection: dict[str, Any] = {"vimType": vim_type, **(options or {})}
        if vim_type == "openstack":
            if not cloud:
                raise VimConfigError("an openstack VIM needs --cloud (a clouds.yaml entry)")
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
                    credentials=None,
                    created_at=now(),
                )
            )
        except KeyError:
            raise VimConfigError(f"a VIM named {name!r} already exists") from None
        return self.show(name)

    def list(self) -> list[dict[str, Any]]:
        builtin = {
            "name": LOCAL,
            "vimType": LOCAL,
            "connection": {"vimType": LOCAL},
            "builtin": True,
        }
        return [builtin] + [self._view(r) for r in self.store.vims()]

    def show(self, name: str) -> dict[str, Any]:
        if name == LOCAL:
            return self.list()[0]
        row = self.store.vim(name)
        if row is None:
            raise VimConfigError(f"no VIM named {name!r}")
        return self._view(row)

    def remove(self, name: str) -> None:
        if name == LOCAL:
            raise VimConfigError("the built-in local VIM cannot be removed")
        if self.store.vim(name) is None:
            raise VimConfigError(f"no VIM named {name!r}")
        users = [
            r.id
            for r in self.store.instances()
            if (r.vim or {}).get("name") == name and r.instantiation_state == "INSTANTIATED"
        ]
        if users:
            raise VimConfigError(f"VIM {name!r} still hosts instances: {', '.join(users)}")
        self.store.remove_vim(name)

    @staticmethod
    def _view(row: VimRow) -> dict[str, Any]:
        return {
            "name": row.name,
            "vimType": row.vim_type,
            "connection": redact(row.connection),
            "builtin": False,
        }

    # -- per operation ------------------------------------------------------------------
    def resolve(self, name: str | None, vim_connection_info: Any, default: str) -> VimTarget:
        """The VIM of an operation: --vim NAME, else the request's vimConnectionInfo, else default."""
        if name is None and vim_connection_info:
            return self._from_sol003(vim_connection_info)
        name = name or default
        if name == LOCAL:
            return VimTarget(LOCAL, {"vimType": LOCAL})
        row = self.store.vim(name)
        if row is None:
            known = ", ".join([LOCAL] + [r.name for r in self.store.vims()])
            raise VimConfigError(f"unknown VIM {name!r} (registered: {known})")
        creds = self.box.open(row.credentials) if row.credentials else {}
        return VimTarget(row.name, dict(row.connection), creds)

    @staticmethod
    def _from_sol003(vci: Any) -> VimTarget:
        if not isinstance(vci, dict) or len(vci) != 1:
            raise VimConfigError("vimConnectionInfo must map one id to a VimConnectionInfo")
        ((vim_id, info),) = vci.items()
        if not isinstance(info, dict):
            raise VimConfigError(f"vimConnectionInfo.{vim_id} must be an object")
        vim_type = info.get("vimType")
        if vim_type != SOL003_OPENSTACK:
            raise VimConfigError(
                f"vimConnectionInfo.{vim_id}.vimType {vim_type!r} is not supported "
                f"(supported: {SOL003_OPENSTACK})"
            )
        access = info.get("accessInfo") or {}
        if not isinstance(access, dict):
            raise VimConfigError(f"vimConnectionInfo.{vim_id}.accessInfo must be an object")
        public, secret = split_secrets(access)
        # The driver's SOL003 form: interfaceInfo and accessInfo at the top.
        connection = {
            "vimType": "openstack",
            "vimId": info.get("vimId", vim_id),
            "interfaceInfo": info.get("interfaceInfo") or {},
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
        if not stored:
            return VimTarget(LOCAL, {"vimType": LOCAL})
        token = stored.get("credentials")
        return VimTarget(
            str(stored["name"]), dict(stored["connection"]), self.box.open(token) if token else {}
        )


CAP_NET_ADMIN = 12


def check_local_vim() -> None:
    """The local VIM needs CAP_NET_ADMIN (not merely uid 0) and iproute2."""
    import shutil

    if shutil.which("ip") is None:
        raise VimConfigError("the local VIM needs iproute2 (the 'ip' command); install it")
    try:
        status = open("/proc/self/status").read()  # noqa: SIM115 - tiny procfs read
    except OSError:
        return  # not Linux procfs: let the driver say what is missing
    for line in status.splitlines():
        if line.startswith("CapEff:") and not int(line.split()[1], 16) >> CAP_NET_ADMIN & 1:
            raise VimConfigError(
                "the local VIM needs root or CAP_NET_ADMIN to create network namespaces; "
                "run vnfm as root (sudo) or grant the capability"
            )
