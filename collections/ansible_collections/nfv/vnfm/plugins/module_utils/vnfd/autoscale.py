# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Auto-scale policies of a flavour: our namespaced extension ``vnfm.policies.AutoScale``.

SOL001 has scaling aspects but no rule saying *when* to scale, so a package declares
this policy type in its own types file (docs/assurance.md, "Auto-scale") and applies
it next to the aspect it drives. One policy per aspect; its trigger is one of

* ``metric``: a PromQL expression whose samples carry ``vnf_instance_id`` (the VNFM
  keeps those of the instance) - e.g. ``rate(webfarm_requests_total[15s])`` - summed
  over the instance (``aggregation: total``) or divided by the number of VNFCs of the
  target VDUs (``aggregation: per_vnfc``, the default); scale out by
  ``scale_out_steps`` when it stays above ``scale_out_threshold`` for
  ``scale_out_duration``, in by ``scale_in_steps`` when it stays below
  ``scale_in_threshold`` (lower) for ``scale_in_duration``;
* ``indicator``: a VNF indicator of the flavour (``vnfind/v1``; its numeric value, as
  last recorded by the VNFM), with the same thresholds and durations as ``metric``;
  ``aggregation`` defaults to ``total`` (the value as it is);
* ``pm_threshold``: a performance metric name (``VCpuUsageMeanVnf``...): the
  ``vnfpm/v2`` thresholds created on the instance for that metric trigger it (their
  UP crossing means above, DOWN below; their own hysteresis keeps the band).

``cooldown``: no automatic operation of the instance for that long after one.
Every problem is reported ``FILE:LINE`` at the property that is wrong.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # model.py holds the flavour's list of these policies
    from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd import model as m

AUTOSCALE = "vnfm.policies.AutoScale"
AGGREGATIONS = ("per_vnfc", "total")
MAX_EXPRESSION = 2000
# An IFA 027 / SOL003 performance metric name (VCpuUsageMeanVnf, ByteIncomingVnfExtCp...)
_METRIC_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{0,127}$")
_TEMPLATE_MARKS = re.compile(r"\{[{%#]|[}%#]\}")


@dataclass
class AutoScalePolicy:
    """When to scale one aspect of a flavour (policy ``vnfm.policies.AutoScale``)."""

    id: str  # the policy's name
    aspect_id: str
    vdu_ids: list[str] = field(default_factory=list)  # whose VNFCs count (per_vnfc)
    metric: str | None = None  # PromQL expression (trigger "metric")
    pm_threshold: str | None = None  # performance metric of vnfpm/v2 thresholds
    indicator: str | None = None  # a VNF indicator of the flavour (trigger "indicator")
    aggregation: str = "per_vnfc"
    scale_out_threshold: float | None = None
    scale_out_duration_s: float = 30.0
    scale_out_steps: int = 1
    scale_in_threshold: float | None = None
    scale_in_duration_s: float = 60.0
    scale_in_steps: int = 1
    cooldown_s: float = 120.0


class Reporter(Protocol):
    def error(self, message: str, mapping: Any, key: Any = None) -> None: ...


class Types(Protocol):
    def is_a(self, kind: str, name: str, ancestor: str) -> bool: ...

    def property_defaults(self, kind: str, name: str) -> dict[str, Any]: ...


def _number(value: Any) -> float | None:
    """A finite number (YAML's .nan and .inf are not thresholds)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def autoscale_policies(
    flavour: m.Flavour,
    policies: list[tuple[str, dict[str, Any], Any]],
    *,
    types: Types,
    report: Reporter,
    inputs: dict[str, Any],
) -> list[AutoScalePolicy]:
    """The flavour's auto-scale policies (after its aspects were read); errors reported."""
    # builder imports this module; its helpers are complete by the time this runs
    from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.builder import (
        duration_s,
        resolve_inputs,
    )

    out: list[AutoScalePolicy] = []
    for name, body, _where in policies:
        ptype = body.get("type")
        if not isinstance(ptype, str) or not types.is_a("policy_types", ptype, AUTOSCALE):
            continue
        props = dict(types.property_defaults("policy_types", ptype))
        own = body.get("properties")
        own = own if isinstance(own, dict) else {}
        props.update(own)
        props = resolve_inputs(props, inputs)
        one = _policy(name, body, own, props, flavour, report, duration_s)
        if one is None:
            continue
        if any(p.aspect_id == one.aspect_id for p in out):
            report.error(
                f"auto-scale policy {name!r}: aspect {one.aspect_id!r} already has an "
                "auto-scale policy",
                *((own, "aspect") if "aspect" in own else (body, "properties")),
            )
            continue
        out.append(one)
    return out


def _policy(
    name: str,
    body: dict[str, Any],
    own: dict[str, Any],
    props: dict[str, Any],
    flavour: m.Flavour,
    report: Reporter,
    duration_s: Callable[[Any], float | None],
) -> AutoScalePolicy | None:
    ok = True

    def bad(message: str, key: str) -> None:
        nonlocal ok
        ok = False
        where = (own, key) if key in own else (body, "properties")
        report.error(f"auto-scale policy {name!r}: {message}", *where)

    aspect = flavour.aspect(str(props.get("aspect")))
    if aspect is None:
        bad(f"aspect {props.get('aspect')!r} is not a scaling aspect of the flavour", "aspect")
        return None
    policy = AutoScalePolicy(id=name, aspect_id=aspect.id)
    # whose VNFCs count: the policy's targets, else the VDUs the aspect scales
    targets = body.get("targets")
    vdus = {v.id for v in flavour.vdus}
    if targets is None:
        policy.vdu_ids = sorted(aspect.vdu_deltas)
    elif not isinstance(targets, list) or not all(t in vdus for t in targets):
        ok = False
        report.error(
            f"auto-scale policy {name!r}: targets must be VDUs of the flavour, not {targets!r}",
            body,
            "targets",
        )
    else:
        policy.vdu_ids = sorted({str(t) for t in targets})

    metric, pm, indicator = props.get("metric"), props.get("pm_threshold"), props.get("indicator")
    triggers = (("metric", metric), ("pm_threshold", pm), ("indicator", indicator))
    given = [key for key, value in triggers if value is not None]
    if len(given) != 1:
        bad(
            "give exactly one of metric (a PromQL expression), pm_threshold and indicator",
            given[0] if given else "metric",
        )
        return None
    if pm is None:
        if metric is not None:
            if (
                not isinstance(metric, str)
                or not metric.strip()
                or len(metric) > MAX_EXPRESSION
                or _TEMPLATE_MARKS.search(metric)
            ):
                bad(
                    f"metric must be a PromQL expression (at most {MAX_EXPRESSION} characters, "
                    "no template marks)",
                    "metric",
                )
            else:
                policy.metric = metric.strip()
            aggregation = props.get("aggregation", "per_vnfc")
        else:
            declared = [i.id for i in flavour.indicators]
            if not isinstance(indicator, str) or indicator not in declared:
                bad(
                    f"indicator {indicator!r} is not a VNF indicator of the flavour"
                    + (f" ({', '.join(declared)})" if declared else ""),
                    "indicator",
                )
            else:
                policy.indicator = indicator
            # an indicator is a value of the whole VNF: per VNFC only when asked for
            aggregation = own.get("aggregation", "total")
        if aggregation not in AGGREGATIONS:
            bad(
                f"aggregation must be one of {', '.join(AGGREGATIONS)}, not {aggregation!r}",
                "aggregation",
            )
        else:
            policy.aggregation = str(aggregation)
        high, low = props.get("scale_out_threshold"), props.get("scale_in_threshold")
        x, y = _number(high), _number(low)
        if x is None:
            bad(f"scale_out_threshold {high!r} must be a number", "scale_out_threshold")
        if y is None:
            bad(f"scale_in_threshold {low!r} must be a number", "scale_in_threshold")
        if x is not None and y is not None and y >= x:
            bad(
                f"scale_in_threshold ({y:g}) must be below scale_out_threshold ({x:g}): "
                "the band between them keeps the policy from flapping",
                "scale_in_threshold",
            )
        policy.scale_out_threshold, policy.scale_in_threshold = x, y
    else:
        if not isinstance(pm, str) or not _METRIC_NAME.match(pm):
            bad(f"pm_threshold {pm!r} must be a performance metric name", "pm_threshold")
        else:
            policy.pm_threshold = pm
        for key in ("scale_out_threshold", "scale_in_threshold", "aggregation"):
            if own.get(key) is not None:
                bad(f"{key} is not used with pm_threshold (the threshold's own value is)", key)

    for key, default in (
        ("scale_out_duration", 30.0),
        ("scale_in_duration", 60.0),
        ("cooldown", 120.0),
    ):
        raw = props.get(key)
        seconds = default if raw is None else duration_s(raw)
        if seconds is None or seconds < 0:
            bad(f"{key} {raw!r} is not a time (e.g. '30 s')", key)
            seconds = default
        setattr(policy, f"{key}_s", seconds)
    for key in ("scale_out_steps", "scale_in_steps"):
        raw = props.get(key, 1)
        steps = _count(raw)
        if steps is None or steps < 1:
            bad(f"{key} {raw!r} must be an integer >= 1", key)
        elif steps > aspect.max_scale_level:
            bad(
                f"{key} {steps} exceeds the max_scale_level ({aspect.max_scale_level}) "
                f"of aspect {aspect.id!r}",
                key,
            )
        else:
            setattr(policy, key, steps)
    return policy if ok else None
