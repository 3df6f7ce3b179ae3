"""Unit tests of the ``openstack`` VIM driver's power state (operate): diff, resource info,
the stop settings carried by the plan, and the apply step against a fake Nova (the SDK
edge only: the fake answers ``stop_server``/``start_server``/``get_server``/``servers``)."""

from __future__ import annotations

import dataclasses
import threading
from types import SimpleNamespace
from typing import Any

import pytest
from ansible_collections.nfv.vnfm.plugins.module_utils.errors import PlanError
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.decide import decide_plan
from ansible_collections.nfv.vnfm.plugins.module_utils.vim import VimError
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack import apply
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.diff import (
    PowerChange,
    compute_changes,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.model import Observed
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._openstack.resources import (
    build_resources,
    predicted_summary,
)
from openstack import exceptions as sdk_exceptions

from tests.unit.test_openstack_diff import INST, _model, desired, observed_from, webfarm_plan


def with_status(obs: Observed, vnfc_id: str, status: str) -> Observed:
    name = f"{webfarm_plan()['namePrefix']}-{vnfc_id}"
    obs.servers[name] = dataclasses.replace(obs.servers[name], status=status)
    return obs


# -- diff ----------------------------------------------------------------------------------------
def test_a_stopped_vnfc_stops_its_server_only() -> None:
    want = desired(webfarm_plan(power_off=["web-1"]))
    ch = compute_changes(want, observed_from(desired()))
    assert ch.actions == [
        f"stop server {want.servers['web-1'].name} (GRACEFUL; VNFC web-1 stopped)"
    ]
    assert [(p.server.vnfc_id, p.action, p.new) for p in ch.power] == [("web-1", "stop", False)]
    assert not ch.create_servers and not ch.delete_servers
    # done: nothing more to do
    stopped = with_status(observed_from(want), "web-1", "SHUTOFF")
    assert not compute_changes(want, stopped).changed


def test_whole_vnf_started_again() -> None:
    want = desired()
    obs = observed_from(want)
    for vnfc, status in (("lb-0", "SHUTOFF"), ("web-0", "SUSPENDED"), ("web-1", "PAUSED")):
        with_status(obs, vnfc, status)
    ch = compute_changes(want, obs)
    assert sorted((p.server.vnfc_id, p.action) for p in ch.power) == [
        ("lb-0", "start"),
        ("web-0", "resume"),
        ("web-1", "unpause"),
    ]
    assert len(ch.actions) == 3 and not ch.create_servers


def test_stop_settings_show_in_the_action_and_errors_name_the_field() -> None:
    plan = webfarm_plan(power_off=True)
    plan["inputs"] = {"stopType": "GRACEFUL", "gracefulStopTimeout": 30}
    want = desired(plan)
    assert (want.stop_type, want.graceful_stop_timeout) == ("GRACEFUL", 30.0)
    ch = compute_changes(want, observed_from(desired()))
    assert len(ch.power) == 3
    assert all("(GRACEFUL, 30 s;" in a for a in ch.actions)
    plan["inputs"] = {"stopType": "FORCEFUL"}
    assert "(FORCEFUL;" in compute_changes(desired(plan), observed_from(desired())).actions[0]
    plan["inputs"] = {"stopType": "SOFT"}
    with pytest.raises(VimError, match=r"inputs\.stopType must be GRACEFUL or FORCEFUL"):
        desired(plan)
    plan["inputs"] = {"gracefulStopTimeout": -1}
    with pytest.raises(VimError, match=r"inputs\.gracefulStopTimeout"):
        desired(plan)
    plan["inputs"] = {}
    plan["vnfcs"][0]["powerState"] = "standby"
    with pytest.raises(VimError, match="powerState must be 'on' or 'off'"):
        desired(plan)


def test_a_new_server_of_a_stopped_vnfc_is_stopped_once_created() -> None:
    want = desired(webfarm_plan(power_off=["web-0"]))
    obs = observed_from(desired())
    del obs.servers[want.servers["web-0"].name]
    ch = compute_changes(want, obs)
    assert [s.vnfc_id for s in ch.create_servers] == ["web-0"]
    assert [(p.server.vnfc_id, p.new) for p in ch.power] == [("web-0", True)]
    assert ch.actions[-1].startswith(f"stop server {want.servers['web-0'].name} once created")
    # heal of a stopped VNFC: replaced, then stopped
    stopped = with_status(observed_from(want), "web-0", "SHUTOFF")
    healed = compute_changes(want, stopped, ["web-0"])
    assert [p.new for p in healed.power] == [True]


def test_resource_info_and_summary_show_the_power_state() -> None:
    want = desired(webfarm_plan(power_off=["web-1"]))
    obs = with_status(observed_from(want), "web-1", "SHUTOFF")
    info = build_resources("vim", want, obs)["vnfcResourceInfo"]
    assert {v["id"]: v["metadata"]["powerState"] for v in info} == {
        "lb-0": "on",
        "web-0": "on",
        "web-1": "off",
    }
    assert predicted_summary(want)["servers"][want.servers["web-1"].name].startswith("SHUTOFF")


def test_decide_keeps_the_stop_type_of_an_operate() -> None:
    model = _model()
    current, _d, _c = decide_plan(model, INST, "INSTANTIATE", _instantiate(), None)
    stop = {"changeStateTo": "STOPPED", "stopType": "FORCEFUL", "vnfcInstanceId": ["web-1"]}
    stopped, _d, _c = decide_plan(model, INST, "OPERATE", stop, current)
    assert stopped["inputs"]["stopType"] == "FORCEFUL"
    assert stopped["inputs"]["gracefulStopTimeout"] is None
    assert {v["id"]: v["powerState"] for v in stopped["vnfcs"]}["web-1"] == "off"
    graceful = {"changeStateTo": "STOPPED", "gracefulStopTimeout": 5}
    whole, _d, _c = decide_plan(model, INST, "OPERATE", graceful, stopped)
    assert (whole["inputs"]["stopType"], whole["inputs"]["gracefulStopTimeout"]) == (
        "GRACEFUL",
        5,
    )
    for bad, field in (({"stopType": "NOW"}, "stopType"), ({"gracefulStopTimeout": "5"}, "grace")):
        with pytest.raises(PlanError, match=field):
            decide_plan(model, INST, "OPERATE", {"changeStateTo": "STOPPED", **bad}, current)


def _instantiate() -> dict[str, Any]:
    return {
        "flavourId": "default",
        "instantiationLevelId": "small",
        "extVirtualLinks": [
            {"id": "ext", "resourceId": "public", "extCps": [{"cpdId": "lb_ext_cp"}]}
        ],
    }


# -- apply, against a fake Nova --------------------------------------------------------------------
class FakeCompute:
    """Servers whose power changes ``delay`` polls after the call; ``busy`` answers 409 (a
    task under way) that many times first."""

    def __init__(self, servers: dict[str, str], delay: int = 0, busy: int = 0) -> None:
        self.status = dict(servers)  # name -> status
        self.task: dict[str, str | None] = dict.fromkeys(servers)
        self.pending: dict[str, tuple[str, int]] = {}
        self.delay, self.busy = delay, busy
        self.calls: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def _act(self, action: str, name: str, target: str) -> None:
        with self.lock:
            self.calls.append((action, name))
            if self.busy:
                self.busy -= 1
                self.task[name] = "powering-off"
                raise sdk_exceptions.ConflictException(message="task_state powering-off")
            self.task[name] = None
            self.pending[name] = (target, self.delay)

    def stop_server(self, name: str) -> None:
        self._act("stop", name, "SHUTOFF")

    def start_server(self, name: str) -> None:
        self._act("start", name, "ACTIVE")

    def get_server(self, name: str) -> Any:
        with self.lock:
            task, self.task[name] = self.task[name], None  # the task under way ends
            return SimpleNamespace(id=name, status=self.status[name], task_state=task)

    def servers(self, **_query: Any) -> list[Any]:
        with self.lock:
            for name, (target, left) in list(self.pending.items()):
                if left <= 0:
                    self.status[name] = target
                    del self.pending[name]
                else:
                    self.pending[name] = (target, left - 1)
            return [SimpleNamespace(id=n, status=s) for n, s in self.status.items()]


def applier(compute: FakeCompute, plan: dict[str, Any], timeout: float = 5) -> apply.Applier:
    want = desired(plan)
    obs = Observed()
    conn = SimpleNamespace(compute=compute)
    app = apply.Applier(conn, INST, apply.Settings(timeout=timeout), want, obs)
    for server in want.servers.values():
        app.ids.set("server", server.name, server.name)
    return app


def servers_of(app: apply.Applier) -> dict[str, Any]:
    assert app.desired is not None
    return dict(app.desired.servers)


@pytest.fixture(autouse=True)
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(apply, "POLL", 0.01)


def test_apply_stops_then_waits_for_shutoff() -> None:
    plan = webfarm_plan(power_off=True)
    names = [v["name"] for v in plan["vnfcs"]]
    compute = FakeCompute(dict.fromkeys(names, "ACTIVE"), delay=3)
    app = applier(compute, plan)
    app.power([PowerChange(s, "stop") for s in servers_of(app).values()])
    assert sorted(compute.calls) == sorted(("stop", n) for n in names)
    assert set(compute.status.values()) == {"SHUTOFF"}


def test_apply_asks_again_while_nova_is_busy_and_warns_past_the_graceful_timeout() -> None:
    plan = webfarm_plan(power_off=["web-0"])
    plan["inputs"] = {"stopType": "GRACEFUL", "gracefulStopTimeout": 0.05}
    name = next(v["name"] for v in plan["vnfcs"] if v["id"] == "web-0")
    compute = FakeCompute({name: "ACTIVE"}, delay=20, busy=1)
    app = applier(compute, plan)
    app.power([PowerChange(servers_of(app)["web-0"], "stop")])
    assert compute.calls == [("stop", name), ("stop", name)]  # 409 once: asked again
    assert compute.status[name] == "SHUTOFF"
    (warning,) = app._changes.warnings
    assert warning.startswith(f"graceful stop: server {name} still ACTIVE")
    assert "gracefulStopTimeout 0.05 s" in warning


def test_apply_power_error_names_the_server() -> None:
    plan = webfarm_plan(power_off=["web-0"])
    name = next(v["name"] for v in plan["vnfcs"] if v["id"] == "web-0")

    class Locked(FakeCompute):
        def stop_server(self, _name: str) -> None:
            raise sdk_exceptions.HttpException(message="Instance is locked")

    app = applier(Locked({name: "ACTIVE"}), plan)
    with pytest.raises(VimError, match=f"stop server {name}: .*locked"):
        app.power([PowerChange(servers_of(app)["web-0"], "stop")])


def test_apply_times_out_with_the_servers_named() -> None:
    plan = webfarm_plan(power_off=["web-0"])
    name = next(v["name"] for v in plan["vnfcs"] if v["id"] == "web-0")
    app = applier(FakeCompute({name: "SHUTOFF"}, delay=10_000), plan, timeout=0.1)
    with pytest.raises(VimError, match=f"server {name} still SHUTOFF after"):
        app.power([PowerChange(dataclasses.replace(servers_of(app)["web-0"]), "start")])
