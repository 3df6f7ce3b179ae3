# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""What every VIM driver shares: its port, its result, and the reconcile skeleton.

A driver discovers what its VIM holds, diffs it against the plan, applies the
difference, rediscovers until the VIM matches (the VIM is the only record) and
answers in SOL003 shapes. :class:`ReconcilingDriver` runs those steps in that
order; a driver supplies the steps. Check mode answers from the diff: nothing
is applied and the ``after`` summary is the driver's prediction.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from ansible_collections.nfv.vnfm.plugins.module_utils.errors import VnfmError

__all__ = [
    "ChangeSet",
    "ReconcileResult",
    "ReconcilingDriver",
    "VimDriver",
    "VimError",
]


class VimError(VnfmError):
    """The VIM refused or cannot do what the plan asks (message is user-facing)."""


@dataclass
class ReconcileResult:
    """What a reconcile (or a removal) did, or would do in check mode."""

    changed: bool = False
    actions: list[str] = field(default_factory=list)
    resources: dict[str, Any] = field(default_factory=dict)
    diff: dict[str, Any] = field(default_factory=dict)
    # ids of the VNFCs the reconcile created, new or in place of one (would create, in
    # check mode); None when the driver cannot tell
    created: list[str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "actions": list(self.actions),
            "resources": self.resources,
            "diff": self.diff,
            "created": None if self.created is None else list(self.created),
        }


class VimDriver(Protocol):
    """What every VIM driver implements."""

    def reconcile(
        self,
        plan: dict[str, Any],
        *,
        heal: list[str],
        check_mode: bool,
        heal_token: str | None = None,
    ) -> ReconcileResult:
        """Make the VIM match ``plan``; recreate the VNFCs listed in ``heal``.

        With a ``heal_token`` (an operation id), a VNFC that a reconcile with the
        same token created is not recreated again, and takes the plan's
        ``softwareGeneration`` in its record (docs/plan-format.md).
        """

    def resources(self, vnf_instance_id: str, plan: dict[str, Any] | None = None) -> dict[str, Any]:
        """What the VIM holds for the instance now, in SOL003 shapes; changes nothing."""

    def remove(self, vnf_instance_id: str, *, check_mode: bool) -> ReconcileResult:
        """Delete every resource of the instance, found by discovery alone."""


class ChangeSet(Protocol):
    """What a driver's diff must at least tell: whether anything changes, and what."""

    @property
    def changed(self) -> bool: ...

    @property
    def actions(self) -> list[str]: ...


DesiredT = TypeVar("DesiredT")
ObservedT = TypeVar("ObservedT")
ChangesT = TypeVar("ChangesT", bound=ChangeSet)


class ReconcilingDriver(Generic[DesiredT, ObservedT, ChangesT]):
    """discover -> diff -> apply -> converge -> result; the steps are the driver's.

    ``desired`` is None for a removal (everything of the instance goes).
    """

    label = "the VIM"  # names the VIM in the convergence error
    poll_interval = 1.0  # seconds between two rediscoveries while converging
    timeout: float = 300.0
    wait: bool = True

    # -- VimDriver ---------------------------------------------------------------------------
    def reconcile(
        self,
        plan: dict[str, Any],
        *,
        heal: list[str],
        check_mode: bool,
        heal_token: str | None = None,
    ) -> ReconcileResult:
        self.check_access()
        if not isinstance(plan, dict):
            raise VimError("plan must be a mapping")
        # vnfc_marks imports this package's VimError: imported once the package is loaded
        from ansible_collections.nfv.vnfm.plugins.module_utils.vim import vnfc_marks

        inst = self.instance_id(plan.get("vnfInstanceId"))
        token = vnfc_marks.token_digest(heal_token)
        desired, obs, changes = self.diff(inst, plan, list(heal or []), token, check_mode)
        return self.run(inst, desired, obs, changes, check_mode)

    def remove(self, vnf_instance_id: str, *, check_mode: bool) -> ReconcileResult:
        self.check_access()
        inst = self.instance_id(vnf_instance_id)
        obs, changes = self.removal(inst, check_mode)
        return self.run(inst, None, obs, changes, check_mode)

    # -- the skeleton --------------------------------------------------------------------------
    def run(
        self,
        inst: str,
        desired: DesiredT | None,
        obs: ObservedT,
        changes: ChangesT,
        check_mode: bool,
    ) -> ReconcileResult:
        """Apply ``changes`` (not in check mode), converge, and report."""
        before = self.summary(obs)
        if changes.changed and not check_mode:
            hint = self.apply(desired, obs, changes)
            final = self.converge(inst, desired, hint)
            resources, after = self.outcome(inst, desired, final)
        else:
            resources, after = self.prediction(inst, desired, obs, changes)
        warnings = self.warnings(changes)
        actions = list(changes.actions)
        diff: dict[str, Any] = {"before": before, "after": after}
        if warnings is not None:
            actions += [f"warning: {w}" for w in warnings]
            diff["warnings"] = warnings
        return ReconcileResult(
            changed=changes.changed,
            actions=actions,
            resources=resources,
            diff=diff,
            created=self.created(changes),
        )

    def converge(self, inst: str, desired: DesiredT | None, hint: Any = None) -> ObservedT:
        """Rediscover (the VIM is the truth) until it matches the plan, or time out.

        ``hint`` is what ``apply`` already knows (records read back on creation) and
        serves the first rediscovery only.
        """
        deadline = time.monotonic() + self.timeout
        while True:
            final = self.observe(inst, hint)
            hint = None
            remaining = self.remaining(inst, desired, final)
            if not remaining or not self.wait:
                return final
            if time.monotonic() >= deadline:
                raise VimError(
                    f"{self.label} did not converge to the plan: " + "; ".join(remaining)
                )
            time.sleep(self.poll_interval)

    # -- the steps a driver supplies -----------------------------------------------------------
    def check_access(self) -> None:
        """Refuse early when this process cannot reach the VIM at all."""

    def instance_id(self, value: object) -> str:
        raise NotImplementedError

    def diff(
        self, inst: str, plan: dict[str, Any], heal: list[str], token: str | None, check_mode: bool
    ) -> tuple[DesiredT, ObservedT, ChangesT]:
        """Discover and compute what the plan changes (nothing is changed)."""
        raise NotImplementedError

    def removal(self, inst: str, check_mode: bool) -> tuple[ObservedT, ChangesT]:
        """Discover and compute the deletion of everything of the instance."""
        raise NotImplementedError

    def apply(self, desired: DesiredT | None, obs: ObservedT, changes: ChangesT) -> Any:
        """Change the VIM; returns a hint for the first rediscovery (or None)."""
        raise NotImplementedError

    def observe(self, inst: str, hint: Any) -> ObservedT:
        raise NotImplementedError

    def remaining(self, inst: str, desired: DesiredT | None, final: ObservedT) -> list[str]:
        """What still differs from the plan (the removal when ``desired`` is None)."""
        raise NotImplementedError

    def summary(self, obs: ObservedT) -> dict[str, Any]:
        raise NotImplementedError

    def outcome(
        self, inst: str, desired: DesiredT | None, final: ObservedT
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(resources, after summary) of what the VIM holds once converged."""
        raise NotImplementedError

    def prediction(
        self, inst: str, desired: DesiredT | None, obs: ObservedT, changes: ChangesT
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(resources, after summary) when nothing is applied: unchanged, or check mode."""
        raise NotImplementedError

    def created(self, changes: ChangesT) -> list[str] | None:
        """Ids of the VNFCs ``changes`` creates (new, or replacing one); None: the driver
        cannot tell (a heal then reports only the VNFCs it was asked to heal)."""
        return None

    def warnings(self, changes: ChangesT) -> list[str] | None:
        """Warnings the diff found (listed after the actions); None: the VIM has none."""
        return None
