"""vnfm_runner: the thin Python side of vnfm-toolkit.

It maps lifecycle requests onto the collection's playbooks (through
ansible-runner), records the results and serves the CLI and the API. The
VNF model and the planner live once, in the collection's ``module_utils``;
the wheel carries the collection (``vnfm_runner.paths``).

For an NFVO that embeds the VNFM::

    from vnfm_runner import Settings, Vnfm
    vnfm = Vnfm.open(Settings())
"""

from importlib.metadata import version
from typing import Any

from vnfm_runner import paths

paths.ensure_core_importable()

# the distribution's version, built from the collection's galaxy.yml (the one source)
__version__ = version("vnfm-toolkit")
__all__ = ["AlarmService", "LcmError", "Settings", "Vnfm"]


def __getattr__(name: str) -> Any:
    # Lazy: the CLI's fast paths (package validate/show) need not import the engine.
    if name in ("Vnfm", "LcmError"):
        from vnfm_runner import lcm

        return getattr(lcm, name)
    if name == "AlarmService":  # fault management (SOL003 vnffm): docs/python-api.md
        from vnfm_runner.assurance.alarms import AlarmService

        return AlarmService
    if name == "Settings":
        from vnfm_runner.settings import Settings

        return Settings
    raise AttributeError(name)
