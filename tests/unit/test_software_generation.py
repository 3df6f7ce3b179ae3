"""Software generation per VNFC and operation-scoped heal (issue 5): plan, diff, record, discovery.

The planner gives every VNFC the digest of its VDU's software (``softwareGeneration``);
the VIM records it on the VNFC with the digest of the heal token of the reconcile that
created it. A package change replaces the VNFCs whose recorded generation is not the
new plan's (the VDU comparison decides for an unknown one); a generation that differs
never replaces a VNFC in a plain reconcile; a VNFC to heal that the same token already
recreated is left alone. Kernels and clouds are faked at their edge, as in
``test_local_vim_naming.py`` and ``test_openstack_diff.py``.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.decide import decide_plan
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.package_change import (
    observed_generations,
    replacements,
    rolling_plan,
    software_generation,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError, vnfc_marks
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local import naming
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.apply import _vnfc_commands
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local.model import desired_state
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack import apply as os_apply
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack import discover as os_discover
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack import naming as os_naming
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.diff import (
    compute_changes as os_changes,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.resources import (
    build_resources as os_resources,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.local import LocalDriver

from tests.unit.test_local_vim_naming import INST, VIM, FakeKernel, kernel_for, make_plan
from tests.unit.test_openstack_diff import desired as os_desired
from tests.unit.test_openstack_diff import observed_from, webfarm_plan
from tests.unit.test_package_change import INST as PKG_INST
from tests.unit.test_package_change import instantiated, load, package

OLD, NEW = "0000000000a1", "0000000000b2"
TOKEN = "op-1111"
WEB0 = naming.vnfc_netns(INST, "web-0")
WEB1 = naming.vnfc_netns(INST, "web-1")


# -- the planner -----------------------------------------------------------------------------------
def test_generation_follows_the_vdus_software(tmp_path: Path) -> None:
    v1, v1_again = load(package(tmp_path / "a")), load(package(tmp_path / "a2"))
    v2 = load(package(tmp_path / "b", software="print('v2')\n"))
    image2 = load(package(tmp_path / "c", image_version="2.0"))

    def generations(model: Any) -> dict[str, str]:
        return {v["vduId"]: v["softwareGeneration"] for v in instantiated(model)["vnfcs"]}

    base = generations(v1)
    assert generations(v1_again) == base  # the same package, another directory
    assert all(re.fullmatch(r"[0-9a-f]{12}", g) for g in base.values())
    assert generations(v2) == {**base, "VDU2": generations(v2)["VDU2"]} != base
    assert generations(image2)["VDU1"] != base["VDU1"]
    assert generations(image2)["VDU2"] == base["VDU2"]
    vdu = v1.flavours[0].vdu("VDU1")
    assert vdu is not None and software_generation(vdu) == base["VDU1"]


# -- which VNFCs a package change replaces ------------------------------------------------------------
def _plan(generations: dict[str, str | None]) -> dict[str, Any]:
    return {
        "vnfcs": [
            {"id": vnfc, "vduId": vnfc.split("-")[0], "softwareGeneration": gen}
            for vnfc, gen in generations.items()
        ]
    }


def _resources(generations: dict[str, str | None]) -> dict[str, Any]:
    return {
        "vnfcResourceInfo": [
            {
                "id": vnfc,
                "metadata": {"powerState": "on", **({"softwareGeneration": g} if g else {})},
            }
            for vnfc, g in generations.items()
        ]
    }


def test_observed_generations_keep_only_known_ones() -> None:
    res = _resources({"web-0": NEW, "web-1": None})
    res["vnfcResourceInfo"].append("junk")
    assert observed_generations(res) == {"web-0": NEW}
    assert observed_generations(None) == {} == observed_generations({})


def test_retry_replaces_only_what_is_not_on_the_new_software() -> None:
    current = _plan({"lb-0": OLD, "web-0": OLD, "web-1": OLD, "web-2": OLD})
    new = _plan({"lb-0": OLD, "web-0": NEW, "web-1": NEW, "web-2": NEW})
    # web-0 finished in the failed attempt; web-1's batch failed (unknown); web-2 waited
    seen = observed_generations(_resources({"lb-0": OLD, "web-0": NEW, "web-2": OLD}))
    assert replacements(current, new, {"web": ["x"]}, seen) == ["web-1", "web-2"]
    # without what the VIM says: every VNFC of the changed VDU, as before
    assert replacements(current, new, {"web": ["x"]}) == ["web-0", "web-1", "web-2"]


def test_rollback_replaces_only_what_was_upgraded() -> None:
    # back to the old package: the new plan is the old one
    current = _plan({"lb-0": OLD, "web-0": OLD, "web-1": OLD, "web-2": OLD})
    back = _plan({"lb-0": OLD, "web-0": OLD, "web-1": OLD, "web-2": OLD})
    seen = observed_generations(_resources({"lb-0": OLD, "web-0": NEW, "web-2": OLD}))
    assert replacements(current, back, {"web": ["x"]}, seen) == ["web-0", "web-1"]


def test_plan_without_generations_falls_back_to_the_vdu_comparison() -> None:
    current = _plan({"web-0": None, "web-1": None})
    new = _plan({"web-0": None, "web-1": None})
    seen = {"web-0": NEW}
    assert replacements(current, new, {"web": ["x"]}, seen) == ["web-0", "web-1"]
    assert replacements(current, new, {}, seen) == []


def test_package_change_reads_the_generations_the_vim_reports(tmp_path: Path) -> None:
    old_root, new_root = package(tmp_path / "a"), package(tmp_path / "b", image_version="2.0")
    old, new = load(old_root), load(new_root)
    current = instantiated(old)  # VDU1-0..2, VDU2-0
    gens = {v["id"]: v["softwareGeneration"] for v in instantiated(new)["vnfcs"]}
    request = {"vnfdId": new.vnfd_id, "additionalParams": {"batchSize": 2}}
    seen = _resources({"VDU1-0": gens["VDU1-0"], "VDU1-1": None, "VDU2-0": gens["VDU2-0"]})
    _after, decision, _delta = decide_plan(
        new,
        PKG_INST,
        "CHANGE_VNFPKG",
        request,
        current,
        current_model=old,
        package_dir=str(new_root),
        resources=seen,
    )
    assert decision.rolling["replace"] == ["VDU1-1", "VDU1-2"]
    assert decision.rolling["batches"] == [["VDU1-1", "VDU1-2"]]
    assert decision.rolling["changedVdus"] == {"VDU1": ["swImage.version '1.0' -> '2.0'"]}


def test_same_package_replaces_vnfcs_left_on_another_generation(tmp_path: Path) -> None:
    # an unfinished change to v2 was failed (not rolled back): changing to v1 again
    # replaces the VNFC that runs v2, though the packages do not differ
    root = package(tmp_path / "a")
    model = load(root)
    current = instantiated(model)
    seen = _resources({v["id"]: v["softwareGeneration"] for v in current["vnfcs"]})
    seen["vnfcResourceInfo"][0]["metadata"]["softwareGeneration"] = NEW
    _after, decision, _delta = decide_plan(
        model,
        PKG_INST,
        "CHANGE_VNFPKG",
        {},
        current,
        current_model=model,
        package_dir=str(root),
        resources=seen,
    )
    assert decision.rolling["replace"] == ["VDU1-0"]
    assert decision.rolling["changedVdus"] == {"VDU1": ["VNFCs on another software generation"]}


def test_rolling_plan_has_no_generation_for_waiting_and_installing_vnfcs() -> None:
    current = _plan({"web-0": OLD, "web-1": OLD, "web-2": OLD})
    new = _plan({"web-0": NEW, "web-1": NEW, "web-2": NEW})
    step = rolling_plan(new, current, ["web-2"], ["web-1"])
    assert {v["id"]: v["softwareGeneration"] for v in step["vnfcs"]} == {
        "web-0": NEW,
        "web-1": None,
        "web-2": None,
    }
    assert new["vnfcs"][1]["softwareGeneration"] == NEW  # inputs untouched
    assert current["vnfcs"][2]["softwareGeneration"] == OLD


# -- local VIM: alias, discovery, diff, apply ---------------------------------------------------------
def with_generations(plan: dict[str, Any], gen: str | None) -> dict[str, Any]:
    out = copy.deepcopy(plan)
    for vnfc in out["vnfcs"]:
        vnfc["softwareGeneration"] = gen
    return out


def recording(kernel: FakeKernel, vnfc: str, gen: str | None, token: str | None) -> None:
    """Give a VNFC of the fake kernel the record a reconcile with ``token`` leaves."""
    lo = kernel.ns[naming.vnfc_netns(INST, vnfc)]["links"][0]
    lo["ifalias"] = naming.vnfc_alias(INST, vnfc, "web", gen, vnfc_marks.token_digest(token))


class RecordingKernel(FakeKernel):
    """A fake kernel that applies alias changes (``link set dev lo alias …``) and records them."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[tuple[str | None, str]] = []

    def batch(self, commands: Sequence[str], *, netns: str | None = None) -> None:
        for cmd in commands:
            self.batches.append((netns, cmd))
            m = re.fullmatch(r"link set dev lo alias (\S+)", cmd)
            if m is None:
                raise AssertionError(f"unexpected change {cmd!r}")
            self.ns[netns]["links"][0]["ifalias"] = m[1]


def recording_kernel_for(plan: dict[str, Any]) -> RecordingKernel:
    k, template = RecordingKernel(), kernel_for(plan)
    k.ns, k.dirs = template.ns, template.dirs
    return k


def test_generation_in_the_plan_is_checked() -> None:
    d = desired_state(with_generations(make_plan(1), NEW), VIM)
    assert {v.generation for v in d.vnfcs.values()} == {NEW}
    assert desired_state(make_plan(1), VIM).vnfcs["web-0"].generation is None
    with pytest.raises(VimError, match="plan: lb-0: softwareGeneration 'a:b' must be 1-64"):
        desired_state(with_generations(make_plan(1), "a:b"), VIM)


def test_new_vnfcs_record_generation_and_token() -> None:
    d = desired_state(with_generations(make_plan(1), NEW), VIM)
    vnfc = d.vnfcs["web-0"]
    digest = vnfc_marks.token_digest(TOKEN)
    assert digest is not None and re.fullmatch(r"[0-9a-f]{16}", digest)
    cmds = _vnfc_commands(INST, dataclasses.replace(vnfc, token=digest), "1")
    assert cmds[0] == f"link set dev lo alias vnfm:vnfc:{INST}:web-0:web:{NEW}:{digest} up"
    assert _vnfc_commands(INST, vnfc, "1")[0].endswith(f":web-0:web:{NEW}:- up")


def test_discovery_reports_known_generations_only() -> None:
    k = kernel_for(make_plan(2))  # old 3-field aliases... rewritten for web-0 below
    lo = k.ns[WEB1]["links"][0]
    lo["ifalias"] = f"vnfm:vnfc:{INST}:web-1:web"  # a VNFC created before generations
    recording(k, "web-0", NEW, TOKEN)
    res = LocalDriver(VIM, kernel=k).resources(INST, make_plan(2))
    meta = {v["id"]: v["metadata"] for v in res["vnfcResourceInfo"]}
    assert meta["web-0"] == {"powerState": "on", "softwareGeneration": NEW}
    assert meta["web-1"] == {"powerState": "on"}
    assert meta["lb-0"] == {"powerState": "on"}
    empty = LocalDriver(VIM, kernel=FakeKernel()).resources(INST)
    assert empty == {
        "vnfcResourceInfo": [],
        "virtualLinkResourceInfo": [],
        "virtualStorageResourceInfo": [],
        "extCpInfo": [],
    }


def test_a_generation_that_differs_replaces_nothing() -> None:
    k = recording_kernel_for(make_plan(2))
    recording(k, "web-0", OLD, "another-op")
    driver = LocalDriver(VIM, kernel=k)
    for token in (None, TOKEN):  # with no token, or another operation's token
        res = driver.reconcile(
            with_generations(make_plan(2), NEW), heal=[], check_mode=False, heal_token=token
        )
        assert not res.changed and res.actions == [], res.actions
    assert k.batches == []


def test_heal_with_a_token_skips_what_the_token_recreated() -> None:
    k = kernel_for(make_plan(2))
    recording(k, "web-0", None, TOKEN)
    recording(k, "web-1", None, "another-op")
    driver = LocalDriver(VIM, kernel=k)
    plan = make_plan(2)
    res = driver.reconcile(
        plan, heal=["web-0", "web-1"], check_mode=True, heal_token=TOKEN
    )  # web-0: recreated by this operation already; web-1 by another one
    assert res.actions == [f"replace netns {WEB1} (heal)"]
    again = driver.reconcile(plan, heal=["web-0"], check_mode=True, heal_token="op-2222")
    assert again.actions == [f"replace netns {WEB0} (heal)"]
    plain = driver.reconcile(plan, heal=["web-0"], check_mode=True)
    assert plain.actions == [f"replace netns {WEB0} (heal)"]


def test_the_token_that_created_a_vnfc_records_its_generation() -> None:
    k = recording_kernel_for(make_plan(2))
    recording(k, "web-0", None, TOKEN)  # recreated by a batch, generation not recorded yet
    recording(k, "web-1", OLD, None)
    driver = LocalDriver(VIM, kernel=k)
    plan = with_generations(make_plan(2), NEW)
    res = driver.reconcile(plan, heal=[], check_mode=False, heal_token=TOKEN)
    digest = vnfc_marks.token_digest(TOKEN)
    assert res.actions == [f"record software generation {NEW} on {WEB0} (was unknown)"]
    assert k.batches == [(WEB0, f"link set dev lo alias vnfm:vnfc:{INST}:web-0:web:{NEW}:{digest}")]
    meta = {v["id"]: v["metadata"] for v in res.resources["vnfcResourceInfo"]}
    assert meta["web-0"]["softwareGeneration"] == NEW
    assert meta["web-1"]["softwareGeneration"] == OLD  # not this token's: left as it is
    again = driver.reconcile(plan, heal=[], check_mode=False, heal_token=TOKEN)
    assert not again.changed and again.resources == res.resources


def test_check_mode_predicts_the_record() -> None:
    k = recording_kernel_for(make_plan(1))
    recording(k, "web-0", None, TOKEN)
    plan = with_generations(make_plan(1), NEW)
    res = LocalDriver(VIM, kernel=k).reconcile(plan, heal=[], check_mode=True, heal_token=TOKEN)
    assert res.changed and k.batches == []
    meta = {v["id"]: v["metadata"] for v in res.resources["vnfcResourceInfo"]}
    assert meta["web-0"]["softwareGeneration"] == NEW


# -- OpenStack: server metadata -------------------------------------------------------------------------
def _os_plan(gen: str | None) -> dict[str, Any]:
    return with_generations(webfarm_plan(), gen)


def _with_server(obs: Any, vnfc: str, **fields: Any) -> Any:
    name = next(s for s in obs.servers if s.endswith(f"-{vnfc}"))
    obs.servers[name] = dataclasses.replace(obs.servers[name], **fields)
    return name


def test_openstack_metadata_round_trip() -> None:
    want = os_desired(_os_plan(NEW))
    server = want.servers["web-0"]
    digest = vnfc_marks.token_digest(TOKEN)
    created = dataclasses.replace(server, token=digest)
    meta = os_apply._server_metadata(INST, created)
    assert meta == {
        os_naming.TAG_KEY: INST,
        os_naming.VNFC_KEY: "web-0",
        "vnfm-software-generation": NEW,
        "vnfm-heal-token": digest,
    }
    assert os_apply._server_metadata(INST, os_desired(_os_plan(None)).servers["web-0"]) == {
        os_naming.TAG_KEY: INST,
        os_naming.VNFC_KEY: "web-0",
    }
    sdk = {
        "id": "s1",
        "name": server.name,
        "status": "ACTIVE",
        "flavor": {"original_name": "m1.tiny"},
        "image": {"id": "img"},
        "metadata": meta,
    }
    seen = os_discover.to_server(sdk)
    assert (seen.generation, seen.token) == (NEW, digest)
    old = os_discover.to_server({**sdk, "metadata": {os_naming.VNFC_KEY: "web-0"}})
    assert (old.generation, old.token) == (None, None)
    with pytest.raises(VimError, match="softwareGeneration"):
        os_desired(_os_plan("no/slash"))


def test_openstack_diff_heal_token_and_record() -> None:
    want = os_desired(_os_plan(NEW))
    obs = observed_from(os_desired(_os_plan(None)))
    digest = vnfc_marks.token_digest(TOKEN)
    web0 = _with_server(obs, "web-0", token=digest)  # recreated by this operation
    _with_server(obs, "web-1", generation=OLD)
    # a plain reconcile: generations differ, nothing changes
    assert os_changes(want, obs).actions == []
    # heal both with the token: web-0 is not deleted again, and records the generation
    ch = os_changes(want, obs, ["web-0", "web-1"], digest)
    deleted = [s.name for s in ch.delete_servers]
    assert deleted == [want.servers["web-1"].name]
    assert [(s.name, g) for s, g in ch.record_servers] == [(web0, NEW)]
    assert f"record software generation {NEW} on server {web0} (was unknown)" in ch.actions
    recreated = [s for s in ch.create_servers if s.vnfc_id == "web-1"]
    assert recreated and recreated[0].token == digest and recreated[0].generation == NEW
    # another operation heals web-0 again
    other = os_changes(want, obs, ["web-0"], vnfc_marks.token_digest("op-2222"))
    assert [s.name for s in other.delete_servers] == [web0] and other.record_servers == []


def test_openstack_resource_info_and_record_call() -> None:
    want = os_desired(_os_plan(NEW))
    obs = observed_from(want)
    _with_server(obs, "web-0", generation=NEW)
    info = {v["id"]: v["metadata"] for v in os_resources("os", want, obs)["vnfcResourceInfo"]}
    assert info["web-0"]["softwareGeneration"] == NEW
    assert "softwareGeneration" not in info["web-1"]

    calls: list[tuple[str, dict[str, str]]] = []
    compute = SimpleNamespace(set_server_metadata=lambda sid, **md: calls.append((sid, md)))
    app = os_apply.Applier(
        SimpleNamespace(compute=compute), INST, os_apply.Settings(timeout=5), want, obs
    )
    server = next(iter(obs.servers.values()))
    app.record_server((server, NEW))
    assert calls == [(server.id, {"vnfm-software-generation": NEW})]
