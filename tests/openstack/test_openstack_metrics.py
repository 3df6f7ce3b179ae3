"""OpenStack VNFCs' metrics from Nova server diagnostics, on the real test bed.

webfarm (level small: lb-0, web-0, web-1) is instantiated on the bed as its member user
(no hooks: the bed has no data plane), by a real ``vnfm serve``. Then:

* the server's own ``/metrics`` (what Prometheus scrapes as target ``vnfm``): the
  member's credentials are refused diagnostics by Nova's default policy (403): no
  VNFC series, the server keeps answering, the refusal logged once;
* the same collector over the same store, with the bed's admin credentials: the
  contract's VNFC series for the three VNFCs with the instance, VNFC and VDU labels,
  valued from what the bed's ``fake.FakeDriver`` reports for every server (canned
  values: 1 vCPU, cpu_details time 17.3e9 ns, memory maximum 524288 MiB, used 0, one
  NIC with MAC 01:23:45:67:89:ab). That MAC is no port's, so no CP series: a counter
  never goes to a CP it was not measured on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from tests.api.server import make_server
from tests.openstack.test_openstack_vim import (
    _from_fixture,
    _testbed_up,
    add_bed_vim,
    brute_force_cleanup,
)
from vnfm_runner.assurance.openstack_metrics import MIB, OpenStackMetrics, StoreOsInstances

pytest.importorskip("openstack")

pytestmark = [pytest.mark.openstack, pytest.mark.timeout(300)]

WEBFARM = Path(__file__).resolve().parents[2] / "examples" / "packages" / "webfarm"
NO_HOOKS = {"vnfm_hooks": False}
PUBLIC_LINK = {"id": "ext", "resourceId": "public", "extCps": [{"cpdId": "lb_ext_cp"}]}
VNFC_SERIES = (
    "vnfm_vnfc_cpu_seconds_total",
    "vnfm_vnfc_vcpus",
    "vnfm_vnfc_memory_bytes",
    "vnfm_vnfc_memory_size_bytes",
)


def _samples(text: str, inst: str) -> dict[str, dict[str, float]]:
    """series name -> VNFC id -> value, for the instance's VNFC series."""
    out: dict[str, dict[str, float]] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.labels.get("vnf_instance_id") == inst and not s.name.endswith("_created"):
                out.setdefault(s.name, {})[s.labels["vnfc_id"]] = s.value
                assert s.labels["vdu_id"] == s.labels["vnfc_id"].split("-")[0], s
    return out


@pytest.fixture(scope="module")
def bed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, Any, str]]:
    if not _testbed_up():
        pytest.skip("the OpenStack test bed is not up (scripts/openstack-testbed up)")
    cloud = _from_fixture(request.getfixturevalue("openstack_cloud"))
    sdk = request.getfixturevalue("openstack_cloud").connect(cloud.admin)
    one_host = len(list(sdk.compute.hypervisors())) <= 1
    home = tmp_path_factory.mktemp("os-metrics") / "home"
    home.mkdir()
    srv = make_server(home, monitoring_scrape_interval="1", api_verify_callback="false")
    svc = srv.service()
    add_bed_vim(svc, cloud=cloud.demo, clouds_file=cloud.path, one_host=one_host)
    add_bed_vim(svc, cloud=cloud.admin, clouds_file=cloud.path, one_host=one_host, name="admin")
    pkg = svc.onboard(WEBFARM)
    inst = svc.create(vnfd_id=pkg.vnfd_id, name="os-metrics")["id"]
    srv.start()
    try:
        started = time.monotonic()
        op = svc.instantiate(
            instance_id=inst,
            request={
                "flavourId": "default",
                "instantiationLevelId": "small",
                "extVirtualLinks": [PUBLIC_LINK],
                "additionalParams": NO_HOOKS,
            },
            vim_name="bed",
        )
        assert op["operationState"] == "COMPLETED", json.dumps(op.get("error"))[:4000]
        print(f"\ninstantiation on the bed: {time.monotonic() - started:.1f}s")
        yield srv, svc, inst
    finally:
        srv.stop()
        row = svc.store.instance(inst)
        if row is not None and row.instantiation_state == "INSTANTIATED":
            with contextlib.suppress(Exception):
                svc.terminate(
                    instance_id=inst,
                    request={"terminationType": "FORCEFUL", "additionalParams": NO_HOOKS},
                )
        brute_force_cleanup(sdk, inst)


def test_member_403_is_logged_once_and_nothing_exported(bed: tuple[Any, Any, str]) -> None:
    srv, _svc, inst = bed
    with srv.client() as c:
        for n in range(2):  # scrape interval 1 s: the second scrape is past the cache
            r = c.get("/metrics")
            assert r.status_code == 200
            assert _samples(r.text, inst) == {}
            if n == 0:
                time.sleep(1.1)
    told = [line for line in srv.log().splitlines() if "policy refuses server diagnostics" in line]
    assert len(told) == 1, told
    assert "VIM bed" in told[0]


def test_admin_reads_the_contract_series(bed: tuple[Any, Any, str]) -> None:
    _srv, svc, inst = bed
    admin = svc.vims.resolve("admin", None, "admin")
    stored = StoreOsInstances(svc.store, svc.vims)

    def as_admin() -> list[Any]:
        found = [i for i in stored() if i.instance_id == inst]
        return [
            dataclasses.replace(i, connection=admin.connection, credentials=admin.credentials)
            for i in found
        ]

    coll = OpenStackMetrics(as_admin, max_age_s=1, timeout_s=10)
    registry = CollectorRegistry()
    registry.register(coll)
    try:
        started = time.monotonic()
        values = _samples(generate_latest(registry).decode(), inst)
        print(f"\ndiagnostics of 3 servers read in {time.monotonic() - started:.2f}s")
    finally:
        coll.close()
    vnfcs = {"lb-0", "web-0", "web-1"}
    assert {name: set(v) for name, v in values.items()} == {name: vnfcs for name in VNFC_SERIES}
    # the fake driver's canned diagnostics, the same for every server
    assert set(values["vnfm_vnfc_vcpus"].values()) == {1}
    assert set(values["vnfm_vnfc_cpu_seconds_total"].values()) == {17.3}
    assert set(values["vnfm_vnfc_memory_bytes"].values()) == {0}
    assert set(values["vnfm_vnfc_memory_size_bytes"].values()) == {524288 * MIB}
    assert not any(name.startswith("vnfm_cp_") for name in values)
