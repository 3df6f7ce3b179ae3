"""VNF indicators end to end, for real (root, local VIM): ``vnfm serve`` with its own
Prometheus, a webfarm, a real HTTP subscriber on ``/vnfind/v1/subscriptions``.

The package is webfarm plus one indicator valued by Prometheus from the VNFM's own
series (``healthy_vnfcs``: VNFCs whose health probe passes), next to webfarm's
command-valued ``lb_backends`` (webs in the load balancer's backends file). After the
instantiation: one SupportedIndicatorsChangeNotification, the values announced. A
scale-out makes ``lb_backends`` 3: exactly one VnfIndicatorValueChangeNotification with
3 to the subscription filtered on that indicator; the GETs show it. A web daemon killed
(auto-heal off) makes ``healthy_vnfcs`` drop through Prometheus. After the filtered
subscription is deleted, the load balancer reconfigured behind the VNFM's back (one web
less in its backends file) reaches only the other one.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.server import Server
from tests.assurance.helpers import loop_server
from tests.integration.conftest import daemon_processes, wait_until
from tests.notify.subscriber import Subscriber

pytestmark = [pytest.mark.root, pytest.mark.timeout(300)]
ROOT = Path(__file__).resolve().parents[2]
IND = {"Version": "1.3.0"}
VALUE = "VnfIndicatorValueChangeNotification"
SUPPORTED = "SupportedIndicatorsChangeNotification"
HEALTHY = """
    - healthy_vnfcs:
        type: vnfm.policies.VnfIndicator
        properties:
          name: VNFCs whose health probe passes
          source: vnf
          prometheus: count(vnfm_vnfc_probe_healthy{vnf_instance_id="$vnf_instance_id"} == 1)
          period: 1 s
"""


def _package(tmp: Path) -> Path:
    """webfarm with one more indicator, its manifest digests rewritten."""
    pkg = tmp / "webfarm-ind"
    shutil.copytree(ROOT / "examples" / "packages" / "webfarm", pkg)
    df = pkg / "Definitions" / "webfarm_df_default.yaml"
    df.write_text(df.read_text().rstrip("\n") + "\n" + HEALTHY)
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "package-manifest.py"), str(pkg)],
        check=True,
        capture_output=True,
    )
    return pkg


@pytest.fixture
def ind_server(tmp_path: Path) -> Iterator[tuple[Server, Subscriber, list[str]]]:
    with loop_server(
        tmp_path / "home", monitoring_scrape_interval="1", autoscale="false", indicators_tick="0.25"
    ) as running:
        yield running


def _notes(sub: Subscriber, sub_id: str, kind: str, indicator: str | None = None) -> list[Any]:
    with sub.lock:
        return [
            n
            for n in sub.received
            if n["subscriptionId"] == sub_id
            and n["notificationType"] == kind
            and (indicator is None or n.get("vnfIndicatorId") == indicator)
        ]


def _values(sub: Subscriber, sub_id: str, indicator: str) -> list[Any]:
    return [n["value"] for n in _notes(sub, sub_id, VALUE, indicator)]


def test_indicators_end_to_end(
    ind_server: tuple[Server, Subscriber, list[str]], tmp_path: Path
) -> None:
    srv, sub, instances = ind_server
    phases: dict[str, float] = {}
    t_start = time.monotonic()
    with srv.client(headers=IND) as c:
        r = c.post("/vnfind/v1/subscriptions", json={"callbackUri": sub.url})
        assert r.status_code == 201 and r.headers["Version"] == "1.3.0", r.text
        every = r.json()["id"]
        flt = {"indicatorIds": ["lb_backends"], "notificationTypes": [VALUE]}
        r = c.post(
            "/vnfind/v1/subscriptions",
            json={
                "filter": flt,
                "callbackUri": sub.url,
                "authentication": {
                    "authType": ["BASIC"],
                    "paramsBasic": {"userName": "u", "password": "secret-pw"},
                },
            },
        )
        assert r.status_code == 201, r.text
        backends_only = r.json()["id"]
        assert "authentication" not in r.json() and "secret-pw" not in r.text
        assert c.get(f"/vnfind/v1/subscriptions/{backends_only}").json()["filter"] == flt
        bad = c.post("/vnfind/v1/subscriptions", json={"callbackUri": sub.url, "filter": {"x": 1}})
        assert bad.status_code in (400, 422), bad.text

    vnfd = srv.cli("package", "onboard", str(_package(tmp_path))).strip().splitlines()[-1]
    inst = srv.cli("create", "--vnfd-id", vnfd, "--name", "ind").strip().splitlines()[-1]
    instances.append(inst)
    params = srv.home / "off.json"
    params.write_text(json.dumps({"vnfConfigurableProperties": {"isAutohealEnabled": False}}))
    srv.cli("instantiate", inst, "--flavour", "default", "--level", "small", "-q", "--params",
            str(params))  # fmt: skip

    phases["instantiate"] = time.monotonic() - t_start
    # -- instantiated: the supported set once, then the values -----------------------------------
    assert wait_until(lambda: _notes(sub, every, SUPPORTED), 20, 0.1), srv.log()[-3000:]
    (supported,) = _notes(sub, every, SUPPORTED)
    assert supported["vnfInstanceId"] == inst
    assert [s["vnfIndicatorId"] for s in supported["supportedIndicators"]] == [
        "healthy_vnfcs",
        "lb_backends",
        "requests_per_second",
    ]
    assert supported["_links"]["subscription"]["href"].endswith(f"/vnfind/v1/subscriptions/{every}")
    assert wait_until(lambda: _values(sub, backends_only, "lb_backends") == [2], 20, 0.1)
    assert wait_until(lambda: _values(sub, every, "healthy_vnfcs")[-1:] == [3], 30, 0.1)
    assert _notes(sub, backends_only, SUPPORTED) == []
    assert all(n["vnfIndicatorId"] == "lb_backends" for n in _notes(sub, backends_only, VALUE))

    phases["values"] = time.monotonic() - t_start
    # -- scale out: lb_backends 2 -> 3, once ---------------------------------------------------------
    srv.cli("scale", inst, "--type", "SCALE_OUT", "--aspect", "web", "-q")
    phases["scaled"] = time.monotonic() - t_start
    assert wait_until(lambda: _values(sub, backends_only, "lb_backends") == [2, 3], 20, 0.1)
    change = _notes(sub, backends_only, VALUE)[-1]
    assert (change["vnfInstanceId"], change["name"]) == (
        inst,
        "Web servers configured in the load balancer",
    )
    with srv.client(headers=IND) as c:
        one = c.get(f"/vnfind/v1/indicators/{inst}/lb_backends")
        assert one.status_code == 200 and one.headers["Version"] == "1.3.0"
        assert one.json()["value"] == 3 and one.json()["vnfInstanceId"] == inst
        assert one.json()["_links"]["self"]["href"].endswith(f"/indicators/{inst}/lb_backends")
        listed = c.get(f"/vnfind/v1/indicators/{inst}").json()
        assert {d["id"] for d in listed} >= {"lb_backends", "healthy_vnfcs"}
        filtered = c.get("/vnfind/v1/indicators", params={"filter": "(eq,id,lb_backends)"})
        assert [(d["vnfInstanceId"], d["value"]) for d in filtered.json()] == [(inst, 3)]
        assert c.get("/vnfind/v1/indicators/no-such-instance").status_code == 404
        assert c.get(f"/vnfind/v1/indicators/{inst}/no-such").status_code == 404
        assert c.get("/vnfind/v1/indicators", headers={"Version": "2.0.0"}).status_code == 406
    shown = json.loads(srv.cli("indicator", "show", inst, "lb_backends"))
    assert shown["value"] == 3

    # -- a web daemon dies (auto-heal off): healthy_vnfcs drops, through Prometheus ---------------
    assert wait_until(lambda: _values(sub, every, "healthy_vnfcs")[-1:] == [4], 30, 0.1)
    (pid,) = [p for p, cmd in daemon_processes(inst).items() if "/web-1/" in cmd]
    t0 = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: _values(sub, every, "healthy_vnfcs")[-1:] == [3], 30, 0.1)
    print(f"daemon killed -> healthy_vnfcs 3 notified after {time.monotonic() - t0:.1f} s")
    phases["killed"] = time.monotonic() - t_start

    # -- unsubscribed: nothing more there -------------------------------------------------------------
    with srv.client(headers=IND) as c:
        assert c.delete(f"/vnfind/v1/subscriptions/{backends_only}").status_code == 204
        assert c.get(f"/vnfind/v1/subscriptions/{backends_only}").status_code == 404
    # the load balancer reconfigured behind the VNFM's back (as an EM would): one web less
    lb_backends = Path(f"/run/vnfm/{inst}/lb-0/backends")
    kept = [line for line in lb_backends.read_text().splitlines() if line.endswith(":80")][:-1]
    lb_backends.write_text("\n".join(kept) + "\n")
    assert wait_until(lambda: _values(sub, every, "lb_backends")[-1:] == [2], 20, 0.1)
    time.sleep(1)
    assert _values(sub, backends_only, "lb_backends") == [2, 3]
    assert _values(sub, every, "lb_backends") == [2, 3, 2]
    print(f"phases: {' '.join(f'{k} {v:.1f}s' for k, v in phases.items())}")
