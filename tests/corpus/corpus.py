"""A corpus of real SOL001/SOL004 packages, assembled at run time into a cache directory.

Two sources, neither copied into the repository:

* ``../shared/conformance/tacker-packages``: read in place, always there.
* every sample and test package of the Tacker release on PyPI: its source distribution
  is downloaded with pip (the only network this needs), the package directories are
  those holding ``TOSCA-Metadata/TOSCA.meta``. Tacker's own tests complete some of them
  from sibling directories before zipping (``common`` for the SOL001 type files, image and
  scripts; ``common_artifact`` or ``user_data_common`` for shared VNFDs): the same is
  done here, with hard links, so each package reads as Tacker's tests onboard it.

``python tests/corpus/corpus.py`` assembles the corpus and prints one line per package.
``bench/corpus.py`` and ``tests/corpus/test_corpus.py`` import it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "conformance" / "tacker-packages"
TACKER_VERSION = "16.0.0"
META = Path("TOSCA-Metadata") / "TOSCA.meta"
DOWNLOAD_TIMEOUT = 300  # seconds; pip also prepares the sdist's metadata

# Problems that are integrity failures (the package is not what its manifest says): such
# packages are refused on purpose; Tacker ships them as negative tests.
INTEGRITY = (
    "not found in package",
    "not in the package",
    "hash mismatch",
    "Entry-Definitions file not found",
    "ETSI-Entry-Manifest not found",
    "Other-Definitions file not found",
    "manifest",
    "TOSCA.meta",
    # Tacker's unit-test fragments that carry only images and no VNF: not a VNF package
    "no VNF node",
)


class CorpusUnavailable(Exception):
    """The downloadable part of the corpus cannot be had (a network edge)."""


@dataclass(frozen=True)
class Entry:
    name: str
    path: Path
    source: str  # "shared" or "tacker-<version>"


@dataclass
class Reading:
    """What the VNFM makes of a package: its kind, or why it is refused."""

    entry: Entry
    kind: str  # "vm", "container" or "refused"
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    model: Any = None

    @property
    def integrity(self) -> bool:
        """Whether every error of a refused package is an integrity failure."""
        errors = [p for p in self.problems if ": warning: " not in p]
        return bool(errors) and all(any(marker in p for marker in INTEGRITY) for p in errors)


def cache_dir() -> Path:
    """``$VNFM_CORPUS_DIR``, else ``$XDG_CACHE_HOME/vnfm-corpus`` (``~/.cache``)."""
    explicit = os.environ.get("VNFM_CORPUS_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vnfm-corpus"


def shared_entries() -> list[Entry]:
    if not SHARED.is_dir():
        return []
    return [
        Entry(d.name, d, "shared")
        for d in sorted(SHARED.iterdir())
        if (d / META).is_file() or (d / "Definitions").is_dir()
    ]


def _download(cache: Path) -> Path:
    """The extracted Tacker sdist (downloaded once)."""
    src = cache / f"tacker-{TACKER_VERSION}"
    if (src / ".extracted").is_file():
        return src
    cache.mkdir(parents=True, exist_ok=True)
    dl = cache / "download"
    archive = next(dl.glob(f"tacker-{TACKER_VERSION}.tar.gz"), None) if dl.is_dir() else None
    if archive is None:
        cmd = [sys.executable, "-m", "pip", "download", f"tacker=={TACKER_VERSION}"]
        cmd += ["--no-deps", "--no-binary", ":all:", "--quiet", "--disable-pip-version-check"]
        cmd += ["-d", str(dl)]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired:
            raise CorpusUnavailable(
                f"pip download tacker timed out ({DOWNLOAD_TIMEOUT} s)"
            ) from None
        archive = next(dl.glob(f"tacker-{TACKER_VERSION}.tar.gz"), None)
        if proc.returncode != 0 or archive is None:
            last = (proc.stderr.strip().splitlines() or ["no sdist"])[-1]
            raise CorpusUnavailable(f"pip download tacker=={TACKER_VERSION} failed: {last}")
    shutil.rmtree(src, ignore_errors=True)
    with tarfile.open(archive) as tar:
        top = f"tacker-{TACKER_VERSION}/"
        wanted = [
            m
            for m in tar.getmembers()
            if m.name.startswith((top + "samples/", top + "doc/source/"))
            and (m.isfile() or m.isdir())
        ]
        tar.extractall(cache, members=wanted, filter="data")
    (src / ".extracted").write_text("ok\n")
    return src


def _package_dirs(src: Path) -> list[Path]:
    """The outermost directories with a TOSCA.meta (nested ones are parts of a package)."""
    found: list[Path] = []
    for meta in sorted(src.rglob(str(META))):
        d = meta.parent.parent
        if not any(p in found for p in d.parents):
            found.append(d)
    return found


def _name(src: Path, d: Path) -> str:
    parts = list(d.relative_to(src).parts)
    if parts and parts[0] == "samples":
        parts = parts[1:]
    if parts and parts[-1] == "contents":
        parts = parts[:-1]
    return "__".join(parts)


def _entry_definitions(d: Path) -> str | None:
    for line in (d / META).read_text(errors="replace").splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Entry-Definitions":
            return value.strip()
    return None


def _overlay(target: Path, source: Path, skip: tuple[str, ...] = ()) -> None:
    """Hard-link (or copy) the files of ``source`` that ``target`` lacks."""
    for f in sorted(source.rglob("*")):
        rel = f.relative_to(source)
        if not f.is_file() or any(str(rel).startswith(s) for s in skip):
            continue
        dest = target / rel
        if dest.exists():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(f, dest)
        except OSError:
            shutil.copy2(f, dest)


def _assemble(d: Path, dest: Path) -> None:
    """The package as Tacker's tests zip it: the sample, completed from its siblings."""
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    _overlay(tmp, d)
    entry = _entry_definitions(d)
    text = " ".join(f.read_text(errors="replace") for f in sorted(tmp.glob("Definitions/*.y*ml")))
    for sibling in ("common_artifact", "user_data_common"):
        shared = sorted((d.parent / sibling).glob("Definitions/*.y*ml"))
        # the sibling holds the entry VNFD, or a file the package's VNFDs import
        if (
            entry and (d.parent / sibling / entry).is_file() and not (tmp / entry).is_file()
        ) or any(f.name in text and not (tmp / "Definitions" / f.name).exists() for f in shared):
            _overlay(tmp, d.parent / sibling)
    common = d.parent / "common"
    if (common / "Definitions").is_dir():
        skip = ("Files/images", "Files/kubernetes", "Scripts") if "test_cnf" in d.name else ()
        _overlay(tmp, common, skip)
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)


def tacker_entries(cache: Path | None = None) -> list[Entry]:
    """Every package of the Tacker release; CorpusUnavailable when it cannot be had."""
    cache = cache or cache_dir()
    packages = cache / "packages" / f"tacker-{TACKER_VERSION}"
    done = packages / ".assembled"
    if not done.is_file():
        src = _download(cache)
        shutil.rmtree(packages, ignore_errors=True)
        packages.mkdir(parents=True)
        names = []
        for d in _package_dirs(src):
            name = _name(src, d)
            _assemble(d, packages / name)
            names.append(name)
        done.write_text("\n".join(names) + "\n")
    names = [n for n in done.read_text().splitlines() if n]
    shared = {e.name for e in shared_entries()}  # the same package twice adds nothing
    return [Entry(n, packages / n, f"tacker-{TACKER_VERSION}") for n in names if n not in shared]


def read(entry: Entry) -> Reading:
    """Load a package as ``vnfm package validate`` does and say what it is."""
    from vnfm_runner.core import PackageError, load_vnf

    try:
        model, warnings = load_vnf(entry.path)
    except PackageError as exc:
        return Reading(entry, "refused", problems=[str(p) for p in exc.problems])
    kind = getattr(model, "deployment_kind", "vm")
    return Reading(entry, kind, warnings=[str(w) for w in warnings], model=model)


def main() -> int:
    entries = shared_entries()
    try:
        entries += tacker_entries()
    except CorpusUnavailable as exc:
        print(f"tacker packages unavailable: {exc}", file=sys.stderr)
    counts: dict[str, int] = {}
    for e in entries:
        r = read(e)
        label = r.kind if r.kind != "refused" else ("integrity" if r.integrity else "REFUSED")
        counts[label] = counts.get(label, 0) + 1
        why = f"  {r.problems[0]}" if r.problems else ""
        print(f"{label:10} {e.source:13} {e.name}{why}")
    print(f"{len(entries)} packages: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.path[:0] = [str(ROOT), str(ROOT / "collections")]
    raise SystemExit(main())
