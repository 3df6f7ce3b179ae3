# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""SOL004 manifest (.mf) files: metadata, artifact digests, non-MANO artifact sets.

Local ``Source`` entries have their ``Hash`` checked against the file in the
package (SHA-256/384/512). Remote sources (URLs) are recorded, never fetched.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.errors import Problem

ALGORITHMS = {"SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}
URL_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


@dataclass
class ManifestEntry:
    source: str
    line: int
    algorithm: str | None = None
    hash: str | None = None
    remote: bool = False
    verified: bool = False
    algorithm_line: int | None = None
    hash_line: int | None = None


@dataclass
class Manifest:
    file: str
    metadata: dict[str, str] = field(default_factory=dict)
    entries: list[ManifestEntry] = field(default_factory=list)
    non_mano_artifact_sets: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "metadata": dict(self.metadata),
            "artifacts": [
                {
                    "source": e.source,
                    "algorithm": e.algorithm,
                    "hash": e.hash,
                    "remote": e.remote,
                    "verified": e.verified,
                }
                for e in self.entries
            ],
            "nonManoArtifactSets": {k: list(v) for k, v in self.non_mano_artifact_sets.items()},
        }


def parse_manifest(text: str, file_name: str) -> tuple[Manifest, list[Problem]]:
    """Parse a manifest; return it with the syntax problems found."""
    manifest = Manifest(file_name)
    problems: list[Problem] = []
    section: str | None = None  # "metadata" | "nma" | None
    nma_set: str | None = None
    current: ManifestEntry | None = None
    in_signature = False
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        stripped = line.strip()
        if stripped.startswith("-----BEGIN"):
            in_signature = True
            continue
        if in_signature:
            if stripped.startswith("-----END"):
                in_signature = False
            continue
        if not stripped or stripped.startswith("#"):
            if not stripped:
                current = None if section is None else current
            continue
        indented = line[0] in " \t"
        if not indented:
            section, nma_set = None, None
            key, sep, value = stripped.partition(":")
            if not sep:
                problems.append(
                    Problem(f"expected 'Key: value', got {stripped!r}", file_name, lineno)
                )
                continue
            key, value = key.strip(), value.strip()
            if key == "metadata" and not value:
                section = "metadata"
            elif key == "non_mano_artifact_sets" and not value:
                section = "nma"
            elif key == "Source":
                current = ManifestEntry(value, lineno, remote=bool(URL_RE.match(value)))
                manifest.entries.append(current)
            elif key == "Algorithm":
                if current is None:
                    problems.append(Problem("Algorithm without a Source", file_name, lineno))
                else:
                    current.algorithm = value
                    current.algorithm_line = lineno
            elif key == "Hash":
                if current is None:
                    problems.append(Problem("Hash without a Source", file_name, lineno))
                else:
                    current.hash = value.lower()
                    current.hash_line = lineno
            elif key in ("Signature", "Certificate"):
                continue
            else:
                problems.append(
                    Problem(f"unknown manifest key {key!r}", file_name, lineno, "warning")
                )
            continue
        key, sep, value = stripped.partition(":")
        key, value = key.strip(), value.strip()
        if section == "metadata" and sep:
            manifest.metadata[key] = value
        elif section == "nma":
            if sep and not value and key != "Source":
                nma_set = key
                manifest.non_mano_artifact_sets.setdefault(key, [])
            elif key == "Source" and nma_set is not None:
                manifest.non_mano_artifact_sets[nma_set].append(value)
            elif sep and not value:
                continue  # a sub-heading such as "onap_ves_events:" inside a set
            else:
                problems.append(Problem(f"unexpected line {stripped!r}", file_name, lineno))
        else:
            problems.append(Problem(f"unexpected indented line {stripped!r}", file_name, lineno))
    return manifest, problems


def verify_entry(entry: ManifestEntry, content: bytes, file_name: str) -> Problem | None:
    """Check one local entry's digest; None when it matches."""
    if entry.algorithm is None or entry.hash is None:
        return Problem(
            f"{entry.source}: Source without Algorithm/Hash", file_name, entry.line, "warning"
        )
    algo = ALGORITHMS.get(entry.algorithm.upper())
    if algo is None:
        return Problem(
            f"{entry.source}: unsupported Algorithm {entry.algorithm!r} "
            f"(supported: {', '.join(ALGORITHMS)})",
            file_name,
            entry.algorithm_line or entry.line,
        )
    digest = hashlib.new(algo, content).hexdigest()
    if digest != entry.hash:
        return Problem(
            f"{entry.source}: hash mismatch ({entry.algorithm} is {digest}, manifest says {entry.hash})",
            file_name,
            entry.hash_line or entry.line,
        )
    entry.verified = True
    return None
