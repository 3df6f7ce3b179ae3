"""Grants: the request we build, and the NFVO's three answers (sync, async, refusal)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.grants.nfvo import NfvoServer
from vnfm_runner.core import PlanRequest, load_vnf, plan
from vnfm_runner.grants import GrantClient, GrantRefused, grant_request
from vnfm_runner.lcm import Vnfm
from vnfm_runner.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
WEBFARM = ROOT / "examples" / "packages" / "webfarm"
INSTANCE = "9a7b6c5d-0000-4000-8000-00000000abcd"


def _plans() -> tuple[dict, dict]:
    model, _ = load_vnf(WEBFARM)
    small = plan(model, PlanRequest(INSTANCE, "default", "small"))
    large = plan(model, PlanRequest(INSTANCE, "default", "large"))
    return small, large


def test_grant_request_lists_added_and_removed_resources() -> None:
    small, large = _plans()
    req = grant_request(
        instance_id=INSTANCE, op_id="op1", operation="SCALE", vnfd_id="v", before=small, after=large
    )
    added = {(r["type"], r["id"]) for r in req["addResources"]}
    assert ("COMPUTE", "web-2") in added and ("COMPUTE", "web-3") in added
    assert all(r["type"] != "COMPUTE" or r["id"] in ("web-2", "web-3") for r in req["addResources"])
    assert req["removeResources"] == []
    back = grant_request(
        instance_id=INSTANCE, op_id="op2", operation="SCALE", vnfd_id="v", before=large, after=small
    )
    assert {r["id"] for r in back["removeResources"] if r["type"] == "COMPUTE"} == {
        "web-2",
        "web-3",
    }
    constraint = req["placementConstraints"][0]
    assert constraint["affinityOrAntiAffinity"] == "ANTI_AFFINITY"
    assert {r["resourceId"] for r in constraint["resource"]} == {"web-0", "web-1", "web-2", "web-3"}


def _settings(tmp_path: Path, url: str | None, **extra: str) -> Settings:
    return Settings(home=tmp_path / "home", nfvo_url=url, grant_timeout=10, **extra)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_client_gets_the_grant_and_its_vim_assets(tmp_path: Path, mode: str) -> None:
    assets = {
        "computeResourceFlavours": [{"vnfdVirtualComputeDescId": "web", "vimFlavourId": "m1.web"}],
        "softwareImages": [{"vnfdSoftwareImageId": "web", "vimSoftwareImageId": "img-7"}],
    }
    with NfvoServer(mode, polls=2, assets=assets) as nfvo:
        client = GrantClient(
            _settings(tmp_path, nfvo.url, nfvo_user="nfvo", nfvo_password="s3cret")
        )
        small, _ = _plans()
        grant = client.ask(
            grant_request(
                instance_id=INSTANCE,
                op_id="op",
                operation="INSTANTIATE",
                vnfd_id="v",
                before=None,
                after=small,
            )
        )
        assert grant.vim_mapping() == {"flavours": {"web": "m1.web"}, "images": {"web": "img-7"}}
        assert nfvo.auth[0] is not None and nfvo.auth[0].startswith("Basic ")
        assert nfvo.requests[0]["operation"] == "INSTANTIATE"


def test_client_reports_a_refusal_with_the_nfvo_reason(tmp_path: Path) -> None:
    with NfvoServer("refuse") as nfvo:
        client = GrantClient(_settings(tmp_path, nfvo.url))
        with pytest.raises(GrantRefused, match="no capacity in zone A"):
            client.ask({"vnfInstanceId": INSTANCE, "vnfLcmOpOccId": "x"})


def test_without_nfvo_the_grant_is_automatic(tmp_path: Path) -> None:
    grant = GrantClient(_settings(tmp_path, None)).ask({})
    assert grant.automatic and grant.vim_mapping() == {"flavours": {}, "images": {}}


def test_refused_instantiation_is_rolled_back_and_changes_nothing(tmp_path: Path) -> None:
    with NfvoServer("refuse") as nfvo:
        service = Vnfm.open(_settings(tmp_path, nfvo.url), recover=False)
        pkg = service.onboard(WEBFARM)
        instance = service.create(vnfd_id=pkg.vnfd_id)
        op = service.instantiate(instance_id=instance["id"], request={"flavourId": "default"})
    assert op["operationState"] == "ROLLED_BACK"
    assert "no capacity in zone A" in op["error"]["detail"]
    assert service.instance(instance["id"]).instantiation_state == "NOT_INSTANTIATED"
    assert not (tmp_path / "home" / "runs" / op["id"]).exists()  # no playbook ran
    netns = subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True, check=False
    ).stdout
    assert instance["id"] not in netns
