"""``vnfm indicator list|show``: the VNF indicators of SOL003 ``vnfind/v1``.

The values the indicator service of ``vnfm serve`` stored (the store of ``VNFM_HOME`` /
``VNFM_DATABASE_URL``): the same documents as ``/vnfind/v1/indicators``. The table of
one instance also lists the indicators it supports that have no value yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from vnfm_runner.cli.output import FORMATS, ExitCode, console, emit, fail, printable, table

if TYPE_CHECKING:
    from vnfm_runner.store.db import Store


def _store() -> Store:
    from vnfm_runner.bootstrap import open_store
    from vnfm_runner.settings import Settings

    return open_store(Settings().db_url)


@click.group("indicator")
def indicator_group() -> None:
    """VNF indicators (SOL003 vnfind/v1): list, show."""


@indicator_group.command("list")
@click.argument("instance_id", required=False)
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
def indicator_list(instance_id: str | None, fmt: str) -> None:
    """List the indicators' current values (of one VNF instance)."""
    from vnfm_runner.assurance import indicators as ind

    store = _store()
    if instance_id is not None and not ind.instance_known(store, instance_id):
        fail(f"error: no VNF instance {instance_id}", ExitCode.NOT_FOUND)
    docs = ind.indicators(store, instance_id)
    if fmt != "table":
        emit(docs, fmt)
        return
    rows: list[list[Any]] = [
        [d["vnfInstanceId"], d["id"], d.get("name") or "", printable(d["value"])] for d in docs
    ]
    if instance_id is not None:  # what it supports and has no value yet
        valued = {d["id"] for d in docs}
        for s in ind.supported(store, instance_id) or []:
            if s["vnfIndicatorId"] not in valued:
                rows.append([instance_id, s["vnfIndicatorId"], s.get("name") or "", "(no value)"])
    console().print(table("VNF indicators", ["instance", "indicator", "name", "value"], rows))


@indicator_group.command("show")
@click.argument("instance_id")
@click.argument("indicator_id")
@click.option("--format", "fmt", type=click.Choice(["json", "yaml"]), default="json")
def indicator_show(instance_id: str, indicator_id: str, fmt: str) -> None:
    """Show one indicator of a VNF instance (SOL003 VnfIndicator)."""
    from vnfm_runner.assurance import indicators as ind

    doc = ind.indicator(_store(), instance_id, indicator_id)
    if doc is None:
        fail(
            f"error: no indicator {indicator_id} of VNF instance {instance_id}", ExitCode.NOT_FOUND
        )
    emit(doc, fmt)
