#!/usr/bin/env python3
"""Rewrite the artifact digests of a SOL004 package manifest (.mf) in place.

    scripts/package-manifest.py examples/packages/webfarm
    scripts/package-manifest.py --check examples/packages/webfarm   # CI: exit 1 if stale

The manifest is the one named by ``ETSI-Entry-Manifest`` in
``TOSCA-Metadata/TOSCA.meta`` (else the only ``*.mf`` at the package root).
Its ``metadata:`` block and its ``non_mano_artifact_sets:`` block are kept as
written; the ``Source``/``Algorithm``/``Hash`` entries are regenerated for
every file of the package except the manifest itself (hidden files and
``__pycache__`` are skipped), sorted by path, so the output is deterministic.
A signature block, if any, is dropped (it would no longer match).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

ALGORITHMS = {"SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}
SKIP_DIRS = {"__pycache__"}


def find_manifest(package: Path) -> Path:
    meta = package / "TOSCA-Metadata" / "TOSCA.meta"
    if meta.is_file():
        for line in meta.read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip() == "ETSI-Entry-Manifest":
                return package / value.strip()
    candidates = sorted(package.glob("*.mf"))
    if len(candidates) != 1:
        raise SystemExit(f"{package}: cannot tell which manifest to use ({len(candidates)} *.mf)")
    return candidates[0]


def package_files(package: Path, manifest: Path) -> list[str]:
    files = []
    for path in package.rglob("*"):
        rel = path.relative_to(package)
        if any(part.startswith(".") or part in SKIP_DIRS for part in rel.parts):
            continue
        if path.is_file() and path != manifest:
            files.append(rel.as_posix())
    return sorted(files)


def split_manifest(text: str) -> tuple[list[str], list[str]]:
    """Return (metadata block lines, non_mano_artifact_sets block lines)."""
    metadata: list[str] = []
    nma: list[str] = []
    section: str | None = None
    in_signature = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("-----BEGIN"):
            in_signature = True
            print(f"note: dropping the signature block ({stripped})", file=sys.stderr)
        if in_signature:
            in_signature = not stripped.startswith("-----END")
            continue
        if line and not line[0].isspace():
            key = stripped.partition(":")[0].strip()
            section = {"metadata": "metadata", "non_mano_artifact_sets": "nma"}.get(key)
            if key in ("Signature", "Certificate"):
                continue
        target = {"metadata": metadata, "nma": nma}.get(section or "")
        if target is not None and (stripped or target):
            target.append(line.rstrip())
    for block in (metadata, nma):
        while block and not block[-1]:
            block.pop()
    return metadata, nma


def render(package: Path, manifest: Path, algorithm: str) -> str:
    metadata, nma = split_manifest(manifest.read_text(encoding="utf-8"))
    if not metadata:
        raise SystemExit(f"{manifest}: no 'metadata:' block")
    out = [*metadata, ""]
    for rel in package_files(package, manifest):
        digest = hashlib.new(ALGORITHMS[algorithm], (package / rel).read_bytes()).hexdigest()
        out += [f"Source: {rel}", f"Algorithm: {algorithm}", f"Hash: {digest}", ""]
    if nma:
        out += [*nma, ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", type=Path, help="package directory (unzipped CSAR)")
    parser.add_argument("--algorithm", choices=sorted(ALGORITHMS), default="SHA-256")
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if stale")
    args = parser.parse_args(argv)

    package: Path = args.package.resolve()
    manifest = find_manifest(package)
    if not manifest.is_file():
        raise SystemExit(f"{manifest}: manifest not found")
    new = render(package, manifest, args.algorithm)
    old = manifest.read_text(encoding="utf-8")
    if args.check:
        if new != old:
            print(f"{manifest}: digests are out of date", file=sys.stderr)
            return 1
        return 0
    if new != old:
        manifest.write_text(new, encoding="utf-8")
        print(f"{manifest}: updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
