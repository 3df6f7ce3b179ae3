"""Drift: what the VIM and the VNF report against the recorded desired state (pure).

:func:`detect_drift` compares an instance's plan (its VNFCs, their CPs with fixed
addresses and MACs, their power state) with the VIM's report of the instance
(``VimDriver.resources`` - the output of ``vnf_resources_info``) and with the
probe results of its VNFCs. :func:`find_orphans` names the VIM resources that
carry our marks for an instance the VNFM does not know. Nothing here reads a
VIM or changes anything; ``sync.py`` does the reading.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from vnfm_runner.assurance.health import HEALTH_UNHEALTHY, ProbeResult


class DriftKind(enum.StrEnum):
    VNFC_MISSING = "VNFC_MISSING"  # planned, not on the VIM
    VNFC_EXTRA = "VNFC_EXTRA"  # on the VIM, carrying the instance's marks, not planned
    POWER_STATE = "POWER_STATE"  # the VIM's power state is not the plan's
    ADDRESS = "ADDRESS"  # a CP is missing, or its addresses/MAC are not the plan's
    VNFC_UNHEALTHY = "VNFC_UNHEALTHY"  # its health probe failed failure_threshold times
    ORPHAN = "ORPHAN"  # marked for an instance the VNFM does not hold


@dataclass(frozen=True)
class Drift:
    """One difference. ``resource_id`` is the VIM resource at fault (netns name,
    server id...) when known: what an alarm's ``rootCauseFaultyResource`` names."""

    kind: DriftKind
    instance_id: str
    vnfc_id: str | None = None
    expected: str | None = None
    observed: str | None = None
    resource_id: str | None = None
    detail: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Identity of the fault (the same fault seen in two passes has the same key)."""
        return (self.kind.value, self.instance_id, self.vnfc_id or "", self.resource_id or "")

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind.value, "vnfInstanceId": self.instance_id}
        for key, value in (
            ("vnfcInstanceId", self.vnfc_id),
            ("expected", self.expected),
            ("observed", self.observed),
            ("resourceId", self.resource_id),
        ):
            if value is not None:
                out[key] = value
        out["detail"] = self.detail
        return out


def _addresses(cp: Mapping[str, Any]) -> tuple[list[str], str | None]:
    addrs: list[str] = []
    mac: str | None = None
    for proto in cp.get("cpProtocolInfo") or []:
        ether = proto.get("ipOverEthernet") or {}
        mac = mac or (str(ether["macAddress"]).lower() if ether.get("macAddress") else None)
        for ip in ether.get("ipAddresses") or []:
            addrs += [str(a) for a in ip.get("addresses") or []]
    return sorted(addrs), mac


def _resource_id(info: Mapping[str, Any]) -> str | None:
    rid = (info.get("computeResource") or {}).get("resourceId")
    return str(rid) if rid else None


def detect_drift(
    instance_id: str,
    plan: Mapping[str, Any],
    resources: Mapping[str, Any],
    health: Iterable[ProbeResult] = (),
) -> list[Drift]:
    """Every difference between the desired state and the reports, sorted.

    A missing VNFC is only missing (no power, address or health drift on top); a
    VNFC planned stopped is never unhealthy; CPs without planned addresses
    (dynamic) are compared by presence only.
    """
    planned = {str(v.get("id")): v for v in plan.get("vnfcs") or []}
    observed = {str(v.get("id")): v for v in resources.get("vnfcResourceInfo") or []}
    drifts: list[Drift] = []
    for vnfc_id, vnfc in planned.items():
        info = observed.get(vnfc_id)
        # a VIM may list every planned VNFC, one it does not hold with a compute resource
        # of no id (OpenStack: status PLANNED): that one is missing too
        if info is None or ("computeResource" in info and _resource_id(info) is None):
            drifts.append(
                Drift(
                    DriftKind.VNFC_MISSING,
                    instance_id,
                    vnfc_id,
                    expected="present",
                    observed="absent",
                    resource_id=str(vnfc.get("name") or vnfc_id),
                    detail=f"VNFC {vnfc_id} ({vnfc.get('vduId')}) is not on the VIM",
                )
            )
            continue
        rid = _resource_id(info)
        want_power = str(vnfc.get("powerState") or "on")
        have_power = (info.get("metadata") or {}).get("powerState")
        if have_power is not None and str(have_power) != want_power:
            drifts.append(
                Drift(
                    DriftKind.POWER_STATE,
                    instance_id,
                    vnfc_id,
                    expected=want_power,
                    observed=str(have_power),
                    resource_id=rid,
                    detail=f"VNFC {vnfc_id} is {have_power} on the VIM, planned {want_power}",
                )
            )
        drifts += _cp_drifts(instance_id, vnfc_id, rid, vnfc, info)
    for vnfc_id, info in observed.items():
        if vnfc_id not in planned:
            drifts.append(
                Drift(
                    DriftKind.VNFC_EXTRA,
                    instance_id,
                    vnfc_id,
                    expected="absent",
                    observed="present",
                    resource_id=_resource_id(info),
                    detail=f"VNFC {vnfc_id} is on the VIM but not in the instance's plan",
                )
            )
    for result in health:
        t = result.target
        vnfc = planned.get(t.vnfc_id)
        if (
            result.health != HEALTH_UNHEALTHY
            or t.instance_id != instance_id
            or vnfc is None
            or t.vnfc_id not in observed
            or str(vnfc.get("powerState") or "on") == "off"
        ):
            continue
        last = result.last.detail if result.last else "no answer"
        drifts.append(
            Drift(
                DriftKind.VNFC_UNHEALTHY,
                instance_id,
                t.vnfc_id,
                expected="healthy",
                observed="unhealthy",
                resource_id=t.resource_id,
                detail=(
                    f"probe {t.probe.id} ({t.describe()}) failed "
                    f"{result.consecutive_failures} times in a row: {last}"
                ),
            )
        )
    return sorted(drifts, key=lambda d: (d.vnfc_id or "", d.kind.value, d.detail))


def _cp_drifts(
    instance_id: str,
    vnfc_id: str,
    rid: str | None,
    vnfc: Mapping[str, Any],
    info: Mapping[str, Any],
) -> list[Drift]:
    have = {str(cp.get("cpdId")): cp for cp in info.get("vnfcCpInfo") or []}
    out: list[Drift] = []
    for cp in vnfc.get("cps") or []:
        cpd = str(cp.get("cpdId"))
        found = have.get(cpd)
        if found is None:
            out.append(
                Drift(
                    DriftKind.ADDRESS,
                    instance_id,
                    vnfc_id,
                    expected=cpd,
                    observed="absent",
                    resource_id=rid,
                    detail=f"VNFC {vnfc_id}: connection point {cpd} is missing",
                )
            )
            continue
        addrs, mac = _addresses(found)
        want = sorted(str(a) for a in cp.get("ipAddresses") or [])
        if want and addrs != want:
            out.append(
                Drift(
                    DriftKind.ADDRESS,
                    instance_id,
                    vnfc_id,
                    expected=",".join(want),
                    observed=",".join(addrs) or "none",
                    resource_id=rid,
                    detail=f"VNFC {vnfc_id}: {cpd} has {', '.join(addrs) or 'no address'}, "
                    f"planned {', '.join(want)}",
                )
            )
        want_mac = str(cp["macAddress"]).lower() if cp.get("macAddress") else None
        if (found.get("metadata") or {}).get("vimAssignedMac"):
            want_mac = None  # the VIM chose it, not the plan (OpenStack's shared networks)
        if want_mac and mac and mac != want_mac:
            out.append(
                Drift(
                    DriftKind.ADDRESS,
                    instance_id,
                    vnfc_id,
                    expected=want_mac,
                    observed=mac,
                    resource_id=rid,
                    detail=f"VNFC {vnfc_id}: {cpd} has MAC {mac}, planned {want_mac}",
                )
            )
    return out


@dataclass(frozen=True)
class MarkedResource:
    """A VIM resource that carries our mark for ``instance_id``."""

    vim: str  # "local", a registered VIM name...
    kind: str  # "netns", "host-link", "directory", "server"...
    resource_id: str
    instance_id: str


def find_orphans(
    marked: Iterable[MarkedResource], known_instance_ids: Collection[str]
) -> list[Drift]:
    """The marked resources whose instance is not in ``known_instance_ids``.

    Pass every instance the VNFM holds that may own resources - instantiated ones
    and those with an operation in flight - or an instantiation under way reads as
    orphans.
    """
    known = set(known_instance_ids)
    return sorted(
        (
            Drift(
                DriftKind.ORPHAN,
                r.instance_id,
                expected="absent",
                observed=r.kind,
                resource_id=r.resource_id,
                detail=f"{r.kind} {r.resource_id} on VIM {r.vim} belongs to unknown instance "
                f"{r.instance_id}",
            )
            for r in marked
            if r.instance_id not in known
        ),
        key=lambda d: (d.instance_id, d.observed or "", d.resource_id or ""),
    )
