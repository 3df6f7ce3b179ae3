# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""How a program starts inside a VNFC of the ``local`` VIM.

A clean environment (nothing of the controller's ``VNFM_*``, ``ANSIBLE_*`` or
credentials reaches the VNFC's processes), the VNFC's cgroup joined (as root: what the
program starts is counted there), then ``ip netns exec``. The ``nfv.vnfm.netns``
connection does this per task; the runner's warm strategy (Mitogen) does it once per
VNFC and run, for the Python it keeps there (``lcm_context.warm_connections``).
"""

from __future__ import annotations

import os
import shutil

from ansible.module_utils import basic
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local import cgroup

VNFC_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def vnfc_env() -> dict[str, str]:
    """The environment of every process started in a VNFC: that of a login."""
    return {"PATH": VNFC_PATH, "LANG": "C.UTF-8", "HOME": os.environ.get("HOME") or "/root"}


def ip_executable() -> str:
    return shutil.which("ip") or shutil.which("ip", path="/usr/sbin:/sbin:/usr/bin:/bin") or "ip"


def argv(netns: str, program: list[str], extra_env: dict[str, str] | None = None) -> list[str]:
    """The argv that runs ``program`` inside VNFC ``netns`` (root only: entering a
    namespace needs CAP_SYS_ADMIN)."""
    variables = {**vnfc_env(), **(extra_env or {})}
    env = ["/usr/bin/env", "-i", *(f"{k}={v}" for k, v in variables.items())]
    return [*env, *cgroup.join_argv(netns), ip_executable(), "netns", "exec", netns, *program]


def import_path() -> str:
    """``PYTHONPATH`` that gives another Python this one's imports: where Ansible is
    installed (a virtual environment's site-packages) and where this collection is.

    Mitogen re-executes its interpreter under a changed ``argv[0]``, by which Python no
    longer finds the virtual environment it belongs to: without this, every module the
    interpreter imports (Ansible's, the collection's) is sent over from the controller
    and compiled anew in each run."""
    here = os.path.abspath(__file__)
    # .../site-packages/ansible/module_utils/basic.py: three levels up is where Ansible is installed
    roots = [os.path.dirname(os.path.dirname(os.path.dirname(basic.__file__)))]
    marker = os.sep + "ansible_collections" + os.sep
    if marker in here:
        roots.append(here[: here.rindex(marker)])
    return os.pathsep.join(dict.fromkeys(os.path.abspath(r) for r in roots))
