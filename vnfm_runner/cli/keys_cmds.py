"""``vnfm keys rotate``: new token signing and secret sealing keys.

``--tokens`` replaces ``$VNFM_HOME/api/token.key``: every access token issued
before stops working at once, in every server (they re-read a changed key file).
``--sealing`` puts a new key first in ``$VNFM_HOME/secret.key``, re-seals every
sealed value of the store in one transaction and the sealed credentials that
killed runs left in their ``env/extravars``, then drops the old key, which
opens nothing any more. Neither flag: both. The sealing rotation is refused
while an operation runs (its playbook holds values sealed with the old key);
an interrupted rotation is finished by running the command again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from sqlalchemy import select, update

from vnfm_runner.cli.output import ExitCode, fail
from vnfm_runner.domain.states import OperationState
from vnfm_runner.secrets import SecretBox, looks_sealed, write_private
from vnfm_runner.store.db import Store
from vnfm_runner.store.tables import Base

RUNNING = tuple(s for s in OperationState if s.running)


@click.group("keys")
def keys_group() -> None:
    """Rotate the keys that sign API tokens and seal stored secrets."""


@keys_group.command("rotate")
@click.option("--tokens", is_flag=True, help="New API token signing key (revokes every token).")
@click.option("--sealing", is_flag=True, help="New sealing key (re-seals every stored secret).")
def rotate(tokens: bool, sealing: bool) -> None:
    """Rotate the token and/or the sealing key (both without a flag)."""
    from vnfm_runner.cli.lcm_cmds import service

    if not (tokens or sealing):
        tokens = sealing = True
    svc = service()  # recovers dead engines' operations first: they no longer count as running
    if sealing:
        busy = [op.id for op in svc.store.operations() if op.state in RUNNING]
        if busy:
            fail(
                f"error: operations are running ({', '.join(busy)}); rotate the sealing key "
                "when they are over (or after vnfm op cancel)",
                ExitCode.CONFLICT,
            )
        rows, files = rotate_sealing(svc.store, svc.vims.box, svc.settings.runs_dir)
        click.echo(f"sealing key rotated: {rows} stored secrets and {files} run files re-sealed")
    if tokens:
        from vnfm_runner.api.auth import rotate_token_key
        from vnfm_runner.api.config import api_settings

        rotate_token_key(api_settings(svc.settings).api_dir)
        click.echo("token key rotated: every access token issued before is revoked")


def rotate_sealing(store: Store, box: SecretBox, runs_dir: Path) -> tuple[int, int]:
    """Re-seal everything with a new key, then retire the old one: (rows, files) changed."""
    box.begin_rotation()  # from here on the new key seals, the old ones still open
    rows = 0
    with store.session() as session:  # one transaction: every value moves, or none
        for table in Base.metadata.sorted_tables:
            keys = list(table.primary_key.columns)
            for row in session.execute(select(table)).mappings().all():
                changes = {}
                for column in table.columns:
                    value = row[column.name]
                    new = _resealed(value, box)
                    if new != value:
                        changes[column.name] = new
                if changes:
                    where = [key == row[key.name] for key in keys]
                    session.execute(update(table).where(*where).values(**changes))
                    rows += 1
    files = 0
    # the extra vars of runs killed before they could remove them (sealed credentials)
    for path in runs_dir.glob("*/*/env/extravars"):
        text = path.read_text()
        new_text = box.reseal_text(text)
        if new_text != text:
            write_private(path, new_text.encode())
            files += 1
    box.finish_rotation()
    return rows, files


def _resealed(value: Any, box: SecretBox) -> Any:
    """``value`` with every sealed string in it (at any depth) sealed with the new key."""
    if isinstance(value, str):
        return (box.reseal(value) or value) if looks_sealed(value) else value
    if isinstance(value, dict):
        return {k: _resealed(v, box) for k, v in value.items()}
    if isinstance(value, list):
        return [_resealed(v, box) for v in value]
    return value
