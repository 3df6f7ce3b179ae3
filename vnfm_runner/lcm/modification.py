"""MODIFY_INFO's checks: what a VnfInfoModificationRequest may change, refused early."""

from __future__ import annotations

from typing import Any

from vnfm_runner import records
from vnfm_runner.domain import InstantiationState
from vnfm_runner.domain.records import VnfInstanceRecord
from vnfm_runner.errors import LcmError, VimConfigError
from vnfm_runner.lcm.ports import Ports
from vnfm_runner.vims import sol003_vim_type, vim_type_names, vim_type_of


def modified(
    ports: Ports, doc: dict[str, Any], request: dict[str, Any], execution: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The instance document after a checked modification, and what else it changes:
    ``package`` (a NOT_INSTANTIATED VNF now of another package), ``vim`` (new
    connection data for the VIM the VNF runs on)."""
    doc = records.modified(doc, request)
    fields: dict[str, Any] = {}
    pkg = ports.records.package(execution["packageId"]) if execution.get("packageId") else None
    if pkg is not None:
        doc.update(records.package_fields(pkg.summary, pkg.id))
        fields["package"] = pkg
    if execution.get("vim"):
        target = ports.vims.unseal(execution["vim"])
        doc["vimConnectionInfo"] = {target.name: target.sol003()}
        fields["vim"] = execution["vim"]
    return doc, fields


SWITCHES = ("isAutohealEnabled", "isAutoscaleEnabled")  # the closed loop reads them


def check_switches(request: dict[str, Any], *, nullable: bool = False) -> None:
    """``vnfConfigurableProperties.isAutohealEnabled``/``isAutoscaleEnabled`` are
    booleans (null in a modification: back to the package's default)."""
    props = request.get("vnfConfigurableProperties")
    if props is None:
        return
    if not isinstance(props, dict):
        raise LcmError("vnfConfigurableProperties must be an object", 400)
    for key in SWITCHES:
        value = props.get(key)
        if key in props and not isinstance(value, bool) and not (nullable and value is None):
            raise LcmError(
                f"vnfConfigurableProperties.{key} must be true or false, not {value!r}", 400
            )


def check_modification(
    ports: Ports, instance: VnfInstanceRecord, request: dict[str, Any]
) -> dict[str, Any]:
    """Refuse (4xx naming the field) a VnfInfoModificationRequest that cannot be applied.

    ``vnfdId`` must name an onboarded package; a NOT_INSTANTIATED VNF takes it, an
    INSTANTIATED one changes package with change_vnfpkg only (its VNFCs run the old
    one). ``vimConnectionInfo`` may only give new connection data (endpoint,
    credentials) for the VIM an INSTANTIATED VNF runs on, with a vimType this VNFM
    has a driver for. Returns what the operation applies on completion.
    """
    out: dict[str, Any] = {}
    check_switches(request, nullable=True)
    if "vnfdId" in request:
        vnfd_id = request["vnfdId"]
        if not isinstance(vnfd_id, str) or not vnfd_id:
            raise LcmError("vnfdId must be a non-empty string", 400)
        if vnfd_id != instance.vnfd_id:
            pkg = ports.records.package_by_vnfd(vnfd_id)
            if pkg is None:
                raise LcmError(f"vnfdId {vnfd_id!r}: no onboarded VNF package has it", 422)
            if instance.instantiation_state == InstantiationState.INSTANTIATED:
                raise LcmError(
                    f"vnfdId {vnfd_id!r}: the package of an INSTANTIATED VNF changes with "
                    "change_vnfpkg (its VNFCs run the current one), not with a modification",
                    409,
                )
            out["packageId"] = pkg.id
    if "vimConnectionInfo" in request:
        vim = _check_vim_connection(ports, instance, request["vimConnectionInfo"])
        if vim is not None:
            out["vim"] = vim
    return out


def _check_vim_connection(
    ports: Ports, instance: VnfInstanceRecord, vci: Any
) -> dict[str, Any] | None:
    """The sealed new connection of the instance's VIM, None when nothing changes."""
    if not isinstance(vci, dict):
        raise LcmError("vimConnectionInfo must map ids to VimConnectionInfo objects", 400)
    current = ports.vims.unseal(instance.vim)
    sealed = None
    for vim_id, info in vci.items():
        field = f"vimConnectionInfo.{vim_id}"
        if info is not None and not isinstance(info, dict):
            raise LcmError(f"{field} must be an object or null", 400)
        vim_type = info.get("vimType") if info is not None else None
        if info is not None and vim_type_of(vim_type) is None:
            known = ", ".join(vim_type_names())
            raise LcmError(
                f"{field}.vimType {vim_type!r} is not a VIM type this VNFM has a driver for "
                f"(known: {known})",
                422,
            )
        if instance.instantiation_state != InstantiationState.INSTANTIATED:
            raise LcmError(
                f"{field}: a NOT_INSTANTIATED VNF has no VIM yet; give vimConnectionInfo "
                "in the InstantiateVnfRequest",
                422,
            )
        if vim_id != current.name or info is None:
            raise LcmError(
                f"{field}: the VNF runs on VIM {current.name!r}; only that VIM's connection "
                "can be modified, not removed nor another VIM added",
                422,
            )
        if vim_type_of(vim_type) != current.vim_type:
            raise LcmError(
                f"{field}.vimType {vim_type!r}: the VNF runs on a {current.vim_type} VIM; "
                "moving it to another VIM type is not a modification",
                422,
            )
        if not current.connection_data:
            continue  # a VIM without connection data (the local one): nothing to change
        # the SOL003 name of its type: the driver reads the request's fields
        sol003 = {vim_id: {**info, "vimType": sol003_vim_type(current.vim_type)}}
        try:
            target = ports.vims.resolve(None, sol003, "")
        except VimConfigError as exc:
            raise LcmError(str(exc), 422) from None
        target.name = current.name
        sealed = ports.vims.seal(target)
    return sealed
