"""The OpenStack orphan lister (``_openstack/marks.py``, the driver's ``marked_instances``)
and the assurance side that asks each VIM generically (``orphans.vim_marked_resources``),
on an in-memory cloud."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from vnfm_runner import paths

paths.ensure_core_importable()

from ansible_collections.nfv.vnfm.plugins.module_utils.vim import (  # noqa: E402
    DriverInfo,
    register,
    unregister,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack import naming  # noqa: E402
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.openstack import (  # noqa: E402
    OpenStackDriver,
)

from vnfm_runner.assurance.drift import find_orphans  # noqa: E402
from vnfm_runner.assurance.orphans import vim_marked_resources  # noqa: E402

A, B, GONE = "inst-a", "inst-b", "inst-gone"


def _lister(items: list[dict[str, Any]], seen: dict[str, Any], what: str) -> Any:
    def listing(**query: Any) -> list[dict[str, Any]]:
        seen[what] = query
        return items

    return listing


def _cloud(seen: dict[str, Any]) -> Any:
    tag = naming.tag
    net = SimpleNamespace(
        networks=_lister(
            [
                {"id": "n1", "tags": [tag(A)]},
                {"id": "n2", "tags": ["other"], "description": tag(GONE)},  # tag call lost
                {"id": "n3", "tags": []},
            ],
            seen,
            "networks",
        ),
        subnets=_lister([{"id": "s1", "tags": [tag(GONE)]}], seen, "subnets"),
        ports=_lister([{"id": "p1", "tags": [tag(B)]}, {"id": "p2"}], seen, "ports"),
        security_groups=_lister([], seen, "security groups"),
        ips=_lister([{"id": "f1", "tags": [tag(GONE)]}], seen, "floating ips"),
    )
    compute = SimpleNamespace(
        servers=_lister(
            [
                {"id": "v1", "name": "vnf-x-web-0", "metadata": {naming.TAG_KEY: A}},
                {"id": "v2", "name": "vnf-y-web-0", "metadata": {naming.TAG_KEY: GONE}},
                {"id": "v3", "name": "vnf-other", "metadata": {}},
            ],
            seen,
            "servers",
        ),
        server_groups=_lister(
            [
                {"id": "g1", "name": f"{naming.prefix(A)}-anti"},
                {"id": "g2", "name": f"{naming.prefix(GONE)}-anti"},
                {"id": "g3", "name": "vnf-0123abcd-anti"},  # no instance known with it
                {"id": "g4", "name": "someone-elses"},
            ],
            seen,
            "server groups",
        ),
    )
    image = SimpleNamespace(
        images=_lister(
            [{"id": "i1", "tags": [tag(GONE)]}, {"id": "i2", "description": tag(A)}],
            seen,
            "images",
        )
    )
    block = SimpleNamespace(
        volumes=_lister([{"id": "vol1", "metadata": {naming.TAG_KEY: B}}], seen, "volumes")
    )
    return SimpleNamespace(network=net, compute=compute, image=image, block_storage=block)


def _driver(seen: dict[str, Any]) -> OpenStackDriver:
    driver = OpenStackDriver({"vimType": "openstack", "volumes": True}, connection=_cloud(seen))
    driver._has_volumes = True
    return driver


def test_every_mark_with_its_instance_id() -> None:
    seen: dict[str, Any] = {}
    marks = _driver(seen).marked_instances([A, B])
    got = {(m["kind"], m["resourceId"]): m["vnfInstanceId"] for m in marks}
    assert got == {
        ("network", "n1"): A,
        ("network", "n2"): GONE,
        ("subnet", "s1"): GONE,
        ("port", "p1"): B,
        ("floating ip", "f1"): GONE,
        ("image", "i1"): GONE,
        ("server", "v1"): A,
        ("server", "v2"): GONE,
        ("volume", "vol1"): B,
        ("server group", "g1"): A,  # by the prefix of a known instance
        ("server group", "g2"): GONE,  # by the prefix of an id found on another mark
        ("server group", "g3"): "vnf-0123abcd",  # the id cannot be told: its prefix
    }
    assert seen["servers"] == {"details": True, "name": "^vnf-"}
    assert seen["volumes"] == {"details": True}


def test_assurance_asks_each_vim_generically() -> None:
    seen: dict[str, Any] = {}
    driver = _driver(seen)
    register(DriverInfo("fakecloud", ("FAKE.CLOUD",), lambda vim, creds, opts: driver))
    register(DriverInfo("nolister", ("FAKE.NOLISTER",), lambda vim, creds, opts: SimpleNamespace()))
    broken = SimpleNamespace(marked_instances=lambda known: 1 / 0)
    register(DriverInfo("broken", ("FAKE.BROKEN",), lambda vim, creds, opts: broken))
    try:
        marked = vim_marked_resources(
            [
                ("cloud-1", {"vimType": "fakecloud"}, None),
                ("cloud-1", {"vimType": "fakecloud"}, None),  # the same VIM once
                ("plain", {"vimType": "nolister"}, None),  # a driver without a lister
                ("down", {"vimType": "broken"}, None),  # unreadable: skipped, not fatal
            ],
            known_instance_ids=[A, B],
        )
    finally:
        for name in ("fakecloud", "nolister", "broken"):
            unregister(name)
    assert {m.vim for m in marked} == {"cloud-1"} and len(marked) == 12
    orphans = find_orphans(marked, {A, B})
    assert {d.instance_id for d in orphans} == {GONE, "vnf-0123abcd"}
    assert sorted(d.resource_id or "" for d in orphans if d.instance_id == GONE) == [
        "f1", "g2", "i1", "n2", "s1", "v2"
    ]  # fmt: skip
    assert all("on VIM cloud-1" in d.detail for d in orphans)


def test_a_vnfc_listed_without_compute_resource_is_missing() -> None:
    """The OpenStack driver lists every planned VNFC; one whose server is gone (or being
    deleted) has no compute resource id: VNFC_MISSING, nothing else on top."""
    from vnfm_runner.assurance.drift import DriftKind, detect_drift

    plan = {"vnfcs": [{"id": "web-0", "vduId": "web", "name": "vnf-x-web-0", "cps": []}]}
    gone = {
        "vnfcResourceInfo": [
            {
                "id": "web-0",
                "computeResource": {"resourceId": None, "vimLevelResourceType": "OS::Nova::Server"},
                "vnfcCpInfo": [],
                "metadata": {"status": "PLANNED", "powerState": None},
            }
        ]
    }
    (drift,) = detect_drift("i", plan, gone)
    assert (drift.kind, drift.vnfc_id) == (DriftKind.VNFC_MISSING, "web-0")
    there = {"vnfcResourceInfo": [{**gone["vnfcResourceInfo"][0], "computeResource": {"resourceId": "s1"}, "metadata": {"powerState": "on"}}]}  # fmt: skip
    assert detect_drift("i", plan, there) == []


def test_a_mac_the_vim_chose_is_no_drift() -> None:
    """An external CP's port on a shared network takes Neutron's MAC (the plan's applies
    only with externalMacAddresses): the driver says so, the drift does not compare it."""
    from vnfm_runner.assurance.drift import detect_drift

    cp = {"cpdId": "lb_ext_cp", "macAddress": "fa:16:3e:00:00:01", "ipAddresses": []}
    plan = {"vnfcs": [{"id": "lb-0", "vduId": "lb", "cps": [cp]}]}

    def report(**metadata: Any) -> dict[str, Any]:
        ether = {"macAddress": "fa:16:3e:00:00:02", "ipAddresses": []}
        found = {"cpdId": "lb_ext_cp", "cpProtocolInfo": [{"ipOverEthernet": ether}]}
        info = {"id": "lb-0", "computeResource": {"resourceId": "s1"}, "metadata": {}}
        return {"vnfcResourceInfo": [{**info, "vnfcCpInfo": [{**found, **metadata}]}]}

    (drift,) = detect_drift("i", plan, report())
    assert drift.kind.value == "ADDRESS" and drift.observed == "fa:16:3e:00:00:02"
    assert detect_drift("i", plan, report(metadata={"vimAssignedMac": True})) == []
