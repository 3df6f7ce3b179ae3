"""vnfm_runner: the thin Python side of vnfm-toolkit.

It maps lifecycle requests onto the collection's playbooks (through
ansible-runner), records the results and serves the CLI and the API. The
VNF model and the planner live once, in the collection's ``module_utils``;
importing this package makes them importable from a source checkout.

For an NFVO that embeds the VNFM::

    from vnfm_runner import Settings, Vnfm
    vnfm = Vnfm(Settings())
"""

from typing import Any

from vnfm_runner import paths

paths.ensure_core_importable()

__version__ = "0.1.0"
__all__ = ["LcmError", "Settings", "Vnfm"]


def __getattr__(name: str) -> Any:
    # Lazy: the CLI's fast paths (package validate/show) need not import the engine.
    if name in ("Vnfm", "LcmError"):
        from vnfm_runner import lcm

        return getattr(lcm, name)
    if name == "Settings":
        from vnfm_runner.settings import Settings

        return Settings
    raise AttributeError(name)
