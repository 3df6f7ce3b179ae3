"""Fault management vocabulary, as SOL003 (VNF fault management, clause 7.5.4) spells it."""

from __future__ import annotations

from enum import StrEnum


class PerceivedSeverity(StrEnum):
    """SOL003 7.5.4.3 ``PerceivedSeverityType`` (ITU-T X.733)."""

    CRITICAL = "CRITICAL"
    MAJOR = "MAJOR"
    MINOR = "MINOR"
    WARNING = "WARNING"
    INDETERMINATE = "INDETERMINATE"
    CLEARED = "CLEARED"


class EventType(StrEnum):
    """SOL003 7.5.4.5 ``EventType``."""

    COMMUNICATIONS_ALARM = "COMMUNICATIONS_ALARM"
    PROCESSING_ERROR_ALARM = "PROCESSING_ERROR_ALARM"
    ENVIRONMENTAL_ALARM = "ENVIRONMENTAL_ALARM"
    QOS_ALARM = "QOS_ALARM"
    EQUIPMENT_ALARM = "EQUIPMENT_ALARM"


class AckState(StrEnum):
    """SOL003 7.5.2.4 ``Alarm.ackState``."""

    UNACKNOWLEDGED = "UNACKNOWLEDGED"
    ACKNOWLEDGED = "ACKNOWLEDGED"


class FaultyResourceType(StrEnum):
    """SOL003 7.5.4.4 ``FaultyResourceType`` (of ``rootCauseFaultyResource``)."""

    COMPUTE = "COMPUTE"
    STORAGE = "STORAGE"
    NETWORK = "NETWORK"
