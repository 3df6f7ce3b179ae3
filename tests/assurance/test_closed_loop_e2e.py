"""The closed loop end to end, for real (root, local VIM): ``vnfm serve`` with its own
Prometheus and Alertmanager, two webfarms, a real HTTP subscriber to FM and LCM
notifications.

Instance A (auto-heal on, the package's default) takes three faults one after
the other - kill -9 of the web daemon in web-0, ``ip netns del`` of web-1, every
process of web-0 stopped (SIGSTOP) - and for each: exactly one
AlarmNotification, one automatic HEAL (``isAutomaticInvocation``) COMPLETED,
HTTP through the load balancer answered by every web again, exactly one
AlarmClearedNotification, and no second heal. A fourth fault then exceeds the
storm guard (3 heals in the window): a CRITICAL alarm says auto-heal is
suspended and nothing heals. Instance B (``isAutohealEnabled: false`` at
instantiation) loses its web daemon: the alarm and the drift are reported,
nothing changes. Finally the server restarts: AlarmListRebuiltNotification, and
the open alarms are not raised again. Latencies are printed (pytest -s).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.server import Server
from tests.assurance.helpers import loop_server as serve_loop
from tests.integration.conftest import daemon_processes, wait_until
from tests.notify.subscriber import Subscriber
from vnfm_runner.demo import ext_addresses, sample_backends

pytestmark = [pytest.mark.root, pytest.mark.timeout(900)]
FM = {"Version": "1.3.0"}


@pytest.fixture
def loop_server(tmp_path: Path) -> Iterator[tuple[Server, Subscriber, list[str]]]:
    with serve_loop(
        tmp_path / "home",
        alertmanager=True,
        autoheal_cooldown="0",
        autoheal_storm_heals="3",
        monitoring_scrape_interval="2",
    ) as running:
        yield running


def _notes(sub: Subscriber, kind: str, pred: Callable[[dict[str, Any]], bool]) -> list[Any]:
    with sub.lock:
        return [n for n in sub.received if n.get("notificationType") == kind and pred(n)]


def _alarm_of(inst: str) -> Callable[[dict[str, Any]], bool]:
    return lambda n: n["alarm"]["managedObjectId"] == inst


def _heals(sub: Subscriber, inst: str, state: str) -> list[Any]:
    return _notes(
        sub,
        "VnfLcmOperationOccurrenceNotification",
        lambda n: (
            n["vnfInstanceId"] == inst and n["operation"] == "HEAL" and n["operationState"] == state
        ),
    )


def _serving(srv: Server, inst: str) -> Callable[[], bool]:
    """Whether HTTP through the instance's load balancer is answered by every web."""
    doc = json.loads(srv.cli("show", inst, "--format", "json"))
    webs = [v["id"] for v in doc["instantiatedVnfInfo"]["vnfcResourceInfo"] if v["vduId"] == "web"]
    address = ext_addresses(doc)[0]
    return lambda: all(w in sample_backends(address, 8) for w in webs)


def _open_alarms(c: Any) -> list[str]:
    r = c.get("/vnffm/v1/alarms", headers=FM)
    assert r.status_code == 200, r.text
    return sorted(x["id"] for x in r.json() if x["perceivedSeverity"] != "CLEARED")


def _kill_daemon(inst: str, vnfc: str) -> None:
    (pid,) = [p for p, cmd in daemon_processes(inst).items() if f"/{vnfc}/" in cmd]
    os.kill(pid, signal.SIGKILL)


def _del_netns(inst: str, vnfc: str) -> None:
    subprocess.run(["ip", "netns", "del", f"vnfm-{inst}-{vnfc}"], check=True)


def _stop_processes(inst: str, vnfc: str) -> None:
    pids = subprocess.run(
        ["ip", "netns", "pids", f"vnfm-{inst}-{vnfc}"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert pids, f"no process in {vnfc}"
    for pid in pids:
        os.kill(int(pid), signal.SIGSTOP)


def test_closed_loop(loop_server: tuple[Server, Subscriber, list[str]]) -> None:
    srv, sub, instances = loop_server
    with srv.client() as c:
        for path, headers in (("/vnflcm/v2/subscriptions", {}), ("/vnffm/v1/subscriptions", FM)):
            r = c.post(path, json={"callbackUri": sub.url}, headers=headers)
            assert r.status_code == 201, r.text
    vnfd = srv.cli("package", "onboard", "examples/packages/webfarm").strip().splitlines()[-1]
    a = srv.cli("create", "--vnfd-id", vnfd, "--name", "loop-a").strip().splitlines()[-1]
    b = srv.cli("create", "--vnfd-id", vnfd, "--name", "loop-b").strip().splitlines()[-1]
    instances += [a, b]
    params = srv.home / "off.json"
    params.write_text(json.dumps({"vnfConfigurableProperties": {"isAutohealEnabled": False}}))
    srv.cli("instantiate", a, "--flavour", "default", "--level", "small", "-q")
    srv.cli(
        "instantiate", b, "--flavour", "default", "--level", "small", "-q", "--params", str(params)
    )
    assert json.loads(srv.cli("show", b, "--format", "json"))["vnfConfigurableProperties"] == {
        "isAutohealEnabled": False
    }
    serving_a, serving_b = _serving(srv, a), _serving(srv, b)
    assert wait_until(lambda: serving_a() and serving_b(), 30)

    # -- three faults of A, each healed automatically, once -------------------------------------
    figures = []
    for n, (name, inject, vnfc) in enumerate(
        [
            ("kill -9 web daemon", _kill_daemon, "web-0"),
            ("ip netns del", _del_netns, "web-1"),
            ("processes stopped", _stop_processes, "web-0"),
        ],
        start=1,
    ):
        t0 = time.monotonic()
        inject(a, vnfc)

        def count(kind: str, n: int = n) -> Callable[[], bool]:
            pred = _alarm_of(a) if kind == "AlarmNotification" else (lambda x: True)
            return lambda: len(_notes(sub, kind, pred)) >= n

        assert wait_until(count("AlarmNotification"), 20, 0.05)
        t_alarm = time.monotonic() - t0
        assert wait_until(lambda n=n: len(_heals(sub, a, "COMPLETED")) >= n, 60, 0.05)
        t_heal = time.monotonic() - t0
        assert wait_until(serving_a, 20, 0.1)
        t_serve = time.monotonic() - t0
        assert wait_until(count("AlarmClearedNotification"), 30, 0.05)
        t_clear = time.monotonic() - t0
        time.sleep(4)  # nothing more comes of this fault
        alarms = _notes(sub, "AlarmNotification", _alarm_of(a))
        assert len(alarms) == n, [x["alarm"] for x in alarms]
        assert alarms[-1]["alarm"]["vnfcInstanceIds"] == [vnfc]
        assert len(_notes(sub, "AlarmClearedNotification", lambda x: True)) == n
        started = _heals(sub, a, "STARTING")
        assert len(started) == n and len(_heals(sub, a, "COMPLETED")) == n
        assert started[-1]["isAutomaticInvocation"] is True
        figures.append((name, t_alarm, t_heal, t_serve, t_clear))
        print(f"{name}: alarm {t_alarm:.1f}s heal {t_heal:.1f}s serving {t_serve:.1f}s "
              f"cleared {t_clear:.1f}s")  # fmt: skip
    with srv.client() as c:
        op = c.get(f"/vnflcm/v2/vnf_lcm_op_occs/{started[-1]['vnfLcmOpOccId']}").json()
        assert op["isAutomaticInvocation"] is True and op["operationParams"]["vnfcInstanceId"]

    # -- storm guard: a fourth fault within the window is not healed -----------------------------
    _kill_daemon(a, "web-1")
    suspended = lambda x: x["alarm"]["faultType"] == "AUTOHEAL_SUSPENDED"  # noqa: E731
    assert wait_until(lambda: _notes(sub, "AlarmNotification", suspended), 20)
    (storm,) = _notes(sub, "AlarmNotification", suspended)
    assert storm["alarm"]["perceivedSeverity"] == "CRITICAL"
    time.sleep(5)
    assert len(_heals(sub, a, "STARTING")) == 3

    # -- auto-heal off: reported, nothing changed -----------------------------------------------
    _kill_daemon(b, "web-0")
    assert wait_until(lambda: _notes(sub, "AlarmNotification", _alarm_of(b)), 20)
    doc = json.loads(srv.cli("show", b, "--format", "json"))
    (drift,) = doc["instantiatedVnfInfo"]["vnfmDrift"]
    assert (drift["kind"], drift["vnfcInstanceId"]) == ("VNFC_UNHEALTHY", "web-0")
    time.sleep(5)
    assert _heals(sub, b, "STARTING") == []
    assert not any("/web-0/" in cmd for cmd in daemon_processes(b).values())

    # -- restart: the list is rebuilt, no alarm raised twice -------------------------------------
    with srv.client() as c:
        before = _open_alarms(c)
    raised = len(_notes(sub, "AlarmNotification", lambda x: True))
    srv.stop()
    srv.start()
    assert wait_until(lambda: _notes(sub, "AlarmListRebuiltNotification", lambda x: True), 30)
    time.sleep(4)
    assert len(_notes(sub, "AlarmNotification", lambda x: True)) == raised
    with srv.client() as c:
        after = _open_alarms(c)
    assert after == before and len(after) == 3  # A: web-1 and the storm; B: web-0
