"""The embedded monitoring stack, for real: Prometheus and Alertmanager processes.

A real metrics endpoint (prometheus-client on 127.0.0.1) exports probe results
through :class:`ProbeCollector`; the stack scrapes it through the instance's
file_sd file, evaluates the rules generated from webfarm's probe declarations,
and Alertmanager posts to a real webhook receiver (an HTTP server here, checking
the bearer token): first the firing alert, then - once the VNFC is healthy
again - its resolution. Intervals are shortened through the settings so this
takes seconds. Then supervision (a killed Alertmanager comes back), the idle
footprint, and a clean stop. Skipped when the binaries are missing (failed with CI).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, start_http_server

from tests.assurance.helpers import need
from tests.integration.conftest import WEBFARM, wait_until
from vnfm_runner.assurance.health import (
    HEALTH_HEALTHY,
    HEALTH_UNHEALTHY,
    ProbeResult,
    ProbeTarget,
)
from vnfm_runner.assurance.metrics import ProbeCollector
from vnfm_runner.assurance.rules import TargetGroup, probe_rules
from vnfm_runner.assurance.stack import (
    ALERTMANAGER_BIN,
    PROMETHEUS_BIN,
    MonitoringStack,
    StackSettings,
    free_port,
)
from vnfm_runner.core import load_vnf

INST = "5b0e4c1d-assurance-stack"
TOKEN = "s3cret-webhook-token"


class Receiver(ThreadingHTTPServer):
    """The VNFM's webhook, as Alertmanager sees it: POSTs with a bearer token."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Hook)
        self.posts: list[dict[str, Any]] = []
        self.auth: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/alerts"


class _Hook(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.auth.append(self.headers.get("Authorization") or "")
        self.server.posts.append(json.loads(body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def statuses(receiver: Receiver) -> list[tuple[str, str]]:
    return [
        (a["status"], a["labels"].get("vnfc_id", ""))
        for post in receiver.posts
        for a in post["alerts"]
        if a["labels"].get("vnf_instance_id") == INST
    ]


def api(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


def test_embedded_stack_fires_and_resolves_a_generated_rule(
    tmp_path: Path, receiver: Receiver
) -> None:
    need(
        all(os.access(b, os.X_OK) for b in (PROMETHEUS_BIN, ALERTMANAGER_BIN)),
        f"needs {PROMETHEUS_BIN} and {ALERTMANAGER_BIN} (Debian prometheus, "
        "prometheus-alertmanager; scripts/setup.sh installs them)",
    )
    model, _ = load_vnf(WEBFARM)
    flavour = model.flavour("default")
    assert flavour is not None
    web_probe = next(p for p in flavour.health_probes if p.vdu_id == "web")

    # a real metrics endpoint exporting the probe results (web-0 unhealthy, web-1 healthy)
    health = {"web-0": HEALTH_UNHEALTHY, "web-1": HEALTH_HEALTHY}

    def results() -> list[ProbeResult]:
        return [
            ProbeResult(ProbeTarget(INST, vnfc, "web", web_probe, "netns"), state)
            for vnfc, state in health.items()
        ]

    registry = CollectorRegistry()
    registry.register(ProbeCollector(results))
    port = free_port()
    httpd, _thread = start_http_server(port, addr="127.0.0.1", registry=registry)

    settings = StackSettings(
        home=tmp_path / "monitoring",
        webhook_url=receiver.url,
        webhook_token=TOKEN,
        scrape_interval_s=0.5,
        evaluation_interval_s=0.5,
        file_sd_refresh_s=0.5,
        group_wait_s=0.2,
        group_interval_s=0.5,
        alert_resend_delay_s=0.5,
    )
    stack = MonitoringStack(settings)
    start = time.monotonic()
    stack.start()
    try:
        print(f"stack ready in {time.monotonic() - start:.2f}s")
        assert stack.write_targets(
            INST, [TargetGroup([f"127.0.0.1:{port}"], {"vnf_instance_id": INST})]
        )
        assert not stack.write_targets(INST, [TargetGroup([f"127.0.0.1:{port}"], {"vnf_instance_id": INST})])  # fmt: skip
        assert stack.write_rules(INST, probe_rules(INST, flavour.health_probes))
        rules = api(f"{stack.prometheus_url}/api/v1/rules")["data"]["groups"]
        assert [g["name"] for g in rules] == [f"vnfm-{INST}"]
        assert len(rules[0]["rules"]) == 2  # one per VDU probe (lb, web)

        fired = time.monotonic()
        assert wait_until(lambda: ("firing", "web-0") in statuses(receiver), 30), receiver.posts
        print(f"alert posted {time.monotonic() - fired:.2f}s after targets and rules were written")
        assert ("firing", "web-1") not in statuses(receiver)
        assert set(receiver.auth) == {f"Bearer {TOKEN}"}
        alert = next(
            a for p in receiver.posts for a in p["alerts"] if a["labels"]["vnfc_id"] == "web-0"
        )
        assert alert["labels"]["alertname"] == "VnfcProbeFailed"
        assert alert["labels"]["probe"] == web_probe.id
        assert alert["labels"]["severity"] == "major"

        health["web-0"] = HEALTH_HEALTHY  # the VNFC recovers: the alert resolves
        healed = time.monotonic()
        assert wait_until(lambda: ("resolved", "web-0") in statuses(receiver), 30), receiver.posts
        print(f"resolution posted {time.monotonic() - healed:.2f}s after recovery")

        # steady state (Prometheus's discovery of Alertmanager, throttled to 5 s, is done)
        health["web-1"] = HEALTH_UNHEALTHY
        again = time.monotonic()
        assert wait_until(lambda: ("firing", "web-1") in statuses(receiver), 30), receiver.posts
        print(f"second alert posted {time.monotonic() - again:.2f}s after the metric changed")
        health["web-1"] = HEALTH_HEALTHY

        time.sleep(3)  # idle footprint with one target and two rules
        rss = stack.rss_bytes()
        print("idle RSS MiB:", {k: round(v / 2**20, 1) for k, v in rss.items()})
        assert set(rss) == {"prometheus", "alertmanager"}
        assert sum(rss.values()) < 300 * 2**20

        # supervision: a killed Alertmanager is started again on its port
        old = stack.pids()["alertmanager"]
        os.kill(old, signal.SIGKILL)
        assert wait_until(
            lambda: (
                stack.pids().get("alertmanager", old) != old
                and stack.restarts()["alertmanager"] == 1
            ),
            30,
        )
        assert api(f"{stack.alertmanager_url}/api/v2/status")["cluster"]["status"] == "disabled"

        stack.forget(INST)
        assert not stack.targets_file(INST).exists() and not stack.rules_file(INST).exists()
        assert api(f"{stack.prometheus_url}/api/v1/rules")["data"]["groups"] == []
    finally:
        pids = list(stack.pids().values())
        stack.stop()
        httpd.shutdown()
    assert not [p for p in pids if Path(f"/proc/{p}").exists() and _alive(p)]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_external_stack_starts_nothing(tmp_path: Path) -> None:
    settings = StackSettings(
        home=tmp_path / "m",
        webhook_url="http://127.0.0.1:1/alerts",
        prometheus_url="http://prom.example:9090/",
        alertmanager_url="http://am.example:9093",
    )
    stack = MonitoringStack(settings).start()
    assert stack.pids() == {}
    assert stack.prometheus_url == "http://prom.example:9090"
    assert stack.write_targets(INST, [TargetGroup(["10.0.0.1:9100"], {"vnf_instance_id": INST})])
    doc = json.loads(stack.targets_file(INST).read_text())
    assert doc == [{"labels": {"vnf_instance_id": INST}, "targets": ["10.0.0.1:9100"]}]
    assert shutil.which("true")  # nothing else to check: no process was started
