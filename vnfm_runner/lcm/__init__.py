"""The LCM service: packages, VNF instances and their lifecycle operations.

Every entry point (CLI, SOL003 API, Python API) calls ``Vnfm``. An operation is
recorded (STARTING → PROCESSING → COMPLETED | FAILED_TEMP | ROLLED_BACK), runs
exactly one operation playbook through ansible-runner, and only a completed
operation changes the VnfInstance.

- ``service``: the Vnfm class — packages, instances, the operation records,
  dispatching and running an operation under its lease
- ``instantiation``, ``termination``: InstantiateVnf (and its rollback), TerminateVnf
- ``operations``: scale, heal, operate, change flavour / ext conn, modify info
- ``package_change``: what CHANGE_VNFPKG adds (target package, rollback)
- ``custom``: the package's own operations
- ``occurrences``: the LcmOpOcc task resources (rollback, fail, cancel)
- ``grant``, ``hooks``, ``failures``, ``documents``: what the operations share
"""

from vnfm_runner.core import PackageError
from vnfm_runner.errors import LcmError, NotFound
from vnfm_runner.lcm.operations import GENERIC_OPERATIONS, ROLE_OF
from vnfm_runner.lcm.service import Listener, Submit, Vnfm

__all__ = [
    "GENERIC_OPERATIONS",
    "ROLE_OF",
    "LcmError",
    "Listener",
    "NotFound",
    "PackageError",
    "Submit",
    "Vnfm",
]
