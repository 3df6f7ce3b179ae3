"""``vnfm sync [ID] [--format json] [--clean-orphans]``: one synchronisation pass, on demand.

The watcher's pass (docs/assurance.md) run once from the command line: each
INSTANTIATED instance (or the one named) read on its VIM and probed, compared
with its desired state, the differences printed and recorded on the instance
(``instantiatedVnfInfo.vnfmDrift``), the orphans listed. It raises no alarm and
heals nothing (that is the server's watcher); ``--clean-orphans`` removes the
orphans with the VIM driver's own removal by instance id.
"""

from __future__ import annotations

import contextlib
from typing import Any

import click

from vnfm_runner.cli.output import RESULT_FORMATS, ExitCode, console, emit, fail


@click.command("sync")
@click.argument("instance_id", required=False)
@click.option("--format", "fmt", type=RESULT_FORMATS, default="text", show_default=True)
@click.option("--clean-orphans", is_flag=True, help="Remove the VIM resources of no instance.")
def sync(instance_id: str | None, fmt: str, clean_orphans: bool) -> None:
    """Compare every instance's VIM and VNF with its desired state (or one instance's)."""
    from vnfm_runner.assurance.cleanup import clean_orphans as remove_orphans
    from vnfm_runner.assurance.health import ProbeRunner
    from vnfm_runner.assurance.loop import StoreInstances
    from vnfm_runner.assurance.orphans import (
        LOCAL_TARGET,
        local_marked_resources,
        vim_marked_resources,
    )
    from vnfm_runner.assurance.sync import sync_pass, vim_discovery
    from vnfm_runner.cli.services import lcm
    from vnfm_runner.store.db import iso, now

    out = console()
    svc = lcm()
    instances = StoreInstances(svc.store, svc.vims)
    watched = instances.watched()
    if instance_id is not None:
        watched = [w for w in watched if w.instance_id == instance_id]
        if not watched:
            row = svc.store.instance(instance_id)
            if row is None:
                fail(f"error: no VNF instance {instance_id}", ExitCode.NOT_FOUND)
            fail(
                f"error: VNF instance {instance_id} is {row.instantiation_state}",
                ExitCode.CONFLICT,
            )
    skipped = {w.instance_id: w.busy for w in watched if w.busy is not None}
    idle = [w for w in watched if w.busy is None]
    runner = ProbeRunner()

    def probe(targets: Any) -> Any:
        # on demand there is no earlier pass: attempts back to back up to the threshold
        rounds = max((t.probe.failure_threshold for t in targets), default=1)
        results = runner.run(targets)
        for _ in range(rounds - 1):
            if all(r.health != "unknown" for r in results):
                break
            results = runner.run(targets)
        return results

    known = instances.known_ids()

    remote = {name: (name, conn, secrets) for name, conn, secrets in instances.vim_targets()}
    listed: list[Any] = []

    def marked() -> Any:
        # no access to the local VIM here: no local orphans to tell
        with contextlib.suppress(Exception):
            listed.extend(local_marked_resources(known_instance_ids=known))
        listed.extend(vim_marked_resources(remote.values(), known_instance_ids=known))
        return listed

    report = sync_pass(
        [w.spec for w in idle],
        discover=vim_discovery(credentials=instances.credentials),
        prober=probe,
        list_marked=marked,
        known_instance_ids=known,
    )
    stamp = iso(now())
    recorded = {w.instance_id: w.recorded_drift or [] for w in idle}
    for result in report.instances:
        if result.error is None:  # recorded like the watcher does: since when, kept
            seen = {_key(d): d.get("since") for d in recorded[result.instance_id]}
            docs = [d.as_dict() for d in result.drifts]
            instances.record_drift(
                result.instance_id, [{**d, "since": seen.get(_key(d)) or stamp} for d in docs]
            )
    where: dict[str, list[Any]] = {}
    local = LOCAL_TARGET
    for m in listed:  # the VIMs holding each orphaned instance's marks
        target = remote.get(m.vim) or (local if m.vim == local[0] else None)
        if target is not None and target not in where.setdefault(m.instance_id, []):
            where[m.instance_id].append(target)
    # Only what this VNFM made is removed: another VNFM (another VNFM_HOME, a test run)
    # may share the host's VIM, and its instances are not in this store at all.
    ours = svc.store.operated_instance_ids()
    mine = [d for d in report.orphans if d.instance_id in ours]
    foreign = sorted({d.instance_id for d in report.orphans if d.instance_id not in ours})
    cleaned = remove_orphans(mine, where=where) if clean_orphans and mine else {}
    if fmt in ("json", "yaml"):
        doc = report.as_dict()
        doc["skipped"] = skipped
        if clean_orphans:
            doc["cleaned"] = cleaned
            doc["leftAlone"] = foreign
        emit(doc, fmt)
        return
    for result in report.instances:
        if result.error is not None:
            out.print(f"{result.instance_id}: VIM not readable: {result.error}")
        elif not result.drifts:
            out.print(f"{result.instance_id}: in sync")
        else:
            out.print(f"{result.instance_id}: {len(result.drifts)} difference(s)")
            for d in result.drifts:
                out.print(f"  {d.kind.value:15} {d.vnfc_id or '-':10} {d.detail}")
    for inst, why in skipped.items():
        out.print(f"{inst}: skipped, {why}")
    if report.orphans:
        out.print(f"orphans: {len(report.orphans)}")
        for d in report.orphans:
            out.print(f"  {d.observed:10} {d.resource_id} (instance {d.instance_id})")
    for inst, error in cleaned.items():
        out.print(f"removed the orphans of {inst}" if error is None else f"{inst}: {error}")
    if clean_orphans:
        for inst in foreign:
            out.print(f"left alone: {inst} (no operation of this VNFM made it)")
    cost = report.cost_per_instance()
    out.print(
        f"{len(report.instances)} instance(s) in {report.wall_s:.2f}s "
        f"({cost['wallS'] * 1000:.0f} ms, {cost['cpuS'] * 1000:.0f} ms CPU per instance)"
    )
    if any(e is not None for e in cleaned.values()):
        fail("error: some orphans could not be removed")


def _key(drift: Any) -> tuple[Any, ...]:
    return (drift.get("kind"), drift.get("vnfcInstanceId"), drift.get("resourceId"))
