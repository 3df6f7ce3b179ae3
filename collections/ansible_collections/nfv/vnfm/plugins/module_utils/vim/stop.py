# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""How an operate stops a VNFC (SOL003 OperateVnfRequest ``stopType`` and
``gracefulStopTimeout``), read once for every driver from the plan's inputs, where
the planner keeps the last operate's request."""

from __future__ import annotations

import math
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim.base import VimError

GRACEFUL = "GRACEFUL"
FORCEFUL = "FORCEFUL"


def stop_settings(plan: dict[str, Any]) -> tuple[str, float | None]:
    """(stopType, gracefulStopTimeout in seconds or None), checked: a bad value names its field."""
    inputs = plan.get("inputs") or {}
    if not isinstance(inputs, dict):
        raise VimError("plan: 'inputs' must be a mapping")
    stop_type = inputs.get("stopType") or GRACEFUL
    if stop_type not in (GRACEFUL, FORCEFUL):
        raise VimError(f"plan: inputs.stopType must be GRACEFUL or FORCEFUL, got {stop_type!r}")
    timeout = inputs.get("gracefulStopTimeout")
    if timeout is None:
        return str(stop_type), None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
        raise VimError(
            f"plan: inputs.gracefulStopTimeout must be a number of seconds >= 0, got {timeout!r}"
        )
    return str(stop_type), float(timeout)


def stop_grace(plan: dict[str, Any]) -> int | None:
    """Whole seconds a stopping VNFC gets: 0 for a FORCEFUL stop, the request's
    gracefulStopTimeout (rounded up) for a GRACEFUL one, None for the VIM's default."""
    stop_type, timeout = stop_settings(plan)
    if stop_type == FORCEFUL:
        return 0
    return None if timeout is None else math.ceil(timeout)
