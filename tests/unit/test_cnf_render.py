"""CNF packages: manifests read as untrusted input, the pure renderer, Helm values.

The renderer's output is validated offline against the Kubernetes JSON schemas
(``kubernetes-validate``, strict: unknown fields are errors).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from vnfm_runner import paths

paths.ensure_core_importable()

from ansible_collections.nfv.vnfm.plugins.module_utils.cnf import helm  # noqa: E402
from ansible_collections.nfv.vnfm.plugins.module_utils.cnf.manifests import (  # noqa: E402
    def_files,
    load_manifests,
    workload_for,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.cnf.render import (  # noqa: E402
    LABEL_GENERATION,
    LABEL_INSTANCE,
    LABEL_VDU,
    LABEL_VNFC,
    pods,
    render,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.errors import (  # noqa: E402
    PackageError,
    PlanError,
)

K8S = kubernetes_validate.latest_version()
INSTANCE = "6f1c2a9b-0000-4000-8000-000000000001"

APP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-conf
data:
  index.html: hello
---
apiVersion: v1
kind: Secret
metadata:
  name: web-secret
stringData:
  token: s3cret
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 7
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: httpd
          image: localhost/webfarm-cnf:1
          command: [httpd, -f]
          args: [-p, "8080"]
          env:
            - name: TOKEN
              valueFrom:
                secretKeyRef: {name: web-secret, key: token}
          envFrom:
            - configMapRef: {name: web-conf}
          ports:
            - containerPort: 8080
          volumeMounts:
            - {name: www, mountPath: /www}
      volumes:
        - name: www
          configMap: {name: web-conf}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
    - port: 80
      targetPort: 8080
"""

DB = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: db-data
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests: {storage: 1Gi}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: web
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
        - name: db
          image: localhost/db:1
          volumeMounts:
            - {name: data, mountPath: /data}
      volumes:
        - name: data
          persistentVolumeClaim: {claimName: db-data}
"""


def _package(tmp_path: Path, files: dict[str, str]) -> str:
    base = tmp_path / "pkg" / "Files" / "kubernetes"
    base.mkdir(parents=True)
    for name, text in files.items():
        (base / name).write_text(text)
    return str(tmp_path / "pkg")


def _plan(counts: dict[str, int], generation: str | None = "3f9a0c1b2d4e") -> dict[str, Any]:
    vnfcs = [
        {
            "id": f"{vdu}-{i}",
            "vduId": vdu,
            "index": i,
            "name": f"vnf-6f1c2a9b-{vdu}-{i}",
            "softwareGeneration": generation,
            "powerState": "on",
            "cps": [],
        }
        for vdu, n in sorted(counts.items())
        for i in range(n)
    ]
    return {"vnfInstanceId": INSTANCE, "namePrefix": "vnf-6f1c2a9b", "vnfcs": vnfcs}


def _validate(objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        # strict: a field the schema does not know is an error, as the API server's
        kubernetes_validate.validate(obj, K8S, strict=True)


def _problems(exc: pytest.ExceptionInfo[PackageError]) -> list[str]:
    return [str(p) for p in exc.value.problems]


def test_render_plan_to_objects(tmp_path: Path) -> None:
    pkg = _package(tmp_path, {"app.yaml": APP, "db.yaml": DB})
    manifests = load_manifests(pkg, None)
    assert [m["kind"] for m in manifests] == [
        "ConfigMap",
        "Secret",
        "Deployment",
        "Service",
        "PersistentVolumeClaim",
        "StatefulSet",
    ]
    objects = render(_plan({"web": 3, "db": 2}), manifests, namespace="cnf")
    _validate(objects)
    kinds = [(o["kind"], o["metadata"]["name"]) for o in objects]
    # what pods refer to is applied first
    assert kinds == [
        ("ConfigMap", "vnf-6f1c2a9b-web-conf"),
        ("Secret", "vnf-6f1c2a9b-web-secret"),
        ("PersistentVolumeClaim", "vnf-6f1c2a9b-db-data"),
        ("Service", "vnf-6f1c2a9b-web"),
        ("Deployment", "vnf-6f1c2a9b-web"),
        ("StatefulSet", "vnf-6f1c2a9b-db"),
    ]
    by = {o["metadata"]["name"]: o for o in objects if o["kind"] in ("Deployment", "StatefulSet")}
    web, db = by["vnf-6f1c2a9b-web"], by["vnf-6f1c2a9b-db"]
    assert web["spec"]["replicas"] == 3  # the plan's count, not the package's 7
    assert db["spec"]["replicas"] == 2
    assert all(o["metadata"]["namespace"] == "cnf" for o in objects)
    assert all(o["metadata"]["labels"][LABEL_INSTANCE] == INSTANCE for o in objects)
    ids = {LABEL_INSTANCE: INSTANCE, LABEL_VDU: "web"}
    assert web["metadata"]["labels"] == {"app": "web", **ids}
    assert web["spec"]["selector"]["matchLabels"] == {"app": "web", **ids}
    # no generation on a template: changing it would restart every pod of the workload
    assert web["spec"]["template"]["metadata"]["labels"] == {"app": "web", **ids}
    pod = web["spec"]["template"]["spec"]
    assert pod["volumes"][0]["configMap"]["name"] == "vnf-6f1c2a9b-web-conf"
    container = pod["containers"][0]
    assert container["envFrom"][0]["configMapRef"]["name"] == "vnf-6f1c2a9b-web-conf"
    assert container["env"][0]["valueFrom"]["secretKeyRef"]["name"] == "vnf-6f1c2a9b-web-secret"
    assert db["spec"]["serviceName"] == "vnf-6f1c2a9b-web"
    claim = db["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]
    assert claim["claimName"] == "vnf-6f1c2a9b-db-data"
    service = next(o for o in objects if o["kind"] == "Service")
    assert service["spec"]["selector"] == {"app": "web", LABEL_INSTANCE: INSTANCE}
    # pure: the input is untouched, and the output is plain JSON
    assert manifests[2]["spec"]["replicas"] == 7
    assert json.loads(json.dumps(objects)) == objects
    # a VDU scaled to zero (no VNFC in the plan) keeps its workload, with no pod
    names = {"web": "web", "db": "db"}
    zero = render(_plan({"web": 1}), manifests, namespace="cnf", vdu_names=names)
    assert [o["spec"]["replicas"] for o in zero if o["kind"] == "StatefulSet"] == [0]


def test_pods_one_per_vnfc(tmp_path: Path) -> None:
    manifests = load_manifests(_package(tmp_path, {"app.yaml": APP}), None)
    plan = _plan({"web": 2})
    plan["vnfcs"][1]["cps"] = [
        {
            "cpdId": "web_cp",
            "name": "vnf-6f1c2a9b-web-1-web_cp",
            "virtualLinkId": "internal_vl",
            "extVirtualLinkId": None,
            "ipAddresses": ["10.10.0.11"],
            "macAddress": "fa:16:3e:00:00:01",
            "mtu": 1500,
        }
    ]
    out = pods(plan, manifests)
    assert [p.vnfc_id for p in out] == ["web-0", "web-1"]
    p = out[1]
    assert p.name == "vnf-6f1c2a9b-web-1" and p.index == 1 and p.kind == "Deployment"
    assert p.labels == {
        "app": "web",
        LABEL_INSTANCE: INSTANCE,
        LABEL_VDU: "web",
        LABEL_VNFC: "web-1",
        LABEL_GENERATION: "3f9a0c1b2d4e",
    }
    assert p.containers[0]["image"] == "localhost/webfarm-cnf:1"
    assert p.containers[0]["args"] == ["-p", "8080"]
    assert p.volumes[0]["configMap"]["name"] == "vnf-6f1c2a9b-web-conf"
    assert p.cps[0]["ipAddresses"] == ["10.10.0.11"]
    assert p.cps[0]["macAddress"] == "fa:16:3e:00:00:01"


def test_vdu_names_and_missing_workload(tmp_path: Path) -> None:
    manifests = load_manifests(_package(tmp_path, {"app.yaml": APP}), None)
    objects = render(_plan({"VDU1": 1}), manifests, namespace="ns", vdu_names={"VDU1": "web"})
    assert objects[-1]["metadata"]["labels"][LABEL_VDU] == "VDU1"
    with pytest.raises(PlanError, match="VDU VDU1: no workload named 'VDU1'"):
        render(_plan({"VDU1": 1}), manifests, namespace="ns")
    assert workload_for({"properties": {"name": "web"}}, manifests)["kind"] == "Deployment"
    with pytest.raises(PackageError, match="no workload"):
        workload_for("nope", manifests)


def test_pod_workload_runs_one_vnfc(tmp_path: Path) -> None:
    pod = textwrap.dedent("""\
        apiVersion: v1
        kind: Pod
        metadata: {name: one}
        spec:
          containers: [{name: c, image: busybox}]
        """)
    manifests = load_manifests(_package(tmp_path, {"pod.yaml": pod}), None)
    (obj,) = render(_plan({"one": 1}), manifests, namespace="ns")
    _validate([obj])
    assert obj["metadata"]["labels"][LABEL_VNFC] == "one-0"
    with pytest.raises(PlanError, match="at most one VNFC"):
        render(_plan({"one": 2}), manifests, namespace="ns")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n", "a.yaml:2: kind 'Namespace'"),
        ("---\n- a\n", "a.yaml:1: a manifest document must be a mapping"),
        ("kind: ConfigMap\nmetadata: {name: x}\n", "a.yaml:1: apiVersion is missing"),
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n",
            "a.yaml:4: ConfigMap: metadata.name 'Bad_Name' is not a valid",
        ),
        ("a: [1\n", "a.yaml:2: YAML error"),
        ("a: !!python/object:os.system x\n", "a.yaml:1: YAML error"),
        (
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]\n"
                for i in range(6)
            ),
            "a.yaml:1: YAML expands to more than 100000 nodes",
        ),
        (
            "x: 1\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\n"
            "spec:\n  template:\n    spec:\n      containers: []\n",
            "a.yaml:9: Deployment 'w': the pod has no containers",
        ),
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
            + "d: "
            + "[" * 50
            + "]" * 50
            + "\n",
            "a.yaml:1: document nested deeper than 40 levels",
        ),
    ],
)
def test_bad_manifests_name_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    pkg = _package(tmp_path, {"a.yaml": text})
    with pytest.raises(PackageError) as exc:
        load_manifests(pkg, None)
    problems = _problems(exc)
    assert any(p.startswith(f"Files/kubernetes/{expected}") for p in problems), problems


def test_selection_and_bounds(tmp_path: Path) -> None:
    pkg = _package(tmp_path, {"app.yaml": APP, "db.yaml": DB, "big.yaml": "a: " + "x" * (1 << 20)})
    # the request's selection: only those files, in its order
    names = [m["metadata"]["name"] for m in load_manifests(pkg, ["Files/kubernetes/db.yaml"])]
    assert names == ["db-data", "db"]
    with pytest.raises(PackageError) as exc:
        load_manifests(pkg, None)
    assert "Files/kubernetes/big.yaml: file is larger than 1048576 bytes" in _problems(exc)
    with pytest.raises(PackageError, match="path escapes the package root"):
        load_manifests(pkg, ["../../etc/passwd.yaml"])
    with pytest.raises(PackageError, match="file not found in package"):
        load_manifests(pkg, ["Files/kubernetes/none.yaml"])
    with pytest.raises(PackageError, match=r"'Files/kubernetes/x.tgz' is not a YAML manifest"):
        load_manifests(pkg, ["Files/kubernetes/x.tgz"])
    assert def_files({"lcm-kubernetes-def-files": ["a.yaml"]}) == ["a.yaml"]
    assert def_files({}) is None
    with pytest.raises(PackageError, match="lcm-kubernetes-def-files must be a list"):
        def_files({"lcm-kubernetes-def-files": "a.yaml"})


def test_duplicate_objects_are_refused(tmp_path: Path) -> None:
    pkg = _package(tmp_path, {"a.yaml": APP, "b.yaml": APP.split("---")[0]})
    with pytest.raises(PackageError) as exc:
        load_manifests(pkg, None)
    assert _problems(exc) == [
        "Files/kubernetes/b.yaml:1: ConfigMap 'web-conf' is defined twice "
        "(first at Files/kubernetes/a.yaml:1)"
    ]


def test_helm_values(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "Files" / "kubernetes").mkdir(parents=True)
    (pkg / "Files" / "kubernetes" / "c-0.1.0.tgz").write_bytes(b"\x1f\x8b")
    params = {
        "helm_chart_path": "Files/kubernetes/c-0.1.0.tgz",
        "helm_parameters": {"service.port": 8081, "service.type": "NodePort"},
        "helm_value_names": {"VDU1": {"replica": "replicaCountVdu1"}},
    }
    release = helm.helm_release(str(pkg), params)
    assert release is not None and helm.is_helm(params)
    assert helm.helm_values(_plan({"VDU1": 3}), release) == {
        "replicaCountVdu1": 3,
        "service": {"port": 8081, "type": "NodePort"},
    }
    assert helm.helm_release(str(pkg), {}) is None
    with pytest.raises(PackageError, match="is not in the package"):
        helm.helm_release(str(pkg), {"helm_chart_path": "Files/kubernetes/none.tgz"})
    with pytest.raises(PackageError, match="path escapes"):
        helm.helm_release(str(pkg), {"helm_chart_path": "../x.tgz"})
    bad = {**params, "helm_value_names": {"VDU1": {"replica": "a b"}}}
    with pytest.raises(PackageError, match=r"helm_value_names.VDU1.replica must be"):
        helm.helm_release(str(pkg), bad)
