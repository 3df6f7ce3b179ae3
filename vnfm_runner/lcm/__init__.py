"""The LCM service: packages, VNF instances and their lifecycle operations.

Every entry point (CLI, SOL003 API, Python API) calls the ``Vnfm`` façade. An
operation is recorded (STARTING → PROCESSING → COMPLETED | FAILED_TEMP |
ROLLED_BACK), runs exactly one operation playbook through ansible-runner, and
only a completed operation changes the VnfInstance (in the same transaction).

- ``service``: the Vnfm façade — packages, instances, dispatching operations
- ``ports``: the Protocols of what the handlers touch; ``recording``: an
  occurrence's record and its unit of work; ``lookup``: the records to start from
- handlers, each with its ports passed in: ``instantiation``, ``termination``,
  ``operations`` (the table's GENERIC ones; ``modification``, ``package_change``
  hold their own parts), ``custom``, ``occurrences`` (rollback, fail, cancel)
- ``execution``: an operation run under its lease, dispatched by the operation
  table; recovery of the operations whose engine died
- ``playbooks``: the real playbook runner (ansible-runner)
- ``grant``, ``hooks``, ``failures``, ``documents``: what the handlers share
"""

from vnfm_runner.core import PackageError
from vnfm_runner.errors import LcmError, NotFound
from vnfm_runner.lcm.service import Listener, Submit, Vnfm

__all__ = [
    "LcmError",
    "Listener",
    "NotFound",
    "PackageError",
    "Submit",
    "Vnfm",
]
