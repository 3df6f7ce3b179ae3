# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""VNF indicators a package declares (SOL001 ``tosca.policies.nfv.VnfIndicator``).

SOL001 gives an indicator its identity (the policy's name), ``name``, the values it
may take (``indicator_value``, IFA 011 indicatorValue) and its ``source`` (vnf, em or
both), but not how a VNFM obtains its value. Our namespaced extension
(``vnfm.policies.VnfIndicator``, derived from the SOL001 type, documented in
docs/assurance.md) adds exactly that:

* ``prometheus``: an instant PromQL expression; ``$vnf_instance_id`` (or
  ``${vnf_instance_id}``) is replaced by the instance's id;
* ``command`` + ``vdu``: an argv run inside the first VNFC of that VDU (local VIM:
  ``ip netns exec``), its standard output is the value;
* ``period`` (how often it is evaluated) and ``timeout`` (of one command).

The interface ``tosca.interfaces.nfv.VnfIndicator`` of the VNF node (an empty SOL001
base) may declare ``notifications``, one per indicator the VNF announces itself; a
notification without an indicator policy of that name is reported: the VNFM has no
way to value it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the builder calls in here; importing it at run time would be a cycle
    from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd import model as m
    from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.builder import FlavourBuilder

INDICATOR_POLICY = "tosca.policies.nfv.VnfIndicator"
INDICATOR_INTERFACE = "tosca.interfaces.nfv.VnfIndicator"
EXTENSION = "vnfm.policies.VnfIndicator"
# SOL001's constraint spells the third source "both_vnf_and_em"; IFA 011 and SOL003 "both".
SOURCES = {"vnf": "vnf", "em": "em", "both": "both", "both_vnf_and_em": "both"}
PLACEHOLDER = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
INSTANCE_PLACEHOLDERS = ("vnf_instance_id",)
MAX_EXPRESSION = 4096
MAX_ID = 128
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
MIN_PERIOD_S = 1.0
DEFAULT_PERIOD_S = 10.0
DEFAULT_TIMEOUT_S = 2.0


@dataclass
class VnfIndicator:
    """One indicator of a flavour: SOL001's attributes and how the VNFM values it."""

    id: str  # the policy's name: the vnfIndicatorId of vnfind/v1
    source: str  # vnf | em | both
    name: str | None = None
    indicator_value: list[str] = field(default_factory=list)  # allowed values; empty: any
    prometheus: str | None = None
    command: list[str] = field(default_factory=list)
    vdu_id: str | None = None  # the command runs in this VDU's first VNFC
    period_s: float = DEFAULT_PERIOD_S
    timeout_s: float = DEFAULT_TIMEOUT_S

    @property
    def kind(self) -> str:
        """How the value is obtained: prometheus, command, or none (not by this VNFM)."""
        return "prometheus" if self.prometheus else "command" if self.command else "none"

    def expression_for(self, instance_id: str) -> str:
        """The PromQL expression of one instance (the id escaped as a PromQL string body)."""
        safe = instance_id.replace("\\", "\\\\").replace('"', '\\"')
        return PLACEHOLDER.sub(
            lambda mt: safe if mt.group(1) in INSTANCE_PLACEHOLDERS else mt.group(0),
            self.prometheus or "",
        )


def _interface_notifications(builder: FlavourBuilder, vnf_nodes: list[str]) -> dict[str, Any]:
    """Notification name -> where it is declared, of the VNF's VnfIndicator interfaces."""
    registry = builder.ctx.registry
    found: dict[str, Any] = {}
    for node_name in vnf_nodes:
        node = builder.nodes.get(node_name)
        node_type = node.get("type") if isinstance(node, dict) else None
        if not isinstance(node_type, str):
            continue
        for type_name in registry.ancestry("node_types", node_type):
            typedef = registry.get("node_types", type_name)
            interfaces = typedef.data.get("interfaces") if typedef else None
            for spec in interfaces.values() if isinstance(interfaces, dict) else []:
                itype = spec.get("type") if isinstance(spec, dict) else None
                if not isinstance(itype, str) or not registry.is_a(
                    "interface_types", itype, INDICATOR_INTERFACE
                ):
                    continue
                for iface_type in registry.ancestry("interface_types", itype):
                    idef = registry.get("interface_types", iface_type)
                    notes = idef.data.get("notifications") if idef else None
                    for note in notes if isinstance(notes, dict) else {}:
                        found.setdefault(str(note), notes)
    return found


def parse(
    builder: FlavourBuilder,
    flavour: m.Flavour,
    policies: list[tuple[str, dict[str, Any], Any]],
) -> list[VnfIndicator]:
    """The flavour's VnfIndicator policies (and types derived from them); every mistake
    is a FILE:LINE problem naming the policy and the property."""
    from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.builder import (
        VNF,
        duration_s,
        resolve_inputs,
    )

    ctx, registry = builder.ctx, builder.ctx.registry
    vnf_nodes = builder.names(VNF)
    vdu_ids = {v.id for v in flavour.vdus}
    out: list[VnfIndicator] = []
    for name, body, _where in policies:
        ptype = body.get("type")
        if not isinstance(ptype, str) or not registry.is_a("policy_types", ptype, INDICATOR_POLICY):
            continue
        props = dict(registry.property_defaults("policy_types", ptype))
        own = body.get("properties")
        own = own if isinstance(own, dict) else {}
        props.update(own)
        props = resolve_inputs(props, builder.inputs)
        ok = True

        def bad(message: str, key: str, own: Any = own, body: Any = body, name: str = name) -> None:
            nonlocal ok
            ok = False
            where = (own, key) if key in own else (body, "properties" if own else None)
            ctx.error(f"indicator {name!r}: {message}", *where)

        if len(name) > MAX_ID or not ID_PATTERN.match(name):
            ctx.error(
                f"indicator {name!r}: the policy name is its id: letters, digits, '_', '.', '-' "
                f"(at most {MAX_ID})",
                body,
            )
            continue
        targets = body.get("targets")
        if targets is not None and (
            not isinstance(targets, list) or any(t not in vnf_nodes for t in targets)
        ):
            ctx.error(
                f"indicator {name!r}: targets may name only the VNF node, not {targets!r}",
                body,
                "targets",
            )
            ok = False
        source = props.get("source")
        if source not in SOURCES:
            bad(f"source must be one of vnf, em, both, not {source!r}", "source")
            source = "vnf"
        ind = VnfIndicator(id=name, source=SOURCES[str(source)])
        label = props.get("name")
        if label is not None:
            if not isinstance(label, str) or not label or len(label) > 255:
                bad(f"name {label!r} must be a non-empty string", "name")
            else:
                ind.name = label
        values = props.get("indicator_value")
        if values is not None:
            if (
                not isinstance(values, list)
                or not values
                or not all(
                    isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in values
                )
            ):
                bad("indicator_value must be a non-empty list of values", "indicator_value")
            else:
                ind.indicator_value = [str(v) for v in values]
        expr, command = props.get("prometheus"), props.get("command")
        if expr is not None and command is not None:
            bad("give prometheus or command, not both", "command")
        if expr is not None:
            if not isinstance(expr, str) or not expr.strip() or len(expr) > MAX_EXPRESSION:
                bad(
                    f"prometheus must be a PromQL expression (at most {MAX_EXPRESSION} characters)",
                    "prometheus",
                )
            else:
                unknown = sorted(
                    {p for p in PLACEHOLDER.findall(expr) if p not in INSTANCE_PLACEHOLDERS}
                )
                if unknown:
                    bad(
                        f"prometheus: unknown placeholder ${unknown[0]} (known: $vnf_instance_id)",
                        "prometheus",
                    )
                ind.prometheus = expr.strip()
            if props.get("vdu") is not None and "vdu" in own:
                bad("vdu is a property of a command indicator", "vdu")
        elif command is not None:
            if (
                not isinstance(command, list)
                or not command
                or not all(isinstance(a, str) and a and "\0" not in a for a in command)
            ):
                bad("command must be a non-empty list of strings (argv)", "command")
            else:
                ind.command = list(command)
            vdu = props.get("vdu")
            if vdu is None:
                bad("a command indicator needs vdu: the VDU whose first VNFC runs it", "vdu")
            elif str(vdu) not in vdu_ids:
                bad(f"vdu {vdu!r} is not a VDU of flavour {flavour.id!r}", "vdu")
            else:
                ind.vdu_id = str(vdu)
        else:
            ctx.warn(
                f"indicator {name!r} says neither prometheus nor command: this VNFM cannot "
                "obtain its value (it is listed as supported, never valued)",
                body,
            )
        times: dict[str, float] = {}
        for key, default in (("period", DEFAULT_PERIOD_S), ("timeout", DEFAULT_TIMEOUT_S)):
            raw = props.get(key)
            seconds = default if raw is None else duration_s(raw)
            if seconds is None or seconds <= 0:
                bad(f"{key} {raw!r} is not a positive time (e.g. '10 s')", key)
                seconds = default
            times[key] = seconds
        ind.period_s = times["period"]
        # an unwritten timeout never exceeds the period
        ind.timeout_s = (
            times["timeout"] if "timeout" in own else min(times["timeout"], ind.period_s)
        )
        if ind.period_s < MIN_PERIOD_S:
            bad(f"period must be at least {MIN_PERIOD_S:g} s", "period")
        if ind.timeout_s > ind.period_s:
            bad(f"timeout ({ind.timeout_s:g} s) exceeds period ({ind.period_s:g} s)", "timeout")
        if any(i.id == name for i in out):
            ctx.error(f"indicator {name!r} is declared twice", body)
            ok = False
        if ok:
            out.append(ind)
    notifications = _interface_notifications(builder, vnf_nodes)
    declared = {i.id for i in out}
    for note, where in sorted(notifications.items()):
        if note not in declared:
            ctx.warn(
                f"VnfIndicator notification {note!r} has no indicator policy of that name: "
                "the VNFM cannot value it",
                where,
                note,
            )
    return sorted(out, key=lambda i: i.id)
