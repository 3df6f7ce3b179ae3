"""The SOL003 grant an operation asks of the NFVO before it changes the VIM."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vnfm_runner import records
from vnfm_runner.grants import GrantError, GrantRefused, grant_request
from vnfm_runner.store.tables import InstanceRow, OperationRow

if TYPE_CHECKING:
    from vnfm_runner.lcm.service import Vnfm


def ask_grant(
    svc: Vnfm,
    op: OperationRow,
    instance: InstanceRow,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    heal: list[str] | None = None,
) -> dict[str, Any] | None:
    """Ask the NFVO (first run only); the grant's VIM mapping, or None when stopped."""
    if op.state != "STARTING":
        return dict((op.doc.get("vnfmExecution") or {}).get("vimMapping") or {})
    request = grant_request(
        instance_id=instance.id,
        op_id=op.id,
        operation=op.operation,
        vnfd_id=instance.vnfd_id,
        before=before,
        after=after,
        heal=heal,
    )
    try:
        grant = svc.grants.ask(request)
    except GrantRefused as exc:
        svc._set_state(op, "ROLLED_BACK", error=records.problem("grant refused", str(exc), 403))
        return None
    except GrantError as exc:
        svc._set_state(op, "FAILED_TEMP", error=records.problem("grant failed", str(exc), 503))
        return None
    mapping = grant.vim_mapping()
    op.doc = {
        **op.doc,
        "grantId": grant.id,
        "vnfmExecution": {**(op.doc.get("vnfmExecution") or {}), "vimMapping": mapping},
    }
    svc.store.update_operation(op.id, doc=op.doc)
    return mapping
