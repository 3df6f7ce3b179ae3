"""What a stored package serves: its content as a CSAR zip, its VNFD, one artifact."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from vnfm_runner.core import Limits, Package, PackageError
from vnfm_runner.errors import LcmError, NotFound
from vnfm_runner.package_details import entry_definitions


def zip_dir(root: Path, target: Path) -> None:
    """The directory as a zip (sorted, symlinks left out), written to ``target``."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                full = Path(dirpath) / name
                if not full.is_symlink():
                    zf.write(full, full.relative_to(root).as_posix())


def vnfd_zip(root: Path) -> bytes:
    """Definitions/ and TOSCA-Metadata/ of the package, zipped."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for sub in ("Definitions", "TOSCA-Metadata"):
            base = root / sub
            for full in sorted(base.rglob("*")) if base.is_dir() else []:
                if full.is_file() and not full.is_symlink():
                    zf.write(full, full.relative_to(root).as_posix())
    return buf.getvalue()


def vnfd_text(root: Path, entry: str | None, pkg_id: str) -> bytes:
    """The entry definitions YAML (409 when the package has none or it is unreadable)."""
    entry = entry or entry_definitions(root)
    if not entry:
        raise LcmError(f"VNF package {pkg_id} has no entry definitions", 409)
    try:
        with Package.open(root, Limits()) as pkg:
            return pkg.read_bytes(entry)
    except PackageError:
        raise LcmError(f"VNF package {pkg_id}: entry definitions unreadable", 409) from None


def artifact(root: Path, path: str, pkg_id: str) -> Path:
    """The file of one artifact, inside the package (404 otherwise)."""
    missing = NotFound(f"no artifact {path!r} in VNF package {pkg_id}")
    try:
        with Package.open(root, Limits()) as pkg:
            full = pkg.resolve(path)
    except PackageError:
        raise missing from None
    if not full.is_file() or not full.is_relative_to(root.resolve()):
        raise missing
    return full
