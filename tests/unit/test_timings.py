"""The per-phase profile of a playbook run (vnfm_runner.timings) from runner events."""

from __future__ import annotations

from typing import Any

from vnfm_runner import timings


def result(
    task: str, action: str, host: str, start: str, end: str, play: str = "p"
) -> dict[str, Any]:
    return {
        "event": "runner_on_ok",
        "created": end,
        "event_data": {
            "task": task,
            "task_action": action,
            "host": host,
            "play": play,
            "play_uuid": play,
            "start": start,
            "end": end,
        },
    }


def test_phases_from_events() -> None:
    prof = timings.RunProfile()
    prof.started = timings._stamp("2026-01-01T00:00:00+00:00") or 0.0
    events = [
        {"event": "playbook_on_start", "created": "2026-01-01T00:00:00.500000"},  # naive: UTC
        result(
            "plan",
            "nfv.vnfm.vnf_plan",
            "localhost",
            "2026-01-01T00:00:00.6+00:00",
            "2026-01-01T00:00:00.9+00:00",
        ),
        result(
            "vim",
            "nfv.vnfm.vnf_resources",
            "localhost",
            "2026-01-01T00:00:01+00:00",
            "2026-01-01T00:00:01.5+00:00",
        ),
        # two VNFCs in parallel in one play, then a second task on one of them
        result(
            "a",
            "ansible.builtin.command",
            "web-0",
            "2026-01-01T00:00:02+00:00",
            "2026-01-01T00:00:02.4+00:00",
            "hook",
        ),
        result(
            "a",
            "ansible.builtin.command",
            "web-1",
            "2026-01-01T00:00:02+00:00",
            "2026-01-01T00:00:02.5+00:00",
            "hook",
        ),
        result(
            "b",
            "ansible.builtin.command",
            "web-0",
            "2026-01-01T00:00:02.5+00:00",
            "2026-01-01T00:00:02.6+00:00",
            "hook",
        ),
        {"event": "runner_on_ok", "event_data": {"host": "web-0"}},  # no times: ignored
        {"event": "verbose", "created": "garbage"},
    ]
    for event in events:
        prof.feed(event)
    prof.ended = prof.started + 3.0
    out = prof.summary()
    assert out["run"] == 3.0
    assert out["processStart"] == 0.5
    assert out["planning"] == 0.3
    assert out["vim"] == 0.5
    assert out["hooks"] == 0.6  # the play's wall time, not the sum of its VNFCs
    assert out["hookPlays"] == [
        {"play": "hook", "wall": 0.6, "vnfcs": {"web-0": 0.5, "web-1": 0.5}}
    ]
    assert out["ansible"] == 1.1


def test_runs_of_one_operation_add_up() -> None:
    one = {
        "run": 1.0,
        "processStart": 0.2,
        "planning": 0.1,
        "vim": 0.3,
        "hooks": 0.2,
        "ansible": 0.2,
        "hookPlays": [],
    }
    two = timings.merge(timings.merge(None, one), one)
    assert two["runs"] == 2 and two["run"] == 2.0 and two["vim"] == 0.6
    labels = [row[0] for row in timings.rows({**two, "total": 4.0, "records": 0.1, "before": 1.9})]
    assert labels[0] == "process start" and labels[-1] == "total"
