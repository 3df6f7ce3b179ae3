"""The Kubernetes VIM driver: the requests it sends, recorded at the client's HTTP edge.

No API server runs here (none can on our machines) and none is faked: ``ApiClient.call_api``
is replaced by a recorder that answers each request from a fixed table (the objects a
cluster would list, the object a server-side dry run would return). The tests check the
requests: paths, query (field manager, dry run, label selector), content types, bodies.
The end-to-end lifecycle runs on a real cluster in tests/integration/test_cnf_lifecycle.py
when KUBECONFIG is set.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from vnfm_runner import paths

paths.ensure_core_importable()

from ansible_collections.nfv.vnfm.plugins.module_utils.cnf.render import (  # noqa: E402
    LABEL_INSTANCE,
    LABEL_VDU,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.decide import decide_plan  # noqa: E402
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._kubernetes.api import (  # noqa: E402
    api_client,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._kubernetes.state import (  # noqa: E402
    workload_not_ready,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.base import VimError  # noqa: E402
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.kubernetes import (  # noqa: E402
    KubernetesDriver,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.loader import load_vnf  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "examples" / "packages" / "webfarm-cnf"
INSTANCE = "11111111-2222-4333-8444-555555555555"
HOST = "https://k8s.example:6443"


@dataclass
class Answer:
    status: int
    body: Any

    @property
    def data(self) -> bytes:
        return json.dumps(self.body).encode()

    def read(self) -> bytes:
        return self.data


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    content_type: str
    body: Any


@dataclass
class Recorder:
    """``ApiClient`` with ``call_api`` recording each request and answering from ``live``.

    A namespaced list answers the items of that namespace (an item without one is in
    every namespace), a cluster-wide list all of them (403 with ``forbid_cluster``).
    ``on_write`` sees each write after it is recorded: a test states there what the
    cluster does in answer (a controller making a deleted pod again), explicitly.
    """

    live: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # plural -> items
    status: int = 200
    calls: list[Call] = field(default_factory=list)
    forbid_cluster: bool = False
    on_write: Callable[[Call], None] | None = None

    class configuration:
        host = HOST

    def call_api(
        self, method: str, url: str, header_params: Any = None, body: Any = None, **_: Any
    ) -> Answer:
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == HOST
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        doc = json.loads(body) if body else None
        call = Call(method, parts.path, query, header_params["Content-Type"], doc)
        self.calls.append(call)
        if self.status != 200:
            return Answer(self.status, {"kind": "Status", "message": "pods is forbidden: no RBAC"})
        segments = parts.path.strip("/").split("/")
        if "namespaces" in segments:
            at = segments.index("namespaces")
            namespace: str | None = segments[at + 1]
            rest = segments[at + 2 :]
        else:  # /api/v1/<plural> or /apis/<group>/<version>/<plural>: every namespace
            if self.forbid_cluster:
                return Answer(403, {"kind": "Status", "message": "cannot list at cluster scope"})
            namespace, rest = None, segments[2 if segments[0] == "api" else 3 :]
        plural, name = rest[0], (rest[1] if len(rest) > 1 else None)
        items = [
            i
            for i in self.live.get(plural, [])
            if namespace is None or i["metadata"].get("namespace", namespace) == namespace
        ]
        if method == "GET" and name is None:
            return Answer(200, {"items": copy.deepcopy(items)})
        current = next((i for i in items if i["metadata"]["name"] == name), None)
        if method == "GET":
            return Answer(200 if current else 404, current or {"kind": "Status"})
        if method == "PATCH" and query.get("dryRun") == "All":
            # what a server would hold: the live object when the body changes nothing
            return Answer(200, copy.deepcopy(current) if current and _same(current, doc) else doc)
        if self.on_write is not None:
            self.on_write(call)
        return Answer(200, doc or {})

    def writes(self) -> list[Call]:
        return [c for c in self.calls if c.method != "GET" and c.query.get("dryRun") != "All"]


def _same(live: dict[str, Any], applied: dict[str, Any]) -> bool:
    a = {k: v for k, v in live.items() if k != "status"}
    b = copy.deepcopy(applied)
    a_spec = {k: v for k, v in a.get("spec", {}).items() if k != "replicas"}
    b_spec = {k: v for k, v in b.get("spec", {}).items() if k != "replicas"}
    return (
        a_spec == b_spec
        and a["metadata"]["labels"] == b["metadata"]["labels"]
        and a["metadata"].get("annotations") == b["metadata"].get("annotations")
    )


def changes(result: Any) -> list[str]:
    """The actions of a result without its warnings."""
    return [a for a in result.actions if not a.startswith("warning: ")]


@pytest.fixture(scope="module")
def plans() -> dict[str, dict[str, Any]]:
    model, _ = load_vnf(str(PACKAGE))
    request = {"flavourId": "default", "additionalParams": {"namespace": "cnf"}}
    small, _, _ = decide_plan(model, INSTANCE, "INSTANTIATE", request, None)
    out, _, _ = decide_plan(
        model, INSTANCE, "SCALE", {"type": "SCALE_OUT", "aspectId": "web"}, small
    )
    return {"small": small, "out": out}


def _driver(rec: Recorder) -> KubernetesDriver:
    return KubernetesDriver(
        {"vimType": "kubernetes", "namespace": "other"},
        package_dir=str(PACKAGE),
        api_client=rec,
        wait=False,
    )


def hold(rec: Recorder, obj: dict[str, Any]) -> dict[str, Any]:
    """The cluster holds ``obj`` (as applied), rolled out and ready."""
    plural = {
        "Deployment": "deployments",
        "StatefulSet": "statefulsets",
        "Pod": "pods",
    }[obj["kind"]]
    live = copy.deepcopy(obj)
    live["metadata"].update(uid=f"uid-{obj['metadata']['name']}", generation=1)
    n = live["spec"].get("replicas", 1)
    live["status"] = {
        "observedGeneration": 1,
        "replicas": n,
        "readyReplicas": n,
        "updatedReplicas": n,
        "availableReplicas": n,
        "phase": "Running",
    }
    items = rec.live.setdefault(plural, [])
    items[:] = [i for i in items if i["metadata"]["name"] != obj["metadata"]["name"]]
    items.append(live)
    return live


def _live_from(
    rec: Recorder, driver: KubernetesDriver, plan: dict[str, Any], web_pods: int
) -> None:
    """What the cluster holds once ``plan`` is applied: its objects and ready pods."""
    for obj in driver.desired_state(plan).objects:
        hold(rec, obj)
    for vdu, n in (("lb", 1), ("web", web_pods)):
        for i in range(n):
            rec.live.setdefault("pods", []).append(
                {
                    "metadata": {
                        "name": f"vnf-x-{vdu}-abc{i}",
                        "uid": f"pod-{vdu}-{i}",
                        "creationTimestamp": f"2026-01-01T00:00:0{i}Z",
                        "labels": {LABEL_INSTANCE: INSTANCE, LABEL_VDU: vdu},
                        "ownerReferences": [{"kind": "ReplicaSet", "name": "rs"}],
                    },
                    "status": {"phase": "Running"},
                }
            )


def test_instantiate_is_server_side_apply(plans: dict[str, dict[str, Any]]) -> None:
    rec = Recorder()
    result = _driver(rec).reconcile(plans["small"], heal=[], check_mode=False)
    lists = [c for c in rec.calls if c.method == "GET"]
    # discovery: one list per handled kind, by the instance's label, in the plan's namespace
    assert {c.path.rsplit("/", 1)[1] for c in lists} >= {
        "pods",
        "deployments",
        "statefulsets",
        "configmaps",
        "services",
    }
    assert all(
        c.path.startswith(("/api/v1/namespaces/cnf/", "/apis/apps/v1/namespaces/cnf/"))
        for c in lists
    )
    assert all(c.query == {"labelSelector": f"{LABEL_INSTANCE}={INSTANCE}"} for c in lists)
    writes = rec.writes()
    assert [(c.method, c.path) for c in writes] == [
        ("PATCH", "/apis/apps/v1/namespaces/cnf/deployments/vnf-cf4c4732-lb"),
        ("PATCH", "/apis/apps/v1/namespaces/cnf/deployments/vnf-cf4c4732-web"),
    ]
    for c in writes:
        assert c.query == {"fieldManager": "vnfm-toolkit", "force": "true"}
        assert c.content_type == "application/apply-patch+yaml"
        assert c.body["metadata"]["namespace"] == "cnf"
        assert c.body["metadata"]["labels"][LABEL_INSTANCE] == INSTANCE
    assert writes[1].body["spec"]["replicas"] == 2
    assert writes[1].body["spec"]["template"]["metadata"]["labels"][LABEL_VDU] == "web"
    assert result.changed
    assert result.actions == [
        "create Deployment vnf-cf4c4732-lb",
        "create Deployment vnf-cf4c4732-web",
        # without Multus (VIM option multus), the plan's addresses are not the pods'
        "warning: VDU lb: its pods take the cluster network's addresses, not the plan's IP "
        "and MAC of lb_int_cp (the VIM option multus: true attaches them where the cluster "
        "has Multus)",
        "warning: VDU web: its pods take the cluster network's addresses, not the plan's IP "
        "and MAC of web_cp (the VIM option multus: true attaches them where the cluster has "
        "Multus)",
    ]


def test_check_mode_writes_nothing(plans: dict[str, dict[str, Any]]) -> None:
    rec = Recorder()
    driver = _driver(rec)
    _live_from(rec, driver, plans["small"], web_pods=2)
    rec.live["deployments"][1]["spec"]["template"]["spec"]["containers"][0]["image"] = "old:0"
    rec.calls.clear()
    result = driver.reconcile(plans["out"], heal=[], check_mode=True)
    assert rec.writes() == []
    dry = [c for c in rec.calls if c.query.get("dryRun") == "All"]
    # the server says what an apply would change: both objects asked, as a dry run
    assert [c.path.rsplit("/", 1)[1] for c in dry] == ["vnf-cf4c4732-lb", "vnf-cf4c4732-web"]
    assert all(c.query["fieldManager"] == "vnfm-toolkit" for c in dry)
    # a Deployment's template is changed only in a batch of a package change
    assert changes(result) == ["scale Deployment vnf-cf4c4732-web from 2 to 3"]
    assert any("left as it is" in a for a in result.actions)


def test_unchanged_then_scale_through_the_subresource(plans: dict[str, dict[str, Any]]) -> None:
    rec = Recorder()
    driver = _driver(rec)
    _live_from(rec, driver, plans["small"], web_pods=2)
    rec.calls.clear()
    again = driver.reconcile(plans["small"], heal=[], check_mode=False)
    assert not again.changed and rec.writes() == []
    rec.calls.clear()
    out = driver.reconcile(plans["out"], heal=[], check_mode=False)
    (scale,) = rec.writes()
    assert scale.path == "/apis/apps/v1/namespaces/cnf/deployments/vnf-cf4c4732-web/scale"
    assert scale.content_type == "application/merge-patch+json"
    assert scale.body == {"spec": {"replicas": 3}}
    assert changes(out) == ["scale Deployment vnf-cf4c4732-web from 2 to 3"]


def test_heal_deletes_the_vnfcs_pod(plans: dict[str, dict[str, Any]]) -> None:
    rec = Recorder()
    driver = _driver(rec)
    _live_from(rec, driver, plans["small"], web_pods=2)
    resources = driver.resources(INSTANCE, plans["small"])
    vnfcs = {v["id"]: v["computeResource"]["resourceId"] for v in resources["vnfcResourceInfo"]}
    # pods of a Deployment are VNFCs by age: the oldest is index 0
    assert vnfcs == {"lb-0": "vnf-x-lb-abc0", "web-0": "vnf-x-web-abc0", "web-1": "vnf-x-web-abc1"}
    rec.calls.clear()
    result = driver.reconcile(plans["small"], heal=["web-1"], check_mode=False)
    (delete,) = rec.writes()
    assert (delete.method, delete.path) == ("DELETE", "/api/v1/namespaces/cnf/pods/vnf-x-web-abc1")
    assert delete.body["gracePeriodSeconds"] == 0
    assert changes(result) == ["heal VNFC web-1: replace pod vnf-x-web-abc1"]


def test_terminate_deletes_by_discovery(plans: dict[str, dict[str, Any]]) -> None:
    rec = Recorder()
    driver = _driver(rec)
    _live_from(rec, driver, plans["small"], web_pods=2)
    rec.calls.clear()
    result = driver.remove(INSTANCE, check_mode=False)
    # the workloads go; their controllers' pods with them (not deleted one by one)
    assert [(c.method, c.path.rsplit("/", 2)[1:]) for c in rec.writes()] == [
        ("DELETE", ["deployments", "vnf-cf4c4732-lb"]),
        ("DELETE", ["deployments", "vnf-cf4c4732-web"]),
    ]
    assert rec.writes()[0].body["propagationPolicy"] == "Background"
    # remove has no plan: it looks in every namespace (the instance is in cnf, the VIM's
    # namespace is other) and deletes where the objects are
    lists = [c.path for c in rec.calls if c.method == "GET"]
    assert "/apis/apps/v1/deployments" in lists and "/api/v1/pods" in lists
    assert all("/namespaces/" not in p for p in lists)
    assert all(c.path.startswith("/apis/apps/v1/namespaces/cnf/") for c in rec.writes())
    assert result.changed


def test_terminate_without_the_right_to_list_the_cluster(plans: dict[str, dict[str, Any]]) -> None:
    rec = Recorder(forbid_cluster=True)
    driver = _driver(rec)
    _live_from(rec, driver, plans["small"], web_pods=2)
    rec.calls.clear()
    result = driver.remove(INSTANCE, check_mode=False)
    # the first cluster-wide list is refused: the VIM's namespace only, and it says so
    assert rec.calls[0].path == "/api/v1/configmaps"
    assert all("/namespaces/other/" in c.path for c in rec.calls[1:])
    assert not result.changed  # nothing of the instance in namespace other
    assert result.actions == [
        "warning: cannot list the cluster's namespaces (HTTP 403): looked for the instance "
        "in namespace other only"
    ]


def test_api_errors_are_vim_errors(plans: dict[str, dict[str, Any]]) -> None:
    rec = Recorder(status=403)
    with pytest.raises(VimError, match=r"HTTP 403: pods is forbidden: no RBAC"):
        _driver(rec).reconcile(plans["small"], heal=[], check_mode=False)


def test_readiness() -> None:
    dep = {
        "kind": "Deployment",
        "metadata": {"generation": 2},
        "spec": {},
        "status": {
            "observedGeneration": 1,
            "replicas": 2,
            "readyReplicas": 2,
            "updatedReplicas": 2,
            "availableReplicas": 2,
        },
    }
    assert workload_not_ready(dep, 2) == "the controller has not seen the change yet"
    dep["status"]["observedGeneration"] = 2
    assert workload_not_ready(dep, 2) is None
    assert workload_not_ready(dep, 3) == "rollout: 2 updated, 2 ready, 2 available of 3"
    sts = {
        "kind": "StatefulSet",
        "metadata": {"generation": 1},
        "spec": {"updateStrategy": {"rollingUpdate": {"partition": 1}}},
        "status": {
            "observedGeneration": 1,
            "replicas": 3,
            "readyReplicas": 3,
            "updatedReplicas": 1,
        },
    }
    assert workload_not_ready(sts, 3) == "rollout of the ordinals from 1: 1 updated"
    sts["status"]["updatedReplicas"] = 2
    assert workload_not_ready(sts, 3) is None
    # OnDelete (the driver's): pods still on the old template are no rollout under way
    sts["spec"]["updateStrategy"] = {"type": "OnDelete"}
    sts["status"].update(updatedReplicas=1, currentRevision="r1", updateRevision="r2")
    assert workload_not_ready(sts, 3) is None
    del sts["spec"]["updateStrategy"]
    assert workload_not_ready(sts, 3) == "rollout under way"
    ds = {
        "kind": "DaemonSet",
        "metadata": {"generation": 1},
        "spec": {"updateStrategy": {"type": "OnDelete"}},
        "status": {
            "observedGeneration": 1,
            "desiredNumberScheduled": 2,
            "updatedNumberScheduled": 1,
            "numberReady": 2,
        },
    }
    assert workload_not_ready(ds, 2) is None
    ds["spec"] = {}
    assert workload_not_ready(ds, 2) == "1/2 pods updated, 2 ready"
    pod = {
        "kind": "Pod",
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]},
    }
    assert workload_not_ready(pod, 1) == "pod is Running, not ready"


def test_connection_sol003_and_kubeconfig(tmp_path: Path) -> None:
    sol003 = {
        "vimType": "ETSINFV.KUBERNETES.V_1",
        "interfaceInfo": {
            "endpoint": HOST,
            "ssl_ca_cert": "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n",
        },
    }
    client = api_client(sol003, {"accessInfo": {"bearer_token": "tok"}})
    conf = client.configuration
    assert conf.host == HOST
    assert conf.api_key == {"authorization": "Bearer tok"}
    assert Path(conf.ssl_ca_cert).read_text().startswith("-----BEGIN CERTIFICATE-----")
    with pytest.raises(VimError, match=r"needs accessInfo\.bearer_token"):
        api_client(sol003, None)
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://10.0.0.1:6443"}}],
                "users": [{"name": "u", "user": {"token": "t2"}}],
                "contexts": [
                    {"name": "a", "context": {"cluster": "c", "user": "u"}},
                    {"name": "b", "context": {"cluster": "c", "user": "u", "namespace": "x"}},
                ],
                "current-context": "a",
            }
        )
    )
    client = api_client({"kubeconfig": str(kubeconfig), "context": "b"}, None)
    assert client.configuration.host == "https://10.0.0.1:6443"
    with pytest.raises(VimError, match="cannot read the kubeconfig"):
        api_client({"kubeconfig": str(kubeconfig), "context": "nope"}, None)
