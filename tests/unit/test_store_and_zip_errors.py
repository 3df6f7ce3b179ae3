"""A corrupt store gives one CLI line, a clashing zip names its member, a full disk is told apart."""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from ansible_collections.nfv.vnfm.plugins.module_utils.errors import PackageError
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.package import (
    Package,
    content_digest,
)
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from vnfm_runner.nospace import is_no_space

REPO_ROOT = Path(__file__).resolve().parents[2]


def vnfm(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNFM_")}
    return subprocess.run(
        [sys.executable, "-m", "vnfm_runner", *args],
        env={**env, "VNFM_HOME": str(home)},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("command", [("list",), ("op", "list"), ("show", "x")])
def test_a_corrupt_database_is_one_line_naming_the_file(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    db = tmp_path / "vnfm.db"
    db.write_bytes(b"this is not SQLite, it is garbage\n" * 200)
    done = vnfm(tmp_path, *command)
    assert done.returncode == 6, done  # ExitCode.UNAVAILABLE: the store cannot be used
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(db) in lines[0] and "not a database" in lines[0], lines


def _zip(path: Path, members: list[tuple[str, str]]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize(
    ("members", "named"),
    [
        ([("a/b", "file"), ("a/b/c", "inside")], "'a/b' is a file and also a directory"),
        ([("a/b/c", "inside"), ("a/b", "file")], "'a/b' is a file and also a directory"),
        ([("a/b/", ""), ("a/b", "file")], "'a/b' is a file and also a directory"),
        ([("x", "one"), ("x", "two")], "'x' appears twice"),
    ],
)
def test_zip_members_that_clash_are_named(
    tmp_path: Path, members: list[tuple[str, str]], named: str
) -> None:
    archive = _zip(tmp_path / "clash.zip", members)
    with pytest.raises(PackageError) as caught:
        Package.open(archive)
    assert named in str(caught.value)


def test_the_content_digest_ignores_how_a_package_was_zipped(tmp_path: Path) -> None:
    files = [("Definitions/top.yaml", "tosca\n"), ("Files/x.txt", "x\n")]
    one = _zip(tmp_path / "one.zip", files)
    two = _zip(tmp_path / "two.zip", list(reversed(files)))
    changed = _zip(tmp_path / "three.zip", [*files, ("Files/y.txt", "y\n")])
    with Package.open(one) as a, Package.open(two) as b, Package.open(changed) as c:
        assert content_digest(a.root) == content_digest(b.root)
        assert content_digest(a.root) != content_digest(c.root)


def test_no_space_is_told_apart_from_other_failures(tmp_path: Path) -> None:
    assert is_no_space(OSError(errno.ENOSPC, "No space left on device"))
    assert not is_no_space(OSError(errno.EACCES, "Permission denied"))
    assert not is_no_space(ValueError("x"))
    full = sqlite3.OperationalError("database or disk is full")
    wrapped = OperationalError("INSERT", {}, full)
    assert is_no_space(wrapped)
    try:
        raise RuntimeError("while storing") from OSError(errno.EDQUOT, "quota")
    except RuntimeError as exc:
        assert is_no_space(exc)
    # a real SQLite error of another kind is not a full disk
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(OperationalError) as caught, engine.connect() as conn:
        conn.execute(text("SELECT * FROM missing"))
    assert not is_no_space(caught.value)
