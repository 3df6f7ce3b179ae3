"""Prometheus scrape targets and alert rules, generated from what the VNFD declares.

Nobody writes a rule by hand: each VDU's health probe gives a rule on the
probe metric the VNFM exports (``metrics.py``), and each scraped VNFC target an
``up == 0`` rule. Label values are quoted as PromQL strings (JSON escaping is
PromQL's), so an id can never change an expression.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vnfm_runner.assurance.health import HealthProbe

PROBE_METRIC = "vnfm_vnfc_probe_healthy"
INSTANCE_LABEL = "vnf_instance_id"


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _duration(seconds: float) -> str:
    return f"{max(0, round(seconds * 1000))}ms"


@dataclass(frozen=True)
class AlertRule:
    name: str
    expr: str
    for_s: float = 0.0
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"alert": self.name, "expr": self.expr}
        if self.for_s > 0:
            out["for"] = _duration(self.for_s)
        if self.labels:
            out["labels"] = dict(self.labels)
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out


@dataclass(frozen=True)
class TargetGroup:
    """One file_sd group: addresses to scrape (``host:port``) and the labels they get."""

    targets: Sequence[str]
    labels: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"targets": list(self.targets), "labels": dict(self.labels)}


def probe_rules(instance_id: str, probes: Iterable[HealthProbe]) -> list[AlertRule]:
    """One rule per VDU probe: a VNFC of the instance whose probe reports unhealthy.

    The probe runner already applies the package's failure threshold, so the rule
    fires on the first evaluation that sees 0.
    """
    out = []
    for p in sorted(probes, key=lambda p: (p.vdu_id, p.id)):
        selector = f"{INSTANCE_LABEL}={_q(instance_id)},vdu_id={_q(p.vdu_id)},probe={_q(p.id)}"
        out.append(
            AlertRule(
                name="VnfcProbeFailed",
                expr=f"{PROBE_METRIC}{{{selector}}} == 0",
                labels={"severity": "major", "event_type": "PROCESSING_ERROR_ALARM"},
                annotations={
                    "summary": f"VNFC {{{{ $labels.vnfc_id }}}} of VDU {p.vdu_id} fails its "
                    f"{p.kind} probe {p.id}",
                },
            )
        )
    return out


def target_down_rules(instance_id: str, *, for_s: float = 10.0) -> list[AlertRule]:
    """A scraped VNFC target of the instance that stopped answering (``up == 0``)."""
    return [
        AlertRule(
            name="VnfcTargetDown",
            expr=f"up{{{INSTANCE_LABEL}={_q(instance_id)}}} == 0",
            for_s=for_s,
            labels={"severity": "major", "event_type": "COMMUNICATIONS_ALARM"},
            annotations={"summary": "scrape target {{ $labels.instance }} of a VNFC is down"},
        )
    ]


def rules_document(instance_id: str, rules: Iterable[AlertRule]) -> dict[str, Any]:
    """The rule file of one instance (one group named after it)."""
    return {
        "groups": [
            {"name": f"vnfm-{instance_id}", "rules": [r.as_dict() for r in rules]},
        ]
    }
