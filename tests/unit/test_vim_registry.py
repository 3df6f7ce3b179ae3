"""The VIM driver registry (names -> driver, SOL003 names, metadata) and the shared
reconcile skeleton (``vim/base.py``) driven by a fake driver."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from ansible_collections.nfv.vnfm.plugins.module_utils import lcm_context
from ansible_collections.nfv.vnfm.plugins.module_utils import vim as vim_port
from ansible_collections.nfv.vnfm.plugins.module_utils.vim import (
    DriverInfo,
    ReconcilingDriver,
    RequestFields,
    VimError,
    connection_of,
    driver_info,
    get_driver,
    register,
    unregister,
    vim_type_names,
    vim_types,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.local import LocalDriver
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.openstack import OpenStackDriver

INST = "6f1c2a9b-0000-4000-8000-000000000001"


# -- the registry ---------------------------------------------------------------------------------
def test_builtin_drivers_and_their_names() -> None:
    assert vim_types() == ["kubernetes", "local", "openstack", "podman"]
    assert driver_info("kubernetes") is driver_info("ETSINFV.KUBERNETES.V_1")
    assert driver_info("openstack") is driver_info("ETSINFV.OPENSTACK_KEYSTONE.V_3")
    assert driver_info("local") is driver_info("VNFM.LOCAL")
    assert driver_info("ETSINFV.OPENSTACK_KEYSTONE.V_3").sol003_type == (
        "ETSINFV.OPENSTACK_KEYSTONE.V_3"
    )
    assert set(vim_type_names()) >= {
        "local",
        "VNFM.LOCAL",
        "openstack",
        "ETSINFV.OPENSTACK_KEYSTONE.V_3",
    }


@pytest.mark.parametrize("name", ["nope", "", None, 3, "Local"])
def test_unknown_vim_type_is_a_clear_error_naming_it(name: object) -> None:
    with pytest.raises(VimError, match=rf"unsupported vimType {name!r}; supported: .*local"):
        driver_info(name)
    with pytest.raises(VimError, match="unsupported vimType"):
        get_driver({"vimType": name})


def test_get_driver_by_any_of_its_names() -> None:
    assert isinstance(get_driver({"vimType": "VNFM.LOCAL"}), LocalDriver)
    assert isinstance(
        get_driver({"vimType": "ETSINFV.OPENSTACK_KEYSTONE.V_3"}, connection=object()),
        OpenStackDriver,
    )
    # generic options reach the driver; package_dir is the OpenStack driver's image source
    os_driver = get_driver({"vimType": "openstack"}, package_dir="/pkg", connection=object())
    assert isinstance(os_driver, OpenStackDriver) and os_driver.package_dir == "/pkg"
    assert isinstance(get_driver({"vimType": "local"}, package_dir="/pkg"), LocalDriver)


def test_metadata_of_the_builtin_drivers() -> None:
    local, openstack = driver_info("local"), driver_info("openstack")
    assert local.builtin_name == "local" and openstack.builtin_name is None
    assert local.preflight is not None and openstack.preflight is None
    assert openstack.clouds_yaml and not local.clouds_yaml
    # the local VIM reads no request field; OpenStack's Keystone keys pass as given
    assert not local.request_fields.connection_data
    assert openstack.request_fields.connection_data
    assert "interfaceInfo.endpoint" in openstack.request_fields.endpoints
    assert connection_of("linux.netns") == local.connection
    assert connection_of("OS::Nova::Server") == openstack.connection
    assert connection_of("nothing") is None


def test_a_new_driver_registers_and_its_names_are_its_own() -> None:
    made: list[dict[str, Any]] = []

    def factory(vim: dict[str, Any], creds: dict[str, Any] | None, opts: dict[str, Any]) -> Any:
        made.append({"vim": vim, "creds": creds, "opts": opts})
        return "driver"

    info = DriverInfo(
        "fake", ("X.FAKE.V_1",), factory, request_fields=RequestFields(extra=frozenset({"k"}))
    )
    register(info)
    try:
        assert get_driver({"vimType": "X.FAKE.V_1"}, {"password": "p"}, wait=False) == "driver"
        assert made == [
            {"vim": {"vimType": "X.FAKE.V_1"}, "creds": {"password": "p"}, "opts": {"wait": False}}
        ]
        assert "X.FAKE.V_1" in vim_type_names()
        # another driver may not take a name that is already someone's
        with pytest.raises(ValueError, match="already driver 'local'"):
            register(DriverInfo("other", ("VNFM.LOCAL",), factory))
    finally:
        unregister("fake")
    assert "fake" not in vim_types()
    # the old entry point still works
    vim_port.register_driver("fake2", factory)
    try:
        assert get_driver({"vimType": "fake2"}) == "driver"
    finally:
        unregister("fake2")


def test_lcm_context_asks_the_registry_how_to_reach_a_vnfc() -> None:
    netns = {"resourceType": "linux.netns", "resourceId": "vnfm-x-web-0", "cps": []}
    server = {
        "resourceType": "OS::Nova::Server",
        "resourceId": "uuid",
        "cps": [{"ipAddresses": ["10.0.0.5"]}, {"ipAddresses": ["172.24.4.9"], "external": True}],
    }
    assert lcm_context.connection_vars(netns) == {
        "ansible_connection": "nfv.vnfm.netns",
        "vnfm_netns": "vnfm-x-web-0",
    }
    assert lcm_context.connection_vars(server) == {
        "ansible_connection": "ssh",
        "ansible_host": "172.24.4.9",
    }
    assert lcm_context.connection_vars({**server, "cps": []}) == {"ansible_connection": "ssh"}
    assert lcm_context.connection_vars({"resourceType": "unknown"}) == {}


# -- the reconcile skeleton with a fake driver ---------------------------------------------------
@dataclass
class FakeChanges:
    actions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.actions)


class FakeDriver(ReconcilingDriver[dict[str, str], dict[str, str], FakeChanges]):
    """A VIM of named items: the plan's ``items`` (name -> value)."""

    label = "the fake VIM"
    poll_interval = 0.0

    def __init__(self, held: dict[str, str], *, lag: int = 0, warn: bool = False) -> None:
        self.held = dict(held)
        self.calls: list[str] = []
        self.lag = lag  # rediscoveries before the applied state shows
        self.pending: dict[str, str] | None = None
        self.warn = warn
        self.timeout = 5.0

    def check_access(self) -> None:
        self.calls.append("access")

    def instance_id(self, value: object) -> str:
        if not isinstance(value, str) or not value:
            raise VimError("bad id")
        return value

    def diff(
        self, inst: str, plan: dict[str, Any], heal: list[str], token: str | None, check_mode: bool
    ) -> tuple[dict[str, str], dict[str, str], FakeChanges]:
        self.calls.append(f"diff heal={heal} token={token is not None}")
        desired = dict(plan.get("items") or {})
        obs = dict(self.held)
        return desired, obs, self._changes(desired, obs, heal)

    def removal(self, inst: str, check_mode: bool) -> tuple[dict[str, str], FakeChanges]:
        self.calls.append("removal")
        return dict(self.held), self._changes({}, self.held, [])

    def _changes(
        self, desired: dict[str, str], obs: dict[str, str], heal: list[str] | None = None
    ) -> FakeChanges:
        acts = [f"delete {k}" for k in sorted(obs) if k not in desired]
        acts += [
            f"set {k}={v}"
            for k, v in sorted(desired.items())
            if obs.get(k) != v or k in (heal or [])
        ]
        return FakeChanges(acts, ["slow disk"] if self.warn else [])

    def apply(
        self, desired: dict[str, str] | None, obs: dict[str, str], changes: FakeChanges
    ) -> Any:
        self.calls.append("apply")
        self.pending = dict(desired or {})
        return "hint"

    def observe(self, inst: str, hint: Any) -> dict[str, str]:
        self.calls.append(f"observe hint={hint}")
        if self.pending is not None and self.lag <= 0:
            self.held, self.pending = self.pending, None
        self.lag -= 1
        return dict(self.held)

    def remaining(
        self, inst: str, desired: dict[str, str] | None, final: dict[str, str]
    ) -> list[str]:
        return self._changes(desired or {}, final).actions

    def summary(self, obs: dict[str, str]) -> dict[str, Any]:
        return {"items": sorted(obs)}

    def outcome(
        self, inst: str, desired: dict[str, str] | None, final: dict[str, str]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        return {"held": dict(final)}, self.summary(final)

    def prediction(
        self,
        inst: str,
        desired: dict[str, str] | None,
        obs: dict[str, str],
        changes: FakeChanges,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        state = dict(desired or {}) if changes.changed else obs
        return {"held": obs}, self.summary(state)

    def warnings(self, changes: FakeChanges) -> list[str] | None:
        return list(changes.warnings) if self.warn else None


def plan(**items: str) -> dict[str, Any]:
    return {"vnfInstanceId": INST, "items": items}


def test_reconcile_discovers_diffs_applies_then_converges_in_that_order() -> None:
    drv = FakeDriver({"a": "1", "b": "2"}, lag=2)
    res = drv.reconcile(plan(a="1", c="3"), heal=[], check_mode=False, heal_token="op-1")
    assert drv.calls == [
        "access",
        "diff heal=[] token=True",
        "apply",
        "observe hint=hint",  # the apply's hint serves the first rediscovery only
        "observe hint=None",
        "observe hint=None",
    ]
    assert res.changed and res.actions == ["delete b", "set c=3"]
    assert res.diff == {"before": {"items": ["a", "b"]}, "after": {"items": ["a", "c"]}}
    assert res.resources == {"held": {"a": "1", "c": "3"}}
    assert "warnings" not in res.diff  # a VIM without warnings adds no key


def test_check_mode_answers_from_the_diff_and_applies_nothing() -> None:
    drv = FakeDriver({"a": "1"})
    res = drv.reconcile(plan(a="2"), heal=[], check_mode=True)
    assert "apply" not in drv.calls and not any(c.startswith("observe") for c in drv.calls)
    assert res.changed and res.actions == ["set a=2"]
    assert res.diff["after"] == {"items": ["a"]} and res.resources == {"held": {"a": "1"}}
    assert drv.held == {"a": "1"}


def test_nothing_to_do_applies_nothing() -> None:
    drv = FakeDriver({"a": "1"})
    res = drv.reconcile(plan(a="1"), heal=[], check_mode=False)
    assert not res.changed and res.actions == [] and "apply" not in drv.calls
    # a heal is a change even when the plan matches
    res = drv.reconcile(plan(a="1"), heal=["a"], check_mode=False)
    assert res.changed and res.actions == ["set a=1"]


def test_removal_is_the_same_skeleton_without_a_plan() -> None:
    drv = FakeDriver({"a": "1"})
    assert drv.remove(INST, check_mode=True).actions == ["delete a"]
    assert drv.held == {"a": "1"}
    res = drv.remove(INST, check_mode=False)
    assert res.changed and drv.held == {} and res.resources == {"held": {}}
    assert drv.calls[-3:] == ["removal", "apply", "observe hint=hint"]


def test_warnings_follow_the_actions() -> None:
    drv = FakeDriver({}, warn=True)
    res = drv.reconcile(plan(a="1"), heal=[], check_mode=True)
    assert res.actions == ["set a=1", "warning: slow disk"]
    assert res.diff["warnings"] == ["slow disk"]


def test_no_convergence_is_an_error_naming_what_differs() -> None:
    drv = FakeDriver({}, lag=10**6)
    drv.timeout = 0.0
    with pytest.raises(VimError, match=r"the fake VIM did not converge to the plan: set a=1"):
        drv.reconcile(plan(a="1"), heal=[], check_mode=False)
    # without wait the VIM is read back once and returned as found
    drv = FakeDriver({}, lag=10**6)
    drv.wait = False
    res = drv.reconcile(plan(a="1"), heal=[], check_mode=False)
    assert res.changed and res.resources == {"held": {}}


def test_plan_and_id_are_checked_before_discovery() -> None:
    drv = FakeDriver({})
    with pytest.raises(VimError, match="plan must be a mapping"):
        drv.reconcile("x", heal=[], check_mode=False)  # type: ignore[arg-type]
    with pytest.raises(VimError, match="bad id"):
        drv.reconcile({"items": {}}, heal=[], check_mode=False)
    assert drv.calls == ["access", "access"]
