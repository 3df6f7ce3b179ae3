# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""What the ``local`` VIM driver declares to the registry (``vim/registry.py``).

Light on purpose: the driver code loads in :func:`_factory`, when a driver is built.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim.base import VimDriver, VimError
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.registry import (
    Connection,
    DriverInfo,
    RequestFields,
)

CAP_NET_ADMIN = 12


def _factory(
    vim: dict[str, Any], credentials: dict[str, Any] | None, options: dict[str, Any]
) -> VimDriver:
    from ansible_collections.nfv.vnfm.plugins.module_utils.vim.local import LocalDriver

    return LocalDriver(vim, credentials, **options)


def preflight() -> None:
    """The controller needs CAP_NET_ADMIN (not merely uid 0) and iproute2."""
    import shutil

    if shutil.which("ip") is None:
        raise VimError("the local VIM needs iproute2 (the 'ip' command); install it")
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            lines = status.read().splitlines()
    except OSError:
        return  # not Linux procfs: let the driver say what is missing
    for line in lines:
        if line.startswith("CapEff:") and not int(line.split()[1], 16) >> CAP_NET_ADMIN & 1:
            raise VimError(
                "the local VIM needs root or CAP_NET_ADMIN to create network namespaces; "
                "run vnfm as root (sudo) or grant the capability"
            )


DRIVER = DriverInfo(
    vim_type="local",
    sol003_types=("VNFM.LOCAL",),
    factory=_factory,
    summary="VNFCs are network namespaces of this host",
    resource_types=("linux.netns",),
    connection=Connection(plugin="nfv.vnfm.netns", host_var="vnfm_netns", address="resourceId"),
    preflight=preflight,
    # the host's own namespaces: nothing a request could connect to or authenticate with
    request_fields=RequestFields(),
    builtin_name="local",
)
