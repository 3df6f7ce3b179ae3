"""openstack_metrics.py without a cloud: Nova's diagnostics answers (sane and hostile),
the CPs of an instance record, and the collector's cache, timeout and 403 handling
(the reader is the edge cut here; tests/openstack/test_openstack_metrics.py reads the
real bed)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from vnfm_runner.assurance.openstack_metrics import (
    MIB,
    Cp,
    Diagnostics,
    Forbidden,
    OpenStackMetrics,
    OsInstance,
    Vnfc,
    parse_diagnostics,
    vnfcs_of,
)

MAC_A, MAC_B = "fa:16:3e:00:00:0a", "fa:16:3e:00:00:0b"
GOOD = {
    "num_cpus": 2,
    "cpu_details": [{"id": 0, "time": 1_500_000_000}, {"id": 1, "time": 500_000_000}],
    "memory_details": {"maximum": 2048, "used": 300},
    "nic_details": [
        {
            "mac_address": MAC_A.upper(),
            "rx_octets": 10,
            "tx_octets": 20,
            "rx_packets": 1,
            "tx_packets": 2,
        },
        {"mac_address": "01:23:45:67:89:ab", "rx_octets": 99},
    ],
}


def test_a_sane_answer_in_the_contract_units() -> None:
    d = parse_diagnostics(GOOD)
    assert d.cpu_seconds == 2.0  # ns summed over the vCPUs
    assert d.vcpus == 2
    assert (d.memory_bytes, d.memory_size_bytes) == (300 * MIB, 2048 * MIB)
    assert d.nics[MAC_A] == {
        "received_bytes": 10,
        "sent_bytes": 20,
        "received_packets": 1,
        "sent_packets": 2,
    }


@pytest.mark.parametrize(
    "doc",
    [None, [], "x", 7, {"cpu_details": "x", "nic_details": {"a": 1}, "memory_details": []}],
)
def test_not_a_document_gives_nothing(doc: Any) -> None:
    assert parse_diagnostics(doc) == Diagnostics()


@pytest.mark.parametrize(
    "bad", [float("nan"), float("inf"), -1, True, "12", None, 2.0**65, [1], {"x": 1}]
)
def test_hostile_numbers_are_dropped_one_by_one(bad: Any) -> None:
    doc = {
        **GOOD,
        "num_cpus": bad,
        "cpu_details": [{"time": 1_000_000_000}, {"time": bad}],
        "memory_details": {"maximum": bad, "used": 100},
        "nic_details": [{"mac_address": MAC_A, "rx_octets": bad, "tx_octets": 5}],
    }
    d = parse_diagnostics(doc)
    # one vCPU without a usable time: no CPU value (a partial sum would go backwards)
    assert (d.cpu_seconds, d.vcpus, d.memory_size_bytes) == (None, None, None)
    assert d.memory_bytes == 100 * MIB
    assert d.nics[MAC_A] == {"sent_bytes": 5}


def test_bad_macs_duplicates_and_floods() -> None:
    nics = [
        {"mac_address": "not-a-mac", "rx_octets": 1},
        {"mac_address": 12, "rx_octets": 1},
        {"mac_address": MAC_B, "rx_octets": 1},
        {"mac_address": MAC_B, "rx_octets": 2},  # which one is the CP's? neither
        *({"mac_address": f"fa:16:3e:00:{i // 256:02x}:{i % 256:02x}"} for i in range(5000)),
    ]
    d = parse_diagnostics({"nic_details": nics, "cpu_details": [{"time": 1}] * 100_000})
    assert d.nics[MAC_B] == {}
    assert "not-a-mac" not in d.nics and len(d.nics) <= 256
    assert d.cpu_seconds is None  # more vCPUs than any VM has


def test_cps_of_an_instance_record() -> None:
    doc = {
        "instantiatedVnfInfo": {
            "vnfcResourceInfo": [
                {
                    "id": "lb-0",
                    "vduId": "lb",
                    "computeResource": {"resourceId": "srv-1"},
                    "vnfcCpInfo": [
                        {
                            "cpdId": "lb_ext_cp",
                            "vnfExtCpId": "x-ext",
                            "cpProtocolInfo": [{"ipOverEthernet": {"macAddress": MAC_A.upper()}}],
                        },
                        {
                            "cpdId": "lb_int_cp",
                            "cpProtocolInfo": [{"ipOverEthernet": {"macAddress": MAC_B}}],
                        },
                        {"cpdId": "no_mac", "cpProtocolInfo": [{"ipOverEthernet": {}}]},
                        "junk",
                    ],
                },
                {"id": "web-0", "vduId": "web", "computeResource": {"resourceId": None}},
                "junk",
            ]
        }
    }
    assert vnfcs_of(doc) == (
        Vnfc("lb-0", "lb", "srv-1", (Cp("lb_ext_cp", "ext", MAC_A), Cp("lb_int_cp", "int", MAC_B))),
    )
    assert vnfcs_of({}) == () and vnfcs_of({"instantiatedVnfInfo": "x"}) == ()


def _instance(vim: str, inst: str, *servers: str) -> OsInstance:
    vnfcs = tuple(
        Vnfc(f"web-{i}", "web", s, (Cp("web_cp", "int", MAC_A),)) for i, s in enumerate(servers)
    )
    return OsInstance(inst, vim, {}, {}, vnfcs)


def _scrape(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for fam in text_string_to_metric_families(text)
        for s in fam.samples
        if not s.name.endswith("_created")
    }


def test_collector_series_cache_timeout_and_403_once(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []
    release = threading.Event()

    def read(inst: OsInstance, server: str) -> object:
        calls.append(server)
        if inst.vim_name == "member":
            raise Forbidden("HTTP 403: policy")
        if server == "slow":
            release.wait(5)
        if server == "broken":
            raise RuntimeError("HTTP 500")
        return GOOD

    instances = [
        _instance("admin", "i-1", "s1", "slow", "broken"),
        _instance("member", "i-2", "m1", "m2"),
    ]
    coll = OpenStackMetrics(
        lambda: instances, read=read, max_age_s=60, timeout_s=0.3, forbidden_retry_s=600
    )
    registry = CollectorRegistry()
    registry.register(coll)
    assert calls == []  # nothing read at registration
    with caplog.at_level(logging.WARNING, logger="vnfm.openstack_metrics"):
        started = time.monotonic()
        values = _scrape(registry)
        took = time.monotonic() - started
        release.set()
        labels = (("vdu_id", "web"), ("vnf_instance_id", "i-1"), ("vnfc_id", "web-0"))
        assert values[("vnfm_vnfc_cpu_seconds_total", labels)] == 2.0
        assert values[("vnfm_vnfc_vcpus", labels)] == 2
        assert values[("vnfm_vnfc_memory_bytes", labels)] == 300 * MIB
        assert values[("vnfm_vnfc_memory_size_bytes", labels)] == 2048 * MIB
        cp = tuple(sorted((*labels, ("cpd_id", "web_cp"), ("cp_type", "int"))))
        assert values[("vnfm_cp_received_bytes_total", cp)] == 10
        assert values[("vnfm_cp_sent_packets_total", cp)] == 2
        # the slow and broken servers, and the member's VIM, are left out
        assert {dict(k[1]).get("vnfc_id") for k in values} == {"web-0"}
        assert took < 2.0, took  # the slow one did not hold the scrape
        n = len(calls)
        _scrape(registry)  # within max_age_s: the cache answers
        assert len(calls) == n
        coll.max_age_s = 0  # the cache aged (instead of a sleep)
        _scrape(registry)
        assert "m1" not in calls[n:]  # a VIM that said 403 is not asked again
    told = [r for r in caplog.records if "policy refuses" in r.getMessage()]
    assert len(told) == 1 and "member" in told[0].getMessage()
    coll.close()
