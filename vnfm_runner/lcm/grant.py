"""The SOL003 grant an operation asks of the NFVO before it changes the VIM."""

from __future__ import annotations

from typing import Any

from vnfm_runner import records
from vnfm_runner.domain import OperationState
from vnfm_runner.domain.records import VnfInstanceRecord, VnfLcmOpOccRecord
from vnfm_runner.grants import Grant, GrantError, GrantRefused, grant_request
from vnfm_runner.lcm.ports import Ports
from vnfm_runner.lcm.recording import note, transition


def ask_grant(
    ports: Ports,
    op: VnfLcmOpOccRecord,
    instance: VnfInstanceRecord,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    heal: list[str] | None = None,
) -> dict[str, Any] | None:
    """Ask the NFVO (first run only); the grant's VIM mapping, or None when stopped."""
    if op.state != OperationState.STARTING:
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
    request["isAutomaticInvocation"] = bool(op.doc.get("isAutomaticInvocation"))
    try:
        grant = ports.grants.ask(request)
    except GrantRefused as exc:
        error = records.problem("grant refused", str(exc), 403)
        transition(ports, op, OperationState.ROLLED_BACK, error=error)
        return None
    except GrantError as exc:
        error = records.problem("grant failed", str(exc), 503)
        transition(ports, op, OperationState.FAILED_TEMP, error=error)
        return None
    try:
        mapping = checked_vim_mapping(grant.doc)
    except GrantError as exc:
        error = records.problem("grant failed", str(exc), 502)
        transition(ports, op, OperationState.FAILED_TEMP, error=error)
        return None
    execution = {**(op.doc.get("vnfmExecution") or {}), "vimMapping": mapping}
    note(ports, op, grantId=grant.id, vnfmExecution=execution)
    return mapping


MAX_ASSET_ID = 255
_ASSETS = (
    ("computeResourceFlavours", "vnfdVirtualComputeDescId", "vimFlavourId"),
    ("softwareImages", "vnfdSoftwareImageId", "vimSoftwareImageId"),
)


def checked_vim_mapping(doc: Any) -> dict[str, Any]:
    """The grant's VIM mapping, after checking the NFVO's answer field by field.

    The answer is untrusted input: identifiers must be short printable strings.
    (They reach Ansible as unsafe text anyway; this names the bad field instead of
    handing a VIM a flavour called ``{{ lookup(...) }}``.)
    """
    if not isinstance(doc, dict):
        raise GrantError("the NFVO's grant is not a JSON object")
    assets = doc.get("vimAssets") or {}
    if not isinstance(assets, dict):
        raise GrantError("grant field vimAssets: not an object")
    for kind, desc_key, vim_key in _ASSETS:
        entries = assets.get(kind) or []
        if not isinstance(entries, list):
            raise GrantError(f"grant field vimAssets.{kind}: not a list")
        for i, entry in enumerate(entries):
            where = f"vimAssets.{kind}[{i}]"
            if not isinstance(entry, dict):
                raise GrantError(f"grant field {where}: not an object")
            for key in (desc_key, vim_key):
                if key in entry and entry[key] is not None:
                    _check_identifier(f"{where}.{key}", entry[key])
    return Grant(id=str(doc.get("id") or ""), doc=doc).vim_mapping()


def _check_identifier(field: str, value: Any) -> None:
    if not isinstance(value, str):
        raise GrantError(f"grant field {field}: not a string")
    if not 0 < len(value) <= MAX_ASSET_ID:
        raise GrantError(f"grant field {field}: must be 1 to {MAX_ASSET_ID} characters")
    if not value.isprintable() or _not_an_identifier(value):
        raise GrantError(f"grant field {field}: {value[:60]!r} is not a plain identifier")


def _not_an_identifier(value: str) -> bool:
    """Template delimiters or unpaired surrogates: never part of a VIM identifier."""
    return any(mark in value for mark in ("{{", "{%", "{#")) or any(
        0xD800 <= ord(c) <= 0xDFFF for c in value
    )
