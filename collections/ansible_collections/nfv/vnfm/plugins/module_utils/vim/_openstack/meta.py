# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""What the ``openstack`` VIM driver declares to the registry (``vim/registry.py``).

Light on purpose: the driver code and openstacksdk load in :func:`_factory`.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim.base import VimDriver
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.registry import (
    Connection,
    DriverInfo,
    RequestFields,
)


def _factory(
    vim: dict[str, Any], credentials: dict[str, Any] | None, options: dict[str, Any]
) -> VimDriver:
    from ansible_collections.nfv.vnfm.plugins.module_utils.vim.openstack import OpenStackDriver

    return OpenStackDriver(vim, credentials, **options)


DRIVER = DriverInfo(
    vim_type="openstack",
    sol003_types=("ETSINFV.OPENSTACK_KEYSTONE.V_3",),
    factory=_factory,
    summary="VNFCs are Nova servers, virtual links Neutron networks",
    resource_types=("OS::Nova::Server",),
    # SSH to the VNFC's management address, host keys checked
    connection=Connection(plugin="ssh", host_var="ansible_host", address="managementAddress"),
    # Keystone's auth plugins take many keys: accessInfo and interfaceInfo pass as given
    # (_openstack/connect.py reads them); ``extra`` is not read (a request must not pick
    # a clouds.yaml entry of the VNFM's host)
    request_fields=RequestFields(
        access_info=None,
        interface_info=None,
        endpoints=("interfaceInfo.endpoint", "interfaceInfo.authUrl", "accessInfo.authUrl"),
    ),
    clouds_yaml=True,
    server_diagnostics=True,
)
