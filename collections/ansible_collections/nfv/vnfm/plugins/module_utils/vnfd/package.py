# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Open a SOL004 VNF package (CSAR zip or directory) as untrusted input.

A zip is unpacked into a private temporary directory after every member has
been checked (no absolute paths, no ``..``, no symlinks, bounded sizes and
counts). A directory is read in place; every file access goes through
:meth:`Package.resolve`, which refuses anything outside the package root.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.errors import PackageError, Problem


@dataclass(frozen=True)
class Limits:
    """Bounds on what a package may contain (all configurable)."""

    max_files: int = 10_000
    max_file_bytes: int = 512 * 1024 * 1024
    max_total_bytes: int = 2 * 1024 * 1024 * 1024
    max_yaml_bytes: int = 16 * 1024 * 1024
    max_yaml_nodes: int = 1_000_000


@dataclass
class ToscaMeta:
    """The TOSCA-Metadata/TOSCA.meta block 0 (and the Name blocks)."""

    entries: dict[str, str] = field(default_factory=dict)
    other_definitions: list[str] = field(default_factory=list)
    file_blocks: list[dict[str, str]] = field(default_factory=list)

    @property
    def entry_definitions(self) -> str | None:
        return self.entries.get("Entry-Definitions")


def _check_member_name(name: str, source: str) -> str:
    """Normalised relative POSIX path of a zip member, or PackageError."""
    if "\\" in name or "\x00" in name:
        raise PackageError([Problem(f"unsafe member name {name!r}", source)])
    path = PurePosixPath(name)
    if path.is_absolute() or (path.parts and ":" in path.parts[0]):
        raise PackageError([Problem(f"absolute path in package: {name!r}", source)])
    if ".." in path.parts:
        raise PackageError([Problem(f"path escapes the package root: {name!r}", source)])
    return str(path)


class Package:
    """An opened VNF package: a root directory that no access may leave."""

    def __init__(self, root: Path, source: str, limits: Limits, temp_dir: Path | None) -> None:
        self.root = root
        self.source = source
        self.limits = limits
        self._temp_dir = temp_dir
        self.meta: ToscaMeta | None = None
        self.warnings: list[Problem] = []

    # -- opening ----------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike[str], limits: Limits | None = None) -> Package:
        """Open a CSAR zip or a package directory."""
        limits = limits or Limits()
        source = str(path)
        p = Path(path)
        if p.is_dir():
            pkg = cls(p.resolve(), source, limits, None)
            pkg._check_directory()
            return pkg
        if p.is_file():
            if not zipfile.is_zipfile(p):
                raise PackageError([Problem("not a zip (CSAR) file nor a directory", source)])
            temp = Path(tempfile.mkdtemp(prefix="vnfm-pkg-"))
            try:
                _extract_zip(p, temp, limits, source)
            except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError) as exc:
                shutil.rmtree(temp, ignore_errors=True)
                raise PackageError([Problem(f"corrupt zip (CSAR) file: {exc}", source)]) from None
            except RuntimeError as exc:  # e.g. an encrypted member
                shutil.rmtree(temp, ignore_errors=True)
                raise PackageError(
                    [Problem(f"cannot read zip (CSAR) file: {exc}", source)]
                ) from None
            except BaseException:
                shutil.rmtree(temp, ignore_errors=True)
                raise
            return cls(temp, source, limits, temp)
        raise PackageError([Problem("no such file or directory", source)])

    def close(self) -> None:
        """Remove the temporary directory of an unpacked zip."""
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _check_directory(self) -> None:
        count = 0
        total = 0
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            for name in dirnames + filenames:
                full = Path(dirpath) / name
                if full.is_symlink():
                    target = full.resolve()
                    if not target.is_relative_to(self.root):
                        rel = full.relative_to(self.root)
                        raise PackageError(
                            [Problem(f"symlink escapes the package root: {rel}", self.source)]
                        )
            for name in filenames:
                count += 1
                total += (Path(dirpath) / name).lstat().st_size
            if count > self.limits.max_files:
                raise PackageError(
                    [Problem(f"more than {self.limits.max_files} files in package", self.source)]
                )
        if total > self.limits.max_total_bytes:
            raise PackageError(
                [
                    Problem(
                        f"package is larger than {self.limits.max_total_bytes} bytes", self.source
                    )
                ]
            )

    # -- access -------------------------------------------------------------------
    def resolve(self, relpath: str, *, base: str | None = None) -> Path:
        """Absolute path of ``relpath`` (relative to ``base``'s directory, or root).

        Raises PackageError if the result would leave the package root.
        """
        if "\x00" in relpath:
            raise PackageError([Problem(f"unsafe path {relpath!r}", base or self.source)])
        rel = PurePosixPath(relpath)
        if rel.is_absolute():
            raise PackageError([Problem(f"absolute path not allowed: {relpath}", base)])
        start = PurePosixPath(base).parent if base else PurePosixPath(".")
        joined = os.path.normpath(str(start / rel))
        if joined == ".." or joined.startswith("../") or os.path.isabs(joined):
            raise PackageError([Problem(f"path escapes the package root: {relpath}", base)])
        full = (self.root / joined).resolve()
        if not full.is_relative_to(self.root):
            raise PackageError([Problem(f"path escapes the package root: {relpath}", base)])
        return full

    def relative(self, full: Path) -> str:
        return full.relative_to(self.root).as_posix()

    def exists(self, relpath: str, *, base: str | None = None) -> bool:
        try:
            return self.resolve(relpath, base=base).is_file()
        except PackageError:
            return False

    def read_bytes(
        self, relpath: str, *, base: str | None = None, limit: int | None = None
    ) -> bytes:
        full = self.resolve(relpath, base=base)
        name = self.relative(full)
        if not full.is_file():
            raise PackageError([Problem(f"file not found in package: {name}", base)])
        size = full.stat().st_size
        bound = limit if limit is not None else self.limits.max_file_bytes
        if size > bound:
            raise PackageError([Problem(f"file is larger than {bound} bytes", name)])
        return full.read_bytes()

    def files(self) -> list[str]:
        """Every regular file of the package, as sorted relative POSIX paths."""
        out = []
        for dirpath, _dirs, filenames in os.walk(self.root):
            for name in filenames:
                full = Path(dirpath) / name
                if full.is_file() and not full.is_symlink():
                    out.append(self.relative(full))
        return sorted(out)


def _extract_zip(archive: Path, dest: Path, limits: Limits, source: str) -> None:
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        if len(members) > limits.max_files:
            raise PackageError([Problem(f"more than {limits.max_files} files in package", source)])
        total = 0
        files: set[str] = set()
        dirs: set[str] = set()
        for info in members:
            name = _check_member_name(info.filename, source)
            _check_member_kind(name, info.is_dir(), files, dirs, source)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise PackageError([Problem(f"symlink in package: {info.filename}", source)])
            if info.file_size > limits.max_file_bytes:
                raise PackageError(
                    [Problem(f"member larger than {limits.max_file_bytes} bytes: {name}", source)]
                )
            total += info.file_size
            if total > limits.max_total_bytes:
                raise PackageError(
                    [Problem(f"package expands beyond {limits.max_total_bytes} bytes", source)]
                )
        for info in members:
            name = _check_member_name(info.filename, source)
            target = dest / name
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            # Copy with a hard bound: a lying header cannot make us write more.
            written = 0
            with zf.open(info) as src, open(target, "wb") as out:
                while chunk := src.read(1024 * 1024):
                    written += len(chunk)
                    if written > info.file_size or written > limits.max_file_bytes:
                        raise PackageError([Problem(f"member size mismatch: {name}", source)])
                    out.write(chunk)


def _check_member_kind(
    name: str, is_dir: bool, files: set[str], dirs: set[str], source: str
) -> None:
    """Refuse a member that is both a file and a directory, or a file given twice.

    Unpacking such a zip would fail half-way (or silently keep one of the two), so the
    conflict is named before anything is written.
    """
    parents = [str(p) for p in PurePosixPath(name).parents if str(p) != "."]
    if is_dir:
        parents.append(name)
    elif name in files:
        raise PackageError([Problem(f"member {name!r} appears twice in the zip", source)])
    elif name in dirs:
        raise PackageError(
            [Problem(f"member {name!r} is a file and also a directory in the zip", source)]
        )
    for parent in parents:
        if parent in files:
            raise PackageError(
                [Problem(f"member {parent!r} is a file and also a directory in the zip", source)]
            )
    dirs.update(parents)
    if not is_dir:
        files.add(name)


def content_digest(root: str | os.PathLike[str]) -> str:
    """SHA-256 over every regular file of a package directory (paths and bytes).

    Two packages with the same digest hold the same files with the same content,
    however they were zipped (member order, timestamps, compression).
    """
    digest = hashlib.sha256()
    base = Path(root)
    entries = []
    for dirpath, _dirs, filenames in os.walk(base):
        for name in filenames:
            full = Path(dirpath) / name
            if full.is_file():
                entries.append((full.relative_to(base).as_posix(), full))
    for rel, full in sorted(entries):
        # name and size first: no two different trees hash the same stream
        digest.update(f"{rel}\0{full.stat().st_size}\0".encode())
        with open(full, "rb") as handle:
            for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(chunk)
    return digest.hexdigest()


def parse_tosca_meta(text: str, file_name: str) -> ToscaMeta:
    """Parse TOSCA.meta: ``Key: value`` lines; blank lines separate blocks."""
    meta = ToscaMeta()
    blocks: list[dict[str, str]] = [{}]
    problems = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not line.strip():
            if blocks[-1]:
                blocks.append({})
            continue
        if ":" not in line:
            problems.append(Problem(f"expected 'Key: value', got {line!r}", file_name, lineno))
            continue
        key, value = line.split(":", 1)
        key, value = key.strip(), value.strip()
        if key == "Other-Definitions":
            meta.other_definitions.extend(v for v in value.split() if v)
        blocks[-1][key] = value
    if problems:
        raise PackageError(problems)
    meta.entries = blocks[0]
    meta.file_blocks = [b for b in blocks[1:] if b]
    if "Entry-Definitions" not in meta.entries:
        raise PackageError([Problem("TOSCA.meta has no Entry-Definitions", file_name, 1)])
    return meta
