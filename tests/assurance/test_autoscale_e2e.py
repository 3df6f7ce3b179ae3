"""Auto-scale end to end, for real (root, local VIM): ``vnfm serve`` with its
Prometheus and exporter, webfarm (hooks on) instantiated at level small (2 webs)
with ``isAutoscaleEnabled: true``, a real LCM subscriber, and an HTTP load thread
against the load balancer's external address.

webfarm's ``web_autoscale`` policy: above 10 requests/s per web for 10 s -> one web
more; below 3/s for 20 s -> one less; cooldown 30 s. To keep the test short it runs a
copy of webfarm whose policy has a 10 s rate window (15 s), waits 10 s below (20 s) and
cools down 20 s (30 s); the scale-out numbers (10/s for 10 s) are webfarm's. The load (26/s: 13 per web
with 2 webs, 8.7 with 3: inside the band, no second scale-out) gives ONE automatic
SCALE_OUT COMPLETED within 30 s of the policy's value passing 10/s (read back from the
server's Prometheus: the per-web rate ramps up for some seconds after the load starts,
then the policy waits its 10 s, then the SCALE runs), after which the new web serves (its answers come
through the load balancer); once the load stops, ONE automatic SCALE_IN. Both
occurrences carry ``isAutomaticInvocation: true``; they start at least the cooldown
apart; the level never exceeds the aspect's max. Figures printed (pytest -s).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.api.server import REPO_ROOT, WEBFARM, Server
from tests.assurance.helpers import loop_server
from tests.assurance.test_metrics_webfarm import prometheus_of
from tests.integration.conftest import wait_until
from tests.notify.subscriber import Subscriber
from vnfm_runner.assurance.promql import PromClient
from vnfm_runner.demo import ext_addresses, sample_backends

pytestmark = [
    pytest.mark.root,
    pytest.mark.timeout(300),
]
LOAD_RPS = 26.0
# webfarm's web_autoscale, made quicker where the evidence does not depend on it
QUICKER = {
    "metric: rate(webfarm_requests_total[15s])": "metric: rate(webfarm_requests_total[10s])",
    "scale_in_duration: 20 s": "scale_in_duration: 10 s",
    "cooldown: 30 s": "cooldown: 20 s",
}
COOLDOWN_S = 20.0
OUT_THRESHOLD = 10.0  # webfarm's web_autoscale: requests per second per web
POLICY = "sum(rate(webfarm_requests_total{{vnf_instance_id='{inst}'}}[{window}])) / {webs}"


@pytest.fixture
def scale_server(tmp_path: Path) -> Iterator[tuple[Server, Subscriber, list[str]]]:
    with loop_server(
        tmp_path / "home", monitoring_scrape_interval="1", autoscale_tick="1", pm="false"
    ) as running:
        yield running


def _scales(sub: Subscriber, inst: str, state: str) -> list[dict[str, Any]]:
    with sub.lock:
        return [
            n
            for n in sub.received
            if n.get("notificationType") == "VnfLcmOperationOccurrenceNotification"
            and n["vnfInstanceId"] == inst
            and n["operation"] == "SCALE"
            and n["operationState"] == state
        ]


class Load:
    """``rps`` GETs a second through the load balancer, paced, in a thread."""

    def __init__(self, address: str, rps: float) -> None:
        self.url, self.period = f"http://{address}/", 1.0 / rps
        self.stop = threading.Event()
        self.answers: dict[str, int] = {}
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        due = time.monotonic()
        while not self.stop.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=2) as resp:
                    body = resp.read().decode().strip()
            except OSError as exc:
                body = f"error: {type(exc).__name__}"
            self.answers[body] = self.answers.get(body, 0) + 1
            due += self.period
            self.stop.wait(max(0.0, due - time.monotonic()))


def _level(srv: Server, inst: str) -> int:
    doc = json.loads(srv.cli("show", inst, "--format", "json"))
    (status,) = doc["instantiatedVnfInfo"]["scaleStatus"]
    return int(status["scaleLevel"])


def test_autoscale(scale_server: tuple[Server, Subscriber, list[str]]) -> None:
    srv, sub, instances = scale_server
    with srv.client() as c:
        r = c.post("/vnflcm/v2/subscriptions", json={"callbackUri": sub.url})
        assert r.status_code == 201, r.text
    vnfd = srv.cli("package", "onboard", str(quick_webfarm(srv.home.parent)))
    vnfd = vnfd.strip().splitlines()[-1]
    inst = srv.cli("create", "--vnfd-id", vnfd, "--name", "scale").strip().splitlines()[-1]
    instances.append(inst)
    params = srv.home / "on.json"
    params.write_text(json.dumps({"vnfConfigurableProperties": {"isAutoscaleEnabled": True}}))
    srv.cli("instantiate", inst, "--flavour", "default", "--level", "small", "-q",
            "--params", str(params))  # fmt: skip
    doc = json.loads(srv.cli("show", inst, "--format", "json"))
    address = ext_addresses(doc)[0]
    assert wait_until(lambda: {"web-0", "web-1"} <= set(sample_backends(address, 6)), 30)
    assert _level(srv, inst) == 1

    load = Load(address, LOAD_RPS)
    t0 = time.time()
    load.thread.start()
    try:
        if not wait_until(lambda: _scales(sub, inst, "COMPLETED"), 60, 0.2):
            _diagnose(srv)
            pytest.fail(f"no scale-out; answers {load.answers}")
        (started,) = _scales(sub, inst, "STARTING")
        assert started["isAutomaticInvocation"] is True
        with srv.client() as c:
            occ = c.get(f"/vnflcm/v2/vnf_lcm_op_occs/{started['vnfLcmOpOccId']}").json()
        t_start, t_done = _epoch(occ["startTime"]), _epoch(occ["stateEnteredTime"])
        t_pass = passed_at(PromClient(prometheus_of(srv.home)), inst, 2, t0, t_start)
        print(
            f"scale-out: policy value passed {OUT_THRESHOLD:g}/s per web {t_pass - t0:.1f} s"
            f" after the load started, SCALE started {t_start - t_pass:.1f} s and COMPLETED"
            f" {t_done - t_pass:.1f} s after that (operation {t_done - t_start:.1f} s)"
        )
        assert t_done - t_pass <= 30
        assert _level(srv, inst) == 2
        # the new web takes its share of the load through the load balancer
        assert wait_until(lambda: load.answers.get("web-2", 0) >= 20, 20), load.answers
        print("answers under load:", dict(sorted(load.answers.items())))
    finally:
        load.stop.set()
        load.thread.join(5)
    t_stop = time.monotonic()
    assert wait_until(lambda: len(_scales(sub, inst, "COMPLETED")) >= 2, 90, 0.2)
    print(f"scale-in COMPLETED {time.monotonic() - t_stop:.1f} s after the load stopped")
    assert _level(srv, inst) == 1
    time.sleep(2)
    starts = _scales(sub, inst, "STARTING")
    assert len(starts) == 2 and all(n["isAutomaticInvocation"] for n in starts)

    with srv.client() as c:
        occs = [c.get(f"/vnflcm/v2/vnf_lcm_op_occs/{n['vnfLcmOpOccId']}").json() for n in starts]
    assert [o["operationParams"]["type"] for o in occs] == ["SCALE_OUT", "SCALE_IN"]
    assert all(o["isAutomaticInvocation"] and o["operationState"] == "COMPLETED" for o in occs)
    # none within the cooldown (counted from the end of the automatic operation)
    assert _epoch(occs[1]["startTime"]) - _epoch(occs[0]["stateEnteredTime"]) >= COOLDOWN_S
    # never above the max level: the levels went 1 -> 2 -> 1 (max 7)
    max_level = {
        m["aspectId"]: m["scaleLevel"]
        for m in json.loads(srv.cli("show", inst, "--format", "json"))["instantiatedVnfInfo"][
            "maxScaleLevels"
        ]
    }
    assert max_level["web"] == 7


def test_autoscale_on_an_indicator(scale_server: tuple[Server, Subscriber, list[str]]) -> None:
    """The same policy triggered by webfarm's ``requests_per_second`` VNF indicator (the
    farm's rate as vnfind/v1 reports it, per web): the load gives ONE automatic
    SCALE_OUT, started after the recorded indicator value passed 10/s per web."""
    srv, sub, instances = scale_server
    with srv.client() as c:
        r = c.post("/vnflcm/v2/subscriptions", json={"callbackUri": sub.url})
        assert r.status_code == 201, r.text
    swap = {"metric: rate(webfarm_requests_total[15s])": "indicator: requests_per_second"}
    pkg = quick_webfarm(srv.home.parent, swap)
    vnfd = srv.cli("package", "onboard", str(pkg)).strip().splitlines()[-1]
    inst = srv.cli("create", "--vnfd-id", vnfd, "--name", "ind").strip().splitlines()[-1]
    instances.append(inst)
    params = srv.home / "on.json"
    params.write_text(json.dumps({"vnfConfigurableProperties": {"isAutoscaleEnabled": True}}))
    srv.cli("instantiate", inst, "--flavour", "default", "--level", "small", "-q",
            "--params", str(params))  # fmt: skip
    doc = json.loads(srv.cli("show", inst, "--format", "json"))
    address = ext_addresses(doc)[0]
    assert wait_until(lambda: {"web-0", "web-1"} <= set(sample_backends(address, 6)), 30)

    seen: list[tuple[float, Any]] = []  # (time, indicator value) as an NFVO reads it

    def indicator_value() -> Any:
        with srv.client(headers={"Version": "1.3.0"}) as c:  # vnfind/v1's version
            r = c.get(f"/vnfind/v1/indicators/{inst}/requests_per_second")
        value = r.json().get("value") if r.status_code == 200 else None
        assert r.status_code in (200, 404), r.text  # 404: not valued yet
        seen.append((time.time(), value))
        return value

    load = Load(address, LOAD_RPS)
    load.thread.start()
    try:
        done = wait_until(lambda: (indicator_value(), _scales(sub, inst, "COMPLETED"))[1], 90, 0.5)
        if not done:
            _diagnose(srv)
            pytest.fail(f"no scale-out; indicator values {seen[-10:]}; answers {load.answers}")
    finally:
        load.stop.set()
        load.thread.join(5)
    (started,) = _scales(sub, inst, "STARTING")
    assert started["isAutomaticInvocation"] is True
    with srv.client() as c:
        occ = c.get(f"/vnflcm/v2/vnf_lcm_op_occs/{started['vnfLcmOpOccId']}").json()
    assert occ["operationParams"]["type"] == "SCALE_OUT"
    assert occ["operationState"] == "COMPLETED"
    t_start = _epoch(occ["startTime"])
    above = [t for t, v in seen if isinstance(v, int | float) and v > OUT_THRESHOLD * 2]
    assert above and above[0] <= t_start, [(round(t - t_start, 1), v) for t, v in seen]
    print(f"scale-out on the indicator started {t_start - above[0]:.1f} s after an NFVO "
          f"first read requests_per_second above {OUT_THRESHOLD * 2:g}")  # fmt: skip
    assert _level(srv, inst) == 2


def quick_webfarm(where: Path, more: dict[str, str] | None = None) -> Path:
    """A copy of webfarm with the QUICKER auto-scale numbers (and ``more`` replacements),
    its manifest regenerated."""
    pkg = where / "webfarm"
    shutil.copytree(WEBFARM, pkg)
    df = pkg / "Definitions" / "webfarm_df_default.yaml"
    text = df.read_text()
    for old, new in {**QUICKER, **(more or {})}.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    df.write_text(text)
    subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "package-manifest.py"), str(pkg)],
        check=True,
        capture_output=True,
    )
    return pkg


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def passed_at(
    prom: PromClient, inst: str, webs: int, t0: float, t1: float, window: str = "10s"
) -> float:
    """The first time in [t0, t1] (0.25 s steps) at which the policy's value, as the
    server's Prometheus evaluates it, was above the scale-out threshold."""
    expr = POLICY.format(inst=inst, webs=webs, window=window)
    t = t0
    while t <= t1:
        value = prom.value(expr, t)
        if value is not None and value > OUT_THRESHOLD:
            return t
        t += 0.25
    raise AssertionError(f"{expr} never above {OUT_THRESHOLD} before the SCALE started")


def _diagnose(srv: Server) -> None:
    """What the server and its Prometheus saw (printed when no scale-out came)."""
    print(srv.log_path.read_text()[-4000:])
    for f in (srv.home / "monitoring").rglob("*"):
        print(f)
    for cmd in Path("/proc").glob("*/cmdline"):
        try:
            args = cmd.read_bytes().split(b"\0")
        except OSError:
            continue
        if any(str(srv.home).encode() in a for a in args) and args[0].endswith(b"/prometheus"):
            port = [a for a in args if a.startswith(b"--web.listen-address=")]
            url = "http://" + port[0].decode().split("=", 1)[1]
            prom = PromClient(url)
            for q in ("webfarm_requests_total", "rate(webfarm_requests_total[15s])"):
                print(q, [(x.labels, x.value) for x in prom.query(q)])
    try:
        with srv.client() as c:
            print(c.get("/metrics").text[-3000:])
    except Exception as exc:
        print("metrics:", exc)
