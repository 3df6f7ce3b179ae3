# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""What the ``kubernetes`` VIM driver declares to the registry (``vim/registry.py``).

Light on purpose: the driver code and the ``kubernetes`` client load in :func:`_factory`.
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
    from ansible_collections.nfv.vnfm.plugins.module_utils.vim.kubernetes import (
        KubernetesDriver,
    )

    return KubernetesDriver(vim, credentials, **options)


DRIVER = DriverInfo(
    vim_type="kubernetes",
    sol003_types=("ETSINFV.KUBERNETES.V_1",),
    factory=_factory,
    summary="VNFCs are pods of a Kubernetes cluster (containerised VNFs)",
    resource_types=("kubernetes.pod",),
    # hooks run in the VNFC's pod through kubectl exec (needs the kubernetes.core collection)
    connection=Connection(
        plugin="kubernetes.core.kubectl", host_var="ansible_kubectl_pod", address="resourceId"
    ),
    # SOL003 ETSINFV.KUBERNETES.V_1: interfaceInfo.endpoint (+ ssl_ca_cert), accessInfo.bearer_token
    request_fields=RequestFields(
        access_info=frozenset({"bearer_token"}),
        interface_info=frozenset({"endpoint", "ssl_ca_cert"}),
        extra=frozenset({"namespace"}),
        endpoints=("interfaceInfo.endpoint",),
    ),
    runs_containers=True,
)
