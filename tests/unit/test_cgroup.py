"""The local VIM's per-VNFC cgroups: layout detection (v1, v2, hybrid), paths, the
join command, and the figures read, on fake trees (this host is v1; a v2 host is
reproduced by a directory with the files the kernel would show)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._local import cgroup

V1 = """\
25 30 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
27 25 0:24 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
28 25 0:25 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
29 25 0:26 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
"""
SEPARATE = """\
1 0 0:1 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu
2 0 0:2 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct
3 0 0:3 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
4 0 0:4 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
"""


def v2_mountinfo(root: Path) -> str:
    escaped = str(root).replace(" ", "\\040")
    return f"30 1 0:27 / {escaped} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"


def fake_v2(tmp: Path) -> Path:
    root = tmp / "cg v2"  # a space: mountinfo escapes it
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (root / "cgroup.subtree_control").write_text("")
    return root


def test_v1_combined_and_separate_hierarchies() -> None:
    tree = cgroup.parse_mountinfo(V1)
    assert tree is not None and tree.version == 1
    assert tree.dir("cpuacct", "vnfm-i-web-0") == "/sys/fs/cgroup/cpu,cpuacct/vnfm/vnfm-i-web-0"
    assert tree.dir("memory") == "/sys/fs/cgroup/memory/vnfm"
    # cpu and cpuacct share one hierarchy: the process joins it once
    assert tree.procs_files("vnfm-i-web-0") == [
        "/sys/fs/cgroup/cpu,cpuacct/vnfm/vnfm-i-web-0/cgroup.procs",
        "/sys/fs/cgroup/memory/vnfm/vnfm-i-web-0/cgroup.procs",
    ]
    tree = cgroup.parse_mountinfo(SEPARATE)
    assert tree is not None and tree.version == 1 and len(tree.dirs("x")) == 3


def test_v2_detected_only_with_cpu_and_memory(tmp_path: Path) -> None:
    root = fake_v2(tmp_path)
    tree = cgroup.parse_mountinfo(v2_mountinfo(root))
    assert tree == cgroup.CgroupTree(2, {"": str(root)})
    assert tree.dir("memory", "n") == tree.dir("cpu", "n") == str(root / "vnfm" / "n")
    assert tree.procs_files("n") == [str(root / "vnfm" / "n" / "cgroup.procs")]
    (root / "cgroup.controllers").write_text("pids io\n")
    assert cgroup.parse_mountinfo(v2_mountinfo(root)) is None
    # a hybrid host: the v1 controllers serve, the empty unified tree does not
    assert cgroup.parse_mountinfo(V1 + v2_mountinfo(root)).version == 1  # type: ignore[union-attr]
    assert cgroup.parse_mountinfo("garbage\n\n1 2 3 - \n") is None


def test_names_are_checked() -> None:
    tree = cgroup.parse_mountinfo(V1)
    assert tree is not None
    for bad in ("", "../x", "a/b", ".hidden"):
        with pytest.raises(VimError, match="invalid cgroup name"):
            tree.procs_files(bad)


def test_v2_create_records_sizing_and_caps_cpu(tmp_path: Path) -> None:
    root = fake_v2(tmp_path)
    tree = cgroup.CgroupTree(2, {"": str(root)})
    info = {"vnfInstanceId": "i", "vnfcId": "web-0", "vduId": "web", "vcpus": 2.0}
    tree.create("vnfm-i-web-0", info, vcpus=2)
    # the controllers are delegated down to the VNFCs' level
    assert (root / "cgroup.subtree_control").read_text() == "+cpu +memory"
    assert (root / "vnfm" / "cgroup.subtree_control").read_text() == "+cpu +memory"
    assert (root / "vnfm" / "vnfm-i-web-0" / "cpu.max").read_text() == "200000 100000"
    assert tree.info("vnfm-i-web-0") == info
    assert tree.names("vnfm-i-") == ["vnfm-i-web-0"] and tree.names("vnfm-j-") == []


def test_v2_figures(tmp_path: Path) -> None:
    root = fake_v2(tmp_path)
    tree = cgroup.CgroupTree(2, {"": str(root)})
    d = root / "vnfm" / "n"
    d.mkdir(parents=True)
    assert tree.cpu_seconds("n") is None and tree.memory_bytes("n") is None
    (d / "cpu.stat").write_text("usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n")
    (d / "memory.current").write_text("104857600\n")
    (d / "memory.stat").write_text("anon 83886080\nfile 20971520\ninactive_file 10485760\n")
    assert tree.cpu_seconds("n") == 2.5
    assert tree.memory_bytes("n") == 104857600 - 10485760


def test_v1_figures(tmp_path: Path) -> None:
    tree = cgroup.CgroupTree(1, {"cpuacct": str(tmp_path / "a"), "memory": str(tmp_path / "m")})
    (tmp_path / "a" / "vnfm" / "n").mkdir(parents=True)
    (tmp_path / "m" / "vnfm" / "n").mkdir(parents=True)
    (tmp_path / "a" / "vnfm" / "n" / "cpuacct.usage").write_text("1500000000\n")
    (tmp_path / "m" / "vnfm" / "n" / "memory.usage_in_bytes").write_text("5000\n")
    (tmp_path / "m" / "vnfm" / "n" / "memory.stat").write_text(
        "cache 1000\ninactive_file 10\ntotal_inactive_file 1000\n"
    )
    assert tree.cpu_seconds("n") == 1.5
    assert tree.memory_bytes("n") == 4000


def test_unreadable_record_is_none(tmp_path: Path) -> None:
    tree = cgroup.CgroupTree(2, {"": str(tmp_path)})
    d = tmp_path / "vnfm" / "n"
    d.mkdir(parents=True)
    assert tree.info("n") is None
    if os.geteuid() != 0:
        pytest.skip("trusted.* extended attributes need root")
    os.setxattr(d, cgroup.XATTR, b"[1, 2]")
    assert tree.info("n") is None
    os.setxattr(d, cgroup.XATTR, b"{not json")
    assert tree.info("n") is None
    os.setxattr(d, cgroup.XATTR, json.dumps({"vcpus": 2}).encode())
    assert tree.info("n") == {"vcpus": 2}


def test_join_script_writes_its_pid_then_execs(tmp_path: Path) -> None:
    """The shell writes its own pid into every file it can, skips what it cannot, then
    becomes the command (same pid)."""
    tree = cgroup.CgroupTree(1, {"cpuacct": str(tmp_path / "a"), "memory": str(tmp_path / "m")})
    (tmp_path / "a" / "vnfm" / "n").mkdir(parents=True)  # memory's directory is missing
    argv = cgroup.join_argv("n", tree)
    out = subprocess.run([*argv, "sh", "-c", "echo $$"], capture_output=True, text=True, check=True)
    pid = out.stdout.strip()
    assert (tmp_path / "a" / "vnfm" / "n" / "cgroup.procs").read_text().strip() == pid
    assert out.stderr == ""
