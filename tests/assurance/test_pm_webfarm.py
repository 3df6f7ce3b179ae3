"""PM on the real exporter: webfarm through a real ``vnfm serve`` (local VIM, embedded
Prometheus scraping the VNFM's exporter every second), vnfpm/v2 jobs, then IND.

1. webfarm's external CP on a bridge of its own (the shared vnfm-ext0 carries other
   instances' broadcasts), the watcher off (no health probe knocks on it), ARP entries
   pinned both ways and the host's IPv6 off on that bridge (its router solicitations
   never stop): only the test's datagrams come in. A PM job on the LB's external CP (``VnfExtCp``: packets and bytes in) and one on the VNF
   (``VCpuUsageMeanVnf``); N UDP datagrams of a known size sent from the host to the LB's
   external address, in one burst right after a collection period starts. The reports
   hold exactly N packets (in one period, none elsewhere) and N frames' bytes (Ethernet +
   IPv4 + UDP headers + payload) within 0.1 %; the VNF's CPU usage has values.
   (The burst takes a few ms; the job's periods start at whole seconds from its
   creation, so it falls well inside one of them.)
2. The server restarted with the watcher on (it tells the exporter the webs' metric
   endpoints): HTTP requests through the load balancer make IND's
   ``requests_per_second`` indicator non-zero on ``GET /vnfind/v1/indicators/{id}``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local import naming

from tests.api.server import make_server
from tests.assurance.helpers import need, need_root
from tests.integration.conftest import cleanup_instance, wait_until
from tests.integration.test_edgefw import _free_cidrs
from tests.notify.subscriber import Subscriber
from vnfm_runner.assurance.stack import PROMETHEUS_BIN
from vnfm_runner.demo import ext_addresses, sample_backends

pytestmark = [pytest.mark.root, pytest.mark.timeout(240)]
JOBS = "/vnfpm/v2/pm_jobs"
PM = {"Version": "2.1.0"}
IND = {"Version": "1.3.0"}
PERIOD = 2  # collection = reporting period, seconds
DATAGRAMS, PAYLOAD = 500, 200
FRAME = 14 + 20 + 8 + PAYLOAD  # what the interface counts per datagram (no FCS)


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _pin_neighbour(address: str) -> tuple[str, str] | None:
    """Make the host's ARP entry for ``address`` permanent, so that no ARP probe from
    the host lands in the measured period; (address, dev) to remove it afterwards."""
    out = subprocess.run(
        ["ip", "-j", "neigh", "show", "to", address], capture_output=True, text=True, check=True
    ).stdout
    for entry in json.loads(out or "[]"):
        if entry.get("lladdr") and entry.get("dev"):
            subprocess.run(
                ["ip", "neigh", "replace", address, "lladdr", entry["lladdr"],
                 "dev", entry["dev"], "nud", "permanent"],
                check=True,
            )  # fmt: skip
            return address, str(entry["dev"])
    return None


def _quiet_lb(inst: str, bridge: str, address: str) -> None:
    """Pin the LB's ARP entry for the host (the bridge's address, which its ICMP
    port-unreachable answers use: a re-probe would be an ARP reply in), and silence the
    host's IPv6 on the bridge: nothing but the test's datagrams comes in."""
    (link,) = json.loads(_ip("-j", "addr", "show", "dev", bridge))
    gateway = next(a["local"] for a in link["addr_info"] if a["family"] == "inet")
    ns = naming.vnfc_netns(inst, "lb-0")
    dev = next(
        li["ifname"]
        for li in json.loads(_ip("-n", ns, "-j", "addr"))
        if any(a.get("local") == address for a in li.get("addr_info", []))
    )
    _ip("-n", ns, "neigh", "replace", gateway, "lladdr", link["address"], "dev", dev,
        "nud", "permanent")  # fmt: skip
    # and no IPv6 chatter from the host's side of the bridge: the bridge and its ports
    # (the veths' host ends) send router solicitations forever, backing off, and MLD
    for name in [
        bridge,
        *(p["ifname"] for p in json.loads(_ip("-j", "link", "show", "master", bridge))),
    ]:
        Path(f"/proc/sys/net/ipv6/conf/{name}/disable_ipv6").write_text("1")


def _ip(*args: str) -> str:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=True).stdout


def _values(report: dict[str, Any], metric: str) -> list[tuple[float, float, str | None]]:
    return [
        (_epoch(v["timeStamp"]), float(v["value"]), e.get("subObjectInstanceId"))
        for e in report["entries"]
        if e["performanceMetric"] == metric
        for v in e["performanceValues"]
    ]


def test_pm_on_webfarm_then_indicator(tmp_path: Path) -> None:
    need_root()
    need(os.path.exists(PROMETHEUS_BIN), "needs Prometheus")
    home = tmp_path / "home"
    home.mkdir()
    srv = make_server(
        home, watch="false", monitoring="true", monitoring_scrape_interval="1",
        pm_tick="0.2", pm_delay="1.5", api_verify_callback="false",
    )  # fmt: skip
    srv.start()
    sub = Subscriber()
    inst = None
    pinned = None
    bridge = f"pmw{uuid.uuid4().hex[:10]}"
    request = {
        "flavourId": "default",
        "instantiationLevelId": "small",
        "extVirtualLinks": [{
            "id": "ext", "resourceId": bridge, "cidr": _free_cidrs(1)[0],
            "extCps": [{"cpdId": "lb_ext_cp"}],
        }],
    }  # fmt: skip
    (home / "instantiate.json").write_text(json.dumps(request))
    t_start = time.monotonic()
    try:
        vnfd = srv.cli("package", "onboard", "examples/packages/webfarm").strip().splitlines()[-1]
        inst = srv.cli("create", "--vnfd-id", vnfd).strip().splitlines()[-1]
        srv.cli("instantiate", inst, "--params", str(home / "instantiate.json"), "-q")
        doc = json.loads(srv.cli("show", inst, "--format", "json"))
        address = ext_addresses(doc)[0]
        (ext_cp,) = [
            cp["id"] for cp in doc["instantiatedVnfInfo"]["extCpInfo"] if cp["cpdId"] == "lb_ext_cp"
        ]
        assert sum(sample_backends(address, 4).values()) == 4  # the host knows its MAC now
        print(f"instantiated after {time.monotonic() - t_start:.1f} s")
        pinned = _pin_neighbour(address)
        _quiet_lb(inst, bridge, address)

        with srv.client(headers=PM) as c:
            r = c.post(JOBS, json={
                "objectType": "VnfExtCp",
                "objectInstanceIds": [inst],
                "criteria": {
                    "performanceMetric": ["PacketIncomingVnfExtCp", "ByteIncomingVnfExtCp"],
                    "collectionPeriod": PERIOD,
                    "reportingPeriod": PERIOD,
                },
                "callbackUri": sub.url,
            })  # fmt: skip
            assert r.status_code == 201, r.text
            cp_job = r.json()["id"]
            r = c.post(JOBS, json={
                "objectType": "Vnf",
                "objectInstanceIds": [inst],
                "criteria": {
                    "performanceMetric": [f"VCpuUsageMeanVnf.{inst}"],
                    "collectionPeriod": PERIOD,
                    "reportingPeriod": PERIOD,
                },
                "callbackUri": sub.url,
            })  # fmt: skip
            assert r.status_code == 201, r.text
            cpu_job = r.json()["id"]

            def reports(job: str) -> list[dict[str, Any]]:
                refs = c.get(f"{JOBS}/{job}").json().get("reports") or []
                return [c.get(ref["href"]).json() for ref in refs]

            # a quiet period reported first (the counters are in Prometheus), then the burst
            # a few hundred ms after a period starts (periods are whole seconds from creation)
            assert wait_until(lambda: len(reports(cp_job)) >= 1, 30, 0.2)
            time.sleep(PERIOD - time.time() % PERIOD + 0.3)
            sent_at = time.time()
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                for i in range(DATAGRAMS):
                    s.sendto(i.to_bytes(4, "big") * (PAYLOAD // 4), (address, 9))
            burst = time.time() - sent_at
            assert wait_until(
                lambda: any(t > sent_at + PERIOD + 1 for r in reports(cp_job)
                            for t, _v, _s in _values(r, "PacketIncomingVnfExtCp")),
                20, 0.3,
            )  # fmt: skip
            cp_reports = reports(cp_job)
            cpu_reports = reports(cpu_job)

        packets = [v for r in cp_reports for v in _values(r, "PacketIncomingVnfExtCp")]
        octets = [v for r in cp_reports for v in _values(r, "ByteIncomingVnfExtCp")]
        print(f"burst of {DATAGRAMS} in {burst * 1000:.0f} ms; packets per period:",
              [(round(t - sent_at, 1), v) for t, v, _s in packets])  # fmt: skip
        assert {sub for _t, _v, sub in packets + octets} == {ext_cp}
        # the burst's period: exactly the datagrams (before it: the HTTP requests above)
        t_burst, n, _s = max(packets, key=lambda p: p[1])
        assert n == DATAGRAMS and t_burst > sent_at, packets
        (total,) = [v for t, v, _s in octets if t == t_burst]
        assert abs(total - DATAGRAMS * FRAME) <= 0.001 * DATAGRAMS * FRAME, (total, octets)
        assert all(v == 0 for t, v, _s in packets if t > t_burst), packets  # none after
        cpu = [v for r in cpu_reports for v in _values(r, "VCpuUsageMeanVnf")]
        print("VCpuUsageMeanVnf:", [(round(t - sent_at, 1), round(v, 3)) for t, v, _s in cpu])
        assert cpu and all(sub is None and 0 <= v <= 100 for _t, v, sub in cpu), cpu
        assert any(v > 0 for _t, v, _s in cpu)

        # -- IND: the watcher on (the webs' metric endpoints), traffic through the LB ---------
        print(f"PM checked after {time.monotonic() - t_start:.1f} s")
        srv.stop()
        srv.env["VNFM_WATCH"] = "true"
        srv.start()
        print(f"restarted with the watcher after {time.monotonic() - t_start:.1f} s")
        deadline = time.monotonic() + 60

        def indicator() -> Any:
            sample_backends(address, 10)
            with srv.client(headers=IND) as c:
                r = c.get(f"/vnfind/v1/indicators/{inst}")
                assert r.status_code == 200, r.text
                got = {d["id"]: d["value"] for d in r.json()}
            return got.get("requests_per_second")

        while time.monotonic() < deadline and not indicator():
            time.sleep(0.5)
        value = indicator()
        print(f"requests_per_second {value} after {time.monotonic() - t_start:.1f} s")
        assert isinstance(value, (int, float)) and value > 0
    finally:
        if pinned is not None:
            subprocess.run(["ip", "neigh", "del", pinned[0], "dev", pinned[1]], check=False)
        srv.stop()
        sub.close()
        if inst is not None:
            cleanup_instance(inst)
        subprocess.run(["ip", "link", "del", "dev", bridge], capture_output=True, check=False)
