"""End-to-end lifecycle of the sample CNF webfarm-cnf, written once, run per container VIM.

* ``podman``: for real wherever podman runs (CI: ``scripts/setup.sh`` installs podman
  and runc, and builds the image ``localhost/webfarm-cnf:1``; the fixture builds it
  when it is missing).
* ``kubernetes``: only when ``KUBECONFIG`` points to a cluster (whose nodes have the
  image ``localhost/webfarm-cnf:1``, e.g. ``kind load``); else SKIP with the reason.
  No API server is faked.

One lifecycle per backend, through the real CLI (``python -m vnfm_runner``) and
ansible-runner: instantiate (level small), HTTP from the host through the LB reaches
every web; a second reconcile of the recorded plan changes nothing; scale out then in,
with the exact pod names each time (scale in removes the highest index); a pod deleted
by hand is reported by ``vnfm sync`` (VNFC_MISSING) and healed by ``vnfm heal`` under its
own name; the whole VNF stopped (no pod runs, every VNFC off) and started again (HTTP
through the LB); terminate leaves nothing (no pod, container, network or volume). What exists
is read from the backend itself (``podman ... --format json``, the Kubernetes API), not
from the driver's discovery.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any, Protocol

import pytest

from tests.integration.conftest import REPO_ROOT, Lifecycle, wait_until

pytestmark = [pytest.mark.root, pytest.mark.timeout(900)]

WEBFARM_CNF = REPO_ROOT / "examples" / "packages" / "webfarm-cnf"
IMAGE = "localhost/webfarm-cnf:1"
BUILD_IMAGE = REPO_ROOT / "scripts" / "build-cnf-image.sh"
LABEL_INSTANCE = "vnfm.etsi.org/instance-id"
PODMAN_VIM_CONF = "/var/lib/vnfm/podman-vim/containers.conf"  # the driver writes it


# -- what each backend holds, read from the backend itself ------------------------------------
class Backend(Protocol):
    name: str

    def vim_add_args(self) -> list[str]: ...

    def pods(self, instance_id: str) -> dict[str, str]:
        """Pod name -> status, of the pods labelled with the instance id."""
        ...

    def delete_pod(self, name: str) -> None: ...

    def leftovers(self, instance_id: str) -> dict[str, list[str]]: ...

    def lb_address(self, doc: dict[str, Any]) -> str:
        """Where the host reaches the LB of the instance ``doc`` describes."""
        ...

    def cleanup(self, instance_id: str) -> None: ...


class Podman:
    name = "podman"

    def __init__(self) -> None:
        self.env = dict(os.environ)
        if "CONTAINERS_CONF" not in self.env and Path(PODMAN_VIM_CONF).is_file():
            self.env["CONTAINERS_CONF"] = PODMAN_VIM_CONF

    def run(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(
            ["podman", *args], capture_output=True, text=True, env=self.env, timeout=120
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)}: {proc.stderr.strip()}")
        return proc.stdout

    def listing(self, *args: str) -> list[dict[str, Any]]:
        out = self.run(*args, "--format", "json").strip()
        return list(json.loads(out or "[]") or [])

    def vim_add_args(self) -> list[str]:
        return ["--type", "podman"]

    def pods(self, instance_id: str) -> dict[str, str]:
        found = self.listing("pod", "ps", "--filter", f"label={LABEL_INSTANCE}={instance_id}")
        return {str(p["Name"]): str(p.get("Status")) for p in found}

    def delete_pod(self, name: str) -> None:
        self.run("pod", "rm", "--force", "--time", "0", name)

    def lb_address(self, doc: dict[str, Any]) -> str:
        (address,) = ext_addresses(doc)  # the LB's external CP on vnfm-podman-ext0
        return address

    def marked(self, what: str, instance_id: str) -> list[str]:
        """Names of the podman objects of a kind carrying the instance's label or id."""
        args = ["ps", "--all"] if what == "container" else [what, "ls"]
        out: list[str] = []
        for item in self.listing(*args):
            labels = item.get("Labels") or item.get("labels") or {}
            name = item.get("Names") or item.get("Name") or item.get("name")
            name = name[0] if isinstance(name, list) and name else name
            if labels.get(LABEL_INSTANCE) == instance_id or instance_id in str(name):
                out.append(str(name))
        return sorted(out)

    def leftovers(self, instance_id: str) -> dict[str, list[str]]:
        found = {
            "pods": sorted(self.pods(instance_id)),
            "containers": self.marked("container", instance_id),
            "networks": self.marked("network", instance_id),
            "volumes": self.marked("volume", instance_id),
        }
        return {k: v for k, v in found.items() if v}

    def cleanup(self, instance_id: str) -> None:
        from ansible_collections.nfv.vnfm.plugins.module_utils.vim import get_driver

        with contextlib.suppress(Exception):  # then brute force, whatever the driver did
            get_driver({"vimType": "podman"}, timeout=120).remove(instance_id, check_mode=False)
        for pod in self.pods(instance_id):
            self.run("pod", "rm", "--force", "--time", "0", pod, check=False)
        for name in self.marked("container", instance_id):
            self.run("rm", "--force", "--time", "0", name, check=False)
        for name in self.marked("network", instance_id):
            self.run("network", "rm", "--force", name, check=False)
        for name in self.marked("volume", instance_id):
            self.run("volume", "rm", "--force", name, check=False)


def podman_skip_reason() -> str | None:
    if shutil.which("podman") is None:
        return "podman is not installed (scripts/setup.sh installs podman and runc)"
    if os.geteuid() != 0:
        return "the podman VIM runs rootful podman: needs root"
    return None


class Kubernetes:
    name = "kubernetes"

    def __init__(self) -> None:
        from kubernetes import client, config  # the official client

        config.load_kube_config()
        self.core = client.CoreV1Api()
        self.apps = client.AppsV1Api()
        self.namespace = os.environ.get("VNFM_TEST_K8S_NAMESPACE", "default")

    def vim_add_args(self) -> list[str]:
        return [
            "--type",
            "kubernetes",
            "--option",
            f"kubeconfig={os.environ['KUBECONFIG']}",
            "--option",
            f"namespace={self.namespace}",
        ]

    def selector(self, instance_id: str) -> str:
        return f"{LABEL_INSTANCE}={instance_id}"

    def pods(self, instance_id: str) -> dict[str, str]:
        found = self.core.list_namespaced_pod(
            self.namespace, label_selector=self.selector(instance_id)
        )
        return {
            p.metadata.name: p.status.phase
            for p in found.items
            if p.metadata.deletion_timestamp is None
        }

    def delete_pod(self, name: str) -> None:
        self.core.delete_namespaced_pod(name, self.namespace, grace_period_seconds=0)

    def lb_address(self, doc: dict[str, Any]) -> str:
        # The driver reports no external CP address (pods are on the cluster network and
        # the sample ships no Service): the LB pod's own address, which the host reaches
        # where it routes the pod network (a one-node cluster on this host).
        pod = self.core.read_namespaced_pod(vnfcs(doc)["lb-0"], self.namespace)
        return str(pod.status.pod_ip)

    def leftovers(self, instance_id: str) -> dict[str, list[str]]:
        sel, ns = self.selector(instance_id), self.namespace
        found = {
            "pods": [
                p.metadata.name for p in self.core.list_namespaced_pod(ns, label_selector=sel).items
            ],
            "deployments": [
                d.metadata.name
                for d in self.apps.list_namespaced_deployment(ns, label_selector=sel).items
            ],
            "configmaps": [
                c.metadata.name
                for c in self.core.list_namespaced_config_map(ns, label_selector=sel).items
            ],
        }
        return {k: sorted(v) for k, v in found.items() if v}

    def cleanup(self, instance_id: str) -> None:
        sel = self.selector(instance_id)
        with contextlib.suppress(Exception):
            for d in self.apps.list_namespaced_deployment(self.namespace, label_selector=sel).items:
                self.apps.delete_namespaced_deployment(d.metadata.name, self.namespace)


def kubernetes_skip_reason() -> str | None:
    if not os.environ.get("KUBECONFIG"):
        return (
            "Kubernetes end-to-end tests need a cluster: KUBECONFIG is not set "
            "(no API server is faked; the request-level tests cover this backend)"
        )
    try:
        import kubernetes  # noqa: F401
    except ImportError:
        return "the kubernetes Python client is not installed"
    return None


def ensure_image(backend: Podman) -> None:
    """The sample's image, built here when it is missing (setup builds it in CI)."""
    exists = subprocess.run(
        ["podman", "image", "exists", IMAGE], env=backend.env, capture_output=True, check=False
    )
    if exists.returncode == 0:
        return
    build = subprocess.run(
        ["bash", str(BUILD_IMAGE)], env=backend.env, capture_output=True, text=True, timeout=300
    )
    assert build.returncode == 0, f"building {IMAGE} failed:\n{build.stdout}\n{build.stderr}"


@pytest.fixture(params=["podman", "kubernetes"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "podman":
        reason = podman_skip_reason()
        if reason:
            pytest.skip(reason)
        pod = Podman()
        ensure_image(pod)
        return pod
    reason = kubernetes_skip_reason()
    if reason:
        pytest.skip(reason)
    return Kubernetes()


# -- helpers ------------------------------------------------------------------------------------
def ext_addresses(doc: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for cp in (doc.get("instantiatedVnfInfo") or {}).get("extCpInfo", []):
        for proto in cp.get("cpProtocolInfo", []):
            for ip in (proto.get("ipOverEthernet") or {}).get("ipAddresses", []):
                out.extend(ip.get("addresses", []))
    return out


def vnfc_infos(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return list((doc.get("instantiatedVnfInfo") or {}).get("vnfcResourceInfo", []))


def vnfcs(doc: dict[str, Any]) -> dict[str, str]:
    """VNFC id -> its pod (computeResource.resourceId), from the instance record."""
    info = (doc.get("instantiatedVnfInfo") or {}).get("vnfcResourceInfo", [])
    return {str(v["id"]): str(v["computeResource"]["resourceId"]) for v in info}


def webs_of(doc: dict[str, Any]) -> dict[str, str]:
    return {v: p for v, p in vnfcs(doc).items() if v.startswith("web-")}


def http_answers(address: str, requests: int) -> Counter[str]:
    seen: Counter[str] = Counter()
    for _ in range(requests):
        try:
            with urllib.request.urlopen(f"http://{address}:80/", timeout=5) as resp:
                seen[resp.read().decode().strip()] += 1
        except (urllib.error.URLError, OSError) as exc:
            seen[f"error: {exc}"] += 1
    return seen


def assert_serves(address: str, webs: dict[str, str], settle: float = 30.0) -> None:
    """Requests from the host through the LB are answered by exactly ``webs``.

    A web answers with its host name: its VNFC id or its pod name, as the backend
    names the pod's host. An answer from no current web fails at once; errors (a pod
    still starting) are tried again until ``settle`` seconds have passed.
    """
    names = {answer: vnfc for vnfc, pod in webs.items() for answer in (vnfc, pod)}
    deadline = time.monotonic() + settle
    while True:
        seen = http_answers(address, 3 * len(webs))
        stray = [a for a in seen if a not in names and not a.startswith("error")]
        assert not stray, f"answers from no current web: {stray} (webs {webs})"
        answered = {names[a] for a in seen if a in names}
        if answered == set(webs) and not any(a.startswith("error") for a in seen):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"through {address}: {dict(seen)}; expected every web of {webs}")
        time.sleep(0.3)


def reconcile_again(lc: Lifecycle, backend: Backend, instance_id: str) -> Any:
    """The driver's reconcile of the recorded plan, once more."""
    from ansible_collections.nfv.vnfm.plugins.module_utils.vim import get_driver

    row = lc.service().store.instance(instance_id)
    plan = dict(row.desired_state or {})
    return get_driver(
        {"vimType": backend.name}, timeout=120, package_dir=str(WEBFARM_CNF)
    ).reconcile(plan, heal=[], check_mode=False)


# -- the test ---------------------------------------------------------------------------------------
def test_cnf_lifecycle(lifecycle: Lifecycle, backend: Backend) -> None:
    lc = lifecycle
    timings: dict[str, float] = {}
    started = time.monotonic()

    def step(name: str) -> None:
        nonlocal started
        now = time.monotonic()
        timings[name] = round(now - started, 1)
        started = now

    lc.cli_ok("vim", "add", "cnf", *backend.vim_add_args())
    vnfd = lc.onboard(WEBFARM_CNF)
    inst = lc.create(vnfd, name=f"cnf-{backend.name}")
    try:
        lc.cli_ok("instantiate", inst, "--vim", "cnf", "--flavour", "default", "--level", "small",
                  "-q")  # fmt: skip
        step("instantiate")
        doc = lc.show(inst)
        pods = vnfcs(doc)
        assert sorted(pods) == ["lb-0", "web-0", "web-1"]
        live = backend.pods(inst)
        assert sorted(live) == sorted(pods.values()), (live, pods)
        if backend.name == "podman":  # one pod per VNFC, named from the plan's namePrefix
            prefix = pods["lb-0"].removesuffix("-lb-0")
            assert pods == {v: f"{prefix}-{v}" for v in pods}
        address = backend.lb_address(doc)
        assert_serves(address, webs_of(doc))
        step("http")

        again = reconcile_again(lc, backend, inst)
        # nothing to do; what podman ignores is still said (readinessProbe)
        changes = [a for a in again.actions if not a.startswith("warning:")]
        assert again.changed is False and changes == [], again.actions
        assert sorted(backend.pods(inst)) == sorted(pods.values())
        step("reconcile again")

        lc.cli_ok("scale", inst, "--aspect", "web", "--type", "SCALE_OUT", "-q")
        doc = lc.show(inst)
        assert sorted(vnfcs(doc)) == ["lb-0", "web-0", "web-1", "web-2"]
        assert sorted(backend.pods(inst)) == sorted(vnfcs(doc).values())
        assert_serves(address, webs_of(doc))
        step("scale out")

        lc.cli_ok("scale", inst, "--aspect", "web", "--type", "SCALE_IN", "-q")
        doc = lc.show(inst)
        assert sorted(vnfcs(doc)) == ["lb-0", "web-0", "web-1"]  # the highest index went
        assert sorted(backend.pods(inst)) == sorted(vnfcs(doc).values())
        assert_serves(address, webs_of(doc))
        step("scale in")

        # a pod deleted by hand: vnfm sync tells, vnfm heal brings it back under its name
        victim = vnfcs(doc)["web-1"]
        backend.delete_pod(victim)
        assert wait_until(lambda: victim not in backend.pods(inst), 30)
        report = json.loads(lc.cli_ok("sync", inst, "--format", "json"))
        (mine,) = report["instances"]
        drifts = [(d["kind"], d["vnfcInstanceId"]) for d in mine["drifts"]]
        assert ("VNFC_MISSING", "web-1") in drifts, mine["drifts"]
        lc.cli_ok("heal", inst, "--vnfc", "web-1", "-q")
        doc = lc.show(inst)
        assert vnfcs(doc)["web-1"] == victim
        assert sorted(backend.pods(inst)) == sorted(vnfcs(doc).values())
        assert_serves(address, webs_of(doc))
        report = json.loads(lc.cli_ok("sync", inst, "--format", "json"))
        assert report["instances"][0]["drifts"] == []
        step("heal")

        # operate the whole VNF: podman stops its pods, Kubernetes scales its workloads
        # to 0; either way no pod runs, every VNFC is off, and starting serves again
        lc.cli_ok("operate", inst, "--state", "STOPPED", "-q")
        doc = lc.show(inst)
        assert {v["metadata"]["powerState"] for v in vnfc_infos(doc)} == {"off"}
        assert sorted(vnfcs(doc)) == ["lb-0", "web-0", "web-1"]
        assert [p for p, state in backend.pods(inst).items() if state == "Running"] == []
        lc.cli_ok("operate", inst, "--state", "STARTED", "-q")
        doc = lc.show(inst)
        assert {v["metadata"]["powerState"] for v in vnfc_infos(doc)} == {"on"}
        assert sorted(backend.pods(inst)) == sorted(vnfcs(doc).values())
        address = backend.lb_address(doc)  # a Kubernetes LB pod is a new pod
        assert_serves(address, webs_of(doc))
        step("stop and start")

        lc.cli_ok("terminate", inst, "-q")
        assert wait_until(lambda: not backend.leftovers(inst), 30), backend.leftovers(inst)
        step("terminate")
        lc.cli_ok("delete", inst)
    finally:
        backend.cleanup(inst)
        print(f"\n{backend.name} lifecycle timings (s): {timings}")
    assert backend.leftovers(inst) == {}
