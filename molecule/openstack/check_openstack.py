"""Check the scenario's instance on the OpenStack test bed with openstacksdk.

``check_openstack.py present CLOUDS_YAML CLOUD < plan.json``: every planned VNFC is
an ACTIVE server whose ports carry the planned fixed IPs.
``check_openstack.py absent CLOUDS_YAML CLOUD INSTANCE_ID``: nothing tagged with, or
named after, the instance remains. Exits 1 with the differences on stdout.
"""

from __future__ import annotations

import hashlib
import json
import sys

import openstack
import openstack.config


def connect(clouds_yaml: str, cloud: str):
    config = openstack.config.OpenStackConfig(config_files=[clouds_yaml])
    return openstack.connection.Connection(config=config.get_one(cloud=cloud))


def present(conn, plan: dict) -> list[str]:
    inst = plan["vnfInstanceId"]
    servers = {
        s.name: s
        for s in conn.compute.servers(details=True, all_projects=True)
        if (s.metadata or {}).get("vnfm-instance") == inst
    }
    errors = []
    for vnfc in plan["vnfcs"]:
        server = servers.pop(vnfc["name"], None)
        if server is None:
            errors.append(f"server {vnfc['name']} missing")
            continue
        if server.status != "ACTIVE":
            errors.append(f"server {vnfc['name']} is {server.status}")
        ips = {
            p.name: sorted(ip["ip_address"] for ip in p.fixed_ips)
            for p in conn.network.ports(device_id=server.id)
        }
        for cp in vnfc["cps"]:
            if cp["name"] not in ips:
                errors.append(f"port {cp['name']} missing on {vnfc['name']}")
            elif cp["ipAddresses"] and ips[cp["name"]] != sorted(cp["ipAddresses"]):
                errors.append(f"port {cp['name']}: {ips[cp['name']]} != {cp['ipAddresses']}")
    errors += [f"unplanned server {name}" for name in servers]
    return errors


def absent(conn, inst: str) -> list[str]:
    tag = f"vnfm-instance={inst}"
    prefix = "vnf-" + hashlib.sha256(inst.encode()).hexdigest()[:8] + "-"
    left = [
        f"server {s.name}"
        for s in conn.compute.servers(details=True, all_projects=True)
        if s.name.startswith(prefix) or (s.metadata or {}).get("vnfm-instance") == inst
    ]
    for kind, items in (
        ("port", conn.network.ports()),
        ("network", conn.network.networks()),
        ("subnet", conn.network.subnets()),
        ("security group", conn.network.security_groups()),
        ("floating ip", conn.network.ips()),
    ):
        left += [
            f"{kind} {item.name or item.id}"
            for item in items
            if tag in (item.tags or []) or (item.name or "").startswith(prefix)
        ]
    left += [
        f"server group {g.name}"
        for g in conn.compute.server_groups(all_projects=True)
        if g.name.startswith(prefix)
    ]
    if conn.has_service("block-storage"):
        left += [
            f"volume {v.name}"
            for v in conn.block_storage.volumes(details=True, all_projects=True)
            if (v.metadata or {}).get("vnfm-instance") == inst or (v.name or "").startswith(prefix)
        ]
    return left


def main() -> int:
    mode, clouds_yaml, cloud = sys.argv[1:4]
    conn = connect(clouds_yaml, cloud)
    errors = present(conn, json.load(sys.stdin)) if mode == "present" else absent(conn, sys.argv[4])
    print("\n".join(errors) if errors else "ok")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
