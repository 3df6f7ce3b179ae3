"""The shared core (package model, planner, VIM drivers), re-exported.

One copy of the model and planner exists: the collection's module_utils.
The runner imports them through this module only.
"""

from __future__ import annotations

from vnfm_runner import paths

paths.ensure_core_importable()

from ansible_collections.nfv.vnfm.plugins.module_utils.errors import (  # noqa: E402
    PackageError,
    PlanError,
    Problem,
    VnfmError,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.decide import (  # noqa: E402
    CUSTOM,
    HOOK_PREFIX,
    decide_plan,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.package_change import (  # noqa: E402
    STEP_OPERATIONS,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.planner import (  # noqa: E402
    PlanRequest,
    plan,
    short_id,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.loader import load_vnf  # noqa: E402
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.model import (  # noqa: E402
    VnfModel,
    to_json,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.package import (  # noqa: E402
    Limits,
    Package,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.summary import (  # noqa: E402
    package_summary,
)

__all__ = [
    "CUSTOM",
    "HOOK_PREFIX",
    "STEP_OPERATIONS",
    "Limits",
    "Package",
    "PackageError",
    "PlanError",
    "PlanRequest",
    "Problem",
    "VnfModel",
    "VnfmError",
    "decide_plan",
    "load_vnf",
    "package_summary",
    "plan",
    "short_id",
    "to_json",
]
