"""What SOL005's VnfPkgInfo tells of a stored package: entry definitions and artifacts.

Shared by the API (uploads) and the service (a package onboarded from the CLI or the
Python API gets its VnfPkgInfo, and so its onboarding notification, at once).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

CHUNK = 1024 * 1024


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def entry_definitions(root: Path) -> str | None:
    meta = root / "TOSCA-Metadata" / "TOSCA.meta"
    if meta.is_file():
        for line in meta.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "Entry-Definitions" and value.strip():
                return value.strip()
    yamls = sorted(p.name for p in root.glob("*.yaml")) + sorted(p.name for p in root.glob("*.yml"))
    return yamls[0] if yamls else None


def package_details(root: Path) -> dict[str, Any]:
    """Entry definitions and the additional artifacts (with digests) of a stored package."""
    artifacts = []
    if root.is_dir():
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                full = Path(dirpath) / name
                rel = full.relative_to(root).as_posix()
                if full.is_symlink() or rel.startswith(("Definitions/", "TOSCA-Metadata/")):
                    continue
                artifacts.append(
                    {
                        "artifactPath": rel,
                        "checksum": {"algorithm": "SHA-256", "hash": file_sha256(full)},
                    }
                )
    return {"entryDefinitions": entry_definitions(root), "artifacts": artifacts}
