"""webfarm's metrics through a real ``vnfm serve``: its exporter (started with the
embedded Prometheus), the endpoints the package declares, the VNFCs' cgroups filled
by the hooks' daemons. Everything read back from the server's own Prometheus."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.api.server import make_server
from tests.assurance.helpers import need, need_root
from tests.integration.conftest import cleanup_instance, wait_until
from vnfm_runner.assurance.promql import PromClient
from vnfm_runner.assurance.stack import PROMETHEUS_BIN
from vnfm_runner.demo import ext_addresses, sample_backends

pytestmark = pytest.mark.timeout(300)


def prometheus_of(home: Path) -> str:
    """The URL of the Prometheus the server started under ``home`` (from its argv)."""
    config = f"--config.file={home / 'monitoring' / 'prometheus' / 'prometheus.yml'}"
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if config.encode() in argv:
            for arg in argv:
                m = re.match(rb"--web.listen-address=(.+)", arg)
                if m:
                    return f"http://{m.group(1).decode()}"
    raise AssertionError("the server's Prometheus is not running")


def test_webfarm_app_vnfc_and_cp_metrics(tmp_path: Path) -> None:
    need_root()
    need(os.path.exists(PROMETHEUS_BIN), "needs Prometheus")
    home = tmp_path / "home"
    home.mkdir()
    srv = make_server(
        home, watch="true", monitoring="true", monitoring_scrape_interval="1",
        api_verify_callback="false",
    )  # fmt: skip
    srv.start()
    inst = None
    try:
        vnfd = srv.cli("package", "onboard", "examples/packages/webfarm").strip().splitlines()[-1]
        inst = srv.cli("create", "--vnfd-id", vnfd).strip().splitlines()[-1]
        srv.cli("instantiate", inst, "--flavour", "default", "--level", "small", "-q")
        doc = json.loads(srv.cli("show", inst, "--format", "json"))
        webs = sorted(
            v["id"] for v in doc["instantiatedVnfInfo"]["vnfcResourceInfo"] if v["vduId"] == "web"
        )
        served = sample_backends(ext_addresses(doc)[0], 10)
        assert sum(served.values()) == 10 and set(served) <= set(webs)
        prom = PromClient(prometheus_of(home))
        sel = f'vnf_instance_id="{inst}"'

        def value(expr: str) -> float:
            return prom.value(expr) or 0.0

        # every web counts what it served (health probes apart), with the VNFC labels
        endpoints = home / "monitoring" / "exporter" / "endpoints.json"
        assert wait_until(
            lambda: value(f"sum(webfarm_requests_total{{{sel},vdu_id='web'}})") >= 10, 60, 0.5
        ), (
            endpoints.read_text() if endpoints.exists() else "no endpoints file",
            sorted(p.name for p in (home / "monitoring" / "prometheus" / "targets").iterdir()),
            prom.query("vnfm_exporter_app_failures"),
            prom.query("vnfm_exporter_vnfcs"),
            (home / "monitoring" / "exporter" / "exporter.log").read_text()[-2000:],
        )
        assert value(f"count(webfarm_requests_total{{{sel},vdu_id='web'}})") == len(webs)
        for web in webs:
            got = value(f"webfarm_requests_total{{{sel},vnfc_id='{web}'}}")
            assert got >= served[web], (web, got, served)
        # the load balancer: everything it proxied (our 10 and the probes), none in flight
        lb = f"{sel},vnfc_id='lb-0',vdu_id='lb'"
        assert value(f"webfarm_lb_requests_total{{{lb}}}") >= 10
        assert prom.query(f"webfarm_lb_active_connections{{{lb}}}")[0].value == 0
        # the daemons the hooks started run in their VNFC's cgroup
        for vnfc in [*webs, "lb-0"]:
            v = f"{sel},vnfc_id='{vnfc}'"
            assert value(f"vnfm_vnfc_cpu_seconds_total{{{v}}}") > 0, vnfc
            assert value(f"vnfm_vnfc_memory_bytes{{{v}}}") > 1_000_000, vnfc
            assert value(f"vnfm_vnfc_vcpus{{{v}}}") >= 1, vnfc
        # the LB's external CP received our requests; its internal CP sent them on
        ext = f"{lb},cpd_id='lb_ext_cp',cp_type='ext'"
        assert value(f"vnfm_cp_received_packets_total{{{ext}}}") >= 10 * 5
        int_cp = f"{lb},cp_type='int'"
        assert value(f"sum(vnfm_cp_sent_bytes_total{{{int_cp}}})") > 0
    finally:
        srv.stop()
        if inst is not None:
            cleanup_instance(inst)
