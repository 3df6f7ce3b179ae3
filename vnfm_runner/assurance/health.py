"""The probes of the collection's core (module_utils/health), re-exported for the runner.

Like ``vnfm_runner.core`` for the model and the planner: one copy of the probe
code serves the modules and the runner.
"""

from __future__ import annotations

from vnfm_runner import paths

paths.ensure_core_importable()

from ansible_collections.nfv.vnfm.plugins.module_utils.health.probes import (  # noqa: E402
    HEALTHY as HEALTH_HEALTHY,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.health.probes import (  # noqa: E402
    NOT_PROBED as HEALTH_NOT_PROBED,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.health.probes import (  # noqa: E402
    UNHEALTHY as HEALTH_UNHEALTHY,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.health.probes import (  # noqa: E402
    UNKNOWN as HEALTH_UNKNOWN,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.health.probes import (  # noqa: E402
    Attempt,
    ProbeResult,
    ProbeRunner,
    ProbeTarget,
    attempt,
    targets_for,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.model import (  # noqa: E402
    HealthProbe,
    VnfModel,
)

__all__ = [
    "HEALTH_HEALTHY",
    "HEALTH_NOT_PROBED",
    "HEALTH_UNHEALTHY",
    "HEALTH_UNKNOWN",
    "Attempt",
    "HealthProbe",
    "ProbeResult",
    "ProbeRunner",
    "ProbeTarget",
    "VnfModel",
    "attempt",
    "targets_for",
]
