"""python-tackerclient's ``openstack vnfpm job create|list|show|update|delete``,
``openstack vnfpm report show`` and ``openstack vnfpm threshold
create|list|show|update|delete`` against ``vnfm serve``, unchanged, with a real HTTP
subscriber answering the callback checks. The server runs its embedded Prometheus, so
the job's first report is a real one (no series of the instance: no entries).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.server import WEBFARM, Server, onboard_via_api, running, zip_dir
from tests.assurance.helpers import need
from tests.assurance.test_pm_e2e import _instantiated
from tests.conformance.test_tackerclient import OPENSTACK, osc, osc_json
from tests.notify.subscriber import Subscriber

pytestmark = pytest.mark.skipif(
    not OPENSTACK.exists(), reason="python-openstackclient / python-tackerclient are not installed"
)

SECRET = "Pm-Callback-Secr3t-tacker-71b2"
SETTINGS = {
    "monitoring": "true",
    "monitoring_scrape_interval": "1",
    "pm_tick": "0.2",
    "pm_delay": "1",
    "watch": "false",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    need(shutil.which("prometheus") is not None, "needs /usr/bin/prometheus")
    with running(tmp_path_factory.mktemp("vnfm-tacker-vnfpm"), **SETTINGS) as srv:
        yield srv


def _file(tmp_path: Path, name: str, doc: object) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def test_vnfpm_job_report_and_threshold_commands(
    server: Server, subscriber: Subscriber, tmp_path: Path
) -> None:
    # the setup over plain HTTP (osc commands cost seconds each; the vnfpm ones are the test)
    with server.client(headers={}) as c:
        vnfd_id = onboard_via_api(c, zip_dir(WEBFARM))["vnfdId"]
        r = c.post(
            "/vnflcm/v2/vnf_instances", json={"vnfdId": vnfd_id}, headers={"Version": "2.0.0"}
        )
        assert r.status_code == 201, r.text
        iid = str(r.json()["id"])
    _instantiated(server, iid)
    auth = {"authType": ["BASIC"], "paramsBasic": {"userName": "nfvo", "password": SECRET}}

    # -- jobs -----------------------------------------------------------------------------
    request = {
        "objectType": "Vnfc",
        "objectInstanceIds": [iid],
        "subObjectInstanceIds": ["web-0"],
        "criteria": {
            "performanceMetric": [f"VCpuUsageMeanVnf.{iid}"],
            "performanceMetricGroup": ["VirtualisedComputeResource"],
            "collectionPeriod": 1,
            "reportingPeriod": 1,
        },
        "callbackUri": subscriber.url,
        "authentication": auth,
    }
    created = osc_json(
        server, "vnfpm", "job", "create", _file(tmp_path, "job.json", request), v2=True
    )
    job_id = created["ID"]
    assert created["Object Type"] == "Vnfc" and created["Object Instance Ids"] == [iid]
    assert created["Sub Object Instance Ids"] == ["web-0"]
    assert created["Criteria"]["collectionPeriod"] == 1
    assert created["Callback Uri"] == subscriber.url
    assert created["Links"]["self"]["href"].endswith(f"/vnfpm/v2/pm_jobs/{job_id}")
    assert SECRET not in json.dumps(created)

    listed = osc_json(server, "vnfpm", "job", "list", v2=True)
    assert [j["Id"] for j in listed] == [job_id] and listed[0]["Object Type"] == "Vnfc"

    with server.client(headers={"Version": "2.1.0"}) as c:
        deadline = time.monotonic() + 30
        while not c.get(f"/vnfpm/v2/pm_jobs/{job_id}").json()["reports"]:
            assert time.monotonic() < deadline, "no report"
            time.sleep(0.3)
    shown = osc_json(server, "vnfpm", "job", "show", job_id, v2=True)
    assert shown["ID"] == job_id and shown["Reports"], shown
    report_id = shown["Reports"][0]["href"].rsplit("/", 1)[1]
    report = osc_json(server, "vnfpm", "report", "show", job_id, report_id, v2=True)
    assert report == {"Entries": []}  # nothing scrapes the record's VNFC
    missing = osc(server, "vnfpm", "report", "show", job_id, "nope", check=False, v2=True)
    assert missing.returncode != 0 and "no report nope" in missing.stderr

    moved = subscriber.url + "?job=2"
    updated = osc_json(
        server,
        "vnfpm",
        "job",
        "update",
        job_id,
        _file(tmp_path, "job-update.json", {"callbackUri": moved, "authentication": auth}),
        v2=True,
    )
    assert updated == {"Callback Uri": moved}

    # -- thresholds -----------------------------------------------------------------------
    th_request = {
        "objectType": "Vnfc",
        "objectInstanceId": iid,
        "subObjectInstanceIds": ["web-0"],
        "criteria": {
            "performanceMetric": f"VCpuUsageMeanVnf.{iid}",
            "thresholdType": "SIMPLE",
            "simpleThresholdDetails": {"thresholdValue": 400.5, "hysteresis": 10.3},
        },
        "callbackUri": subscriber.url,
        "authentication": auth,
    }
    th = osc_json(
        server, "vnfpm", "threshold", "create", _file(tmp_path, "th.json", th_request), v2=True
    )
    th_id = th["ID"]
    assert th["Object Instance Id"] == iid and th["Object Type"] == "Vnfc"
    assert th["Criteria"]["simpleThresholdDetails"] == {"thresholdValue": 400.5, "hysteresis": 10.3}
    assert SECRET not in json.dumps(th)
    assert [t["ID"] for t in osc_json(server, "vnfpm", "threshold", "list", v2=True)] == [th_id]
    shown_th = osc_json(server, "vnfpm", "threshold", "show", th_id, v2=True)
    assert shown_th["Callback Uri"] == subscriber.url
    updated = osc_json(
        server,
        "vnfpm",
        "threshold",
        "update",
        th_id,
        _file(tmp_path, "th-update.json", {"callbackUri": moved}),
        v2=True,
    )
    assert updated == {"Callback Uri": moved}

    # -- deletes --------------------------------------------------------------------------
    out = osc(server, "vnfpm", "threshold", "delete", th_id, v2=True).stdout
    assert th_id in out
    out = osc(server, "vnfpm", "job", "delete", job_id, v2=True).stdout
    assert job_id in out
    with server.client(headers={"Version": "2.1.0"}) as c:
        assert c.get(f"/vnfpm/v2/pm_jobs/{job_id}").status_code == 404
        assert c.get("/vnfpm/v2/thresholds").json() == []
