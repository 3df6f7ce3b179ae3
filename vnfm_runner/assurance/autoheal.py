"""Auto-heal policy: which VNFCs of an instance the watcher may heal now (pure, in memory).

The switch is SOL003's ``vnfConfigurableProperties.isAutohealEnabled`` of the
instance (set at instantiation or with a modification), defaulting to the
package's ``is_autoheal_enabled`` (the summary's ``isAutohealEnabled``); a
package that says nothing means off.

Safety, per instance:

* a cooldown per VNFC: a VNFC healed less than ``cooldown_s`` ago is left alone
  (its alarm stays open; the next pass after the cooldown heals it again);
* a storm guard: more than ``storm_heals`` heals of one instance within
  ``storm_window_s`` suspend auto-heal for it (the watcher raises a CRITICAL
  alarm saying so); it resumes once the instance has been free of drift for a
  whole window, or when auto-heal is switched off and on again;
* one operation at a time and never during FAILED_TEMP: the watcher does not
  even look at a busy instance, and the operation engine refuses a second one.

The policy only decides; the watcher starts the HEAL through the LCM service.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

AUTOHEAL_PROPERTY = "isAutohealEnabled"


def autoheal_enabled(instance_doc: Mapping[str, Any], package_summary: Mapping[str, Any]) -> bool:
    """The instance's switch, else the package's default, else off."""
    props = instance_doc.get("vnfConfigurableProperties") or {}
    value = props.get(AUTOHEAL_PROPERTY) if isinstance(props, Mapping) else None
    if isinstance(value, bool):
        return value
    return package_summary.get(AUTOHEAL_PROPERTY) is True


@dataclass(frozen=True)
class AutohealSettings:
    cooldown_s: float = 60.0
    storm_heals: int = 3  # more than this many heals in the window suspend auto-heal
    storm_window_s: float = 600.0


@dataclass(frozen=True)
class Decision:
    heal: list[str]  # VNFCs to heal now, in one HEAL
    cooling: list[str]  # healed too recently: wait
    storm: bool  # this decision suspends auto-heal for the instance (raise the alarm)


@dataclass
class _InstanceState:
    heals: deque[float] = field(default_factory=deque)  # times of the instance's heals
    last_heal: dict[str, float] = field(default_factory=dict)  # per VNFC
    suspended_at: float | None = None
    clean_since: float | None = None  # no drift since then (resumes after a window)


class AutohealPolicy:
    """Cooldowns and storm guard of the instances, over monotonic seconds."""

    def __init__(self, settings: AutohealSettings | None = None) -> None:
        self.settings = settings or AutohealSettings()
        self._instances: dict[str, _InstanceState] = {}

    def _state(self, instance_id: str) -> _InstanceState:
        return self._instances.setdefault(instance_id, _InstanceState())

    def suspended(self, instance_id: str) -> bool:
        state = self._instances.get(instance_id)
        return state is not None and state.suspended_at is not None

    def suspend(self, instance_id: str, now: float) -> None:
        """Suspended (e.g. found so after a restart: its storm alarm is still open)."""
        self._state(instance_id).suspended_at = now

    def decide(self, instance_id: str, vnfc_ids: Iterable[str], now: float) -> Decision:
        """What to heal of ``vnfc_ids`` (VNFCs with an alarm) now."""
        s = self.settings
        state = self._state(instance_id)
        state.clean_since = None
        wanted = sorted(set(vnfc_ids))
        if state.suspended_at is not None or not wanted:
            return Decision([], [], False)
        while state.heals and now - state.heals[0] > s.storm_window_s:
            state.heals.popleft()
        cooling = [v for v in wanted if now - state.last_heal.get(v, -1e18) < s.cooldown_s]
        heal = [v for v in wanted if v not in cooling]
        if heal and len(state.heals) >= s.storm_heals:
            state.suspended_at = now
            return Decision([], wanted, True)
        return Decision(heal, cooling, False)

    def healed(self, instance_id: str, vnfc_ids: Iterable[str], now: float) -> None:
        """A HEAL of these VNFCs was started (one heal, whatever its size)."""
        state = self._state(instance_id)
        state.heals.append(now)
        for v in vnfc_ids:
            state.last_heal[v] = now

    def clean(self, instance_id: str, now: float) -> bool:
        """The instance has no drift this pass; True when this resumes auto-heal."""
        state = self._instances.get(instance_id)
        if state is None:
            return False
        if state.clean_since is None:
            state.clean_since = now
        if (
            state.suspended_at is not None
            and now - state.clean_since >= self.settings.storm_window_s
        ):
            self.reset(instance_id)
            return True
        return False

    def reset(self, instance_id: str) -> None:
        """Forget the instance (auto-heal switched off, instance gone): a fresh start."""
        self._instances.pop(instance_id, None)
