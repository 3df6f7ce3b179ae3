"""``vnfm pm job|threshold|report`` on a real store: the same records and checks as the API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.unit.test_pm_service import INFO
from vnfm_runner.bootstrap import open_store
from vnfm_runner.cli.main import cli
from vnfm_runner.settings import Settings
from vnfm_runner.store.db import now
from vnfm_runner.store.tables import InstanceRow, PackageRow


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VNFM_HOME", str(tmp_path))
    monkeypatch.delenv("VNFM_DATABASE_URL", raising=False)
    store = open_store(Settings(home=tmp_path).db_url)
    with store.session() as s:
        s.add(
            PackageRow(
                id="p",
                vnfd_id="v",
                path="/p",
                summary={},
                onboarding_state="ONBOARDED",
                operational_state="ENABLED",
                created_at=now(),
            )
        )
        s.flush()
        s.add(
            InstanceRow(
                id="i",
                vnfd_id="v",
                package_id="p",
                instantiation_state="INSTANTIATED",
                doc={"id": "i", "instantiatedVnfInfo": INFO},
                created_at=now(),
            )
        )
    store.engine.dispose()
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_pm_job_and_threshold_commands(home: Path) -> None:
    code, out, err = run(
        "pm",
        "job",
        "create",
        "--object-type",
        "VnfIntCp",
        "--instance",
        "i",
        "--group",
        "VnfInternalCp",
        "--collection-period",
        "5",
        "--reporting-period",
        "15",
        "--callback",
        "http://127.0.0.1:9/cb",
        "--format",
        "json",
    )
    assert code == 0, err
    job = json.loads(out)
    assert job["criteria"]["performanceMetricGroup"] == ["VnfInternalCp"]
    code, out, _ = run("pm", "job", "list", "--format", "json")
    assert [j["id"] for j in json.loads(out)] == [job["id"]]
    code, out, _ = run("pm", "job", "list")
    assert code == 0 and "VnfIntCp" in out
    code, out, _ = run("pm", "job", "update", job["id"], "--callback", "http://127.0.0.1:9/two")
    assert code == 0 and json.loads(run("pm", "job", "show", job["id"])[1])["callbackUri"].endswith(
        "/two"
    )
    code, _, err = run("pm", "report", "show", job["id"], "nope")
    assert code != 0 and "no report nope" in err
    code, _, err = run(
        "pm",
        "job",
        "create",
        "--object-type",
        "Vnf",
        "--instance",
        "i",
        "--metric",
        "VCpuUsageMeanVnf",
        "--collection-period",
        "5",
        "--reporting-period",
        "7",
        "--callback",
        "http://127.0.0.1:9/cb",
    )
    assert code == 2 and "criteria.reportingPeriod" in err
    code, _, err = run(
        "pm",
        "job",
        "create",
        "--object-type",
        "Vnf",
        "--instance",
        "i",
        "--metric",
        "VCpuUsageMeanVnf",
        "--collection-period",
        "5",
        "--reporting-period",
        "5",
        "--callback",
        "ftp://x/cb",
    )
    assert code != 0 and "callbackUri" in err
    assert run("pm", "job", "delete", job["id"])[0] == 0
    assert run("pm", "job", "show", job["id"])[0] != 0

    code, out, err = run(
        "pm",
        "threshold",
        "create",
        "--object-type",
        "Vnfc",
        "--instance",
        "i",
        "--sub",
        "web-0",
        "--metric",
        "VCpuUsageMeanVnf",
        "--value",
        "80",
        "--hysteresis",
        "5",
        "--callback",
        "http://127.0.0.1:9/cb",
    )
    assert code == 0, err
    th_id = out.split()[1]
    code, out, _ = run("pm", "threshold", "list")
    assert code == 0 and "80.0 ± 5.0" in out
    assert json.loads(run("pm", "threshold", "show", th_id)[1])["objectInstanceId"] == "i"
    assert run("pm", "threshold", "update", th_id, "--callback", "http://127.0.0.1:9/x")[0] == 0
    code, _, err = run(
        "pm",
        "threshold",
        "create",
        "--object-type",
        "Vnf",
        "--instance",
        "i",
        "--metric",
        "VCpuUsageMeanVnf",
        "--value",
        "nan",
        "--callback",
        "http://x",
    )
    assert code == 2 and "thresholdValue" in err
    assert run("pm", "threshold", "delete", th_id)[0] == 0
    assert json.loads(run("pm", "threshold", "list", "--format", "json")[1]) == []
