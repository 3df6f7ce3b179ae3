"""Shared fixtures of the end-to-end lifecycle tests (real CLI, real kernel, no mocks).

The ``lifecycle`` fixture gives each test a fresh ``VNFM_HOME`` (in ``tmp_path``,
exported through ``monkeypatch``), a way to run the real CLI
(``python -m vnfm_runner``) and the service layer on it, and a finalizer that
removes everything of the instances the test touched: first the VIM driver's
own removal by instance id, then brute force (processes, network namespaces,
host links, runtime and state directories carrying the instance id).

The kernel helpers here read state independently of the VIM driver's code:
``ip -json netns list``, ``ip -json link``, ``/proc``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS_DIR = REPO_ROOT / "collections"
PLAYBOOKS_DIR = REPO_ROOT / "playbooks" / "runner"
WEBFARM = REPO_ROOT / "examples" / "packages" / "webfarm"
RUN_DIR = Path("/run/vnfm")
LOCAL_VIM_STATE = Path("/var/lib/vnfm/local-vim")
CLI_TIMEOUT = 420  # seconds; one lifecycle operation takes well under a minute


def privileged() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def have_ip() -> bool:
    return shutil.which("ip") is not None


requires_root = [
    pytest.mark.root,
    pytest.mark.skipif(
        not privileged(), reason="needs root to create network namespaces, bridges and veths"
    ),
    pytest.mark.skipif(not have_ip(), reason="needs the iproute2 'ip' command"),
]


# -- independent kernel inspection ------------------------------------------------------------
def _ip(*args: str, check: bool = True) -> str:
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True).stdout


def short_id(instance_id: str) -> str:
    """The planner's short id: first 8 hex chars of sha256(instance id)."""
    return hashlib.sha256(instance_id.encode()).hexdigest()[:8]


def netns_names() -> list[str]:
    return sorted(n["name"] for n in json.loads(_ip("-json", "netns", "list") or "[]"))


def host_links() -> list[dict[str, Any]]:
    return list(json.loads(_ip("-json", "-d", "link", "show") or "[]"))


def instance_netns(instance_id: str) -> list[str]:
    return [n for n in netns_names() if instance_id in n]


def instance_host_links(instance_id: str) -> list[str]:
    """Host links named ``vx<shortId>*`` or whose alias names the instance."""
    prefix = f"vx{short_id(instance_id)}"
    return sorted(
        link["ifname"]
        for link in host_links()
        if link["ifname"].startswith(prefix) or instance_id in str(link.get("ifalias", ""))
    )


def _proc_text(pid: str, what: str) -> str:
    try:
        if what == "cwd":
            return os.readlink(f"/proc/{pid}/cwd")
        with open(f"/proc/{pid}/{what}", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def instance_processes(instance_id: str) -> dict[int, str]:
    """Live processes whose command line or working directory names the instance."""
    me = os.getpid()
    found: dict[int, str] = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == me:
            continue
        cmdline = _proc_text(pid, "cmdline")
        if instance_id in cmdline or instance_id in _proc_text(pid, "cwd"):
            stat = _proc_text(pid, "stat")
            if stat and stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]:
                continue  # a zombie is already dead
            found[int(pid)] = cmdline.strip()
    return found


def daemon_processes(instance_id: str) -> dict[int, str]:
    """The webfarm daemons (web.py, lb.py) of the instance."""
    return {
        pid: cmd
        for pid, cmd in instance_processes(instance_id).items()
        if "web.py" in cmd or "lb.py" in cmd
    }


def leftovers(instance_id: str) -> dict[str, Any]:
    """Everything of the instance still on this host (empty when it is gone)."""
    found: dict[str, Any] = {
        "netns": instance_netns(instance_id),
        "host links": instance_host_links(instance_id),
        "processes": instance_processes(instance_id),
        "runtime dir": (RUN_DIR / instance_id).exists(),
        "volume dir": (LOCAL_VIM_STATE / instance_id).exists(),
    }
    return {k: v for k, v in found.items() if v}


# -- cleanup ------------------------------------------------------------------------------------
def driver_remove(instance_id: str) -> str | None:
    """The local VIM driver's removal by instance id; the error text if it failed."""
    from ansible_collections.nfv.vnfm.plugins.module_utils.vim import get_driver

    try:
        get_driver({"vimType": "local"}, timeout=60).remove(instance_id, check_mode=False)
    except Exception as exc:  # cleanup must go on to brute force
        return f"{type(exc).__name__}: {exc}"
    return None


def brute_force_cleanup(instance_id: str) -> None:
    """Kill, delete and remove whatever still carries the instance id."""
    for ns in instance_netns(instance_id):
        for word in _ip("netns", "pids", ns, check=False).split():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(word), signal.SIGKILL)
    for pid in instance_processes(instance_id):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for ns in instance_netns(instance_id):
        _ip("netns", "del", ns, check=False)
    for name in instance_host_links(instance_id):
        _ip("link", "del", "dev", name, check=False)
    shutil.rmtree(RUN_DIR / instance_id, ignore_errors=True)
    shutil.rmtree(LOCAL_VIM_STATE / instance_id, ignore_errors=True)


def cleanup_instance(instance_id: str) -> None:
    driver_remove(instance_id)
    brute_force_cleanup(instance_id)


def instances_in_home(home: Path) -> list[str]:
    """Instance ids recorded in a VNFM_HOME's database (read-only, no ORM)."""
    db = home / "vnfm.db"
    if not db.is_file():
        return []
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master")]
            ids: list[str] = []
            for table in tables:
                cols = [r[1] for r in conn.execute(f"PRAGMA table_info('{table}')")]
                if "vnf_instance_id" in cols:
                    ids += [r[0] for r in conn.execute(f"SELECT vnf_instance_id FROM '{table}'")]
                elif "instantiation_state" in cols and "id" in cols:
                    ids += [r[0] for r in conn.execute(f"SELECT id FROM '{table}'")]
            return sorted(set(ids))
    except sqlite3.Error:
        return []


# -- the fixture object ---------------------------------------------------------------------------
@dataclass
class Lifecycle:
    """A fresh VNFM_HOME, the real CLI on it, and the instances to clean up."""

    home: Path
    tmp: Path
    instance_ids: set[str] = field(default_factory=set)
    homes: list[Path] = field(default_factory=list)

    def env(self, home: Path | None = None, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env["VNFM_HOME"] = str(home or self.home)
        env["COLUMNS"] = "200"  # rich wraps error lines on narrow terminals
        env.update(extra)
        return env

    def cli(
        self, *args: str, home: Path | None = None, timeout: float = CLI_TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        """``python -m vnfm_runner ARGS`` with this test's VNFM_HOME; never raises on rc."""
        return subprocess.run(
            [sys.executable, "-m", "vnfm_runner", *args],
            cwd=REPO_ROOT,
            env=self.env(home),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def cli_ok(self, *args: str) -> str:
        proc = self.cli(*args)
        assert proc.returncode == 0, (
            f"vnfm {' '.join(args)} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
        )
        return proc.stdout

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "vnfm_runner", *args],
            cwd=REPO_ROOT,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def service(self, home: Path | None = None) -> Any:
        """The service layer on this test's VNFM_HOME (``vnfm_runner.lcm.Vnfm``)."""
        from vnfm_runner.lcm import Vnfm
        from vnfm_runner.settings import Settings

        return Vnfm.open(Settings(home=home or self.home), recover=False)

    def track(self, instance_id: str) -> str:
        self.instance_ids.add(instance_id)
        return instance_id

    def onboard(self, package: Path = WEBFARM) -> str:
        return self.cli_ok("package", "onboard", str(package)).strip().splitlines()[-1]

    def create(self, vnfd_id: str, name: str | None = None) -> str:
        args = ["create", "--vnfd-id", vnfd_id] + (["--name", name] if name else [])
        return self.track(self.cli_ok(*args).strip().splitlines()[-1])

    def show(self, instance_id: str) -> dict[str, Any]:
        return dict(json.loads(self.cli_ok("show", instance_id, "--format", "json")))

    def cleanup(self) -> None:
        ids = set(self.instance_ids)
        for home in [self.home, *self.homes]:
            ids.update(instances_in_home(home))
        for instance_id in sorted(ids):
            cleanup_instance(instance_id)


@pytest.fixture
def lifecycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lifecycle]:
    """A fresh VNFM_HOME for one test; everything of its instances is removed afterwards."""
    if not privileged():
        pytest.skip("needs root to create network namespaces, bridges and veths")
    if not have_ip():
        pytest.skip("needs the iproute2 'ip' command")
    home = tmp_path / "vnfm-home"
    monkeypatch.setenv("VNFM_HOME", str(home))
    lc = Lifecycle(home=home, tmp=tmp_path)
    try:
        yield lc
    finally:
        lc.cleanup()


def wait_until(predicate: Any, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
