"""Where an operation's time goes: a per-phase profile built from ansible-runner's events.

No extra run and no extra callback: every task result event already carries the
host's start and end time (ansible-runner's display callback), every event its
creation time. The profile of one playbook run sorts the run's wall time into

* ``processStart``: from starting ansible-runner to the first event (the
  ``ansible-playbook`` process, its imports, the inventory and playbook parsing);
* ``planning``: the tasks of the ``nfv.vnfm.vnf_plan`` module;
* ``vim``: the tasks of ``nfv.vnfm.vnf_resources`` (discover, diff, apply);
* ``hooks``: the wall time of the plays that ran tasks on VNFCs (hosts other than
  ``localhost``), each play with its own wall time and the busy time of every
  VNFC in it (``hookPlays``);
* ``ansible``: the rest of the run (the runner's own small tasks, task dispatch,
  templating, the end of the process).

``vnfm_runner.lcm.recording`` adds ``records`` (from the end of the last run to the
record's commit) and ``total`` (from the occurrence's start), sums the runs of one
operation (a rollback, a package change's batches) and writes the result once, as
``vnfmTimings`` of the VnfLcmOpOcc, in the transaction of its final state.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

# The runner's modules whose tasks are phases of their own.
PHASE_OF_ACTION = {
    "nfv.vnfm.vnf_plan": "planning",
    "vnf_plan": "planning",
    "nfv.vnfm.vnf_resources": "vim",
    "vnf_resources": "vim",
}
RESULT_EVENTS = frozenset(
    {"runner_on_ok", "runner_on_failed", "runner_on_skipped", "runner_on_unreachable"}
)
CONTROLLER_HOSTS = frozenset({"localhost", "127.0.0.1"})
PHASES = ("processStart", "planning", "vim", "hooks", "ansible")


def _stamp(value: Any) -> float | None:
    """Seconds since the epoch of an ISO time from an event (naive means UTC)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def _r(seconds: float) -> float:
    return round(max(seconds, 0.0), 3)


class RunProfile:
    """Fed with one run's events (in order); :meth:`summary` once the run is over."""

    def __init__(self) -> None:
        self.started = time.time()
        self.ended: float | None = None
        self.first_event: float | None = None
        self.phase = {"planning": 0.0, "vim": 0.0}
        # play uuid -> [name, first task start, last task end, {host: busy seconds}]
        self.plays: dict[str, list[Any]] = {}

    def feed(self, event: dict[str, Any]) -> None:
        created = _stamp(event.get("created"))
        if self.first_event is None and created is not None:
            self.first_event = created
        if event.get("event") not in RESULT_EVENTS:
            return
        data = event.get("event_data") or {}
        start, end = _stamp(data.get("start")), _stamp(data.get("end"))
        if start is None or end is None:
            return
        host = str(data.get("host") or "")
        phase = PHASE_OF_ACTION.get(str(data.get("task_action") or data.get("resolved_action")))
        if phase is not None:
            self.phase[phase] += end - start
        elif host not in CONTROLLER_HOSTS:
            key = str(data.get("play_uuid") or data.get("play") or "")
            play = self.plays.setdefault(key, [str(data.get("play") or ""), start, end, {}])
            play[1], play[2] = min(play[1], start), max(play[2], end)
            play[3][host] = play[3].get(host, 0.0) + end - start

    def finish(self) -> None:
        self.ended = time.time()

    def summary(self) -> dict[str, Any]:
        ended = self.ended if self.ended is not None else time.time()
        wall = ended - self.started
        process = (self.first_event - self.started) if self.first_event is not None else wall
        hooks = sum(p[2] - p[1] for p in self.plays.values())
        known = process + self.phase["planning"] + self.phase["vim"] + hooks
        return {
            "run": _r(wall),
            "processStart": _r(process),
            "planning": _r(self.phase["planning"]),
            "vim": _r(self.phase["vim"]),
            "hooks": _r(hooks),
            "ansible": _r(wall - known),
            "hookPlays": [
                {
                    "play": name,
                    "wall": _r(last - first),
                    "vnfcs": {host: _r(busy) for host, busy in sorted(hosts.items())},
                }
                for name, first, last, hosts in self.plays.values()
            ],
        }


def merge(total: dict[str, Any] | None, run: dict[str, Any]) -> dict[str, Any]:
    """The profile of one more run of the same operation added to ``total``."""
    if not total:
        return {**run, "runs": 1}
    out = dict(total)
    for key in ("run", *PHASES):
        out[key] = _r(float(total.get(key) or 0) + float(run.get(key) or 0))
    out["hookPlays"] = [*(total.get("hookPlays") or []), *(run.get("hookPlays") or [])]
    out["runs"] = int(total.get("runs") or 1) + 1
    return out


def rows(timings: dict[str, Any]) -> list[list[str]]:
    """The profile as (phase, seconds, share of the total) rows for a table."""
    total = float(timings.get("total") or timings.get("run") or 0.0)

    def row(label: str, seconds: Any) -> list[str]:
        value = float(seconds or 0.0)
        share = f"{100 * value / total:.0f} %" if total > 0 else ""
        return [label, f"{value:.3f}", share]

    out = [
        row("process start", timings.get("processStart")),
        row("planning", timings.get("planning")),
        row("VIM calls", timings.get("vim")),
        row("hooks", timings.get("hooks")),
    ]
    for play in timings.get("hookPlays") or []:
        out.append(row(f"  play {play.get('play')}", play.get("wall")))
        for host, busy in (play.get("vnfcs") or {}).items():
            out.append(row(f"    {host}", busy))
    out += [
        row("ansible (other tasks, dispatch)", timings.get("ansible")),
        row("before the run (decide, grant)", timings.get("before")),
        row("records", timings.get("records")),
        row("total", timings.get("total")),
    ]
    return out
