# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""What the ``podman`` VIM driver declares to the registry (``vim/registry.py``).

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


def _factory(
    vim: dict[str, Any], credentials: dict[str, Any] | None, options: dict[str, Any]
) -> VimDriver:
    from ansible_collections.nfv.vnfm.plugins.module_utils.vim.podman import PodmanDriver

    return PodmanDriver(vim, credentials, **options)


def preflight() -> None:
    """The controller runs rootful podman (and runc)."""
    import os
    import shutil

    if shutil.which("podman") is None:
        raise VimError(
            "the podman VIM needs podman and runc: install them (apt-get install podman runc)"
        )
    if os.geteuid() != 0:
        raise VimError("the podman VIM runs rootful podman: run vnfm as root (sudo)")


DRIVER = DriverInfo(
    vim_type="podman",
    sol003_types=("VNFM.PODMAN",),
    factory=_factory,
    summary="VNFCs are podman pods of this host (containerised VNFs)",
    resource_types=("podman.pod",),
    # hooks run in the pod's main container through `podman exec`
    connection=Connection(
        plugin="nfv.vnfm.podman", host_var="vnfm_podman_pod", address="resourceId"
    ),
    preflight=preflight,
    # this host's podman: nothing a request could connect to or authenticate with
    request_fields=RequestFields(),
    runs_containers=True,
)
