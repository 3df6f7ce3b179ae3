# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""The VIM driver port: reconcile a plan (``docs/plan-format.md``) onto a VIM.

A driver discovers what exists in its VIM, diffs it against the plan, applies
the difference and returns the resulting resources in SOL003 shapes. Drivers
are picked by ``vim["vimType"]`` through :func:`get_driver`; a new VIM type is
one more entry in ``_FACTORIES`` (or a call to :func:`register_driver`). Driver
modules are imported lazily, inside their factory, so that Ansible's AnsiballZ
still sees the imports and no driver loads the others' dependencies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ansible_collections.nfv.vnfm.plugins.module_utils.errors import VnfmError

__all__ = [
    "ReconcileResult",
    "VimDriver",
    "VimError",
    "get_driver",
    "register_driver",
    "supported_vim_types",
]


class VimError(VnfmError):
    """The VIM refused or cannot do what the plan asks (message is user-facing)."""


@dataclass
class ReconcileResult:
    """What a reconcile (or a removal) did, or would do in check mode."""

    changed: bool = False
    actions: list[str] = field(default_factory=list)
    resources: dict[str, Any] = field(default_factory=dict)
    diff: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "actions": list(self.actions),
            "resources": self.resources,
            "diff": self.diff,
        }


class VimDriver(Protocol):
    """What every VIM driver implements."""

    def reconcile(
        self,
        plan: dict[str, Any],
        *,
        heal: list[str],
        check_mode: bool,
        heal_token: str | None = None,
    ) -> ReconcileResult:
        """Make the VIM match ``plan``; recreate the VNFCs listed in ``heal``.

        With a ``heal_token`` (an operation id), a VNFC that a reconcile with the
        same token created is not recreated again, and takes the plan's
        ``softwareGeneration`` in its record (docs/plan-format.md).
        """

    def resources(self, vnf_instance_id: str, plan: dict[str, Any] | None = None) -> dict[str, Any]:
        """What the VIM holds for the instance now, in SOL003 shapes; changes nothing."""

    def remove(self, vnf_instance_id: str, *, check_mode: bool) -> ReconcileResult:
        """Delete every resource of the instance, found by discovery alone."""


DriverFactory = Callable[[dict[str, Any], "dict[str, Any] | None", dict[str, Any]], VimDriver]


def _local_factory(
    vim: dict[str, Any], credentials: dict[str, Any] | None, options: dict[str, Any]
) -> VimDriver:
    from ansible_collections.nfv.vnfm.plugins.module_utils.vim.local import LocalDriver

    return LocalDriver(vim, credentials, **options)


def _openstack_factory(
    vim: dict[str, Any], credentials: dict[str, Any] | None, options: dict[str, Any]
) -> VimDriver:
    from ansible_collections.nfv.vnfm.plugins.module_utils.vim.openstack import OpenStackDriver

    return OpenStackDriver(vim, credentials, **options)


_FACTORIES: dict[str, DriverFactory] = {
    "local": _local_factory,
    "openstack": _openstack_factory,
}


def register_driver(vim_type: str, factory: DriverFactory) -> None:
    """Add (or replace) the factory of a VIM type."""
    _FACTORIES[vim_type] = factory


def supported_vim_types() -> list[str]:
    return sorted(_FACTORIES)


def get_driver(
    vim: dict[str, Any],
    credentials: dict[str, Any] | None = None,
    **options: Any,
) -> VimDriver:
    """Return the driver of ``vim["vimType"]``.

    ``credentials`` holds secrets kept apart from ``vim``; ``options`` are
    generic driver options (``wait``, ``timeout``).
    """
    if not isinstance(vim, dict):
        raise VimError("the VIM connection must be a dict with a 'vimType' key")
    vim_type = vim.get("vimType")
    factory = _FACTORIES.get(vim_type) if isinstance(vim_type, str) else None
    if factory is None:
        raise VimError(
            f"unsupported vimType {vim_type!r}; supported: {', '.join(supported_vim_types())}"
        )
    return factory(vim, credentials, options)
