"""What performance management tells the rest of the VNFM: threshold crossings.

PM (``pm.py``) evaluates thresholds on every collection; when a value leaves the
hysteresis band of a SIMPLE threshold, it commits the new crossing state, sends a
``ThresholdCrossedNotification`` and, after the commit, hands a
:class:`ThresholdCrossing` to every listener registered with
``PmService.add_crossing_listener`` (auto-scale is one). This module has no
dependency on PM's storage so listeners can import it freely.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

UP = "UP"
DOWN = "DOWN"


@dataclass(frozen=True)
class ThresholdCrossing:
    """One committed crossing of a threshold (SOL003 ThresholdCrossedNotification)."""

    threshold_id: str
    vnf_instance_id: str
    performance_metric: str
    sub_object_instance_id: str | None
    direction: str  # "UP" | "DOWN"
    value: float
    at: float  # seconds since the epoch: the end of the collection that crossed


CrossingListener = Callable[[ThresholdCrossing], None]
