"""The runner's VIMs (``vnfm_runner/vims.py``) ask the driver registry what a VIM type is:
names (SOL003 ones too), the built-in VIM, the pre-flight check, the request fields read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ansible_collections.nfv.vnfm.plugins.module_utils.vim import (
    DriverInfo,
    RequestFields,
    VimError,
    register,
    unregister,
)

from vnfm_runner import vims
from vnfm_runner.errors import VIM_TYPES, VimConfigError
from vnfm_runner.secrets import SecretBox
from vnfm_runner.store.tables import VimRow

SOL003_OS = "ETSINFV.OPENSTACK_KEYSTONE.V_3"


class FakeVimStore:
    """The store methods the VIM registry uses, in memory."""

    def __init__(self) -> None:
        self.rows: dict[str, VimRow] = {}

    def add_vim(self, row: VimRow) -> None:
        if row.name in self.rows:
            raise KeyError(row.name)
        self.rows[row.name] = row

    def vims(self) -> list[VimRow]:
        return [self.rows[n] for n in sorted(self.rows)]

    def vim(self, name: str) -> VimRow | None:
        return self.rows.get(name)

    def remove_vim(self, name: str) -> None:
        del self.rows[name]

    def instances(self) -> list[Any]:
        return []


@pytest.fixture
def registry(tmp_path: Path) -> vims.VimRegistry:
    return vims.VimRegistry(FakeVimStore(), SecretBox(tmp_path))  # type: ignore[arg-type]


def test_vim_types_and_names_come_from_the_drivers() -> None:
    assert VIM_TYPES == ("kubernetes", "local", "openstack", "podman")
    assert vims.vim_type_of(SOL003_OS) == "openstack" == vims.vim_type_of("openstack")
    assert vims.vim_type_of("VNFM.LOCAL") == "local"
    assert vims.vim_type_of("bogus") is None and vims.vim_type_of(None) is None
    assert vims.sol003_vim_type("openstack") == SOL003_OS
    assert list(vims.builtin_vims()) == ["local"]


def test_builtin_vim_listed_resolved_and_protected(registry: vims.VimRegistry) -> None:
    assert registry.list()[0] == {
        "name": "local",
        "vimType": "local",
        "connection": {"vimType": "local"},
        "builtin": True,
    }
    assert registry.show("local")["builtin"] is True
    target = registry.resolve(None, None, "local")
    assert (target.name, target.vim_type) == ("local", "local")
    assert registry.unseal(None).vim_type == "local"
    assert target.sol003() == {"vimId": "local", "vimType": "VNFM.LOCAL"}
    with pytest.raises(VimConfigError, match="the name 'local' is the built-in local VIM"):
        registry.add(name="local", vim_type="local")
    with pytest.raises(VimConfigError, match="built-in local VIM cannot be removed"):
        registry.remove("local")


def test_add_asks_the_driver_what_a_registration_needs(registry: vims.VimRegistry) -> None:
    with pytest.raises(
        VimConfigError,
        match=r"unknown VIM type 'bogus' \(known: kubernetes, local, openstack, podman\)",
    ):
        registry.add(name="x", vim_type="bogus")
    with pytest.raises(VimConfigError, match="an openstack VIM needs --cloud"):
        registry.add(name="os", vim_type="openstack")
    shown = registry.add(
        name="os", vim_type="openstack", cloud="c", region="r", options={"password": "pw"}
    )
    assert shown["connection"] == {
        "vimType": "openstack",
        "cloud": "c",
        "regionName": "r",
        "password": "********",
    }
    target = registry.resolve("os", None, "local")
    assert target.credentials == {"password": "pw"}
    assert target.sol003()["vimType"] == SOL003_OS and target.connection_data


@pytest.mark.parametrize("vim_type", [SOL003_OS, "openstack"])
def test_sol003_openstack_connection(registry: vims.VimRegistry, vim_type: str) -> None:
    target = registry.resolve(
        None,
        {
            "v1": {
                "vimType": vim_type,
                "interfaceInfo": {"endpoint": "http://keystone.example:5000/v3"},
                "accessInfo": {"username": "u", "password": "pw", "project": "p"},
            }
        },
        "local",
    )
    assert target.connection == {
        "vimType": "openstack",
        "vimId": "v1",
        "interfaceInfo": {"endpoint": "http://keystone.example:5000/v3"},
        "accessInfo": {"username": "u", "project": "p"},
    }
    assert target.credentials == {"password": "pw"}


def test_sol003_accepts_every_registered_driver(registry: vims.VimRegistry) -> None:
    target = registry.resolve(None, {"here": {"vimType": "VNFM.LOCAL"}}, "local")
    assert (target.name, target.vim_type) == ("here", "local")
    assert target.sol003() == {"vimId": "here", "vimType": "VNFM.LOCAL"}
    assert not target.connection_data
    # the local VIM reads no accessInfo: refused, naming the field
    with pytest.raises(
        VimConfigError,
        match=r"vimConnectionInfo.here.accessInfo: a local VIM takes no fields, not stateDir",
    ):
        registry.resolve(
            None, {"here": {"vimType": "VNFM.LOCAL", "accessInfo": {"stateDir": "/etc"}}}, ""
        )
    with pytest.raises(
        VimConfigError,
        match=r"vimConnectionInfo.v.vimType 'bogus' is not supported \(supported: .*VNFM.LOCAL",
    ):
        registry.resolve(None, {"v": {"vimType": "bogus"}}, "")


def test_a_new_driver_is_known_to_the_runner_at_once(registry: vims.VimRegistry) -> None:
    checked: list[str] = []

    def preflight() -> None:
        checked.append("yes")
        raise VimError("no fake cloud here")

    register(
        DriverInfo(
            "fakecloud",
            ("X.FAKE.V_1",),
            lambda vim, creds, opts: None,  # type: ignore[arg-type,return-value]
            preflight=preflight,
            request_fields=RequestFields(access_info=frozenset({"token"})),
        )
    )
    try:
        assert vims.vim_type_of("X.FAKE.V_1") == "fakecloud"
        target = registry.resolve(
            None, {"f": {"vimType": "X.FAKE.V_1", "accessInfo": {"token": "t"}}}, ""
        )
        assert target.vim_type == "fakecloud" and target.credentials == {"token": "t"}
        with pytest.raises(VimConfigError, match="no fake cloud here"):
            vims.preflight(target)
        assert checked == ["yes"]
        with pytest.raises(
            VimConfigError, match=r"accessInfo: a fakecloud VIM takes token, not user"
        ):
            registry.resolve(
                None, {"f": {"vimType": "X.FAKE.V_1", "accessInfo": {"user": "u"}}}, ""
            )
    finally:
        unregister("fakecloud")


def test_openstack_has_no_preflight_and_unknown_types_are_config_errors() -> None:
    vims.preflight(vims.VimTarget("os", {"vimType": "openstack"}))
    with pytest.raises(VimConfigError, match="unsupported vimType 'gone'"):
        vims.preflight(vims.VimTarget("old", {"vimType": "gone"}))
    # a VIM recorded before its driver went away still shows a vimType
    assert vims.VimTarget("old", {"vimType": "gone"}).sol003()["vimType"] == "VNFM.GONE"
