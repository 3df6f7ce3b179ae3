"""vnfm_runner: the thin Python side of vnfm-toolkit.

It maps lifecycle requests onto the collection's playbooks (through
ansible-runner), records the results and serves the CLI. The VNF model and
the planner live once, in the collection's ``module_utils``; importing this
package makes them importable from a source checkout.
"""

from vnfm_runner import paths

paths.ensure_core_importable()

__version__ = "0.1.0"
