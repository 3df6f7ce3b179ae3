"""The full corpus matrix on demand: every VM-based package of tests/corpus/corpus.py, at
every flavour and every instantiation level, through tests/corpus/matrix.py (instantiate
with hooks off, scale each aspect to the highest level its VDUs allow, heal, terminate;
the VNFCs checked against the plan after each step and nothing left behind).

Runs on the local VIM (root, iproute2) and on the project's OpenStack test bed when
``scripts/openstack-testbed status`` says it is up (registered as a VIM by
tests/corpus/matrix.register_openstack, every VDU's image mapped to the bed's cirros, the
flavors a package names and the bed lacks created with the sizes its VDUs ask);
otherwise that VIM is reported as skipped. CI runs a representative subset on the local
VIM (tests/corpus) and one package on the bed (tests/openstack/test_corpus_openstack.py).

    .venv/bin/python bench/corpus.py [--package NAME] [--skip NAME] [--limit N] [--shard K/N]
                                     [--vim local|openstack|all] [--json FILE]

``--package`` keeps the packages whose name contains NAME (repeatable), ``--skip`` drops
those whose name is NAME exactly (repeatable); ``--limit`` the first N VM packages after
that; ``--shard K/N`` every N-th of those from the K-th (1-based), so that N processes side
by side share the matrix. ``--json`` is rewritten after every pass (an interrupted run
keeps what it did). Prints one line per pass, then the counts per VIM: packages,
passes, and passes whose instantiate/scale/heal/terminate came out clean, and every failure
with its reason. A level that its VDUs cannot hold (the VNFM refuses that request alone)
is listed as not applicable, not as a failure. Exits 1 when a pass failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "collections")]

from tests.corpus import corpus  # noqa: E402
from tests.corpus.matrix import (  # noqa: E402
    STEPS,
    Outcome,
    openstack_residue,
    register_openstack,
    run_matrix,
)
from tests.integration.conftest import Lifecycle, have_ip, privileged  # noqa: E402
from vnfm_runner.core import PlanError, PlanRequest, plan  # noqa: E402

TESTBED = ROOT / "scripts" / "openstack-testbed"
PROBE_ID = "c0ffee00-0000-4000-8000-00000000be0c"


@dataclass
class Pass:
    vim: str
    package: str
    flavour: str
    level: str | None
    steps: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    not_applicable: str | None = None  # the planner refuses this level: not a failure

    @property
    def clean(self) -> bool:
        return self.not_applicable is None and all(self.steps.get(s) == "ok" for s in STEPS)

    def failure(self) -> str | None:
        if self.not_applicable is not None or self.clean:
            return None
        for step in ("onboard", *STEPS):
            result = self.steps.get(step)
            if result is not None and result != "ok":
                return f"{step}: {result}"
        return "incomplete"


def vm_packages(
    names: list[str], limit: int | None, skip: tuple[str, ...] = ()
) -> tuple[list[corpus.Reading], str | None]:
    """The VM-based readings of the corpus (filtered), and why the Tacker part is missing."""
    entries = corpus.shared_entries()
    missing = None
    try:
        entries += corpus.tacker_entries()
    except corpus.CorpusUnavailable as exc:  # a network edge: the shared part still runs
        missing = str(exc)
    if names:
        entries = [e for e in entries if any(n in e.name for n in names)]
    entries = [e for e in entries if e.name not in skip]
    readings = [r for r in map(corpus.read, entries) if r.kind == "vm"]
    return (readings[:limit] if limit else readings), missing


def combinations(reading: corpus.Reading) -> list[tuple[str, str | None, str | None]]:
    """(flavour, level, why not applicable) for every flavour and level of a package."""
    out: list[tuple[str, str | None, str | None]] = []
    for flavour in reading.model.flavours:
        levels: list[str | None] = [lv.id for lv in flavour.instantiation_levels] or [None]
        for level in levels:
            try:
                plan(reading.model, PlanRequest(PROBE_ID, flavour.id, level))
            except PlanError as exc:
                out.append((flavour.id, level, str(exc).splitlines()[0][:200]))
            else:
                out.append((flavour.id, level, None))
    return out


# -- the OpenStack test bed ------------------------------------------------------------------
def bed_env() -> dict[str, str] | None:
    """The bed's ``OS_*`` settings when ``scripts/openstack-testbed status`` says it is up."""
    if not TESTBED.is_file():
        return None
    try:
        status = subprocess.run(
            [str(TESTBED), "status"], capture_output=True, text=True, timeout=60, check=False
        )
        if status.returncode != 0:
            return None
        out = subprocess.run(
            [str(TESTBED), "env"], capture_output=True, text=True, timeout=60, check=False
        ).stdout
    except subprocess.TimeoutExpired:
        return None
    env = dict(re.findall(r"^export (\w+)=(\S+)$", out, re.MULTILINE))
    return env if "OS_CLOUD" in env and "OS_CLIENT_CONFIG_FILE" in env else None


# -- the run -----------------------------------------------------------------------------------
def run_pass(
    vim: str,
    reading: corpus.Reading,
    flavour: str,
    level: str | None,
    work: Path,
    bed: dict[str, str] | None,
) -> Pass:
    """One pass in a fresh VNFM_HOME; everything of its instances removed afterwards."""
    home = Path(tempfile.mkdtemp(prefix="home-", dir=work))
    os.environ["VNFM_HOME"] = str(home)
    lc = Lifecycle(home=home, tmp=home.parent)
    result = Pass(vim, reading.entry.name, flavour, level)
    started = time.monotonic()
    try:
        outcome: Outcome
        if vim == "openstack" and bed is not None:
            clouds, cloud = bed["OS_CLIENT_CONFIG_FILE"], f"{bed['OS_CLOUD']}-demo"
            name = register_openstack(lc, clouds, cloud, reading.model, bed["OS_CLOUD"])
            residue = openstack_residue(clouds, cloud)
            outcome = run_matrix(lc, reading.entry.path, flavour, level, vim=name, residue=residue)
        else:
            outcome = run_matrix(lc, reading.entry.path, flavour, level)
        result.steps = dict(outcome.steps)
    except Exception as exc:  # the bench goes on with the next pass
        text = str(exc).strip().splitlines()
        result.steps["onboard"] = f"{type(exc).__name__}: {(text or [''])[-1][:300]}"
    finally:
        if vim == "local":
            lc.cleanup()
        result.seconds = time.monotonic() - started
    return result


def report(passes: list[Pass], packages: int, skipped: dict[str, str]) -> None:
    print()
    head = f"{'VIM':10} {'passes':>6} {'n/a':>4} " + " ".join(f"{s:>11}" for s in STEPS)
    print(f"{packages} VM packages")
    print(head + f" {'clean':>6}")
    for vim in ("local", "openstack"):
        if vim in skipped:
            print(f"{vim:10} skipped: {skipped[vim]}")
            continue
        mine = [p for p in passes if p.vim == vim]
        if not mine:
            continue
        run = [p for p in mine if p.not_applicable is None]
        cells = " ".join(f"{sum(p.steps.get(s) == 'ok' for p in run):>11}" for s in STEPS)
        clean = sum(p.clean for p in run)
        print(f"{vim:10} {len(run):>6} {len(mine) - len(run):>4} {cells} {clean:>6}")
    failures = [p for p in passes if p.failure()]
    if failures:
        print("\nfailures:")
        for p in failures:
            print(f"  {p.vim:9} {p.package} {p.flavour}/{p.level or '-'}: {p.failure()}")


def shard(text: str) -> tuple[int, int]:
    """``K/N`` with 1 <= K <= N."""
    k, sep, n = text.partition("/")
    if not (sep and k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise argparse.ArgumentTypeError(f"--shard: {text!r} is not K/N with 1 <= K <= N")
    return int(k), int(n)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--package", action="append", default=[], help="name contains (repeatable)")
    ap.add_argument("--skip", action="append", default=[], help="drop this package (exact name)")
    ap.add_argument("--limit", type=int, default=None, help="the first N VM packages")
    ap.add_argument("--shard", type=shard, default=None, metavar="K/N", help="every N-th from K")
    ap.add_argument("--vim", choices=("local", "openstack", "all"), default="all")
    ap.add_argument("--json", type=Path, default=None, help="write every pass to FILE")
    args = ap.parse_args()

    readings, missing = vm_packages(args.package, args.limit, tuple(args.skip))
    if args.shard:
        k, n = args.shard
        readings = readings[k - 1 :: n]
    if missing:
        print(f"tacker packages unavailable: {missing}", file=sys.stderr)
    vims = ["local", "openstack"] if args.vim == "all" else [args.vim]
    skipped: dict[str, str] = {}
    if "local" in vims and not (privileged() and have_ip()):
        skipped["local"] = "needs root and iproute2"
    bed = bed_env() if "openstack" in vims else None
    if "openstack" in vims and bed is None:
        skipped["openstack"] = "scripts/openstack-testbed status: not running"

    passes: list[Pass] = []
    with tempfile.TemporaryDirectory(prefix="vnfm-corpus-bench-") as tmp:
        for vim in vims:
            if vim in skipped:
                continue
            for reading in readings:
                for flavour, level, why in combinations(reading):
                    if why is not None:
                        p = Pass(vim, reading.entry.name, flavour, level, not_applicable=why)
                    else:
                        p = run_pass(vim, reading, flavour, level, Path(tmp), bed)
                    passes.append(p)
                    if args.json:
                        args.json.write_text(
                            json.dumps([asdict(p) for p in passes], indent=2) + "\n"
                        )
                    state = "n/a " + why if why else ("clean" if p.clean else p.failure())
                    print(
                        f"{vim:9} {p.seconds:6.1f}s {reading.entry.name} "
                        f"{flavour}/{level or '-'}: {state}",
                        flush=True,
                    )
    report(passes, len(readings), skipped)
    return 1 if any(p.failure() for p in passes) else 0


if __name__ == "__main__":
    raise SystemExit(main())
