"""Integration tests of the ``podman`` VIM driver on real podman (rootful, runc).

A tiny image is built from Debian's busybox-static and imported from a tarball the
test makes (no registry). A package directory holds the Kubernetes manifests (an LB
Deployment serving a ConfigMap's page, a web Deployment, a Service that podman
warns about). Podman's state is read with the podman CLI here, independently of the
driver's discovery. Every test run uses its own instance id, subnets and external
network, and removes everything at the end (driver removal, then brute force).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError, get_driver
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._podman.cli import ensure_conf

BUSYBOX = Path("/bin/busybox")
IMAGE = "localhost/vnfm-podman-vim-test:1"
REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(
        shutil.which("podman") is None, reason="needs podman (apt-get install podman runc)"
    ),
    pytest.mark.skipif(
        shutil.which("runc") is None, reason="needs runc (crun refuses hybrid cgroups)"
    ),
    pytest.mark.skipif(
        not BUSYBOX.is_file(), reason="needs busybox-static (/bin/busybox) for the image"
    ),
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (rootful podman)"),
]

LB_YAML = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: lb
spec:
  replicas: 1
  selector: {matchLabels: {app: lb}}
  template:
    metadata: {labels: {app: lb}}
    spec:
      containers:
        - name: httpd
          image: %(image)s
          command: [/bin/httpd, -f, -p, "8080", -h, /www]
          env:
            - {name: ROLE, value: lb}
          volumeMounts:
            - {name: page, mountPath: /www}
      volumes:
        - name: page
          configMap: {name: lb-page}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: lb-page
data:
  index.html: "served by %(marker)s\\n"
---
apiVersion: v1
kind: Service
metadata:
  name: lb
spec:
  selector: {app: lb}
  ports: [{port: 80, targetPort: 8080}]
"""

WEB_YAML = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: %(image)s
          command: [/bin/sh, -c]
          args: ["hostname > /tmp/index.html && exec httpd -f -p 8080 -h /tmp"]
"""


def podman(*args: str, check: bool = True) -> str:
    proc = subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=120, env=_env(), check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)}: {proc.stderr}")
    return proc.stdout


_CONF: list[str] = []


def _env() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": _CONF[0]} if _CONF else dict(os.environ)


def pods_of(inst: str) -> dict[str, str]:
    """Pod name -> status, read by podman itself."""
    out = podman(
        "pod", "ps", "--format", "json", "--filter", f"label=vnfm.etsi.org/instance-id={inst}"
    )
    return {p["Name"]: p["Status"] for p in json.loads(out or "[]")}


def left_of(inst: str, ext: str) -> list[str]:
    sel = f"label=vnfm.etsi.org/instance-id={inst}"
    left = [f"pod {n}" for n in pods_of(inst)]
    left += [
        f"container {c['Names']}"
        for c in json.loads(podman("ps", "-a", "--format", "json", "--filter", sel) or "[]")
    ]
    left += [
        f"network {n['name']}"
        for n in json.loads(podman("network", "ls", "--format", "json", "--filter", sel) or "[]")
    ]
    left += [
        f"volume {v['Name']}"
        for v in json.loads(podman("volume", "ls", "--format", "json", "--filter", sel) or "[]")
    ]
    if (
        podman("network", "exists", ext, check=False) is not None
        and subprocess.run(["podman", "network", "exists", ext], env=_env(), check=False).returncode
        == 0
    ):
        left.append(f"network {ext}")
    return left


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> str:
    state = tmp_path_factory.mktemp("podman-vim")
    conf = str(state / "containers.conf")
    ensure_conf(conf)  # the driver's own file, so the test's podman calls match the driver's
    _CONF[:] = [conf]
    root = state / "rootfs"
    (root / "bin").mkdir(parents=True)
    (root / "tmp").mkdir()
    shutil.copy(BUSYBOX, root / "bin" / "busybox")
    for applet in ("sh", "httpd", "hostname", "wget", "sleep", "cat", "ip"):
        (root / "bin" / applet).symlink_to("busybox")
    tarball = state / "rootfs.tar"
    with tarfile.open(tarball, "w") as tar:
        tar.add(root, arcname=".")
    podman("import", str(tarball), IMAGE)
    return conf


class Env:
    def __init__(self, base: Path, conf: str) -> None:
        self.inst = str(uuid.uuid4())
        self.short = hashlib.sha256(self.inst.encode()).hexdigest()[:8]
        self.prefix = f"vnf-{self.short}"
        n = int(self.short, 16)
        self.vl_cidr = f"10.{200 + n % 50}.{n // 50 % 250}.0/24"
        self.ext_cidr = f"172.31.{n % 250}.0/24"
        self.ext = f"vnfmt-{self.short}"
        self.pkg = base / "pkg"
        kube = self.pkg / "Files" / "kubernetes"
        kube.mkdir(parents=True)
        (kube / "lb.yaml").write_text(LB_YAML % {"image": IMAGE, "marker": self.short})
        (kube / "web.yaml").write_text(WEB_YAML % {"image": IMAGE})
        self.vim = {"vimType": "podman", "containersConf": conf, "stopTimeout": 2}
        self.driver = get_driver(self.vim, None, package_dir=str(self.pkg), timeout=60)

    def ip(self, host: int) -> str:
        return self.vl_cidr.replace("0/24", str(host))

    def ext_ip(self, host: int) -> str:
        return self.ext_cidr.replace("0/24", str(host))

    def plan(self, webs: int, *, off: tuple[str, ...] = ()) -> dict[str, Any]:
        def vnfc(vdu: str, index: int, cps: list[dict[str, Any]]) -> dict[str, Any]:
            vid = f"{vdu}-{index}"
            return {
                "id": vid,
                "vduId": vdu,
                "index": index,
                "name": f"{self.prefix}-{vid}",
                "softwareGeneration": "gen1",
                "powerState": "off" if vid in off else "on",
                "cps": cps,
                "volumes": [],
            }

        def cp(cpd: str, order: int, vl: str | None, ext: str | None, ip: str) -> dict[str, Any]:
            mac = "fa:16:3e:" + ":".join(
                hashlib.sha256(f"{self.inst}{ip}".encode()).hexdigest()[i : i + 2]
                for i in (0, 2, 4)
            )
            return {
                "cpdId": cpd,
                "order": order,
                "virtualLinkId": vl,
                "extVirtualLinkId": ext,
                "extCpdId": cpd if ext else None,
                "ipAddresses": [ip],
                "macAddress": mac,
            }

        vnfcs = [
            vnfc(
                "lb",
                0,
                [
                    cp("lb_ext", 0, None, "ext", self.ext_ip(10)),
                    cp("lb_int", 1, "internal", None, self.ip(5)),
                ],
            )
        ]
        vnfcs += [
            vnfc("web", i, [cp("web_cp", 0, "internal", None, self.ip(10 + i))])
            for i in range(webs)
        ]
        return {
            "planVersion": 1,
            "vnfInstanceId": self.inst,
            "shortId": self.short,
            "namePrefix": self.prefix,
            "virtualLinks": [
                {
                    "id": "internal",
                    "name": f"{self.prefix}-internal",
                    "index": 0,
                    "cidr": self.vl_cidr,
                    "mtu": 1500,
                }
            ],
            "externalVirtualLinks": [{"id": "ext", "resourceId": self.ext, "cidr": self.ext_cidr}],
            "vnfcs": vnfcs,
            "volumes": [],
        }

    def names(self, *vnfcs: str) -> set[str]:
        return {f"{self.prefix}-{v}" for v in vnfcs}


@pytest.fixture
def env(tmp_path: Path, image: str) -> Iterator[Env]:
    e = Env(tmp_path, image)
    yield e
    with contextlib.suppress(Exception):
        e.driver.remove(e.inst, check_mode=False)
    sel = f"label=vnfm.etsi.org/instance-id={e.inst}"
    for name in pods_of(e.inst):
        podman("pod", "rm", "-f", "-t", "0", name, check=False)
    for kind in ("network", "volume"):
        out = podman(kind, "ls", "-q", "--filter", sel, check=False)
        for name in out.split():
            podman(kind, "rm", "-f", name, check=False)
    podman("network", "rm", "-f", e.ext, check=False)


def http_get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as resp:  # the test's own pod address
        return resp.read().decode()


def test_lifecycle_on_real_pods(env: Env) -> None:
    drv = env.driver
    first = drv.reconcile(env.plan(2), heal=[], check_mode=False)
    assert first.changed
    assert pods_of(env.inst) == dict.fromkeys(env.names("lb-0", "web-0", "web-1"), "Running")
    # what podman cannot do is said, not silently dropped
    assert any("Service 'lb'" in w for w in first.diff["warnings"]), first.diff
    # the host reaches the LB's external CP; the LB serves the ConfigMap's page
    assert http_get(f"http://{env.ext_ip(10)}:8080/") == f"served by {env.short}\n"
    # the LB reaches every web on the internal network, at the plan's addresses
    for i in (0, 1):
        page = podman(
            "exec", f"{env.prefix}-lb-0-httpd", "wget", "-qO-", f"http://{env.ip(10 + i)}:8080/"
        )
        assert page.strip() == f"{env.prefix}-web-{i}"
    # the plan's MAC on the CP, seen from inside the pod
    lb_ext = next(c for c in env.plan(2)["vnfcs"][0]["cps"] if c["cpdId"] == "lb_ext")
    links = podman("exec", f"{env.prefix}-lb-0-httpd", "ip", "link", "show", "eth0")
    assert lb_ext["macAddress"] in links
    # hooks reach the pod through the nfv.vnfm.podman connection (raw: no Python in the image)
    pod = f"{env.prefix}-web-1"
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible"),
            "all",
            "-i",
            f"{pod},",
            "-c",
            "nfv.vnfm.podman",
            "-e",
            f"vnfm_podman_pod={pod}",
            "-e",
            f"vnfm_podman_containers_conf={env.vim['containersConf']}",
            "-m",
            "raw",
            "-a",
            "hostname",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(REPO_ROOT / "collections")},
    )
    assert proc.returncode == 0 and pod in proc.stdout, proc.stdout + proc.stderr
    info = {v["id"]: v for v in first.resources["vnfcResourceInfo"]}
    assert info["web-1"]["computeResource"]["resourceId"] == f"{env.prefix}-web-1"
    assert info["web-1"]["metadata"] == {"powerState": "on", "softwareGeneration": "gen1"}
    assert [e["cpdId"] for e in first.resources["extCpInfo"]] == ["lb_ext"]

    # a second reconcile changes nothing
    again = drv.reconcile(env.plan(2), heal=[], check_mode=False)
    assert not again.changed and not [a for a in again.actions if not a.startswith("warning")]

    # scale out, then in: single pods, highest index first
    out = drv.reconcile(env.plan(4), heal=[], check_mode=False)
    assert [a for a in out.actions if not a.startswith("warning")] == [
        f"create pod {env.prefix}-web-2",
        f"create pod {env.prefix}-web-3",
    ]
    assert set(pods_of(env.inst)) == env.names("lb-0", "web-0", "web-1", "web-2", "web-3")
    check = drv.reconcile(env.plan(1), heal=[], check_mode=True)
    assert [a for a in check.actions if a.startswith("delete")] == [
        f"delete pod {env.prefix}-web-3",
        f"delete pod {env.prefix}-web-2",
        f"delete pod {env.prefix}-web-1",
    ]
    assert len(pods_of(env.inst)) == 5  # check mode changed nothing
    drv.reconcile(env.plan(1), heal=[], check_mode=False)
    assert set(pods_of(env.inst)) == env.names("lb-0", "web-0")

    # a pod deleted by hand: discovery sees it missing, the reconcile brings it back
    podman("pod", "rm", "-f", "-t", "0", f"{env.prefix}-web-0")
    seen = {v["id"] for v in drv.resources(env.inst)["vnfcResourceInfo"]}
    assert seen == {"lb-0"}
    healed = drv.reconcile(env.plan(1), heal=[], check_mode=False)
    assert f"create pod {env.prefix}-web-0" in healed.actions
    assert pods_of(env.inst) == dict.fromkeys(env.names("lb-0", "web-0"), "Running")

    # heal by replacing one pod; a retry with the same token leaves it
    before = podman("pod", "inspect", f"{env.prefix}-web-0", "--format", "{{.Id}}").strip()
    drv.reconcile(env.plan(1), heal=["web-0"], check_mode=False, heal_token="op-1")
    after = podman("pod", "inspect", f"{env.prefix}-web-0", "--format", "{{.Id}}").strip()
    assert after != before
    retry = drv.reconcile(env.plan(1), heal=["web-0"], check_mode=False, heal_token="op-1")
    assert not retry.changed

    # operate: stop one pod, start it again (same pod)
    stop = drv.reconcile(env.plan(1, off=("web-0",)), heal=[], check_mode=False)
    assert f"stop pod {env.prefix}-web-0" in stop.actions
    assert pods_of(env.inst)[f"{env.prefix}-web-0"] in ("Exited", "Stopped")
    drv.reconcile(env.plan(1), heal=[], check_mode=False)
    assert podman("pod", "inspect", f"{env.prefix}-web-0", "--format", "{{.Id}}").strip() == after
    assert pods_of(env.inst)[f"{env.prefix}-web-0"] == "Running"

    # terminate by discovery alone: no pod, network or volume is left
    gone = drv.remove(env.inst, check_mode=False)
    assert gone.changed
    assert left_of(env.inst, env.ext) == []
    assert not drv.remove(env.inst, check_mode=False).changed


def test_refused_kinds_name_the_workload(env: Env) -> None:
    kube = env.pkg / "Files" / "kubernetes"
    (kube / "web.yaml").write_text(
        (WEB_YAML % {"image": IMAGE}).replace(
            "      containers:", "      hostNetwork: true\n      containers:"
        )
    )
    with pytest.raises(VimError, match="Deployment 'web': hostNetwork is refused"):
        env.driver.reconcile(env.plan(1), heal=[], check_mode=False)
    assert pods_of(env.inst) == {}
