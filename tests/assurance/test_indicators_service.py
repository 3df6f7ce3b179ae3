"""The indicator service on a real store (SQLite, the real journal and outbox) with real
packages; only the command inside a VNFC is cut (its real run is test_indicators_command).

A new instance announces its supported set once; a value is stored and announced when it
changes, not when it stays; a refused value keeps the stored one; an instance with an
operation in flight is not evaluated; a package change announces the new set and drops
the values of indicators the new package does not declare; a terminated instance's
values go, without notification.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from vnfm_runner.assurance import indicators as ind
from vnfm_runner.assurance.indicators import IndicatorService
from vnfm_runner.bootstrap import open_store
from vnfm_runner.notify.subscriptions import SubscriptionRegistry
from vnfm_runner.secrets import SecretBox
from vnfm_runner.store.db import Store, now
from vnfm_runner.store.tables import (
    IND_API,
    InstanceRow,
    NotificationOutboxRow,
    OperationRow,
    PackageRow,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from vnfd_builders import base_vnfd, write_vnfd

EXT = "vnfm.policies.VnfIndicator"
TYPE = {"derived_from": "tosca.policies.nfv.VnfIndicator"}
INST = "6f1c7a52-0d7e-4c1e-9a55-1c2b3d4e5f60"


def _package(root: Path, indicators: dict[str, dict[str, Any]]) -> str:
    doc = base_vnfd()
    doc["policy_types"] = {EXT: TYPE}
    for name, props in indicators.items():
        doc["topology_template"]["policies"].append({name: {"type": EXT, "properties": props}})
    write_vnfd(root, doc)
    return str(root)


class Outputs:
    """What the command inside the VNFC prints next (bytes), or raises."""

    def __init__(self) -> None:
        self.next: bytes | Exception = b"1\n"
        self.calls: list[tuple[str, list[str], dict[str, str]]] = []

    def __call__(
        self, netns: str, argv: list[str], *, timeout: float, env: dict[str, str]
    ) -> bytes:
        self.calls.append((netns, argv, env))
        if isinstance(self.next, Exception):
            raise self.next
        return self.next


@pytest.fixture
def world(
    tmp_path: Path,
) -> Iterator[tuple[Store, IndicatorService, Outputs, SubscriptionRegistry]]:
    store = open_store(f"sqlite:///{tmp_path / 'vnfm.db'}")
    one = _package(
        tmp_path / "p1",
        {
            "mode": {"source": "vnf", "command": ["cat", "/run/mode"], "vdu": "VDU1", "period": 1},
            "load": {"source": "em", "command": ["load"], "vdu": "VDU1", "name": "Load"},
        },
    )
    two = _package(
        tmp_path / "p2",
        {"mode": {"source": "vnf", "command": ["cat", "/run/mode"], "vdu": "VDU1"}},
    )
    with store.session() as s:
        for pid, path in (("pkg-1", one), ("pkg-2", two)):
            s.add(
                PackageRow(
                    id=pid,
                    vnfd_id=pid,
                    path=path,
                    summary={},
                    onboarding_state="ONBOARDED",
                    operational_state="ENABLED",
                    created_at=now(),
                )
            )
        info = {
            "flavourId": "simple",
            "vnfcResourceInfo": [
                {
                    "id": f"VDU1-{n}",
                    "vduId": "VDU1",
                    "computeResource": {
                        "vimLevelResourceType": "linux.netns",
                        "resourceId": f"vnfm-{INST}-VDU1-{n}",
                    },
                }
                for n in (1, 0)
            ],
        }
        s.add(
            InstanceRow(
                id=INST,
                vnfd_id="pkg-1",
                package_id="pkg-1",
                instantiation_state="INSTANTIATED",
                doc={"id": INST, "vnfInstanceName": "farm", "instantiatedVnfInfo": info},
                desired_state={"flavourId": "simple"},
                vim=None,
                created_at=now(),
            )
        )
    registry = SubscriptionRegistry(store, SecretBox(tmp_path))
    outputs = Outputs()
    service = IndicatorService(store, run=outputs)
    try:
        yield store, service, outputs, registry
    finally:
        store.engine.dispose()


def _sent(store: Store) -> list[dict[str, Any]]:
    with store.reading() as s:
        return [
            dict(p)
            for p in s.scalars(
                select(NotificationOutboxRow.payload).order_by(NotificationOutboxRow.seq)
            )
        ]


def test_values_are_stored_and_announced_once_per_change(
    world: tuple[Store, IndicatorService, Outputs, SubscriptionRegistry],
) -> None:
    store, service, outputs, registry = world
    registry.add(IND_API, "/vnfind/v1/subscriptions", {"callbackUri": "http://x/cb"})
    only_load = registry.add(
        IND_API,
        "/vnfind/v1/subscriptions",
        {"callbackUri": "http://x/cb", "filter": {"indicatorIds": ["load"]}},
    )["id"]

    outputs.next = b"7\n"
    report = service.run_pass(force=True)
    assert (report.supported_changes, report.evaluated, report.changed) == (1, 2, 2)
    netns, _argv, env = outputs.calls[0]  # the first VNFC of VDU1 (VDU1-0), its variables
    assert netns == f"vnfm-{INST}-VDU1-0" and env == {
        "VNFM_VNF_INSTANCE_ID": INST,
        "VNFM_VNFC_ID": "VDU1-0",
    }
    sent = _sent(store)
    kinds = [(n["notificationType"], n.get("vnfIndicatorId"), n["subscriptionId"]) for n in sent]
    # the supported set to both (indicatorIds selects value changes only), values as filtered
    assert sorted(k for k in kinds if k[0] == "SupportedIndicatorsChangeNotification") == sorted(
        ("SupportedIndicatorsChangeNotification", None, sub["id"]) for sub in registry.all(IND_API)
    )
    assert sorted(k[1] for k in kinds if k[2] == only_load and k[1]) == ["load"]
    supported = next(n for n in sent if "supportedIndicators" in n)["supportedIndicators"]
    assert supported == [{"vnfIndicatorId": "load", "name": "Load"}, {"vnfIndicatorId": "mode"}]
    assert ind.indicator(store, INST, "load") == {
        "id": "load",
        "name": "Load",
        "value": 7,
        "vnfInstanceId": INST,
        "_links": {
            "self": {"href": f"/vnfind/v1/indicators/{INST}/load"},
            "vnfInstance": {"href": f"/vnflcm/v2/vnf_instances/{INST}"},
        },
    }

    # the same value again: nothing; a refused one: the stored value stays, nothing sent
    count = len(_sent(store))
    assert service.run_pass(force=True).changed == 0
    outputs.next = ind.ValueRefused("the command exited with status 1")
    assert service.run_pass(force=True).refused
    outputs.next = b"\x1b[2J\n"
    assert service.run_pass(force=True).changed == 0
    assert len(_sent(store)) == count and ind.indicator(store, INST, "mode")["value"] == 7  # type: ignore[index]

    # a new value: one notification per subscription that wants it
    outputs.next = b"active"
    assert service.run_pass(force=True).changed == 2
    new = _sent(store)[count:]
    assert sorted(
        (n["vnfIndicatorId"], n["value"]) for n in new if n["subscriptionId"] == only_load
    ) == [("load", "active")]
    # not due yet (periods of 1 s and 10 s): a pass without force evaluates nothing
    assert service.run_pass().evaluated == 0


def test_busy_package_change_and_termination(
    world: tuple[Store, IndicatorService, Outputs, SubscriptionRegistry],
) -> None:
    store, service, outputs, registry = world
    registry.add(IND_API, "/vnfind/v1/subscriptions", {"callbackUri": "http://x/cb"})
    service.run_pass(force=True)
    assert {d["id"] for d in ind.indicators(store, INST)} == {"load", "mode"}

    with store.session() as s:  # an operation in flight: not evaluated
        s.add(
            OperationRow(
                id="op-1",
                vnf_instance_id=INST,
                operation="CHANGE_VNFPKG",
                state="PROCESSING",
                doc={},
                created_at=now(),
            )
        )
    outputs.calls.clear()
    assert service.run_pass(force=True).evaluated == 0 and outputs.calls == []

    with store.session() as s:  # the package change completed
        s.get(OperationRow, "op-1").state = "COMPLETED"  # type: ignore[union-attr]
        s.get(InstanceRow, INST).package_id = "pkg-2"  # type: ignore[union-attr]
    before = len(_sent(store))
    report = service.run_pass()
    assert report.supported_changes == 1 and report.evaluated == 1  # due again at once
    (change,) = [n for n in _sent(store)[before:] if "supportedIndicators" in n]
    assert change["supportedIndicators"] == [{"vnfIndicatorId": "mode"}]
    assert [d["id"] for d in ind.indicators(store, INST)] == ["mode"]  # load is gone
    assert ind.supported(store, INST) == [{"vnfIndicatorId": "mode"}]

    with store.session() as s:  # terminated: its values go, silently
        s.get(InstanceRow, INST).instantiation_state = "NOT_INSTANTIATED"  # type: ignore[union-attr]
    before = len(_sent(store))
    assert service.run_pass(force=True).instances == 0
    assert ind.indicators(store) == [] and ind.supported(store, INST) is None
    assert len(_sent(store)) == before
