"""The Vnfm façade: the one entry of the CLI, the SOL003 API and Python programs.

It checks and records requests through the handlers (instantiation.py,
termination.py, operations.py, custom.py, occurrences.py), runs them now or
in the background (execution.py, under the operation's lease) and keeps the
packages and instances. The handlers see only their ports (ports.py), wired
by the composition root (vnfm_runner/bootstrap.py).

``Vnfm(settings, store)`` only wires, over a store already open. Entry points use
``Vnfm.open(settings)``: it opens the store through ``bootstrap.open_store``
(schema at head, journal installed) and recovers the operations whose engine
died — explicitly, once per command (``recover=False``: a server recovers on its
own schedule).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.package import content_digest

from vnfm_runner import bootstrap, records
from vnfm_runner.core import Limits, Package, load_vnf, package_summary
from vnfm_runner.domain import InstantiationState, OnboardingState, PackageOperationalState
from vnfm_runner.domain.records import VnfInstanceRecord, VnfLcmOpOccRecord, VnfPackageRecord
from vnfm_runner.engine import OperationQueue
from vnfm_runner.errors import LcmError, NotFound
from vnfm_runner.executor import EventSink
from vnfm_runner.grants import GrantClient
from vnfm_runner.lcm import (
    custom,
    execution,
    instantiation,
    lookup,
    occurrences,
    operations,
    recording,
    termination,
)
from vnfm_runner.package_details import package_details
from vnfm_runner.secrets import SecretBox
from vnfm_runner.settings import Settings
from vnfm_runner.store.db import Store, now
from vnfm_runner.store.tables import PkgInfoRow
from vnfm_runner.vims import VimRegistry, VimTarget

Submit = Callable[[str, str], None]
Listener = Callable[[str, dict[str, Any]], None]


class Vnfm:
    """The service layer over one store."""

    def __init__(self, settings: Settings, store: Store, *, submit: Submit | None = None) -> None:
        """Wires the service over an open store and does nothing else (``Vnfm.open`` opens
        the store and recovers). ``submit(op_id, mode)`` runs operations asked with
        wait=False (a server's worker pool); without it, each such operation runs in a
        detached process."""
        self.settings = settings
        self.store = store
        self.vims = VimRegistry(self.store, SecretBox(settings.home))
        self.grants = GrantClient(settings)
        self.submit = submit
        # In-process observers (the server's metrics), called with (kind, document):
        # ("operation", VnfLcmOpOcc) at each state change, ("instance_created" |
        # "instance_deleted", VnfInstance). Subscribers' notifications do not go
        # through here: the journal writes them in the transaction of the change
        # (vnfm_runner/notify/journal.py), whichever process makes it.
        self.listeners: list[Listener] = []
        self.lease_ttl = timedelta(seconds=settings.lease_ttl)
        self.ports = bootstrap.wire(settings, self.store, self._notify, self.vims, self.grants)
        # A server's queue of operations accepted for ``submit``: bounded, and owned by the
        # server (not expired) until a worker starts them. None: nothing waits here.
        self.queue: OperationQueue | None = None

    @classmethod
    def open(
        cls, settings: Settings, *, submit: Submit | None = None, recover: bool = True
    ) -> Vnfm:
        """What a command does first: the store opened (and migrated), and with ``recover``
        dead engines' operations moved on (an operation whose process died is recovered
        by the next command; a server recovers on its own schedule)."""
        service = cls(settings, bootstrap.open_store(settings.db_url), submit=submit)
        if recover:
            service.recover()
        return service

    def _notify(self, kind: str, doc: dict[str, Any]) -> None:
        for listener in self.listeners:
            listener(kind, doc)

    # -- packages -------------------------------------------------------------
    def onboard(
        self, path: str | Path, package_id: str | None = None, *, with_pkg_info: bool = True
    ) -> VnfPackageRecord:
        """Validate a package and keep a private copy of it; return its record.

        ``with_pkg_info``: also give it its SOL005 VnfPkgInfo (False when the API
        onboards content for a VnfPkgInfo of its own)."""
        model, warnings = load_vnf(path)  # raises PackageError with every problem
        existing = self.store.package_by_vnfd(model.vnfd_id)
        if existing is not None and Path(existing.path).is_dir():
            # the same vnfdId names the same package (SOL004): only an identical one is
            # accepted again; a changed one would be shown but never used
            with Package.open(path, Limits()) as pkg:
                same = content_digest(pkg.root) == content_digest(existing.path)
            if not same:
                raise LcmError(
                    f"vnfdId {model.vnfd_id} is already onboarded (package {existing.id}) "
                    "with different content; a changed package needs a new vnfdId",
                    409,
                )
            return existing
        pkg_id = package_id or str(uuid.uuid4())  # the API's package id, when it has one
        target = self.settings.packages_dir / pkg_id
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with Package.open(path, Limits()) as pkg:
                shutil.copytree(pkg.root, target, symlinks=False)
        except BaseException:  # e.g. no space left: no half copy stays behind
            shutil.rmtree(target, ignore_errors=True)
            raise
        record = VnfPackageRecord(
            id=pkg_id,
            vnfd_id=model.vnfd_id,
            path=str(target),
            summary=_with_warnings(package_summary(model), warnings),
            onboarding_state=OnboardingState.ONBOARDED,
            operational_state=PackageOperationalState.ENABLED,
            created_at=now(),
        )
        info = None
        if with_pkg_info:  # /vnfpkgm lists it and its subscribers hear of it at once
            info = PkgInfoRow(
                id=pkg_id,
                store_package_id=pkg_id,
                onboarding_state=OnboardingState.ONBOARDED,
                operational_state=record.operational_state,
                user_defined_data={},
                failure=None,
                details=package_details(target),
                upload_path=None,
                deleted=False,
                created_at=record.created_at,
            )
        self.store.add_package(record, info)
        return record

    # -- instances ---------------------------------------------------------------
    def create(
        self,
        *,
        vnfd_id: str,
        name: str | None = None,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """CreateVnfRequest: a NOT_INSTANTIATED instance of the onboarded, ENABLED package
        with that vnfdId (NotFound without one, 422 when it is DISABLED or deleted);
        ``metadata`` is recorded with it, in the same transaction."""
        pkg = self.store.package_by_vnfd(vnfd_id)
        if pkg is None:
            raise NotFound(f"no onboarded package has vnfdId {vnfd_id}")
        if not self.store.package_enabled(pkg):  # SOL003 5.4.2.3.1
            raise LcmError(f"the VNF package of vnfdId {vnfd_id} is DISABLED or deleted", 422)
        instance_id = str(uuid.uuid4())
        doc = records.new_instance(
            instance_id=instance_id,
            package_id=pkg.id,
            summary=pkg.summary,
            name=name,
            description=description,
        )
        if metadata:
            doc["metadata"] = dict(metadata)
        self.store.add_instance(
            VnfInstanceRecord(
                id=instance_id,
                vnfd_id=vnfd_id,
                package_id=pkg.id,
                instantiation_state=InstantiationState.NOT_INSTANTIATED,
                doc=doc,
                desired_state=None,
                vim=None,
                created_at=now(),
            )
        )
        self._notify("instance_created", doc)
        return doc

    def instance(self, instance_id: str) -> VnfInstanceRecord:
        return lookup.instance(self.ports, instance_id)

    def delete(self, *, instance_id: str, force: bool = False) -> None:
        """Delete a NOT_INSTANTIATED instance; refused (409, naming them) while its VIM
        still holds resources of it (an instantiation given up with ``op fail``), unless
        ``force`` (they become orphans: ``vnfm sync --clean-orphans``)."""
        row = lookup.idle_instance(self.ports, instance_id)
        if row.instantiation_state != InstantiationState.NOT_INSTANTIATED:
            raise LcmError(
                f"VNF instance {instance_id} is {row.instantiation_state}; terminate it first"
            )
        if not force and self.store.operations(instance_id):  # never run: nothing to hold
            from vnfm_runner.assurance.cleanup import held_resources

            held = held_resources(instance_id)
            if held:
                raise LcmError(
                    f"VNF instance {instance_id}: its VIM still holds {len(held)} resources "
                    f"of it ({', '.join(held)}); delete it with --force, then remove them with "
                    "'vnfm sync --clean-orphans'"
                )
        self.store.delete_instance(instance_id)
        self._notify("instance_deleted", row.doc)

    def resolve_vim(self, name: str | None, request: dict[str, Any]) -> VimTarget:
        return instantiation.resolve_vim(self.ports, name, request, self.settings.default_vim)

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
        with self._accepting(wait):
            op = instantiation.begin(
                self.ports,
                instance_id=instance_id,
                request=request,
                vim_name=vim_name,
                default_vim=self.settings.default_vim,
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
        with self._accepting(wait):
            op = termination.begin(self.ports, instance_id=instance_id, request=request)
            return self._dispatch(op, on_event, wait)

    def run_operation(
        self,
        *,
        instance_id: str,
        operation: str,
        request: dict[str, Any],
        on_event: EventSink | None = None,
        wait: bool = True,
        automatic: bool = False,
    ) -> dict[str, Any]:
        """An operation of the table's GENERIC ones (SCALE, SCALE_TO_LEVEL, CHANGE_FLAVOUR,
        HEAL, OPERATE, CHANGE_EXT_CONN, CHANGE_VNFPKG, MODIFY_INFO); returns the LcmOpOcc.
        ``automatic``: the VNFM's own (auto-heal), recorded ``isAutomaticInvocation``."""
        with self._accepting(wait):
            op = operations.begin(
                self.ports,
                instance_id=instance_id,
                operation=operation,
                request=request,
                automatic=automatic,
            )
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
        with self._accepting(wait):
            op = custom.begin(self.ports, instance_id=instance_id, name=name, params=params)
            return self._dispatch(op, on_event, wait)

    # -- the SOL003 task resources of an LcmOpOcc --------------------------------------
    def retry(
        self, op_id: str, *, on_event: EventSink | None = None, wait: bool = True
    ) -> dict[str, Any]:
        """Run a FAILED_TEMP operation again (operations are idempotent)."""
        with self._accepting(wait):
            op = lookup.failed_temp(self.ports, op_id)
            return self._dispatch(op, on_event, wait, mode="retry")

    def rollback(
        self, op_id: str, *, on_event: EventSink | None = None, wait: bool = True
    ) -> dict[str, Any]:
        """Reconcile a FAILED_TEMP operation's instance back to its desired state before it."""
        with self._accepting(wait):
            op = lookup.failed_temp(self.ports, op_id)
            return self._dispatch(op, on_event, wait, mode="rollback")

    def fail(self, op_id: str) -> dict[str, Any]:
        """Give up on a FAILED_TEMP operation: FAILED is final; the instance stays as it is."""
        occurrences.fail(self.ports, op_id)
        return self.operation(op_id)

    def cancel(self, op_id: str, mode: str = "GRACEFUL") -> dict[str, Any]:
        """Ask a STARTING, PROCESSING or ROLLING_BACK operation to stop."""
        occurrences.cancel(self.ports, op_id, mode)
        return self.operation(op_id)

    # -- the operation records -----------------------------------------------------------
    def operation(self, op_id: str) -> dict[str, Any]:
        return recording.view(lookup.operation(self.ports, op_id))

    # -- running operations ----------------------------------------------------------------
    @contextmanager
    def _accepting(self, wait: bool) -> Iterator[None]:
        """Around checking and recording an operation for the server's queue: refused
        (QueueFull, 503) before anything is recorded when the queue is full."""
        if wait or self.queue is None or self.submit is None:
            yield
            return
        with self.queue.admit():
            yield

    def _dispatch(
        self, op: VnfLcmOpOccRecord, on_event: EventSink | None, wait: bool, mode: str = "run"
    ) -> dict[str, Any]:
        """Run the operation now, or in the background (wait=False)."""
        self._notify("operation", self.operation(op.id))
        if not wait and self.submit is not None:
            # queued under this process's lease; not submitted if another engine took it
            if self.queue is None or self.queue.hold(op.id):
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
        execution.execute(self.ports, op_id, mode=mode, on_event=on_event, queue=self.queue)

    # -- crash recovery ---------------------------------------------------------------
    def recover(self) -> list[str]:
        """Move on the operations whose engine died (see engine.py)."""
        return execution.recover_dead(self.ports)


__all__ = ["Listener", "Submit", "Vnfm"]


def _with_warnings(summary: dict[str, Any], warnings: list[Any]) -> dict[str, Any]:
    """The package's warnings (dangling references in parts a deployment may not use)
    kept with its summary: whoever onboards it, or lists it later, sees them."""
    return {**summary, "warnings": [str(w) for w in warnings]} if warnings else summary
