#!/usr/bin/env python3
# Copyright (c) vnfm-toolkit developers
# Apache License 2.0 (see Licenses/LICENSE.txt)
"""edgefwctl - the edgefw VNFC's element manager agent, run inside the VNFC's namespace.

    edgefwctl.py configure RUNDIR JSON MODE [BLOCKED]
                                             write RUNDIR/edgefw.json, then per MODE load the
                                             rules (rules), nothing more (write) or only check
                                             JSON (check); prints {"rules", "vips", "holds"}
    edgefwctl.py validate CONFIG             check a configuration, print nothing on success
    edgefwctl.py apply CONFIG [BLOCKED]      load the rules (one atomic replace) and turn
                                             forwarding on; prints applied | unchanged
    edgefwctl.py check                       exit 0 when the rules are loaded and forwarding on
    edgefwctl.py vips CONFIG                 print the floating addresses as CPADDR=VIP pairs
                                             (insideVip/outsideVip, default the last host
                                             address of each leg's network)
    edgefwctl.py holds VIP...                prints yes when this VNFC holds every VIP, else no
    edgefwctl.py claim CPADDR=VIP...         take the floating addresses (on
                                             lo, /32) and announce them with gratuitous ARP
                                             on the leg holding CPADDR; prints claimed | held
    edgefwctl.py release VIP...              drop the floating addresses; prints released | none
    edgefwctl.py block BLOCKED ADDR          add ADDR to the VNF's dynamic block list (a JSON
    edgefwctl.py unblock BLOCKED ADDR        file shared by the VNFCs); prints added | present |
                                             removed | absent

CONFIG is the JSON the hooks write from the VNF's vnfConfigurableProperties:
``{"insideAddress", "outsideAddress", "allowedPrefixes", "blockedPrefixes",
"allowedPorts", "allowPing", "insideVip", "outsideVip"}``. Every value is checked (it comes from an NFVO) and
only re-rendered from parsed addresses and integers, so nothing of it reaches the
rule language as text. A user mistake ends with one line on stderr naming the
property and exit status 2.

With nftables the rules are table ``inet edgefw``, replaced in one ``nft -f``
transaction (delete and re-create the table): packets see the old rules or the new
ones, never none, and the kernel's connection tracking (outside the table) keeps
established flows. Without ``nft`` the same rules go to the iptables chain
``EDGEFW`` with ``iptables-restore --noflush`` (also one atomic commit per table).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
from typing import Any

TABLE = "edgefw"
CHAIN = "EDGEFW"
VIP_LABEL = ":vip"  # the label suffix that marks a floating address
VIP_DEV = "lo" + VIP_LABEL  # floating addresses live on lo (/32), labelled lo:vip
PROTOCOLS = ("tcp", "udp")


class UserError(Exception):
    """A mistake in the configuration or the arguments: one line, no traceback."""


# -- configuration ----------------------------------------------------------------------
def _address(value: Any, field: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(str(value))
    except ValueError:
        raise UserError(f"{field}: {value!r} is not an IPv4 address") from None


def _prefixes(value: Any, field: str) -> list[ipaddress.IPv4Network]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise UserError(f"{field}: must be a list of IPv4 prefixes (e.g. 203.0.113.0/24)")
    out = []
    for i, item in enumerate(value):
        try:
            out.append(ipaddress.IPv4Network(str(item), strict=False))
        except ValueError:
            raise UserError(f"{field}[{i}]: {item!r} is not an IPv4 prefix") from None
    return _collapse(out)


def _collapse(nets: list[ipaddress.IPv4Network]) -> list[ipaddress.IPv4Network]:
    # nft refuses overlapping elements in an interval set; collapsing also sorts.
    return list(ipaddress.collapse_addresses(nets))


def _ports(value: Any, field: str) -> dict[str, list[int]]:
    """``["tcp/80", "udp/53", 443, {"protocol": "tcp", "port": 8080}]`` -> by protocol."""
    out: dict[str, set[int]] = {p: set() for p in PROTOCOLS}
    if value is None:
        return {p: [] for p in PROTOCOLS}
    if not isinstance(value, list):
        raise UserError(f"{field}: must be a list of ports such as 'tcp/443' or 'udp/53'")
    for i, item in enumerate(value):
        where = f"{field}[{i}]"
        if isinstance(item, dict):
            proto, port = item.get("protocol", "tcp"), item.get("port")
        elif isinstance(item, str) and "/" in item:
            proto, port = item.split("/", 1)
        else:
            proto, port = "tcp", item
        if proto not in PROTOCOLS:
            raise UserError(f"{where}: protocol {proto!r} is not one of tcp, udp")
        if (
            isinstance(port, bool)
            or not str(port).isascii()
            or not str(port).isdigit()
            or not 1 <= int(str(port)) <= 65535
        ):
            raise UserError(f"{where}: {port!r} is not a port number (1-65535)")
        out[str(proto)].add(int(str(port)))
    return {p: sorted(ports) for p, ports in out.items()}


def load_config(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            raw = json.load(fh)
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: cannot read the configuration: {exc}") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path}: the configuration must be a JSON object")
    allow_ping = raw.get("allowPing", True)
    if not isinstance(allow_ping, bool):
        raise UserError(f"allowPing: {allow_ping!r} is not a boolean")
    allowed = raw.get("allowedPrefixes")
    vips = {
        leg: None if raw.get(f"{leg}Vip") in (None, "") else _address(raw[f"{leg}Vip"], f"{leg}Vip")
        for leg in ("inside", "outside")
    }
    return {
        "vips": vips,
        "inside": _address(raw.get("insideAddress"), "insideAddress"),
        "outside": _address(raw.get("outsideAddress"), "outsideAddress"),
        "allowed": _prefixes(["0.0.0.0/0"] if allowed is None else allowed, "allowedPrefixes"),
        "blocked": _prefixes(raw.get("blockedPrefixes"), "blockedPrefixes"),
        "ports": _ports(raw.get("allowedPorts"), "allowedPorts"),
        "ping": allow_ping,
    }


def load_blocked(path: str | None) -> list[ipaddress.IPv4Network]:
    if not path or not os.path.exists(path):
        return []
    try:
        with open(path, encoding="utf-8") as fh:
            return _prefixes(json.load(fh), path)
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: cannot read the block list: {exc}") from None


# -- rendering ---------------------------------------------------------------------------
def _elements(nets: list[ipaddress.IPv4Network]) -> str:
    return ", ".join(str(n.network_address) if n.prefixlen == 32 else str(n) for n in nets)


def render_nft(cfg: dict[str, Any], ifaces: tuple[str, str], blocked: list[Any]) -> str:
    inside, outside = ifaces
    deny = _collapse([*cfg["blocked"], *blocked])
    body = [
        "  set blocked { type ipv4_addr; flags interval;"
        + (f" elements = {{ {_elements(deny)} }}" if deny else "")
        + " }",
        "  set allowed_dst { type ipv4_addr; flags interval;"
        + (f" elements = {{ {_elements(cfg['allowed'])} }}" if cfg["allowed"] else "")
        + " }",
        "  chain forward {",
        "    type filter hook forward priority filter; policy drop;",
        # blocked first: a block cuts established flows too (block_address is a response)
        "    ip saddr @blocked drop",
        "    ip daddr @blocked drop",
        "    ct state established,related accept",
        "    ct state invalid drop",
    ]
    leg = f'iifname "{inside}" oifname "{outside}" ip daddr @allowed_dst'
    for proto in PROTOCOLS:
        if cfg["ports"][proto]:
            ports = ", ".join(str(p) for p in cfg["ports"][proto])
            body.append(f"    {leg} {proto} dport {{ {ports} }} accept")
    if cfg["ping"]:
        body.append(f"    {leg} icmp type echo-request accept")
    body.append("  }")
    text = "\n".join(body)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return (
        f"table inet {TABLE}\ndelete table inet {TABLE}\n"
        f'table inet {TABLE} {{\n  comment "edgefw {digest}"\n{text}\n}}\n'
    )


def render_iptables(cfg: dict[str, Any], ifaces: tuple[str, str], blocked: list[Any]) -> str:
    inside, outside = ifaces
    deny = _collapse([*cfg["blocked"], *blocked])
    rules = [f"-A {CHAIN} -s {n} -j DROP" for n in deny]
    rules += [f"-A {CHAIN} -d {n} -j DROP" for n in deny]
    rules.append(f"-A {CHAIN} -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT")
    rules.append(f"-A {CHAIN} -m conntrack --ctstate INVALID -j DROP")
    for dst in cfg["allowed"]:
        leg = f"-A {CHAIN} -i {inside} -o {outside} -d {dst}"
        for proto in PROTOCOLS:
            if cfg["ports"][proto]:
                ports = ",".join(str(p) for p in cfg["ports"][proto])
                rules.append(f"{leg} -p {proto} -m multiport --dports {ports} -j ACCEPT")
        if cfg["ping"]:
            rules.append(f"{leg} -p icmp --icmp-type echo-request -j ACCEPT")
    rules.append(f"-A {CHAIN} -j DROP")
    text = "\n".join(rules)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    # declaring the chain flushes it; the FORWARD jump is added once (see _apply_iptables)
    return (
        "*filter\n:FORWARD DROP [0:0]\n"
        f':{CHAIN} - [0:0]\n-A {CHAIN} -m comment --comment "edgefw {digest}"\n'
        f"{text}\nCOMMIT\n"
    )


# -- the kernel ----------------------------------------------------------------------------
def _run(argv: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)


def _addresses() -> list[dict[str, Any]]:
    proc = _run(["ip", "-json", "-4", "addr", "show"])
    if proc.returncode != 0:
        raise UserError(f"ip addr: {proc.stderr.strip()}")
    return list(json.loads(proc.stdout or "[]"))


def iface_of(address: ipaddress.IPv4Address) -> tuple[str, int]:
    """The interface carrying a CP address here, with the address's prefix length."""
    for link in _addresses():
        for info in link.get("addr_info", []):
            if info.get("local") == str(address) and not str(info.get("label", "")).endswith(
                VIP_LABEL
            ):
                return str(link["ifname"]), int(info["prefixlen"])
    raise UserError(f"no interface of this VNFC has the address {address}")


def _forwarding_on() -> None:
    with open("/proc/sys/net/ipv4/ip_forward", "w", encoding="ascii") as fh:
        fh.write("1\n")


def _forwarding() -> bool:
    with open("/proc/sys/net/ipv4/ip_forward", encoding="ascii") as fh:
        return fh.read().strip() == "1"


def _loaded_digest() -> str | None:
    if shutil.which("nft"):
        proc = _run(["nft", "list", "table", "inet", TABLE])
    else:
        proc = _run(["iptables", "-S", CHAIN])
    for line in proc.stdout.splitlines() if proc.returncode == 0 else []:
        if "edgefw " in line:
            return line.split("edgefw ", 1)[1].strip().strip('"').split('"')[0]
    return None


def apply(config: str, blocked_file: str | None) -> str:
    cfg = load_config(config)
    ifaces = (iface_of(cfg["inside"])[0], iface_of(cfg["outside"])[0])
    blocked = load_blocked(blocked_file)
    nft = shutil.which("nft") is not None
    text = (render_nft if nft else render_iptables)(cfg, ifaces, blocked)
    digest = text.split("edgefw ", 1)[1].split('"')[0]
    if _loaded_digest() == digest and _forwarding():
        return "unchanged"
    if nft:
        proc = _run(["nft", "-f", "-"], text)
    else:
        proc = _run(["iptables-restore", "--noflush"], text)
        if proc.returncode == 0 and _run(["iptables", "-C", "FORWARD", "-j", CHAIN]).returncode:
            proc = _run(["iptables", "-A", "FORWARD", "-j", CHAIN])
    if proc.returncode != 0:
        raise RuntimeError(f"loading the rules failed: {proc.stderr.strip()}")
    _forwarding_on()
    return "applied"


def check() -> bool:
    return _forwarding() and _loaded_digest() is not None


# -- floating addresses (VRRP-like, moved by the hooks) -----------------------------------------
def vips(config: str) -> list[str]:
    """CPADDR=VIP for both legs: the configured VIP, else the last host of the leg's network."""
    cfg = load_config(config)
    pairs = []
    for leg in ("inside", "outside"):
        cp = cfg[leg]
        net = ipaddress.IPv4Network(f"{cp}/{iface_of(cp)[1]}", strict=False)
        vip = cfg["vips"][leg] or net.broadcast_address - 1
        if vip not in net or vip in (net.network_address, net.broadcast_address, cp):
            raise UserError(
                f"{leg}Vip: {vip} is not a free host address of the {leg} network {net}"
            )
        pairs.append(f"{cp}={vip}")
    return pairs


def _vips_here() -> dict[str, str]:
    """VIP -> device, for the floating addresses this VNFC holds."""
    return {
        str(info["local"]): str(link["ifname"])
        for link in _addresses()
        for info in link.get("addr_info", [])
        if str(info.get("label", "")).endswith(VIP_LABEL)
    }


def holds(vips: list[str]) -> bool:
    here = _vips_here()
    return bool(vips) and all(str(_address(v, "VIP")) in here for v in vips)


def _garp(ifname: str, vip: ipaddress.IPv4Address) -> None:
    """Announce VIP on ifname: a gratuitous ARP request (sender = target = VIP), broadcast."""
    with open(f"/sys/class/net/{ifname}/address", encoding="ascii") as fh:
        mac = bytes.fromhex(fh.read().strip().replace(":", ""))
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + vip.packed + b"\0" * 6 + vip.packed
    frame = b"\xff" * 6 + mac + struct.pack("!H", 0x0806) + arp
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as sock:
        sock.bind((ifname, 0))
        for _ in range(3):
            sock.send(frame)


def claim(pairs: list[str]) -> str:
    here = _vips_here()
    changed = False
    for pair in pairs:
        if "=" not in pair:
            raise UserError(f"{pair!r}: expected CPADDR=VIP")
        cp, vip = (_address(v, "floating address") for v in pair.split("=", 1))
        ifname = iface_of(cp)[0]
        if str(vip) not in here:
            # On lo, not on the leg: the VIM owns the CP interfaces (it would see an extra
            # address there as drift); Linux answers ARP on the leg for any local address.
            proc = _run(["ip", "addr", "replace", f"{vip}/32", "dev", "lo", "label", VIP_DEV])
            if proc.returncode != 0:
                raise RuntimeError(f"adding {vip}: {proc.stderr.strip()}")
            changed = True
        _garp(ifname, vip)  # always: neighbours may still point at the previous holder
    return "claimed" if changed else "held"


def release(vips: list[str]) -> str:
    here = _vips_here()
    gone = False
    for vip in vips:
        if str(_address(vip, "floating address")) in here:
            proc = _run(["ip", "addr", "del", f"{vip}/32", "dev", "lo"])
            if proc.returncode != 0:
                raise RuntimeError(f"removing {vip}: {proc.stderr.strip()}")
            gone = True
    return "released" if gone else "none"


# -- the dynamic block list ----------------------------------------------------------------
def change_blocked(path: str, address: str, add: bool) -> str:
    try:
        net = ipaddress.IPv4Network(str(address), strict=False)
    except ValueError:
        raise UserError(f"address: {address!r} is not an IPv4 address or prefix") from None
    current = [str(n) for n in load_blocked(path)]
    present = str(net) in current
    if add == present:
        return "present" if add else "absent"
    new = sorted({*current, str(net)}) if add else [n for n in current if n != str(net)]
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".blocked.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(new, fh)
    os.replace(tmp, path)  # atomic: a VNFC reading it sees the old list or the new one
    return "added" if add else "removed"


def configure(rundir: str, config_json: str, mode: str, blocked_file: str | None) -> dict[str, Any]:
    """Write RUNDIR/edgefw.json from CONFIG_JSON, then (mode ``rules``) load its rules.

    Mode ``check`` writes nothing and loads nothing (a modification's pending
    properties); ``write`` only writes. The answer tells the hooks, in one round
    trip into the VNFC, what changed, the floating addresses and whether this VNFC
    holds them.
    """
    try:
        raw = json.loads(config_json)
    except ValueError as exc:
        raise UserError(f"the configuration is not JSON: {exc}") from None
    path = os.path.join(rundir, "edgefw.json")
    text = json.dumps(raw, indent=2, sort_keys=True) + "\n"
    if mode == "check":
        fd, check_path = tempfile.mkstemp(prefix="edgefw-check.", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        try:
            pairs = vips(check_path)
        finally:
            os.unlink(check_path)
        return {"rules": "checked", "vips": pairs, "holds": False}
    os.makedirs(rundir, mode=0o700, exist_ok=True)
    old = None
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            old = fh.read()
    if old != text:
        fd, tmp = tempfile.mkstemp(dir=rundir, prefix=".edgefw.")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    pairs = vips(path)
    rules = apply(path, blocked_file) if mode == "rules" else "skipped"
    return {
        "rules": rules,
        "vips": pairs,
        "holds": holds([p.split("=", 1)[1] for p in pairs]),
    }


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    try:
        if cmd == "configure" and len(args) in (3, 4) and args[2] in ("rules", "write", "check"):
            blocked = args[3] if len(args) == 4 else None
            print(json.dumps(configure(args[0], args[1], args[2], blocked)))
            return 0
        if cmd == "validate" and len(args) == 1:
            load_config(args[0])
            return 0
        if cmd == "apply" and len(args) in (1, 2):
            print(apply(args[0], args[1] if len(args) == 2 else None))
            return 0
        if cmd == "check" and not args:
            return 0 if check() else 1
        if cmd == "vips" and len(args) == 1:
            print(" ".join(vips(args[0])))
            return 0
        if cmd == "holds":
            print("yes" if holds(args) else "no")
            return 0
        if cmd == "claim" and args:
            print(claim(args))
            return 0
        if cmd == "release":
            print(release(args))
            return 0
        if cmd in ("block", "unblock") and len(args) == 2:
            print(change_blocked(args[0], args[1], cmd == "block"))
            return 0
    except UserError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"edgefw: unknown command or arguments: {' '.join(argv)}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
