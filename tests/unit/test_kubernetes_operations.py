"""The Kubernetes VIM driver in package change, operate, terminate and Multus: the requests.

As in tests/unit/test_kubernetes_requests.py, nothing answers but a recorder at
``ApiClient.call_api`` (no API server runs here, none is faked): each test states what
the cluster holds (``Recorder.live``) and, where the driver waits for the cluster to act,
what the controller does (``Recorder.on_write``: a deleted pod of a StatefulSet comes
back with the same name and a new uid). The checks are on the requests the driver sends.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.test_kubernetes_requests import (
    INSTANCE,
    PACKAGE,
    Call,
    Recorder,
    changes,
    hold,
)
from vnfm_runner import paths

paths.ensure_core_importable()

from ansible_collections.nfv.vnfm.plugins.module_utils.cnf.render import (  # noqa: E402
    LABEL_GENERATION,
    LABEL_INSTANCE,
    LABEL_VDU,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.decide import decide_plan  # noqa: E402
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.package_change import (  # noqa: E402
    rolling_plan,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._kubernetes.state import (  # noqa: E402
    ANNOTATION_STOPPED,
    LABEL_TOKEN,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.base import VimError  # noqa: E402
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.kubernetes import (  # noqa: E402
    MULTUS_NETWORKS,
    KubernetesDriver,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.vnfc_marks import (  # noqa: E402
    token_digest,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.loader import load_vnf  # noqa: E402

IMAGE = "localhost/webfarm-cnf:1"
TOKEN = "op-1/vnfd-2"  # what the runner passes: operation id / target vnfdId
PREFIX = "vnf-cf4c4732"


def variant(
    dst: Path, *, image: str = IMAGE, web_kind: str = "Deployment", lb_kind: str = "Deployment"
) -> Path:
    """webfarm-cnf with its web workload a ``web_kind`` running ``image``, its lb a
    ``lb_kind`` (Deployment or Pod), digests in TOSCA.meta and the manifest redone."""
    shutil.copytree(PACKAGE, dst, ignore=shutil.ignore_patterns("__pycache__"))
    kube = dst / "Files" / "kubernetes"
    web = yaml.safe_load((kube / "web.yaml").read_text())
    web["kind"] = web_kind
    web["spec"]["template"]["spec"]["containers"][0]["image"] = image
    if web_kind == "StatefulSet":
        web["spec"]["serviceName"] = "web"
    (kube / "web.yaml").write_text(json.dumps(web, indent=1))
    if lb_kind == "Pod":
        lb = yaml.safe_load((kube / "lb.yaml").read_text())
        template = lb["spec"]["template"]
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "lb", "labels": template["metadata"]["labels"]},
            "spec": template["spec"],
        }
        (kube / "lb.yaml").write_text(json.dumps(pod, indent=1))
    # TOSCA.meta first: the manifest lists its digest too
    for listing in (dst / "TOSCA-Metadata" / "TOSCA.meta", dst / "webfarm-cnf.mf"):
        listing.write_text(
            re.sub(
                r"((?:Name|Source): (\S+)\n(?:.*\n)*?Hash: )[0-9a-f]{64}",
                lambda m: m.group(1) + hashlib.sha256((dst / m.group(2)).read_bytes()).hexdigest(),
                listing.read_text(),
            )
        )
    return dst


def plan_of(package: Path) -> dict[str, Any]:
    """The instantiation plan of the package: 1 lb, 2 webs, namespace cnf."""
    model, _ = load_vnf(str(package))
    request = {"flavourId": "default", "additionalParams": {"namespace": "cnf"}}
    plan, _, _ = decide_plan(model, INSTANCE, "INSTANTIATE", request, None)
    return plan


def driver_for(rec: Recorder, package: Path, **vim: Any) -> KubernetesDriver:
    return KubernetesDriver(
        {"vimType": "kubernetes", "namespace": "other", **vim},
        package_dir=str(package),
        api_client=rec,
        wait=False,
    )


def pod(name: str, vdu: str, uid: str, **labels: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "uid": uid,
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": {LABEL_INSTANCE: INSTANCE, LABEL_VDU: vdu, **labels},
            "ownerReferences": [{"kind": "StatefulSet", "name": f"{PREFIX}-{vdu}"}],
        },
        "status": {"phase": "Running"},
    }


def tail(call: Call) -> tuple[str, str]:
    """(method, '<plural>/<name>[/<sub>]') of a call."""
    return call.method, call.path.split("/namespaces/cnf/", 1)[1]


def live_pod(rec: Recorder, name: str) -> dict[str, Any]:
    return next(p for p in rec.live["pods"] if p["metadata"]["name"] == name)


def statefulset_controller(rec: Recorder) -> Any:
    """A deleted pod comes back under the same name with a new uid and the template's labels."""
    made = iter(range(100, 200))

    def react(call: Call) -> None:
        if call.method == "DELETE" and "/pods/" in call.path:
            name = call.path.rsplit("/", 1)[1]
            old = live_pod(rec, name)
            vdu = old["metadata"]["labels"][LABEL_VDU]
            rec.live["pods"].remove(old)
            rec.live["pods"].append(pod(name, vdu, f"uid-{next(made)}"))

    return react


# -- change of package, batch by batch -----------------------------------------------------------
def test_statefulset_changes_package_batch_by_batch(tmp_path: Path) -> None:
    v1 = variant(tmp_path / "v1", web_kind="StatefulSet")
    v2 = variant(tmp_path / "v2", web_kind="StatefulSet", image="localhost/webfarm-cnf:2")
    old, new = plan_of(v1), plan_of(v2)
    gen1 = old["vnfcs"][1]["softwareGeneration"]
    gen2 = new["vnfcs"][1]["softwareGeneration"]
    assert gen1 != gen2  # another image: another software generation for web
    rec = Recorder()
    for obj in driver_for(Recorder(), v1).desired_state(old).objects:
        hold(rec, obj)
    for i in range(2):
        name = f"{PREFIX}-web-{i}"
        rec.live.setdefault("pods", []).append(
            pod(name, "web", f"uid-web-{i}", **{LABEL_GENERATION: gen1})
        )
    rec.on_write = statefulset_controller(rec)
    driver = driver_for(rec, v2)

    # batch 1 (web-0): the new template, applied OnDelete, restarts nothing by itself;
    # only web-0's pod is deleted, and its replacement records the operation's token
    batch1 = rolling_plan(new, old, ["web-1"], ["web-0"])
    result = driver.reconcile(batch1, heal=["web-0"], check_mode=False, heal_token=TOKEN)
    writes = rec.writes()
    assert [tail(c) for c in writes] == [
        ("PATCH", f"statefulsets/{PREFIX}-web"),
        ("DELETE", f"pods/{PREFIX}-web-0"),
        ("PATCH", f"pods/{PREFIX}-web-0"),
    ]
    sts = writes[0].body
    assert sts["spec"]["updateStrategy"] == {"type": "OnDelete"}
    assert sts["spec"]["template"]["spec"]["containers"][0]["image"] == "localhost/webfarm-cnf:2"
    assert LABEL_GENERATION not in sts["spec"]["template"]["metadata"]["labels"]
    assert writes[1].body["gracePeriodSeconds"] == 0
    label = writes[2]
    assert label.content_type == "application/merge-patch+json"
    assert label.query == {"fieldManager": "vnfm-toolkit"}
    # created in a batch: the token, no generation yet (its batch has not completed)
    assert label.body == {"metadata": {"labels": {LABEL_TOKEN: token_digest(TOKEN)}}}
    assert changes(result) == [
        f"update StatefulSet {PREFIX}-web",
        f"heal VNFC web-0: replace pod {PREFIX}-web-0",
    ]
    hold(rec, sts)  # the cluster now holds the applied StatefulSet
    live_pod(rec, f"{PREFIX}-web-0")["metadata"]["labels"][LABEL_TOKEN] = token_digest(TOKEN)

    # the batch's steps ran: its pod records the new generation, and nothing else changes
    rec.calls.clear()
    record = rolling_plan(new, old, ["web-1"])
    result = driver.reconcile(record, heal=[], check_mode=False, heal_token=TOKEN)
    (write,) = rec.writes()
    assert tail(write) == ("PATCH", f"pods/{PREFIX}-web-0")
    assert write.body == {"metadata": {"labels": {LABEL_GENERATION: gen2}}}
    assert changes(result) == [
        f"record software generation {gen2} of pod {PREFIX}-web-0 (was unknown)"
    ]
    live_pod(rec, f"{PREFIX}-web-0")["metadata"]["labels"][LABEL_GENERATION] = gen2
    generations = {
        v["id"]: v["metadata"].get("softwareGeneration")
        for v in driver.resources(INSTANCE, record)["vnfcResourceInfo"]
    }
    assert generations == {"web-0": gen2, "web-1": gen1}  # (the lb's pod is not listed)
    rec.calls.clear()
    assert not driver.reconcile(record, heal=[], check_mode=False, heal_token=TOKEN).changed
    assert rec.writes() == []

    # batch 2 (web-1): web-0 is left alone
    rec.calls.clear()
    batch2 = rolling_plan(new, old, [], ["web-1"])
    driver.reconcile(batch2, heal=["web-1"], check_mode=False, heal_token=TOKEN)
    assert [tail(c) for c in rec.writes()] == [
        ("DELETE", f"pods/{PREFIX}-web-1"),
        ("PATCH", f"pods/{PREFIX}-web-1"),
    ]
    live_pod(rec, f"{PREFIX}-web-1")["metadata"]["labels"][LABEL_TOKEN] = token_digest(TOKEN)

    # a retry of that batch (same operation) does not replace web-1 again; a rollback
    # (another token) does
    rec.calls.clear()
    retry = driver.reconcile(batch2, heal=["web-1"], check_mode=False, heal_token=TOKEN)
    assert rec.writes() == [] and not retry.changed
    rollback = driver_for(rec, v1)
    back = rolling_plan(old, new, [], ["web-1"])
    rollback.reconcile(back, heal=["web-1"], check_mode=False, heal_token="op-1/vnfd-1")
    assert [tail(c) for c in rec.writes()] == [
        ("PATCH", f"statefulsets/{PREFIX}-web"),  # the old template, OnDelete again
        ("DELETE", f"pods/{PREFIX}-web-1"),
        ("PATCH", f"pods/{PREFIX}-web-1"),
    ]


def test_deployment_rolls_all_its_pods_in_the_first_batch(tmp_path: Path) -> None:
    v2 = variant(tmp_path / "v2", image="localhost/webfarm-cnf:2")
    old, new = plan_of(PACKAGE), plan_of(v2)
    rec = Recorder()
    for obj in driver_for(Recorder(), PACKAGE).desired_state(old).objects:
        hold(rec, obj)
    rec.live["pods"] = [pod(f"{PREFIX}-web-abc{i}", "web", f"uid-web-{i}") for i in range(2)]
    driver = driver_for(rec, v2)
    # outside a batch, a Deployment's template is not changed: that would restart its pods
    plain = driver.reconcile(new, heal=[], check_mode=False)
    assert rec.writes() == [] and not plain.changed
    assert changes(plain) == []
    assert (
        f"warning: Deployment {PREFIX}-web: the package's pod template differs from the "
        "running one; left as it is: its pods move to other software only in the batches "
        "of a package change"
    ) in plain.actions
    # in the first batch its controller replaces every pod, the batch's size at a time
    rec.calls.clear()
    batch = rolling_plan(new, old, ["web-1"], ["web-0"])
    result = driver.reconcile(batch, heal=["web-0"], check_mode=False, heal_token=TOKEN)
    (apply,) = rec.writes()
    assert tail(apply) == ("PATCH", f"deployments/{PREFIX}-web")
    assert apply.body["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1},
    }
    # web-0's pod is not deleted: the rollout replaces it (and web-1's)
    assert changes(result) == [
        f"update Deployment {PREFIX}-web",
        f"heal VNFC web-0: pod {PREFIX}-web-abc0 replaced by the rollout",
    ]
    assert any(
        a.startswith(f"warning: Deployment {PREFIX}-web: its controller replaces all its pods")
        for a in result.actions
    )


# -- operate ------------------------------------------------------------------------------------
@pytest.fixture()
def running() -> tuple[Recorder, KubernetesDriver, dict[str, Any]]:
    small = plan_of(PACKAGE)
    rec = Recorder()
    driver = driver_for(rec, PACKAGE)
    for obj in driver.desired_state(small).objects:
        hold(rec, obj)
    return rec, driver, small


def operate(plan: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    model, _ = load_vnf(str(PACKAGE))
    out, _, _ = decide_plan(model, INSTANCE, "OPERATE", request, plan)
    return out


def test_operate_stops_by_scaling_to_zero_and_starts_again(
    running: tuple[Recorder, KubernetesDriver, dict[str, Any]],
) -> None:
    rec, driver, small = running
    stopped = operate(small, {"changeStateTo": "STOPPED"})
    result = driver.reconcile(stopped, heal=[], check_mode=False)
    writes = rec.writes()
    assert [(tail(c), c.body) for c in writes[:2]] == [
        (("PATCH", f"deployments/{PREFIX}-lb/scale"), {"spec": {"replicas": 0}}),
        (("PATCH", f"deployments/{PREFIX}-web/scale"), {"spec": {"replicas": 0}}),
    ]
    # the VNFC count stays on the workload (applied with our field manager)
    counts = {
        c.body["metadata"]["name"]: c.body["metadata"]["annotations"][ANNOTATION_STOPPED]
        for c in writes[2:]
    }
    assert counts == {f"{PREFIX}-lb": "1", f"{PREFIX}-web": "2"}
    assert all(c.body["spec"]["replicas"] == 0 for c in writes[2:])
    assert changes(result) == [
        f"scale Deployment {PREFIX}-lb from 1 to 0",
        f"update Deployment {PREFIX}-lb",
        f"scale Deployment {PREFIX}-web from 2 to 0",
        f"update Deployment {PREFIX}-web",
    ]
    # once stopped (no pod), discovery still reports the VNFCs, off, with or without a plan
    for obj in [c.body for c in writes[2:]]:
        hold(rec, obj)
    in_cnf = driver_for(rec, PACKAGE, namespace="cnf")  # without a plan: the VIM's namespace
    for plan, reader in ((stopped, driver), (None, in_cnf)):
        info = reader.resources(INSTANCE, plan)["vnfcResourceInfo"]
        assert [(v["id"], v["metadata"]["powerState"]) for v in info] == [
            ("lb-0", "off"),
            ("web-0", "off"),
            ("web-1", "off"),
        ]
    rec.calls.clear()
    assert not driver.reconcile(stopped, heal=[], check_mode=False).changed
    # start: the plan's counts again, and the annotation goes
    started = operate(stopped, {"changeStateTo": "STARTED"})
    rec.calls.clear()
    driver.reconcile(started, heal=[], check_mode=False)
    writes = rec.writes()
    assert [(tail(c), c.body) for c in writes[:2]] == [
        (("PATCH", f"deployments/{PREFIX}-lb/scale"), {"spec": {"replicas": 1}}),
        (("PATCH", f"deployments/{PREFIX}-web/scale"), {"spec": {"replicas": 2}}),
    ]
    assert all("annotations" not in c.body["metadata"] for c in writes[2:])


def test_operate_one_vnfc_is_refused(
    running: tuple[Recorder, KubernetesDriver, dict[str, Any]],
) -> None:
    rec, driver, small = running
    one = operate(small, {"changeStateTo": "STOPPED", "vnfcInstanceId": ["web-1"]})
    with pytest.raises(VimError, match=r"^operate: VNFC web-1 cannot be stopped alone"):
        driver.reconcile(one, heal=[], check_mode=False)
    assert rec.writes() == []
    # every VNFC of a VDU can be: that VDU's workload is scaled to 0, the other runs
    both = operate(small, {"changeStateTo": "STOPPED", "vnfcInstanceId": ["web-0", "web-1"]})
    result = driver.reconcile(both, heal=[], check_mode=False)
    assert changes(result)[0] == f"scale Deployment {PREFIX}-web from 2 to 0"
    assert [tail(c)[1] for c in rec.writes()] == [
        f"deployments/{PREFIX}-web/scale",
        f"deployments/{PREFIX}-web",
    ]


# -- CPs with the plan's addresses (Multus) ------------------------------------------------------
def test_multus_attachments(tmp_path: Path) -> None:
    package = variant(tmp_path / "pod-lb", lb_kind="Pod")
    plan = plan_of(package)
    rec = Recorder()
    result = driver_for(
        rec, package, multus=True, multusNetworks={"internal_vl": "cnf-internal"}
    ).reconcile(plan, heal=[], check_mode=False)
    bodies = {c.body["metadata"]["name"]: c.body for c in rec.writes()}
    lb_cp = next(c for c in plan["vnfcs"][0]["cps"] if c["cpdId"] == "lb_int_cp")
    # a bare Pod is one VNFC: the plan's address and MAC (lb_ext_cp is on no link)
    lb = json.loads(bodies[f"{PREFIX}-lb"]["metadata"]["annotations"][MULTUS_NETWORKS])
    assert lb == [
        {
            "name": "cnf-internal",
            "interface": "net2",
            "ips": [f"{lb_cp['ipAddresses'][0]}/24"],
            "mac": lb_cp["macAddress"],
        }
    ]
    # a Deployment's pods share a template: the network, not one pod's address
    template = bodies[f"{PREFIX}-web"]["spec"]["template"]["metadata"]
    assert json.loads(template["annotations"][MULTUS_NETWORKS]) == [
        {"name": "cnf-internal", "interface": "net1"}
    ]
    assert any("share one template" in a for a in result.actions)
    # without the mapping, an internal link's network is the plan's name for it
    rec = Recorder()
    driver_for(rec, package, multus=True).reconcile(plan, heal=[], check_mode=False)
    lb_body = next(c.body for c in rec.writes() if c.body["kind"] == "Pod")
    assert json.loads(lb_body["metadata"]["annotations"][MULTUS_NETWORKS])[0]["name"] == (
        f"{PREFIX}-internal_vl"
    )
    with pytest.raises(VimError, match="multus must be true or false, got 'yes'"):
        driver_for(Recorder(), package, multus="yes").reconcile(plan, heal=[], check_mode=False)


def test_operate_stop_type_shortens_the_pods_grace(
    running: tuple[Recorder, KubernetesDriver, dict[str, Any]],
) -> None:
    rec, driver, small = running
    rec.live["pods"] = [pod(f"{PREFIX}-web-abc{i}", "web", f"uid-web-{i}") for i in range(2)]
    forceful = operate(small, {"changeStateTo": "STOPPED", "stopType": "FORCEFUL"})
    driver.reconcile(forceful, heal=[], check_mode=False)
    # scaled to 0 first, then the running pods are deleted with no grace
    writes = [(tail(c), (c.body or {}).get("gracePeriodSeconds")) for c in rec.writes()]
    assert writes[:2] == [
        (("PATCH", f"deployments/{PREFIX}-lb/scale"), None),
        (("PATCH", f"deployments/{PREFIX}-web/scale"), None),
    ]
    assert writes[-2:] == [
        (("DELETE", f"pods/{PREFIX}-web-abc0"), 0),
        (("DELETE", f"pods/{PREFIX}-web-abc1"), 0),
    ]
    rec.calls.clear()
    graceful = operate(
        small, {"changeStateTo": "STOPPED", "stopType": "GRACEFUL", "gracefulStopTimeout": 3}
    )
    driver.reconcile(graceful, heal=[], check_mode=False)
    assert {c.body["gracePeriodSeconds"] for c in rec.writes() if c.method == "DELETE"} == {3}
    # without a timeout a graceful stop leaves the pods their own grace period
    rec.calls.clear()
    driver.reconcile(operate(small, {"changeStateTo": "STOPPED"}), heal=[], check_mode=False)
    assert [c for c in rec.writes() if c.method == "DELETE"] == []
