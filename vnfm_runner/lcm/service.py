"""The Vnfm service: its records, and running an operation under its lease.

The operations themselves live beside this module (instantiation.py,
termination.py, operations.py, package_change.py, custom.py, occurrences.py):
each one checks a request and records it here (``_start``), then carries the
operation out when ``execute`` calls it.
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
from vnfm_runner.core import CUSTOM, Limits, Package, VnfModel, load_vnf, package_summary
from vnfm_runner.engine import LEASE_TTL, OP_ENV, CancelWatch, Lease, LeaseLost, recover
from vnfm_runner.errors import LcmError, NotFound, VimConfigError
from vnfm_runner.executor import EventSink, RunResult, run_playbook
from vnfm_runner.grants import GrantClient
from vnfm_runner.lcm import (
    custom,
    instantiation,
    occurrences,
    operations,
    termination,
)
from vnfm_runner.package_details import package_details
from vnfm_runner.secrets import SecretBox
from vnfm_runner.settings import Settings
from vnfm_runner.store.db import BusyError, Store, iso, now
from vnfm_runner.store.tables import InstanceRow, OperationRow, PackageRow, PkgInfoRow
from vnfm_runner.vims import VimRegistry, VimTarget, check_local_vim

Submit = Callable[[str, str], None]
Listener = Callable[[str, dict[str, Any]], None]
Runner = Callable[["Vnfm", OperationRow, EventSink | None], None]

# How each operation is carried out (the other SOL003 operations: operations.execute).
RUNNERS: dict[str, Runner] = {
    "INSTANTIATE": instantiation.execute,
    "TERMINATE": termination.execute,
    CUSTOM: custom.execute,
}


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
    def onboard(
        self, path: str | Path, package_id: str | None = None, *, with_pkg_info: bool = True
    ) -> PackageRow:
        """Validate a package and keep a private copy of it; return its record.

        ``with_pkg_info``: also give it its SOL005 VnfPkgInfo (False when the API
        onboards content for a VnfPkgInfo of its own)."""
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
        info = None
        if with_pkg_info:  # /vnfpkgm lists it and its subscribers hear of it at once
            info = PkgInfoRow(
                id=pkg_id,
                store_package_id=pkg_id,
                onboarding_state="ONBOARDED",
                operational_state=row.operational_state,
                user_defined_data={},
                failure=None,
                details=package_details(target),
                upload_path=None,
                deleted=False,
                created_at=row.created_at,
            )
        self.store.add_package(row, info)
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

    def _instantiated(self, instance_id: str) -> InstanceRow:
        """The idle instance, refused (409) unless it is INSTANTIATED."""
        row = self._idle_instance(instance_id)
        if row.instantiation_state != "INSTANTIATED":
            raise LcmError(f"VNF instance {instance_id} is NOT_INSTANTIATED")
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

    # -- lifecycle operations: checked and recorded now, run now or in the background --
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
        op = instantiation.start(
            self,
            instance_id=instance_id,
            request=request,
            vim_name=vim_name,
            auto_rollback=auto_rollback,
        )
        return self._dispatch(op, on_event, wait)

    def terminate(
        self,
        *,
        instance_id: str,
        request: dict[str, Any],
        on_event: EventSink | None = None,
        wait: bool = True,
    ) -> dict[str, Any]:
        """TerminateVnf (GRACEFUL with a timeout, or FORCEFUL); returns the LcmOpOcc."""
        op = termination.start(self, instance_id=instance_id, request=request)
        return self._dispatch(op, on_event, wait)

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
        op = operations.start(self, instance_id=instance_id, operation=operation, request=request)
        return self._dispatch(op, on_event, wait)

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
        op = custom.start(self, instance_id=instance_id, name=name, params=params)
        return self._dispatch(op, on_event, wait)

    # -- the SOL003 task resources of an LcmOpOcc --------------------------------------
    def retry(
        self, op_id: str, *, on_event: EventSink | None = None, wait: bool = True
    ) -> dict[str, Any]:
        """Run a FAILED_TEMP operation again (operations are idempotent)."""
        op = occurrences.failed_temp(self, op_id)
        return self._dispatch(op, on_event, wait, mode="retry")

    def rollback(
        self, op_id: str, *, on_event: EventSink | None = None, wait: bool = True
    ) -> dict[str, Any]:
        """Reconcile a FAILED_TEMP operation's instance back to its desired state before it."""
        op = occurrences.failed_temp(self, op_id)
        return self._dispatch(op, on_event, wait, mode="rollback")

    def fail(self, op_id: str) -> dict[str, Any]:
        """Give up on a FAILED_TEMP operation: FAILED is final; the instance stays as it is."""
        op = occurrences.failed_temp(self, op_id)
        self._set_state(op, "FAILED")
        return self.operation(op_id)

    def cancel(self, op_id: str, mode: str = "GRACEFUL") -> dict[str, Any]:
        """Ask a STARTING, PROCESSING or ROLLING_BACK operation to stop."""
        occurrences.cancel(self, op_id, mode)
        return self.operation(op_id)

    # -- the operation records -----------------------------------------------------------
    def operation(self, op_id: str) -> dict[str, Any]:
        row = self._operation_row(op_id)
        doc = {k: v for k, v in row.doc.items() if k != "vnfmExecution"}
        doc["runnerIdent"] = row.runner_ident
        doc["artifactsDir"] = row.artifacts_dir
        return doc

    def _operation_row(self, op_id: str) -> OperationRow:
        row = self.store.operation(op_id)
        if row is None:
            raise NotFound(f"no LCM operation occurrence {op_id}")
        return row

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
                op = self._operation_row(op_id)  # read again under the lease
                if op.state not in allowed:
                    raise LcmError(
                        f"operation {op_id} is {op.state}; {mode} needs {' or '.join(allowed)}"
                    )
                self._watches[op.id] = CancelWatch(self.store, op.id, lease)
                try:
                    if mode == "rollback":
                        occurrences.execute_rollback(self, op, on_event)
                    else:
                        RUNNERS.get(op.operation, operations.execute)(self, op, on_event)
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
        """Run one operation playbook (ansible-runner), watched for cancellation."""
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


def _positive(value: Any, default: int) -> int:
    return (
        value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else default
    )
