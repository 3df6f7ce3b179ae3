# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""The VIM drivers this VNFM has, and what each declares about itself.

A driver declares a :class:`DriverInfo` (its ``vimType`` names, ours and the SOL003
ones; its factory; how Ansible reaches its VNFCs; its pre-flight check; the SOL003
``VimConnectionInfo`` fields it reads) and :func:`register` adds it. The runner, the
LCM context and the modules ask this registry; nothing outside ``vim/`` names a VIM
type. The built-in drivers declare themselves in ``_<driver>/meta.py``, which imports
nothing heavy: the driver code (and its SDK) loads in the factory, when a driver is
built, so that the runner's CLI starts fast and AnsiballZ still sees the imports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim.base import VimDriver, VimError

__all__ = [
    "Connection",
    "DriverFactory",
    "DriverInfo",
    "RequestFields",
    "connection_of",
    "driver_info",
    "drivers",
    "get_driver",
    "register",
    "unregister",
    "vim_type_names",
    "vim_types",
]

DriverFactory = Callable[[dict[str, Any], "dict[str, Any] | None", dict[str, Any]], VimDriver]


@dataclass(frozen=True)
class Connection:
    """How Ansible reaches a VNFC of the driver (the host added to the inventory)."""

    plugin: str  # ansible_connection
    host_var: str  # the host variable the plugin reads
    address: str  # what it holds: "resourceId" (of the compute resource) or "managementAddress"


@dataclass(frozen=True)
class RequestFields:
    """The fields of a SOL003 ``VimConnectionInfo`` the driver reads.

    ``None``: any key, passed to the driver as given (secrets apart, by name); an empty
    set: none (a request giving one is refused). ``endpoints`` are the fields naming a
    URL the driver sends the VIM credentials to (the outbound address policy applies).
    """

    access_info: frozenset[str] | None = frozenset()
    interface_info: frozenset[str] | None = frozenset()
    extra: frozenset[str] = frozenset()
    endpoints: tuple[str, ...] = ()

    @property
    def connection_data(self) -> bool:
        """Whether a request may give connection data (endpoint, credentials) at all."""
        return self.access_info != frozenset() or self.interface_info != frozenset()


@dataclass(frozen=True)
class DriverInfo:
    """What a VIM driver declares about itself."""

    vim_type: str  # the vnf_resources module's vimType, and the runner's --type
    sol003_types: tuple[str, ...]  # SOL003 VimConnectionInfo.vimType names; the first is shown
    factory: DriverFactory = field(repr=False)
    summary: str = ""
    # vimLevelResourceType of the driver's VNFC compute resources
    resource_types: tuple[str, ...] = ()
    connection: Connection | None = None
    # the controller's own check before an operation is recorded (raises VimError)
    preflight: Callable[[], None] | None = field(default=None, repr=False)
    request_fields: RequestFields = RequestFields()
    # a VIM of this type that exists without registration (``vnfm vim list`` shows it)
    builtin_name: str | None = None
    # a registered VIM of this type is a clouds.yaml entry (vim add --cloud, --clouds-file, --region)
    clouds_yaml: bool = False
    # its VNFCs are containers (packages deploying containers run here, VM packages do not)
    runs_containers: bool = False
    # its VNFCs are servers whose usage the VIM's compute API reports (Nova's server
    # diagnostics): the VNFM's metrics ask the VIM, as it cannot look into them itself
    server_diagnostics: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return (self.vim_type, *self.sol003_types)

    @property
    def sol003_type(self) -> str:
        return self.sol003_types[0]


_DRIVERS: dict[str, DriverInfo] = {}


def register(info: DriverInfo) -> None:
    """Add (or replace) a driver; its names must not belong to another driver."""
    for name in info.names:
        owner = _owner(name)
        if owner is not None and owner.vim_type != info.vim_type:
            raise ValueError(f"vimType {name!r} is already driver {owner.vim_type!r}'s")
    _DRIVERS[info.vim_type] = info


def unregister(vim_type: str) -> None:
    _DRIVERS.pop(vim_type, None)


def drivers() -> list[DriverInfo]:
    return [_DRIVERS[t] for t in sorted(_DRIVERS)]


def vim_types() -> list[str]:
    """The drivers' own vimType names, sorted."""
    return sorted(_DRIVERS)


def vim_type_names() -> list[str]:
    """Every vimType name a driver answers to (ours and the SOL003 ones), sorted."""
    return sorted(n for info in _DRIVERS.values() for n in info.names)


def _owner(name: str) -> DriverInfo | None:
    for info in _DRIVERS.values():
        if name in info.names:
            return info
    return None


def driver_info(vim_type: object) -> DriverInfo:
    """The driver of a vimType name (ours or SOL003); VimError naming it when none has it."""
    info = _owner(vim_type) if isinstance(vim_type, str) else None
    if info is None:
        raise VimError(
            f"unsupported vimType {vim_type!r}; supported: {', '.join(vim_type_names())}"
        )
    return info


def connection_of(resource_type: object) -> Connection | None:
    """How Ansible reaches a VNFC whose compute resource has this vimLevelResourceType."""
    for info in _DRIVERS.values():
        if resource_type in info.resource_types:
            return info.connection
    return None


def get_driver(
    vim: dict[str, Any],
    credentials: dict[str, Any] | None = None,
    **options: Any,
) -> VimDriver:
    """Return the driver of ``vim["vimType"]``.

    ``credentials`` holds secrets kept apart from ``vim`` (opened here when sealed);
    ``options`` are generic driver options (``wait``, ``timeout``, ``package_dir``).
    """
    if not isinstance(vim, dict):
        raise VimError("the VIM connection must be a dict with a 'vimType' key")
    info = driver_info(vim.get("vimType"))
    from ansible_collections.nfv.vnfm.plugins.module_utils.vim.sealed import open_credentials

    return info.factory(vim, open_credentials(credentials), options)


def _register_builtin() -> None:
    # explicit imports, so that AnsiballZ ships them with any module using the registry
    from ansible_collections.nfv.vnfm.plugins.module_utils.vim._kubernetes import (
        meta as kubernetes_meta,
    )
    from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local import meta as local_meta
    from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack import (
        meta as openstack_meta,
    )
    from ansible_collections.nfv.vnfm.plugins.module_utils.vim._podman import meta as podman_meta

    for info in (
        local_meta.DRIVER,
        openstack_meta.DRIVER,
        podman_meta.DRIVER,
        kubernetes_meta.DRIVER,
    ):
        register(info)


_register_builtin()
