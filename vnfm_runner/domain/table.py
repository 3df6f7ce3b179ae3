"""The operation table of the shared core, for the runner (see ``module_utils/operations.py``)."""

from vnfm_runner import paths

paths.ensure_core_importable()

from ansible_collections.nfv.vnfm.plugins.module_utils.operations import (  # noqa: E402
    GENERIC,
    OPERATIONS,
    Operation,
    OperationSpec,
    Rollback,
    spec,
)

__all__ = ["GENERIC", "OPERATIONS", "Operation", "OperationSpec", "Rollback", "spec"]
