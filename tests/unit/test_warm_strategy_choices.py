"""What the runner's ``vnfm_warm`` strategy decides per task, before the task's worker
forks: which tasks need Mitogen started (its multiplexers start with the first of them,
not with the run), and which ``raw`` tasks go back to the VNFC's namespace connection.
tests/integration/test_warm_strategy.py runs both for real."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import trust_as_template

from vnfm_runner import warm_choices as warm


def _task(
    connection: str = "ssh",
    become: bool = False,
    delegate_to: str | None = None,
    when: list[Any] | None = None,
    loop: Any = None,
) -> Any:
    return SimpleNamespace(
        connection=connection,
        become=become,
        delegate_to=delegate_to,
        when=when or [],
        loop=loop,
        loop_with=None,
    )


LOCAL = {"ansible_connection": "local"}
WARM_VNFC = {
    "ansible_connection": "local",
    "vnfm_warm_python": ["/usr/sbin/ip", "netns", "exec", "vnfm-x-web-0", "python3"],
    "vnfm_netns": "vnfm-x-web-0",
}


@pytest.mark.parametrize(
    ("action", "task_vars", "task", "needs"),
    [
        # the runner's own tasks on localhost: in the worker, no connection
        ("ansible.builtin.set_fact", LOCAL, _task(), False),
        ("ansible.builtin.add_host", LOCAL, _task(), False),
        ("ansible.builtin.set_stats", LOCAL, _task(), False),
        ("nfv.vnfm.vnf_plan", LOCAL, _task(), False),
        ("nfv.vnfm.vnf_resources", LOCAL, _task(), False),
        # ...but vnf_resources runs its module when it becomes another user
        ("nfv.vnfm.vnf_resources", LOCAL, _task(become=True), True),
        ("nfv.vnfm.vnf_resources", {**LOCAL, "ansible_become": True}, _task(), True),
        # a module on localhost or in a warm VNFC: Mitogen's interpreter
        ("ansible.builtin.command", LOCAL, _task(), True),
        ("ansible.builtin.template", WARM_VNFC, _task(), True),
        ("nfv.vnfm.vnf_resources_info", LOCAL, _task(), True),
        # connections Mitogen does not take over
        ("ansible.builtin.command", {"ansible_connection": "nfv.vnfm.netns"}, _task(), False),
        ("ansible.builtin.command", {}, _task(connection="ssh"), False),
        ("ansible.builtin.raw", {"ansible_connection": "nfv.vnfm.podman"}, _task(), False),
        # a module task whose condition is false now: skipped, no interpreter
        ("nfv.vnfm.vnf_resources_info", LOCAL, _task(when=[False]), False),
        (
            "nfv.vnfm.vnf_resources_info",
            {**LOCAL, "op": "SCALE"},
            _task(when=[trust_as_template("op == 'CHANGE_VNFPKG'")]),
            False,
        ),
        (
            "nfv.vnfm.vnf_resources_info",
            LOCAL,
            _task(when=[True, trust_as_template("1 == 1")]),
            True,
        ),
        # ...unless a loop decides per item, or the condition cannot be decided here
        ("ansible.builtin.command", LOCAL, _task(when=[False], loop=[1, 2]), True),
        (
            "ansible.builtin.command",
            LOCAL,
            _task(when=[trust_as_template("undefined_var.attr == 1")]),
            True,
        ),
        # unsure: yes
        ("ansible.builtin.command", LOCAL, _task(delegate_to="other"), True),
        ("ansible.builtin.command", {"ansible_connection": "{{ conn }}"}, _task(), True),
        ("ansible.builtin.command", {"ansible_connection": None}, _task(), True),
    ],
)
def test_which_tasks_start_mitogen(
    action: str, task_vars: dict[str, Any], task: Any, needs: bool
) -> None:
    assert warm.needs_mitogen(action, task_vars, task, DataLoader()) is needs


def test_a_raw_task_in_a_warm_vnfc_goes_through_its_namespace() -> None:
    routed = warm.cold_vars("ansible.builtin.raw", WARM_VNFC, False)
    assert routed["ansible_connection"] == "nfv.vnfm.netns"
    assert routed["vnfm_netns"] == "vnfm-x-web-0"
    assert WARM_VNFC["ansible_connection"] == "local"  # the host's own variables untouched
    # and then needs no Mitogen
    assert warm.needs_mitogen("ansible.builtin.raw", routed, _task(), DataLoader()) is False


@pytest.mark.parametrize(
    ("action", "task_vars", "delegated"),
    [
        ("ansible.builtin.command", WARM_VNFC, False),  # a module: warm
        ("ansible.builtin.raw", WARM_VNFC, True),  # delegated elsewhere
        ("ansible.builtin.raw", LOCAL, False),  # localhost: no namespace
        ("ansible.builtin.raw", {**WARM_VNFC, "vnfm_netns": ""}, False),
    ],
)
def test_other_tasks_keep_their_connection(
    action: str, task_vars: dict[str, Any], delegated: bool
) -> None:
    assert warm.cold_vars(action, task_vars, delegated) is task_vars


def test_a_deferred_module_loads_on_its_first_name() -> None:
    import json

    deferred = warm.Deferred("json")
    # probes of every module (inspect, Mitogen's module scans) load nothing
    assert not hasattr(deferred, "__file__")
    # a real name: the module itself answers
    assert deferred.dumps is json.dumps
