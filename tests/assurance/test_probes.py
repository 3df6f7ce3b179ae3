"""Probes run for real inside a real network namespace (root).

The probed address exists only inside the namespace, so a probe that succeeds
ran there; the same address probed from the host fails. Threshold semantics
(N consecutive failures -> unhealthy, one success -> healthy), timeouts, a
missing namespace, command probes inside the namespace, bounded concurrency and
the ``not_probed`` state of a VIM without data plane are all checked against
real servers and real kernels.
"""

from __future__ import annotations

import socket
import sys
import time
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.health import probes as hp
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.model import HealthProbe

from tests.assurance.helpers import Netns

INST = "probe-test"


def probe(kind: str = "http", **kw: Any) -> HealthProbe:
    base: dict[str, Any] = {
        "id": f"{kind}_probe",
        "vdu_id": "web",
        "kind": kind,
        "cp_id": "web_cp",
        "port": 8080,
        "path": "/",
        "interval_s": 1.0,
        "timeout_s": 0.5,
        "failure_threshold": 2,
    }
    base.update(kw)
    if kind == "command":
        base.update(cp_id=None, port=None)
    return HealthProbe(**base)


def plan_and_resources(
    ns: Netns, vnfc_id: str = "web-0", rtype: str = "linux.netns", power: str = "on"
) -> tuple[dict[str, Any], dict[str, Any]]:
    plan = {
        "vnfcs": [
            {
                "id": vnfc_id,
                "vduId": "web",
                "powerState": power,
                "cps": [{"cpdId": "web_cp", "ipAddresses": [ns.address]}],
            }
        ]
    }
    resources = {
        "vnfcResourceInfo": [
            {
                "id": vnfc_id,
                "vduId": "web",
                "computeResource": {"resourceId": ns.name, "vimLevelResourceType": rtype},
            }
        ]
    }
    return plan, resources


def targets(ns: Netns, *probes: HealthProbe, **kw: Any) -> list[hp.ProbeTarget]:
    plan, resources = plan_and_resources(ns, **kw)
    return hp.targets_for(INST, plan, probes, resources)


def test_http_probe_runs_inside_the_namespace_with_its_threshold(vnfc_ns: Netns) -> None:
    server = vnfc_ns.http_server(8080)
    (target,) = targets(vnfc_ns, probe("http"))
    assert (target.route, target.netns, target.address) == ("netns", vnfc_ns.name, "10.254.77.2")
    runner = hp.ProbeRunner()
    (first,) = runner.run([target])
    assert first.health == hp.HEALTHY and first.last is not None
    assert first.last.detail == "HTTP 200"

    # the address exists only inside the namespace: from the host the same check fails
    host = hp.ProbeTarget(**{**target.__dict__, "route": hp.ROUTE_HOST, "netns": None})
    assert not hp.attempt(host).ok

    Netns.stop(server)  # the daemon dies: one failure is not enough...
    (r,) = runner.run([target])
    assert (r.health, r.consecutive_failures) == (hp.HEALTHY, 1)
    assert r.last is not None and r.last.detail == "connection refused"
    (r,) = runner.run([target])  # ...the threshold (2) is
    assert (r.health, r.consecutive_failures) == (hp.UNHEALTHY, 2)
    vnfc_ns.http_server(8080)
    (r,) = runner.run([target])  # one success heals
    assert (r.health, r.consecutive_failures) == (hp.HEALTHY, 0)


def test_expected_status_and_path(vnfc_ns: Netns) -> None:
    vnfc_ns.http_server(8080)
    missing = probe("http", id="missing", path="/no-such-file")
    accepted = probe("http", id="accepted", path="/no-such-file", expected_status=[404])
    runner = hp.ProbeRunner()
    results = {r.target.probe.id: r for r in runner.run(targets(vnfc_ns, missing, accepted))}
    assert results["missing"].last is not None and results["missing"].last.detail == "HTTP 404"
    assert not results["missing"].last.ok
    assert results["accepted"].health == hp.HEALTHY


def test_tcp_probe_and_timeout(vnfc_ns: Netns) -> None:
    # a listener that never accepts nor answers: TCP connects (the kernel's backlog),
    # HTTP waits for an answer until the probe's timeout
    vnfc_ns.spawn(
        sys.executable,
        "-c",
        "import socket,time; s=socket.socket(); s.bind(('10.254.77.2', 9090)); s.listen(64); "
        "time.sleep(600)",
    )
    vnfc_ns.wait_listening(9090)
    tcp = probe("tcp", port=9090)
    http = probe("http", port=9090, timeout_s=0.4)
    results = {r.target.probe.kind: r for r in hp.ProbeRunner().run(targets(vnfc_ns, tcp, http))}
    assert results["tcp"].last is not None and results["tcp"].last.ok
    last = results["http"].last
    assert last is not None and not last.ok
    assert last.detail == "timed out after 0.4 s"
    assert 0.35 <= last.duration_s < 1.5
    assert results["http"].health == hp.UNKNOWN  # one failure, threshold 2, no success yet


def test_bounded_concurrency(vnfc_ns: Netns) -> None:
    vnfc_ns.spawn(
        sys.executable,
        "-c",
        "import socket,time; s=socket.socket(); s.bind(('10.254.77.2', 9091)); s.listen(64); "
        "time.sleep(600)",
    )
    vnfc_ns.wait_listening(9091)
    many = [
        t
        for i in range(8)
        for t in targets(vnfc_ns, probe("http", port=9091, timeout_s=0.5), vnfc_id=f"web-{i}")
    ]
    start = time.monotonic()
    results = hp.ProbeRunner(workers=4).run(many)
    took = time.monotonic() - start
    assert all(r.last is not None and not r.last.ok for r in results)
    assert 0.9 <= took < 2.0, took  # 8 probes of 0.5 s, 4 at a time: two rounds


def test_command_probe_runs_inside_the_vnfc(vnfc_ns: Netns) -> None:
    check = probe("command", command=["ip", "-4", "-o", "addr", "show", "dev", "eth0"])
    grep = probe(
        "command", id="has_address", command=["sh", "-c", "ip -4 -o addr | grep -q 10.254.77.2"]
    )
    runner = hp.ProbeRunner()
    results = runner.run(targets(vnfc_ns, check, grep))
    assert [r.health for r in results] == [hp.HEALTHY, hp.HEALTHY]  # eth0 exists only in there
    vnfc_ns.ip("addr", "flush", "dev", "eth0")
    runner.run(targets(vnfc_ns, grep))
    (r,) = runner.run(targets(vnfc_ns, grep))
    assert r.health == hp.UNHEALTHY and r.last is not None
    assert r.last.detail == "exit status 1"
    slow = probe("command", id="slow", command=["sleep", "5"], timeout_s=0.3)
    (r,) = runner.run(targets(vnfc_ns, slow))
    assert r.last is not None and r.last.detail == "timed out after 0.3 s"


def test_missing_namespace_fails_the_probe(vnfc_ns: Netns) -> None:
    (target,) = targets(vnfc_ns, probe("tcp"))
    gone = hp.ProbeTarget(**{**target.__dict__, "netns": "vnfmtest-does-not-exist"})
    result = hp.attempt(gone)
    assert not result.ok
    assert result.detail == "network namespace vnfmtest-does-not-exist does not exist"


def test_the_probe_thread_comes_back_to_the_host_namespace(vnfc_ns: Netns) -> None:
    from ansible_collections.nfv.vnfm.plugins.module_utils.health import netns

    with open("/proc/thread-self/ns/net", "rb"):
        import os

        before = os.readlink("/proc/thread-self/ns/net")
        sock = netns.socket_in(vnfc_ns.name)
        after = os.readlink("/proc/thread-self/ns/net")
    sock.settimeout(1)
    sock.bind((vnfc_ns.address, 0))  # only possible inside: the address is there
    sock.close()
    assert before == after
    host = socket.socket()
    try:
        host.bind((vnfc_ns.address, 0))
        raise AssertionError("the address must not exist on the host")
    except OSError:
        pass
    finally:
        host.close()


def test_not_probed_states(vnfc_ns: Netns) -> None:
    p = probe("http")
    runner = hp.ProbeRunner()
    (nova,) = targets(vnfc_ns, p, rtype="OS::Nova::Server")
    (stopped,) = targets(vnfc_ns, p, power="off")
    plan, _ = plan_and_resources(vnfc_ns)
    (missing,) = hp.targets_for(INST, plan, [p], {"vnfcResourceInfo": []})
    (unread,) = hp.targets_for(INST, plan, [p], None)
    results = runner.run([nova, stopped, missing, unread])
    assert [r.health for r in results] == [hp.NOT_PROBED] * 4
    assert [r.target.reason for r in results] == [
        "the VIM's OS::Nova::Server VNFCs are not reachable from the VNFM (no data plane here)",
        "the VNFC is stopped (powerState off)",
        "the VNFC is missing on the VIM",
        "the VIM was not read",
    ]
    assert results[0].as_dict()["health"] == "not_probed"
    # a VIM whose addresses this host reaches: probed from the host
    plan, resources = plan_and_resources(vnfc_ns, rtype="OS::Nova::Server")
    (direct,) = hp.targets_for(INST, plan, [p], resources, host_reachable={"OS::Nova::Server"})
    assert direct.route == hp.ROUTE_HOST


def test_only_due_targets_run_again(vnfc_ns: Netns) -> None:
    vnfc_ns.http_server(8080)
    (target,) = targets(vnfc_ns, probe("http", interval_s=30.0))
    calls: list[str] = []

    def counting(t: hp.ProbeTarget) -> hp.Attempt:
        calls.append(t.vnfc_id)
        return hp.attempt(t)

    runner = hp.ProbeRunner(attempt=counting)
    runner.run([target], only_due=True)
    runner.run([target], only_due=True)  # its 30 s interval has not passed
    assert calls == ["web-0"]
    runner.forget(INST, ["web-0"])
    (r,) = runner.run([target], only_due=True)
    assert calls == ["web-0", "web-0"] and r.health == hp.HEALTHY
