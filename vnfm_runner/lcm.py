"""The LCM service: packages, VNF instances and their lifecycle operations.

Every entry point (CLI, later the SOL003 API) calls these functions. An
operation is recorded (STARTING → PROCESSING → COMPLETED | FAILED_TEMP |
ROLLED_BACK), runs exactly one operation playbook through ansible-runner,
and only a completed operation changes the VnfInstance.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vnfm_runner import records
from vnfm_runner.core import (
    CUSTOM,
    HOOK_PREFIX,
    STEP_OPERATIONS,
    Limits,
    Package,
    PackageError,
    PlanError,
    PlanRequest,
    VnfModel,
    decide_plan,
    load_vnf,
    package_summary,
    plan,
)
from vnfm_runner.engine import (
    ENGINE_ID,
    LEASE_TTL,
    OP_ENV,
    CancelWatch,
    Lease,
    LeaseLost,
    recover,
)
from vnfm_runner.errors import LcmError, NotFound, VimConfigError
from vnfm_runner.executor import EventSink, RunResult, run_playbook
from vnfm_runner.grants import GrantClient, GrantError, GrantRefused, grant_request
from vnfm_runner.paths import PLAYBOOKS_DIR
from vnfm_runner.secrets import SecretBox, redact
from vnfm_runner.settings import Settings
from vnfm_runner.store.db import BusyError, Store, iso, now
from vnfm_runner.store.tables import InstanceRow, OperationRow, PackageRow
from vnfm_runner.vims import VimRegistry, VimTarget, check_local_vim

Submit = Callable[[str, str], None]
Listener = Callable[[str, dict[str, Any]], None]

# SOL003 operation -> the role and playbook that carry it out.
ROLE_OF = {
    "SCALE": "scale",
    "SCALE_TO_LEVEL": "scale_to_level",
    "CHANGE_FLAVOUR": "change_flavour",
    "HEAL": "heal",
    "OPERATE": "operate",
    "CHANGE_EXT_CONN": "change_ext_conn",
    "CHANGE_VNFPKG": "change_vnfpkg",
    "MODIFY_INFO": "modify_info",
}
GENERIC_OPERATIONS = tuple(ROLE_OF)


class Vnfm:
    """The service layer over one store."""

    def __init__(
        self,
        settings: Settings,
        store: Store | None = None,
        *,
        submit: Submit | None = None,
        recover_now: bool = True,
    ) -> None:
        """``submit(op_id, mode)`` runs operations asked with wait=False (a server's
        worker pool); without it, each such operation runs in a detached process."""
        self.settings = settings
        self.store = store or Store(settings.db_url)
        self.vims = VimRegistry(self.store, SecretBox(settings.home))
        self.grants = GrantClient(settings)
        self.submit = submit
        # In-process observers (the server's metrics), called with (kind, document):
        # ("operation", VnfLcmOpOcc) at each state change, ("instance_created" |
        # "instance_deleted", VnfInstance). Subscribers' notifications do not go
        # through here: the store writes them in the transaction of the change
        # (vnfm_runner/notify/journal.py), whichever process makes it.
        self.listeners: list[Listener] = []
        self._watches: dict[str, CancelWatch] = {}
        if recover_now:  # a server registers its listeners first, then recovers
            self.recover()

    def _notify(self, kind: str, doc: dict[str, Any]) -> None:
        for listener in self.listeners:
            listener(kind, doc)

    # -- packages -------------------------------------------------------------
    def onboard(self, path: str | Path, package_id: str | None = None) -> PackageRow:
        """Validate a package and keep a private copy of it; return its record."""
        model, _warnings = load_vnf(path)  # raises PackageError with every problem
        existing = self.store.package_by_vnfd(model.vnfd_id)
        if existing is not None and Path(existing.path).is_dir():
            return existing
        pkg_id = package_id or str(uuid.uuid4())  # the API's package id, when it has one
        target = self.settings.packages_dir / pkg_id
        target.parent.mkdir(parents=True, exist_ok=True)
        with Package.open(path, Limits()) as pkg:
            shutil.copytree(pkg.root, target, symlinks=False)
        row = PackageRow(
            id=pkg_id,
            vnfd_id=model.vnfd_id,
            path=str(target),
            summary=package_summary(model),
            onboarding_state="ONBOARDED",
            operational_state="ENABLED",
            created_at=now(),
        )
        self.store.add_package(row)
        return row

    def _package_for(
        self, instance: InstanceRow, package_id: str | None = None
    ) -> tuple[PackageRow, VnfModel]:
        row = self.store.package(package_id or instance.package_id)
        if row is None:
            raise LcmError(f"the package {instance.package_id} of instance {instance.id} is gone")
        model, _warnings = load_vnf(row.path)
        return row, model

    # -- instances ---------------------------------------------------------------
    def create(
        self, *, vnfd_id: str, name: str | None = None, description: str | None = None
    ) -> dict[str, Any]:
        pkg = self.store.package_by_vnfd(vnfd_id)
        if pkg is None:
            raise NotFound(f"no onboarded package has vnfdId {vnfd_id}")
        instance_id = str(uuid.uuid4())
        doc = records.new_instance(
            instance_id=instance_id,
            package_id=pkg.id,
            summary=pkg.summary,
            name=name,
            description=description,
        )
        self.store.add_instance(
            InstanceRow(
                id=instance_id,
                vnfd_id=vnfd_id,
                package_id=pkg.id,
                instantiation_state="NOT_INSTANTIATED",
                doc=doc,
                desired_state=None,
                created_at=now(),
            )
        )
        self._notify("instance_created", doc)
        return doc

    def instance(self, instance_id: str) -> InstanceRow:
        row = self.store.instance(instance_id)
        if row is None:
            raise NotFound(f"no VNF instance {instance_id}")
        return row

    def _idle_instance(self, instance_id: str) -> InstanceRow:
        """The instance, refused (409) while one of its operations is not final."""
        row = self.instance(instance_id)
        busy = self.store.active_operation(instance_id)
        if busy is not None:
            raise LcmError(
                f"VNF instance {instance_id} is busy: operation {busy.id} "
                f"({busy.operation}) is {busy.state}"
            )
        return row

    def delete(self, *, instance_id: str) -> None:
        row = self._idle_instance(instance_id)
        if row.instantiation_state != "NOT_INSTANTIATED":
            raise LcmError(
                f"VNF instance {instance_id} is {row.instantiation_state}; terminate it first"
            )
        self.store.delete_instance(instance_id)
        self._notify("instance_deleted", row.doc)

    def resolve_vim(self, name: str | None, request: dict[str, Any]) -> VimTarget:
        try:
            target = self.vims.resolve(
                name, request.get("vimConnectionInfo"), self.settings.default_vim
            )
            if target.vim_type == "local":
                check_local_vim()  # before anything is recorded
            return target
        except VimConfigError as exc:
            raise LcmError(str(exc), 422) from None

    # -- operations ----------------------------------------------------------------
    def _start(
        self,
        instance: InstanceRow,
        operation: str,
        params: dict[str, Any],
        execution: dict[str, Any],
    ) -> OperationRow:
        op_id = str(uuid.uuid4())
        row = OperationRow(
            id=op_id,
            vnf_instance_id=instance.id,
            operation=operation,
            state="STARTING",
            doc={
                **records.new_operation(
                    op_id=op_id, instance_id=instance.id, operation=operation, params=params
                ),
                "vnfmExecution": execution,
            },
            runner_ident=None,
            artifacts_dir=None,
            desired_before=instance.desired_state,
            desired_after=None,
            engine_id=None,
            # Unclaimed for longer than a lease: its engine never started (recovered).
            lease_expires_at=now() + LEASE_TTL,
            created_at=now(),
        )
        try:
            self.store.start_operation(row)
        except BusyError as exc:
            raise LcmError(str(exc)) from None
        return row

    def _set_state(self, op: OperationRow, state: str, **doc_fields: Any) -> None:
        op.doc = {**op.doc, "operationState": state, "stateEnteredTime": iso(now()), **doc_fields}
        op.state = state
        self.store.update_operation(
            op.id,
            state=state,
            doc=op.doc,
            runner_ident=op.runner_ident,
            artifacts_dir=op.artifacts_dir,
        )
        self._notify("operation", self.operation(op.id))

    def _hooks(
        self, model: VnfModel, flavour_id: str, names: list[str], enabled: bool, package_dir: str
    ) -> dict[str, str]:
        hooks = {name: str(PLAYBOOKS_DIR / "hooks" / "noop.yml") for name in names}
        flavour = model.flavour(flavour_id)
        if not enabled or flavour is None:
            return hooks
        for name in names:
            op = flavour.operation(name)
            if op is not None and op.artifact_file and op.artifact_file.endswith((".yml", ".yaml")):
                hooks[name] = str(Path(package_dir) / op.artifact_file)
        return hooks

    def _run(
        self,
        op: OperationRow,
        playbook: str,
        *,
        trusted: dict[str, Any],
        untrusted: dict[str, Any],
        credentials: dict[str, Any] | None = None,
        on_event: EventSink | None,
        timeout: int | None = None,
        suffix: str = "",
    ) -> RunResult:
        # One private data dir per run: a retry or a rollback gets its own.
        op_dir = self.settings.runs_dir / op.id
        attempt = len(list(op_dir.iterdir())) + 1 if op_dir.is_dir() else 1
        ident = f"{attempt}-{op.operation.lower()}{suffix}"
        run_dir = op_dir / ident
        op.runner_ident = ident
        op.artifacts_dir = str(run_dir / "artifacts" / ident)
        self.store.update_operation(op.id, runner_ident=ident, artifacts_dir=op.artifacts_dir)
        watch = self._watches.get(op.id)

        def events(event: dict[str, Any]) -> None:
            if watch is not None:
                watch.on_event(event)
            if on_event is not None:
                on_event(event)

        params = (op.doc.get("operationParams") or {}).get("additionalParams") or {}
        task_timeout = _positive(params.get("vnfm_task_timeout"), self.settings.task_timeout)
        op_timeout = _positive(
            params.get("vnfm_operation_timeout"), self.settings.operation_timeout
        )
        return run_playbook(
            playbook=playbook,
            private_data_dir=run_dir,
            ident=ident,
            # the operation's id lets the VIM tell work this operation already did (retry)
            trusted_vars={"vnfm_operation_id": op.id, **trusted},
            untrusted_vars=untrusted,
            secret_vars={"vnfm_vim_credentials": credentials or {}},
            on_event=events,
            timeout=max(timeout or 0, op_timeout),
            cancel=watch,
            # A hung hook task fails the operation instead of holding it forever.
            extra_env={OP_ENV: op.id, "ANSIBLE_TASK_TIMEOUT": str(task_timeout)},
        )

    def _fail(self, op: OperationRow, result: RunResult, what: str) -> None:
        """FAILED_TEMP with the failure (or the cancellation) described."""
        if result.status == "canceled":
            # the request is in the store (op.doc is this engine's copy, from before it)
            mode = self.store.cancel_mode(op.id) or "FORCEFUL"
            error = records.problem(
                "operation cancelled", f"{what} was cancelled ({mode})", status=409
            )
        else:
            error = self._failure(result, what)
        self._set_state(op, "FAILED_TEMP", error=error, isCancelPending=False)

    def _rollback_failed(self, op: OperationRow, result: RunResult) -> None:
        """FAILED_TEMP again, keeping the operation's own error beside the rollback's."""
        original = dict(op.doc.get("error") or {})
        error = {**original, "rollbackError": self._failure(result, "rollback")}
        if not original:
            error = self._failure(result, "rollback")
        self._set_state(op, "FAILED_TEMP", error=error, isCancelPending=False)

    @staticmethod
    def _failure(result: RunResult, what: str) -> dict[str, Any]:
        if result.failures:
            first = result.failures[0]
            detail = f"task {first['task']!r} failed on host {first['host']}: {first['msg']}"
        else:
            detail = f"the {what} playbook ended with status {result.status} (rc {result.rc})"
            if result.status == "timeout":
                detail = f"the {what} playbook did not finish in time (operation timeout)"
            errors = [ln for ln in result.stdout_tail() if "ERROR" in ln]
            if errors:
                detail += ": " + " ".join(errors)[:2000]
        return records.problem(f"{what} failed", detail, failures=result.failures)

    # -- instantiate ---------------------------------------------------------------
    def instantiate(
        self,
        *,
        instance_id: str,
        request: dict[str, Any],
        vim_name: str | None = None,
        on_event: EventSink | None = None,
        auto_rollback: bool = True,
        wait: bool = True,
    ) -> dict[str, Any]:
        """InstantiateVnf; the final LcmOpOcc (or the STARTING one with wait=False)."""
        instance = self._idle_instance(instance_id)
        if instance.instantiation_state != "NOT_INSTANTIATED":
            raise LcmError(f"VNF instance {instance_id} is already INSTANTIATED")
        _pkg, model = self._package_for(instance)
        if not isinstance(request.get("flavourId"), str):
            raise LcmError("the request needs flavourId", 400)
        target = self.resolve_vim(vim_name, request)  # an unknown VIM is refused now
        try:  # refuse a bad request before anything runs or changes
            plan(model, _plan_request(instance_id, request))
        except PlanError as exc:
            raise LcmError(str(exc), 422) from None
        op = self._start(
            instance,
            "INSTANTIATE",
            redact(request),
            {"vim": self.vims.seal(target), "autoRollback": auto_rollback},
        )
        return self._dispatch(op, on_event, wait)

    def _execute_instantiate(self, op: OperationRow, on_event: EventSink | None) -> None:
        instance = self.instance(op.vnf_instance_id)
        pkg, model = self._package_for(instance)
        request = op.doc["operationParams"]
        execution = op.doc.get("vnfmExecution") or {}
        target = self.vims.unseal(execution.get("vim"))
        flavour_id = request["flavourId"]
        hooks_enabled = _hooks_enabled(request)
        hooks = self._hooks(
            model, flavour_id, ["instantiate_start", "instantiate_end"], hooks_enabled, pkg.path
        )
        try:
            desired = plan(model, _plan_request(instance.id, request))
        except PlanError as exc:  # the package changed under us: say so, change nothing
            self._set_state(op, "FAILED_TEMP", error=records.problem("cannot plan", str(exc), 422))
            return
        vim_mapping = self._grant(op, instance, None, desired)
        if vim_mapping is None:
            return
        self._set_state(op, "PROCESSING")
        result = self._run(
            op,
            "instantiate.yml",
            trusted={
                "vnfm_vnf_instance_id": instance.id,
                "vnfm_package_dir": pkg.path,
                "vnfm_hooks": hooks,
                "vnfm_operation": "INSTANTIATE",
                "vnfm_vim_mapping": vim_mapping,
            },
            untrusted={
                "vnfm_request": request,
                "vnfm_vim": target.connection,
                "vnfm_additional_params": request.get("additionalParams") or {},
            },
            credentials=target.credentials,
            on_event=on_event,
        )
        stats = result.stats.get("vnfm_result") or {}
        if result.ok and stats.get("plan"):
            resources = stats.get("resources") or {}
            doc = dict(instance.doc)
            doc["instantiationState"] = "INSTANTIATED"
            doc["instantiatedVnfInfo"] = _vnf_info(model, stats["plan"], resources)
            doc["vimConnectionInfo"] = {target.name: target.sol003()}
            doc["extensions"] = {**(doc.get("extensions") or {}), "vnfmHooks": hooks_enabled}
            self.store.update_instance(
                instance.id,
                instantiation_state="INSTANTIATED",
                doc=doc,
                desired_state=stats["plan"],
                vim=self.vims.seal(target),
            )
            self.store.update_operation(op.id, desired_after=stats["plan"])
            self._set_state(
                op,
                "COMPLETED",
                resourceChanges=records.resource_changes({}, resources),
                hooksRun=hooks_enabled,
                playbookRuns=result.playbook_runs,
            )
            return
        self._fail(op, result, "instantiate")
        if execution.get("autoRollback", True) and result.status != "canceled":
            self._rollback_to_empty(op, instance.id, target, on_event)

    def _rollback_to_empty(
        self, op: OperationRow, instance_id: str, target: VimTarget, on_event: EventSink | None
    ) -> None:
        """Rollback of a failed instantiation: desired state empty, no hooks."""
        self._set_state(op, "ROLLING_BACK")
        result = self._run(
            op,
            "terminate.yml",
            trusted={
                "vnfm_vnf_instance_id": instance_id,
                "vnfm_hooks": {},
                "vnfm_operation": "TERMINATE",
            },
            untrusted={
                "vnfm_vim": target.connection,
                "vnfm_resources": {},
            },
            credentials=target.credentials,
            on_event=on_event,
            suffix="-rollback",
        )
        if result.ok:
            self._set_state(op, "ROLLED_BACK")
        else:
            self._rollback_failed(op, result)

    # -- terminate ---------------------------------------------------------------------
    def terminate(
        self,
        *,
        instance_id: str,
        request: dict[str, Any],
        on_event: EventSink | None = None,
        wait: bool = True,
    ) -> dict[str, Any]:
        """TerminateVnf (GRACEFUL with a timeout, or FORCEFUL); returns the LcmOpOcc."""
        instance = self._idle_instance(instance_id)
        if instance.instantiation_state != "INSTANTIATED":
            raise LcmError(f"VNF instance {instance_id} is NOT_INSTANTIATED")
        kind = request.get("terminationType", "GRACEFUL")
        if kind not in ("GRACEFUL", "FORCEFUL"):
            raise LcmError(f"terminationType must be GRACEFUL or FORCEFUL, not {kind!r}", 400)
        timeout = request.get("gracefulTerminationTimeout")
        if timeout is not None and (not isinstance(timeout, int) or timeout < 0):
            raise LcmError("gracefulTerminationTimeout must be a non-negative integer", 400)
        op = self._start(instance, "TERMINATE", redact(request), {})
        return self._dispatch(op, on_event, wait)

    def _execute_terminate(self, op: OperationRow, on_event: EventSink | None) -> None:
        instance = self.instance(op.vnf_instance_id)
        pkg, model = self._package_for(instance)
        request = op.doc["operationParams"]
        graceful = request.get("terminationType", "GRACEFUL") == "GRACEFUL"
        timeout = request.get("gracefulTerminationTimeout")
        info = instance.doc.get("instantiatedVnfInfo") or {}
        hooks_enabled = graceful and _hooks_enabled(request, instance.doc)
        hooks = self._hooks(
            model,
            info.get("flavourId", ""),
            ["terminate_start", "terminate_end"],
            hooks_enabled,
            pkg.path,
        )
        target = self.vims.unseal(instance.vim)
        before = records.current_resources(instance.doc)
        if self._grant(op, instance, instance.desired_state, None) is None:
            return
        self._set_state(op, "PROCESSING")
        result = self._run(
            op,
            "terminate.yml",
            trusted={
                "vnfm_vnf_instance_id": instance.id,
                "vnfm_package_dir": pkg.path,
                "vnfm_hooks": hooks,
                "vnfm_operation": "TERMINATE",
                "vnfm_graceful_timeout": timeout,
            },
            untrusted={
                "vnfm_request": request,
                "vnfm_vim": target.connection,
                "vnfm_resources": before,
                "vnfm_additional_params": request.get("additionalParams") or {},
            },
            credentials=target.credentials,
            on_event=on_event,
            # The graceful timeout bounds the hooks; the removal itself gets its own time.
            timeout=(timeout + 300) if graceful and timeout else None,
        )
        if result.ok:
            doc = dict(instance.doc)
            doc["instantiationState"] = "NOT_INSTANTIATED"
            doc.pop("instantiatedVnfInfo", None)
            self.store.update_instance(
                instance.id, instantiation_state="NOT_INSTANTIATED", doc=doc, desired_state=None
            )
            self._set_state(
                op,
                "COMPLETED",
                resourceChanges=records.resource_changes(before, {}),
                hooksRun=hooks_enabled,
                playbookRuns=result.playbook_runs,
            )
        else:
            self._fail(op, result, "terminate")

    # -- every other SOL003 operation: decide, reconcile, configure ---------------------
    def run_operation(
        self,
        *,
        instance_id: str,
        operation: str,
        request: dict[str, Any],
        on_event: EventSink | None = None,
        wait: bool = True,
    ) -> dict[str, Any]:
        """SCALE, SCALE_TO_LEVEL, CHANGE_FLAVOUR, HEAL, OPERATE, CHANGE_EXT_CONN,
        CHANGE_VNFPKG or MODIFY_INFO of an instantiated VNF; returns the LcmOpOcc."""
        if operation not in GENERIC_OPERATIONS:
            raise LcmError(f"unknown operation {operation!r}", 400)
        instance = self._idle_instance(instance_id)
        if instance.instantiation_state != "INSTANTIATED" and operation != "MODIFY_INFO":
            raise LcmError(f"VNF instance {instance_id} is NOT_INSTANTIATED")
        execution: dict[str, Any] = {}
        if operation == "CHANGE_VNFPKG":
            target = self.store.package_by_vnfd(str(request.get("vnfdId")))
            if target is None:
                raise LcmError(f"no onboarded package has vnfdId {request.get('vnfdId')}", 422)
            execution["packageId"] = target.id
        if instance.instantiation_state == "INSTANTIATED":
            pkg, model = self._package_for(instance, execution.get("packageId"))
            try:  # refuse what cannot be done before anything runs
                decide_plan(
                    model,
                    instance_id,
                    operation,
                    request,
                    instance.desired_state,
                    **self._package_change_args(instance, operation, pkg.path),
                )
            except PlanError as exc:
                raise LcmError(str(exc), 422) from None
        op = self._start(instance, operation, redact(request), execution)
        return self._dispatch(op, on_event, wait)

    def _package_change_args(
        self, instance: InstanceRow, operation: str, package_dir: str
    ) -> dict[str, Any]:
        """decide_plan's extra arguments for CHANGE_VNFPKG: the package the VNF runs now."""
        if operation != "CHANGE_VNFPKG":
            return {}
        _current, current_model = self._package_for(instance)
        return {"current_model": current_model, "package_dir": package_dir}

    def _execute_generic(self, op: OperationRow, on_event: EventSink | None) -> None:
        instance = self.instance(op.vnf_instance_id)
        execution = op.doc.get("vnfmExecution") or {}
        request = op.doc["operationParams"]
        if op.operation == "MODIFY_INFO" and instance.instantiation_state != "INSTANTIATED":
            self._set_state(op, "PROCESSING")
            self._apply_modification(instance, request)
            self._set_state(op, "COMPLETED", changedInfo=request)
            return
        pkg, model = self._package_for(instance, execution.get("packageId"))
        prefix = HOOK_PREFIX[op.operation]
        current_plan = instance.desired_state or {}
        hooks_enabled = _hooks_enabled(request, instance.doc)
        hooks = self._hooks(
            model,
            str(
                (current_plan.get("inputs") or {}).get("flavourId") or current_plan.get("flavourId")
            ),
            [f"{prefix}_start", f"{prefix}_end"],
            hooks_enabled,
            pkg.path,
        )
        if op.operation == "CHANGE_FLAVOUR":
            hooks = self._hooks(
                model, str(request.get("newFlavourId")), list(hooks), hooks_enabled, pkg.path
            )
        target = self.vims.unseal(instance.vim)
        before = records.current_resources(instance.doc)
        try:
            after, decision, _delta = decide_plan(
                model,
                instance.id,
                op.operation,
                request,
                current_plan,
                **self._package_change_args(instance, op.operation, pkg.path),
            )
        except PlanError as exc:
            self._set_state(op, "FAILED_TEMP", error=records.problem("cannot plan", str(exc), 422))
            return
        recreated = decision.heal or list(decision.rolling.get("replace") or [])
        vim_mapping = self._grant(op, instance, current_plan, after, recreated)
        if vim_mapping is None:
            return
        trusted_extra: dict[str, Any] = {}
        if op.operation == "CHANGE_VNFPKG":  # the package the VNF runs now, to compare
            trusted_extra["vnfm_current_package_dir"] = self._package_for(instance)[0].path
            # The batch steps are package code, like hooks: a VNF instantiated without
            # hooks (no data plane) gets its VNFCs recreated batch by batch, no step.
            trusted_extra["vnfm_package_steps"] = _hooks_enabled(request, instance.doc)
        self._set_state(op, "PROCESSING")
        result = self._run(
            op,
            f"{ROLE_OF[op.operation]}.yml",
            trusted={
                "vnfm_vnf_instance_id": instance.id,
                "vnfm_package_dir": pkg.path,
                "vnfm_hooks": hooks,
                "vnfm_operation": op.operation,
                "vnfm_vim_mapping": vim_mapping,
                **trusted_extra,
            },
            untrusted={
                "vnfm_request": request,
                "vnfm_current_plan": current_plan,
                "vnfm_vim": target.connection,
                "vnfm_resources": before,
                "vnfm_additional_params": request.get("additionalParams") or {},
            },
            credentials=target.credentials,
            on_event=on_event,
        )
        stats = result.stats.get("vnfm_result") or {}
        if not (result.ok and stats.get("plan")):
            self._fail(op, result, op.operation.lower())
            return
        new_plan = stats["plan"]
        resources = stats.get("resources") or {}
        doc = dict(instance.doc)
        doc["instantiatedVnfInfo"] = _vnf_info(model, new_plan, resources)
        fields: dict[str, Any] = {"desired_state": new_plan}
        if op.operation == "CHANGE_VNFPKG":
            doc.update(records.package_fields(pkg.summary, pkg.id))
            fields.update(package_id=pkg.id, vnfd_id=pkg.vnfd_id)
        if op.operation == "MODIFY_INFO":
            doc = records.modified(doc, request)
        self.store.update_instance(instance.id, doc=doc, **fields)
        self.store.update_operation(op.id, desired_after=new_plan)
        changes = records.resource_changes(before, resources)
        if op.operation == "CHANGE_VNFPKG":
            changes = _with_replaced(changes, stats.get("vnfcChanges") or {}, resources)
        self._set_state(
            op,
            "COMPLETED",
            resourceChanges=changes,
            changedInfo=request if op.operation == "MODIFY_INFO" else None,
            hooksRun=hooks_enabled,
            playbookRuns=result.playbook_runs,
            vnfcChanges=stats.get("vnfcChanges"),
        )

    # -- a package's own operations ----------------------------------------------------
    def run_custom(
        self,
        *,
        instance_id: str,
        name: str,
        params: dict[str, Any],
        on_event: EventSink | None = None,
        wait: bool = True,
    ) -> dict[str, Any]:
        """Run an operation of a vendor interface of the VNFD, recorded like any LCM op."""
        instance = self._idle_instance(instance_id)
        if instance.instantiation_state != "INSTANTIATED":
            raise LcmError(f"VNF instance {instance_id} is NOT_INSTANTIATED")
        _pkg, model = self._package_for(instance)
        op_def = self._custom_definition(model, instance, name)
        request = {"name": name, "interface": op_def.interface, "params": params}
        op = self._start(instance, CUSTOM, redact(request), {"playbook": op_def.artifact_file})
        return self._dispatch(op, on_event, wait)

    def _custom_definition(self, model: VnfModel, instance: InstanceRow, name: str) -> Any:
        flavour = model.flavour(str((instance.desired_state or {}).get("flavourId")))
        custom = [
            op for op in (flavour.lcm_operations if flavour else []) if op.interface != "Vnflcm"
        ]
        custom = [op for op in custom if op.name not in STEP_OPERATIONS]  # package change steps
        found = next((op for op in custom if op.name == name), None)
        if found is None or not found.artifact_file:
            names = ", ".join(sorted(op.name for op in custom if op.artifact_file)) or "none"
            raise LcmError(f"the VNF's package has no operation {name!r} (it has: {names})", 422)
        return found

    def _execute_custom(self, op: OperationRow, on_event: EventSink | None) -> None:
        instance = self.instance(op.vnf_instance_id)
        pkg, _model = self._package_for(instance)
        playbook = (op.doc.get("vnfmExecution") or {}).get("playbook")
        before = records.current_resources(instance.doc)
        self._set_state(op, "PROCESSING")
        result = self._run(
            op,
            "custom_operation.yml",
            trusted={
                "vnfm_vnf_instance_id": instance.id,
                "vnfm_package_dir": pkg.path,
                "vnfm_custom_playbook": str(Path(pkg.path) / str(playbook)),
                "vnfm_operation": CUSTOM,
            },
            untrusted={
                "vnfm_request": op.doc["operationParams"],
                "vnfm_current_plan": instance.desired_state or {},
                "vnfm_resources": before,
                "vnfm_additional_params": op.doc["operationParams"].get("params") or {},
            },
            on_event=on_event,
        )
        if result.ok:
            self._set_state(op, "COMPLETED", playbookRuns=result.playbook_runs)
        else:
            self._fail(op, result, "custom operation")

    def _apply_modification(self, instance: InstanceRow, request: dict[str, Any]) -> None:
        self.store.update_instance(instance.id, doc=records.modified(instance.doc, request))

    # -- running operations ----------------------------------------------------------------
    def _dispatch(
        self, op: OperationRow, on_event: EventSink | None, wait: bool, mode: str = "run"
    ) -> dict[str, Any]:
        """Run the operation now, or in the background (wait=False)."""
        self._notify("operation", self.operation(op.id))
        if not wait and self.submit is not None:
            self.submit(op.id, mode)
            return self.operation(op.id)
        if not wait:
            subprocess.Popen(
                [sys.executable, "-m", "vnfm_runner", "execute-operation", op.id, "--mode", mode],
                start_new_session=True,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "VNFM_HOME": str(self.settings.home)},
            )
            return op.doc
        self.execute(op.id, on_event=on_event, mode=mode)
        return self.operation(op.id)

    def execute(
        self,
        op_id: str,
        *,
        on_event: EventSink | None = None,
        mode: str = "run",
    ) -> None:
        """Carry an operation forward (run, retry or rollback) while holding its lease."""
        allowed = ("STARTING",) if mode == "run" else ("FAILED_TEMP",)
        try:
            with Lease(self.store, op_id) as lease:
                op = self.store.operation(op_id)  # read again under the lease
                if op is None:
                    raise NotFound(f"no LCM operation occurrence {op_id}")
                if op.state not in allowed:
                    raise LcmError(
                        f"operation {op_id} is {op.state}; {mode} needs {' or '.join(allowed)}"
                    )
                self._watches[op.id] = CancelWatch(self.store, op.id, lease)
                try:
                    if mode == "rollback":
                        self._execute_rollback(op, on_event)
                    else:
                        runners = {
                            "INSTANTIATE": self._execute_instantiate,
                            "TERMINATE": self._execute_terminate,
                            CUSTOM: self._execute_custom,
                        }
                        runners.get(op.operation, self._execute_generic)(op, on_event)
                except Exception as exc:
                    # Whatever broke, the record must not stay PROCESSING.
                    self._set_state(
                        op,
                        "FAILED_TEMP",
                        error=records.problem("internal error", f"{type(exc).__name__}: {exc}"),
                    )
                    raise
                finally:
                    self._watches.pop(op.id, None)
        except LeaseLost as exc:
            raise LcmError(str(exc)) from None

    # -- grants -----------------------------------------------------------------------------
    def _grant(
        self,
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
            grant = self.grants.ask(request)
        except GrantRefused as exc:
            self._set_state(
                op, "ROLLED_BACK", error=records.problem("grant refused", str(exc), 403)
            )
            return None
        except GrantError as exc:
            self._set_state(op, "FAILED_TEMP", error=records.problem("grant failed", str(exc), 503))
            return None
        mapping = grant.vim_mapping()
        op.doc = {
            **op.doc,
            "grantId": grant.id,
            "vnfmExecution": {**(op.doc.get("vnfmExecution") or {}), "vimMapping": mapping},
        }
        self.store.update_operation(op.id, doc=op.doc)
        return mapping

    # -- the SOL003 task resources of an LcmOpOcc --------------------------------------
    def _failed_temp(self, op_id: str) -> OperationRow:
        op = self.store.operation(op_id)
        if op is None:
            raise NotFound(f"no LCM operation occurrence {op_id}")
        if op.state != "FAILED_TEMP":
            raise LcmError(
                f"operation {op_id} is {op.state}; only a FAILED_TEMP operation can do that"
            )
        return op

    def retry(
        self, op_id: str, *, on_event: EventSink | None = None, wait: bool = True
    ) -> dict[str, Any]:
        """Run a FAILED_TEMP operation again (operations are idempotent)."""
        op = self._failed_temp(op_id)
        return self._dispatch(op, on_event, wait, mode="retry")

    def rollback(
        self, op_id: str, *, on_event: EventSink | None = None, wait: bool = True
    ) -> dict[str, Any]:
        """Reconcile a FAILED_TEMP operation's instance back to its desired state before it."""
        op = self._failed_temp(op_id)
        return self._dispatch(op, on_event, wait, mode="rollback")

    def fail(self, op_id: str) -> dict[str, Any]:
        """Give up on a FAILED_TEMP operation: FAILED is final; the instance stays as it is."""
        op = self._failed_temp(op_id)
        self._set_state(op, "FAILED")
        return self.operation(op_id)

    def cancel(self, op_id: str, mode: str = "GRACEFUL") -> dict[str, Any]:
        """Ask a STARTING, PROCESSING or ROLLING_BACK operation to stop."""
        if mode not in ("GRACEFUL", "FORCEFUL"):
            raise LcmError(f"cancelMode must be GRACEFUL or FORCEFUL, not {mode!r}", 400)
        op = self.store.operation(op_id)
        if op is None:
            raise NotFound(f"no LCM operation occurrence {op_id}")
        if op.state not in ("STARTING", "PROCESSING", "ROLLING_BACK"):
            raise LcmError(f"operation {op_id} is {op.state}; it cannot be cancelled")
        if op.state == "STARTING" and self.store.claim_operation(op.id, ENGINE_ID, LEASE_TTL):
            try:  # nobody runs it yet: it ends before it began
                op = self.store.operation(op_id) or op
                if op.state == "STARTING":
                    self._set_state(op, "ROLLED_BACK", cancelMode=mode, isCancelPending=False)
                    return self.operation(op_id)
            finally:
                self.store.release_lease(op.id, ENGINE_ID)
        op.doc = {**op.doc, "isCancelPending": True, "cancelMode": mode}
        self.store.update_operation(op.id, doc=op.doc)
        return self.operation(op_id)

    def _execute_rollback(self, op: OperationRow, on_event: EventSink | None) -> None:
        instance = self.instance(op.vnf_instance_id)
        execution = op.doc.get("vnfmExecution") or {}
        if op.operation == "INSTANTIATE":
            target = self.vims.unseal(execution.get("vim"))
            self._rollback_to_empty(op, instance.id, target, on_event)
            return
        if op.operation in ("MODIFY_INFO", CUSTOM):
            self._set_state(op, "ROLLED_BACK")  # nothing was applied: only completion applies
            return
        if op.operation == "CHANGE_VNFPKG":
            self._rollback_package_change(op, instance, on_event)
            return
        before = op.desired_before or {}
        pkg, model = self._package_for(instance)
        prefix = HOOK_PREFIX[op.operation]
        hooks = self._hooks(
            model,
            str(before.get("flavourId")),
            [f"{prefix}_rollback"],
            _hooks_enabled(op.doc["operationParams"], instance.doc),
            pkg.path,
        )
        target = self.vims.unseal(instance.vim)
        self._set_state(op, "ROLLING_BACK")
        result = self._run(
            op,
            "rollback.yml",
            trusted={
                "vnfm_vnf_instance_id": instance.id,
                "vnfm_package_dir": pkg.path,
                "vnfm_hooks": {"rollback": hooks[f"{prefix}_rollback"]},
                "vnfm_operation": op.operation,
            },
            untrusted={
                "vnfm_target_plan": before,
                "vnfm_vim": target.connection,
                "vnfm_resources": records.current_resources(instance.doc),
            },
            credentials=target.credentials,
            on_event=on_event,
            suffix="-rollback",
        )
        stats = result.stats.get("vnfm_result") or {}
        if not result.ok or not stats:
            self._rollback_failed(op, result)
            return
        resources = stats.get("resources") or {}
        doc = dict(instance.doc)
        doc["instantiationState"] = "INSTANTIATED"
        doc["instantiatedVnfInfo"] = _vnf_info(model, before, resources)
        self.store.update_instance(
            instance.id, instantiation_state="INSTANTIATED", doc=doc, desired_state=before
        )
        self._set_state(op, "ROLLED_BACK", playbookRuns=result.playbook_runs)

    def _rollback_package_change(
        self, op: OperationRow, instance: InstanceRow, on_event: EventSink | None
    ) -> None:
        """Rollback of CHANGE_VNFPKG: a rolling change back to the package the VNF had.

        The VNFCs of the changed VDUs may run either package: every one of them is
        replaced again, batch by batch with the old package's steps, so that traffic
        stays up; the old package's change_current_package_rollback hook ends it.
        """
        before = op.desired_before or {}
        pkg, model = self._package_for(
            instance
        )  # the instance's package changes on completion only
        failed_pkg = self.store.package(str((op.doc.get("vnfmExecution") or {}).get("packageId")))
        params = op.doc["operationParams"].get("additionalParams") or {}
        # Back with the old package's own steps, in batches of the same size.
        back: dict[str, Any] = {k: params[k] for k in ("batchSize",) if k in params}
        request = {"vnfdId": pkg.vnfd_id, "additionalParams": back}
        hooks_enabled = _hooks_enabled(op.doc["operationParams"], instance.doc)
        hooks = self._hooks(
            model,
            str((before.get("inputs") or {}).get("flavourId") or before.get("flavourId")),
            ["change_current_package_rollback"],
            hooks_enabled,
            pkg.path,
        )
        target = self.vims.unseal(instance.vim)
        self._set_state(op, "ROLLING_BACK")
        result = self._run(
            op,
            "change_vnfpkg.yml",
            trusted={
                "vnfm_vnf_instance_id": instance.id,
                "vnfm_package_dir": pkg.path,
                "vnfm_current_package_dir": failed_pkg.path if failed_pkg else pkg.path,
                "vnfm_hooks": {
                    "change_current_package_end": hooks["change_current_package_rollback"]
                },
                "vnfm_package_steps": hooks_enabled,
                "vnfm_operation": op.operation,
            },
            untrusted={
                "vnfm_request": request,
                "vnfm_current_plan": before,
                "vnfm_vim": target.connection,
                "vnfm_resources": records.current_resources(instance.doc),
                "vnfm_additional_params": back,
            },
            credentials=target.credentials,
            on_event=on_event,
            suffix="-rollback",
        )
        stats = result.stats.get("vnfm_result") or {}
        if not result.ok or not stats.get("plan"):
            self._rollback_failed(op, result)
            return
        doc = dict(instance.doc)
        doc["instantiatedVnfInfo"] = _vnf_info(model, stats["plan"], stats.get("resources") or {})
        doc.update(records.package_fields(pkg.summary, pkg.id))
        self.store.update_instance(
            instance.id,
            doc=doc,
            desired_state=stats["plan"],
            package_id=pkg.id,
            vnfd_id=pkg.vnfd_id,
        )
        self._set_state(
            op,
            "ROLLED_BACK",
            playbookRuns=result.playbook_runs,
            vnfcChanges=stats.get("vnfcChanges"),
        )

    # -- crash recovery ---------------------------------------------------------------
    def recover(self) -> list[str]:
        """Move on the operations whose engine died (see engine.py)."""

        def set_state(op_id: str, state: str, detail: str) -> None:
            op = self.store.operation(op_id)
            if op is not None:
                self._set_state(
                    op,
                    state,
                    error=records.problem("engine stopped", detail),
                    isCancelPending=False,
                )

        return recover(self.store, set_state)

    def operation(self, op_id: str) -> dict[str, Any]:
        row = self.store.operation(op_id)
        if row is None:
            raise NotFound(f"no LCM operation occurrence {op_id}")
        doc = {k: v for k, v in row.doc.items() if k != "vnfmExecution"}
        doc["runnerIdent"] = row.runner_ident
        doc["artifactsDir"] = row.artifacts_dir
        return doc


def _vnf_info(model: VnfModel, plan: dict[str, Any], resources: dict[str, Any]) -> dict[str, Any]:
    """instantiatedVnfInfo of a plan and the resources the VIM reported for it."""
    flavour = model.flavour(str(plan.get("flavourId")))
    max_levels = {a.id: a.max_scale_level for a in (flavour.scaling_aspects if flavour else [])}
    return records.instantiated_info(plan, resources, max_levels)


def _with_replaced(
    changes: dict[str, Any], vnfc_changes: dict[str, Any], resources: dict[str, Any]
) -> dict[str, Any]:
    """resourceChanges of a package change: the replaced VNFCs are MODIFIED (recreated)."""
    replaced = set(vnfc_changes.get("replaced") or [])
    listed = {c["id"] for c in changes["affectedVnfcs"]}
    extra = [
        {
            "id": r["id"],
            "vduId": r.get("vduId"),
            "changeType": "MODIFIED",
            "computeResource": r.get("computeResource"),
        }
        for r in resources.get("vnfcResourceInfo", [])
        if r["id"] in replaced and r["id"] not in listed
    ]
    vnfcs = sorted(changes["affectedVnfcs"] + extra, key=lambda c: str(c["id"]))
    return {**changes, "affectedVnfcs": vnfcs}


def _positive(value: Any, default: int) -> int:
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default
    )


def _hooks_enabled(request: dict[str, Any], instance_doc: dict[str, Any] | None = None) -> bool:
    """A request's additionalParams.vnfm_hooks, else what the instantiation chose.

    A VNF instantiated with vnfm_hooks false (a VIM without a data plane, such as
    the test bed) keeps running no hooks until a request asks for them.
    """
    params = request.get("additionalParams") or {}
    if "vnfm_hooks" in params:
        return params["vnfm_hooks"] is not False
    return ((instance_doc or {}).get("extensions") or {}).get("vnfmHooks", True) is not False


def _plan_request(instance_id: str, request: dict[str, Any]) -> PlanRequest:
    return PlanRequest(
        vnf_instance_id=instance_id,
        flavour_id=str(request["flavourId"]),
        instantiation_level_id=request.get("instantiationLevelId"),
        scale_levels=request.get("scaleLevels"),
        ext_virtual_links=list(request.get("extVirtualLinks") or []),
    )


ProgressFactory = Callable[[], EventSink]
__all__ = ["LcmError", "NotFound", "PackageError", "Vnfm"]
