# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""One control group per VNFC of the ``local`` VIM: its processes, CPU time and memory.

A VNFC's cgroup is named like its network namespace, ``vnfm-<instance>-<vnfcId>``,
under a ``vnfm`` parent at the root of each hierarchy used, so that a removal, the
orphan listing and the exporter find it by name alone (no record), as they find
namespaces. The VIM creates it with the VNFC and removes it with the VNFC (after
killing what still runs in it). Every process the ``nfv.vnfm.netns`` connection
starts (as root) writes its own pid into the cgroup before it enters the namespace
and runs the task (:func:`join_argv`),
so daemons the hooks start, and their children, are counted.

Two layouts, detected at run time from ``/proc/self/mountinfo``:

* cgroup v2 (unified): one tree (``/sys/fs/cgroup``) with the ``cpu`` and ``memory``
  controllers, enabled for ``vnfm``'s children (``cgroup.subtree_control``);
* cgroup v1: ``cpuacct`` (CPU time) and ``memory`` hierarchies, each mounted on its
  own or together with others (``cpu,cpuacct``); the ``cpu`` one, when present,
  caps the VNFC.

The VDU's sizing travels with the cgroup, as the extended attribute
``trusted.vnfm.vnfc`` of the VNFC's directory (JSON: instance, VNFC and VDU ids, vCPUs,
virtual memory size), so the exporter needs neither the store nor the plan.

CPU cap: a VNFC may use at most its VDU's number of virtual CPUs (CFS quota:
``cpu.max`` / ``cpu.cfs_quota_us`` = vCPUs x period), as a server of that flavour could.
Memory is measured, not capped: a VDU's ``virtualMemSize`` is often set loosely and an
OOM kill inside a VNFC would be a surprise the VNFD did not ask for.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError

PARENT = "vnfm"
XATTR = "trusted.vnfm.vnfc"
CFS_PERIOD_US = 100_000
MOUNTINFO = "/proc/self/mountinfo"
# The shell that puts itself into the VNFC's cgroup before it runs the task: its
# arguments are the cgroup.procs files, "--", then the command. A file that cannot
# be written (no cgroup: a VNFC made before cgroups, or none on this host) is skipped.
JOIN_SCRIPT = (
    'for f; do shift; [ "$f" = -- ] && break; echo $$ 2>/dev/null >"$f" || :; done; exec "$@"'
)


@dataclass(frozen=True)
class CgroupTree:
    """Where the cgroup hierarchies are; ``version`` 1 or 2.

    v2: ``roots == {"": <mount point>}``; v1: controller (``cpuacct``, ``memory`` and
    maybe ``cpu``) -> mount point of its hierarchy.
    """

    version: int
    roots: dict[str, str]

    # -- paths ------------------------------------------------------------------------
    def _root(self, controller: str) -> str | None:
        return self.roots.get("" if self.version == 2 else controller)

    def dir(self, controller: str, name: str = "") -> str | None:
        """The directory of cgroup ``name`` (the parent when empty) holding ``controller``."""
        root = self._root(controller)
        if root is None:
            return None
        return os.path.join(root, PARENT, name) if name else os.path.join(root, PARENT)

    def dirs(self, name: str = "") -> list[str]:
        """Its directory in every hierarchy used (one on v2), without duplicates."""
        roots = sorted(set(self.roots.values()))
        return [os.path.join(r, PARENT, name) if name else os.path.join(r, PARENT) for r in roots]

    def procs_files(self, name: str) -> list[str]:
        return [os.path.join(d, "cgroup.procs") for d in self.dirs(_check(name))]

    # -- lifecycle ----------------------------------------------------------------------
    def _ensure_parent(self) -> None:
        for parent in self.dirs():
            os.makedirs(parent, exist_ok=True)
        if self.version == 2:
            # the controllers must be delegated down to the VNFCs' level
            root = self.roots[""]
            for path in (root, os.path.join(root, PARENT)):
                wanted = {"cpu", "memory"} - set(
                    _read(os.path.join(path, "cgroup.subtree_control")).split()
                )
                if wanted:
                    _write(
                        os.path.join(path, "cgroup.subtree_control"),
                        " ".join(f"+{c}" for c in sorted(wanted)),
                    )

    def create(self, name: str, info: dict[str, Any], vcpus: float | None = None) -> None:
        """Create (or keep) the VNFC's cgroup, record ``info`` on it, cap it at ``vcpus``."""
        _check(name)
        try:
            self._ensure_parent()
            for path in self.dirs(name):
                os.makedirs(path, exist_ok=True)
            main = self.dirs(name)[0]
            os.setxattr(main, XATTR, json.dumps(info, sort_keys=True).encode())
            if vcpus and vcpus > 0:
                quota = max(1000, int(vcpus * CFS_PERIOD_US))
                if self.version == 2:
                    _write(os.path.join(main, "cpu.max"), f"{quota} {CFS_PERIOD_US}")
                elif (cpu := self.dir("cpu", name)) is not None:
                    _write(os.path.join(cpu, "cpu.cfs_period_us"), str(CFS_PERIOD_US))
                    _write(os.path.join(cpu, "cpu.cfs_quota_us"), str(quota))
        except OSError as exc:
            raise VimError(f"cgroup {name}: {exc.strerror or exc}") from exc

    def names(self, prefix: str = "") -> list[str]:
        """The VNFC cgroups present whose name starts with ``prefix`` (any hierarchy)."""
        found: set[str] = set()
        for parent in self.dirs():
            try:
                found.update(
                    e.name
                    for e in os.scandir(parent)
                    if e.is_dir(follow_symlinks=False) and e.name.startswith(prefix)
                )
            except FileNotFoundError:
                continue
        return sorted(found)

    def pids(self, name: str) -> list[int]:
        out: set[int] = set()
        for path in self.procs_files(name):
            out.update(int(p) for p in _read(path).split() if p.isdigit())
        return sorted(out)

    def remove(self, name: str, grace: float = 2.0) -> bool:
        """Kill what still runs in the cgroup, then remove it; False when it was not there."""
        _check(name)
        removed = False
        for _attempt in range(3):
            pids = self.pids(name)
            if pids:
                _kill(pids, grace)
            busy = False
            for path in reversed(self.dirs(name)):
                try:
                    os.rmdir(path)
                    removed = True
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    if exc.errno != errno.EBUSY:
                        raise VimError(f"cgroup {name}: {exc.strerror}") from exc
                    busy = True  # a process forked meanwhile, or the kernel still holds it
            if not busy:
                return removed
            time.sleep(0.05)
        raise VimError(f"cgroup {name} still busy after killing its processes")

    def prune(self, prefix: str, keep: Iterable[str] = (), grace: float = 2.0) -> list[str]:
        """Remove every cgroup named ``prefix*`` but ``keep``; the names removed."""
        wanted = set(keep)
        gone = [n for n in self.names(prefix) if n not in wanted]
        for name in gone:
            self.remove(name, grace)
        return gone

    # -- what the exporter reads ----------------------------------------------------------
    def info(self, name: str) -> dict[str, Any] | None:
        """The VNFC record written at creation (None: not there or not ours)."""
        try:
            raw = os.getxattr(self.dirs(_check(name))[0], XATTR)
        except OSError:
            return None
        if len(raw) > 4096:
            return None
        try:
            doc = json.loads(raw)
        except ValueError:
            return None
        return doc if isinstance(doc, dict) else None

    def cpu_seconds(self, name: str) -> float | None:
        """CPU time of every process the cgroup ever held (user + system)."""
        if self.version == 2:
            path = self.dir("cpu", name)
            stat = _keyed(_read(os.path.join(path, "cpu.stat"))) if path else {}
            return stat["usage_usec"] / 1e6 if "usage_usec" in stat else None
        path = self.dir("cpuacct", name)
        text = _read(os.path.join(path, "cpuacct.usage")).strip() if path else ""
        return int(text) / 1e9 if text.isdigit() else None

    def memory_bytes(self, name: str) -> float | None:
        """Memory in use, as a working set: the usage minus the page cache that could
        be dropped at once (inactive file pages), as cAdvisor and kubelet count it."""
        path = self.dir("memory", name)
        if path is None:
            return None
        usage_file, inactive_key = (
            ("memory.current", "inactive_file")
            if self.version == 2
            else ("memory.usage_in_bytes", "total_inactive_file")
        )
        text = _read(os.path.join(path, usage_file)).strip()
        if not text.isdigit():
            return None
        inactive = _keyed(_read(os.path.join(path, "memory.stat"))).get(inactive_key, 0)
        return float(max(0, int(text) - inactive))


def _check(name: str) -> str:
    if not name or "/" in name or name.startswith(".") or len(name) > 255:
        raise VimError(f"invalid cgroup name {name!r}")
    return name


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="ascii") as fh:
        fh.write(text)


def _keyed(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            out[parts[0]] = int(parts[1])
    return out


def _kill(pids: list[int], grace: float) -> None:
    live = set(pids)
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        for pid in list(live):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                live.discard(pid)
        deadline = time.monotonic() + wait
        while live and time.monotonic() < deadline:
            live = {p for p in live if os.path.exists(f"/proc/{p}") and not _zombie(p)}
            if live:
                time.sleep(0.02)
        if not live:
            return


def _zombie(pid: int) -> bool:
    text = _read(f"/proc/{pid}/stat")
    return not text or text.rsplit(")", 1)[-1].split()[:1] == ["Z"]


# -- detection --------------------------------------------------------------------------------
def parse_mountinfo(text: str) -> CgroupTree | None:
    """The layout described by a ``/proc/self/mountinfo``; None when it has no usable one.

    v2 wins when the unified tree holds both ``cpu`` and ``memory`` (a plain v2 host);
    on a hybrid host (v1 controllers, an empty unified tree) the v1 hierarchies serve.
    """
    v1: dict[str, str] = {}
    v2: list[str] = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if not sep or len(fields) < 5 or len(tail) < 3:
            continue
        mount_point = _unescape(fields[4])
        if tail[0] == "cgroup2":
            v2.append(mount_point)
        elif tail[0] == "cgroup":
            for opt in tail[2].split(","):
                if opt in ("cpu", "cpuacct", "memory"):
                    v1.setdefault(opt, mount_point)
    if "cpuacct" in v1 and "memory" in v1:
        return CgroupTree(1, v1)
    for mount_point in v2:
        if {"cpu", "memory"} <= set(_read(os.path.join(mount_point, "cgroup.controllers")).split()):
            return CgroupTree(2, {"": mount_point})
    return None


def _unescape(path: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        path = path.replace(code, char)
    return path


_detected: list[CgroupTree | None] = []


def detect() -> CgroupTree | None:
    """This host's cgroup layout (read once per process); None: no cgroups to use."""
    if not _detected:
        _detected.append(parse_mountinfo(_read(MOUNTINFO)))
    return _detected[0]


def join_argv(name: str, tree: CgroupTree | None = None) -> list[str]:
    """Argv prefix that moves the process into cgroup ``name`` before it execs the rest
    (``ip netns exec NAME ...``: it must come first, as ``ip netns exec`` mounts a sysfs
    of its own, without the v1 hierarchies); empty when this host has no cgroups to use."""
    tree = tree if tree is not None else detect()
    if tree is None:
        return []
    return ["/bin/sh", "-c", JOIN_SCRIPT, "vnfm-cgroup", *tree.procs_files(name), "--"]
