# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""The VIM driver port: reconcile a plan (``docs/plan-format.md``) onto a VIM.

A driver discovers what exists in its VIM, diffs it against the plan, applies
the difference and returns the resulting resources in SOL003 shapes
(``base.py``: the port and the shared reconcile skeleton). Drivers are picked by
``vim["vimType"]`` through :func:`get_driver`; each declares itself to the
registry (``registry.py``: its vimType names incl. SOL003 ones, connection
plugin, pre-flight check, accepted request fields). A new VIM type is a driver
module, its ``meta.py`` and one line in ``registry._register_builtin`` (or a
call to :func:`register`).
"""

from __future__ import annotations

from typing import Any

# base first: the driver modules import VimError and ReconcileResult from this package
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.base import (
    ReconcileResult,
    ReconcilingDriver,
    VimDriver,
    VimError,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.registry import (
    Connection,
    DriverFactory,
    DriverInfo,
    RequestFields,
    connection_of,
    driver_info,
    drivers,
    get_driver,
    register,
    unregister,
    vim_type_names,
    vim_types,
)

__all__ = [
    "Connection",
    "DriverFactory",
    "DriverInfo",
    "ReconcileResult",
    "ReconcilingDriver",
    "RequestFields",
    "VimDriver",
    "VimError",
    "connection_of",
    "driver_info",
    "drivers",
    "get_driver",
    "register",
    "register_driver",
    "supported_vim_types",
    "unregister",
    "vim_type_names",
    "vim_types",
]


def register_driver(vim_type: str, factory: DriverFactory, **info: Any) -> None:
    """Add (or replace) a driver known by its factory alone (see :class:`DriverInfo`)."""
    register(DriverInfo(vim_type, tuple(info.pop("sol003_types", ())), factory, **info))


def supported_vim_types() -> list[str]:
    return vim_types()
