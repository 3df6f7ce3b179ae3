# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""The LCM context filters, through the filter plugin as a playbook calls them."""

from __future__ import annotations

from ansible_collections.nfv.vnfm.plugins.filter.lcm import FilterModule

FILTERS = FilterModule().filters()

RESOURCES = {
    "vnfcResourceInfo": [
        {
            "id": "web-1",
            "vduId": "web",
            "computeResource": {
                "resourceId": "vnfm-i1-web-1",
                "vimLevelResourceType": "linux.netns",
            },
            "vnfcCpInfo": [
                {
                    "cpdId": "web_cp",
                    "cpProtocolInfo": [
                        {
                            "ipOverEthernet": {
                                "macAddress": "fa:16:3e:00:00:02",
                                "ipAddresses": [{"addresses": ["10.0.0.12"]}],
                            }
                        }
                    ],
                }
            ],
            "metadata": {"powerState": "off"},
        },
        {
            "id": "web-0",
            "vduId": "web",
            "computeResource": {"resourceId": "vnfm-i1-web-0"},
            "vnfcCpInfo": [],
        },
        {"id": "lb-0", "vduId": "lb", "vnfcCpInfo": []},
    ]
}
PLAN = {
    "namePrefix": "farm",
    "vnfcs": [{"id": "web-1", "cps": [{"cpdId": "web_cp", "virtualLinkId": "internal"}]}],
}


def test_the_plugin_offers_the_documented_filters():
    assert set(FILTERS) == {"lcm_context", "vnfc_context", "vnfcs_by_vdu", "vnfc_hosts"}


def test_vnfc_context_sorts_names_and_reads_addresses():
    vnfcs = FILTERS["vnfc_context"](RESOURCES, PLAN)
    assert [v["id"] for v in vnfcs] == ["lb-0", "web-0", "web-1"]
    web1 = vnfcs[2]
    assert web1["name"] == web1["host"] == "farm-web-1"
    assert web1["powerState"] == "off"  # the VIM's report wins over the plan
    assert web1["cps"] == [
        {
            "cpdId": "web_cp",
            "ipAddresses": ["10.0.0.12"],
            "macAddress": "fa:16:3e:00:00:02",
            "virtualLinkId": "internal",
            "external": False,
        }
    ]
    assert vnfcs[1]["powerState"] == "on"


def test_vnfc_context_without_a_plan_names_by_id():
    assert [v["name"] for v in FILTERS["vnfc_context"](RESOURCES, None)] == [
        "lb-0",
        "web-0",
        "web-1",
    ]


def test_vnfcs_by_vdu_keeps_input_order():
    vnfcs = FILTERS["vnfc_context"](RESOURCES, PLAN)
    grouped = FILTERS["vnfcs_by_vdu"](vnfcs)
    assert sorted(grouped) == ["lb", "web"]
    assert [v["id"] for v in grouped["web"]] == ["web-0", "web-1"]


def test_vnfc_hosts_use_the_local_vims_connection():
    hosts = FILTERS["vnfc_hosts"](FILTERS["vnfc_context"](RESOURCES, PLAN))
    web1 = next(h for h in hosts if h["vars"]["vnfc_id"] == "web-1")
    assert web1["groups"] == ["vnfcs", "web"]
    assert web1["vars"]["ansible_connection"] == "nfv.vnfm.netns"
    assert web1["vars"]["vnfm_netns"] == "vnfm-i1-web-1"
    lb = next(h for h in hosts if h["vars"]["vnfc_id"] == "lb-0")
    assert "ansible_connection" not in lb["vars"]  # no compute resource type: no guess


def test_vnfc_hosts_under_the_warm_strategy_start_python_inside_the_vnfc():
    """warm=True is what the filter picks when the runner's vnfm_warm strategy drives the
    run: Mitogen's local connection, with the argv that enters the VNFC."""
    context = FILTERS["vnfc_context"](RESOURCES, PLAN)
    cold = FILTERS["vnfc_hosts"](context)  # no vnfm_warm in this process: as before
    assert all("vnfm_warm_python" not in h["vars"] for h in cold)
    hosts = FILTERS["vnfc_hosts"](context, warm=True)
    web1 = next(h for h in hosts if h["vars"]["vnfc_id"] == "web-1")
    argv = web1["vars"]["vnfm_warm_python"]
    assert web1["vars"]["ansible_connection"] == "local"
    assert web1["vars"]["ansible_python_interpreter"] == argv[-1]  # a plain Python for hooks
    assert argv[:2] == ["/usr/bin/env", "-i"]  # nothing of the controller's environment
    netns_at = argv.index("netns")
    assert argv[netns_at : netns_at + 3] == ["netns", "exec", "vnfm-i1-web-1"]
    assert argv[netns_at - 1].endswith("ip")
    # the controller's imports (Mitogen's re-executed Python loses its virtualenv)
    assert any(a.startswith("PYTHONPATH=") for a in argv[:netns_at])
    lb = next(h for h in hosts if h["vars"]["vnfc_id"] == "lb-0")
    assert "ansible_connection" not in lb["vars"]  # other VNFCs are left as they were


def test_lcm_context_gives_the_six_variables_from_one_reading():
    context = FILTERS["lcm_context"](
        {**RESOURCES, "extCpInfo": [{"id": "ext-0"}]},
        PLAN,
        added=["web-1"],
        removed=["web-0", "gone-7"],
        healed=["lb-0"],
    )
    vnfcs = FILTERS["vnfc_context"](RESOURCES, PLAN)
    assert context == {
        "vnfm_vnfcs": vnfcs,
        "vnfm_vnfcs_by_vdu": FILTERS["vnfcs_by_vdu"](vnfcs),
        "vnfm_ext_cps": [{"id": "ext-0"}],
        "vnfm_added_vnfcs": [vnfcs[2]],
        "vnfm_removed_vnfcs": [vnfcs[1]],  # an id the VIM does not have is no entry
        "vnfm_healed_vnfcs": [vnfcs[0]],
    }


def test_lcm_context_keeps_the_removed_vnfcs_once_they_are_gone():
    leaving = [{"id": "web-9", "vduId": "web", "name": "farm-web-9"}]
    context = FILTERS["lcm_context"](RESOURCES, PLAN, removed=["web-0"], removed_vnfcs=leaving)
    assert context["vnfm_removed_vnfcs"] == leaving
    empty = FILTERS["lcm_context"]({}, None)
    assert empty["vnfm_vnfcs"] == [] and empty["vnfm_vnfcs_by_vdu"] == {}
    assert empty["vnfm_added_vnfcs"] == empty["vnfm_removed_vnfcs"] == []


def test_vnfc_hosts_join_the_groups_of_what_the_operation_changes():
    context = FILTERS["lcm_context"](
        RESOURCES, PLAN, added=["web-1"], removed=["web-0"], healed=["web-1"]
    )
    hosts = FILTERS["vnfc_hosts"](context["vnfm_vnfcs"], context=context)
    groups = {h["vars"]["vnfc_id"]: h["groups"] for h in hosts}
    assert groups == {
        "lb-0": ["vnfcs", "lb"],
        "web-0": ["vnfcs", "web", "vnfm_removed"],
        "web-1": ["vnfcs", "web", "vnfm_added", "vnfm_healed"],
    }
    plain = FILTERS["vnfc_hosts"](context["vnfm_vnfcs"])
    assert all(h["groups"][2:] == [] for h in plain)


def test_vnfc_hosts_name_the_python_interpreter():
    import sys

    hosts = FILTERS["vnfc_hosts"](FILTERS["vnfc_context"](RESOURCES, PLAN), warm=False)
    by_id = {h["vars"]["vnfc_id"]: h["vars"] for h in hosts}
    # a namespace shares the controller's filesystem: its Python
    assert by_id["web-1"]["ansible_python_interpreter"] == sys.executable
    assert by_id["lb-0"]["ansible_python_interpreter"] == "auto_silent"
