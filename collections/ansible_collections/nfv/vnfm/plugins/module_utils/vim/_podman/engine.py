# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Discovery (by label) and the application of a diff, through the podman CLI."""

from __future__ import annotations

import dataclasses
import io
import ipaddress
import json
import tarfile
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim._podman.cli import Podman
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._podman.diff import Changes
from ansible_collections.nfv.vnfm.plugins.module_utils.vim._podman.model import (
    KIND_RECORD,
    LABEL_CPS,
    LABEL_EXTERNAL,
    LABEL_GENERATION,
    LABEL_INSTANCE,
    LABEL_KIND,
    LABEL_MAIN,
    LABEL_POD,
    LABEL_TOKEN,
    LABEL_VDU,
    LABEL_VL,
    LABEL_VNFC,
    POWER_MIXED,
    POWER_OFF,
    POWER_ON,
    CpState,
    NetworkState,
    Observed,
    PodPlan,
    PodState,
    container_mounts,
    record_volume,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vim.base import VimError

_STOPPED = ("Exited", "Stopped", "Created")
FIRST_DYNAMIC_HOST = 10  # external addresses the driver picks: the first free from .10 up


def _labels(obj: dict[str, Any]) -> dict[str, str]:
    labels = obj.get("Labels") or obj.get("labels") or {}
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def _cps_label(cps: tuple[CpState, ...]) -> str:
    return json.dumps(
        [[c.cpd_id, c.network, c.kind, c.ifname, c.ext_cpd_id, c.vl_id, c.ip, c.mac] for c in cps],
        separators=(",", ":"),
    )


def _observed_cps(label: str, networks: dict[str, Any]) -> tuple[tuple[CpState, ...], list[str]]:
    """The pod's CPs: what the label says was planned, with what podman attached.

    A stopped pod holds no address: its CPs keep the planned ones (podman gives them back
    on start), so a stopped VNFC's resource info still names its addresses and MACs."""
    problems: list[str] = []
    try:
        planned = json.loads(label) if label else []
    except ValueError:
        planned, problems = [], ["unreadable CP label"]
    cps = []
    for entry in planned if isinstance(planned, list) else []:
        if not isinstance(entry, list) or len(entry) not in (6, 8):
            problems.append("unreadable CP label")
            continue
        fields = [str(e) if e else None for e in entry] + [None, None]
        cpd_id, network, kind, ifname, ext_cpd, vl_id, planned_ip, planned_mac = fields[:8]
        att = networks.get(network or "")
        if not isinstance(att, dict):
            problems.append(f"{cpd_id}: not attached to {network}")
            continue
        cps.append(
            CpState(
                cpd_id=cpd_id or "",
                network=network or "",
                kind=kind or "vl",
                ifname=ifname or "",
                mac=str(att.get("MacAddress") or planned_mac or "").lower(),
                ip=str(att.get("IPAddress") or "") or planned_ip,
                prefixlen=int(att.get("IPPrefixLen") or 24),
                ext_cpd_id=ext_cpd,
                vl_id=vl_id,
            )
        )
    attached = {c.network for c in cps}
    problems += [f"on unplanned network {n}" for n in sorted(networks) if n not in attached]
    return tuple(cps), problems


def discover(pm: Podman, inst: str) -> Observed:
    """Pods, networks and volumes labelled with the instance id (and every network)."""
    sel = f"label={LABEL_INSTANCE}={inst}"
    pods = pm.json("pod", "ps", "--format", "json", "--filter", sel)
    ctrs = pm.json("ps", "--all", "--format", "json", "--filter", sel)
    nets = pm.json("network", "ls", "--format", "json")
    vols = pm.json("volume", "ls", "--format", "json", "--filter", sel)
    infra_ids = [str(p["InfraId"]) for p in pods if p.get("InfraId")]
    infra = (
        {str(c.get("Id")): c for c in pm.json("container", "inspect", *infra_ids)}
        if infra_ids
        else {}
    )
    obs = Observed()
    for n in nets:
        obs.all_networks[str(n.get("name"))] = n
        labels = _labels(n)
        if labels.get(LABEL_INSTANCE) == inst:
            subnets = [str(s.get("subnet")) for s in n.get("subnets") or []]
            obs.networks[str(n["name"])] = NetworkState(
                str(n["name"]), subnets[0] if subnets else "", "vl", labels.get(LABEL_VL)
            )
    for v in vols:
        vlabels = _labels(v)
        if vlabels.get(LABEL_KIND) == KIND_RECORD:
            obs.records[str(v.get("Name"))] = vlabels
        else:
            obs.volumes[str(v.get("Name"))] = vlabels
    by_pod: dict[str, list[dict[str, Any]]] = {}
    for c in ctrs:
        by_pod.setdefault(str(c.get("Pod") or ""), []).append(c)
    for p in sorted(pods, key=lambda p: str(p.get("Created"))):
        labels = _labels(p)
        status = str(p.get("Status"))
        problems: list[str] = []
        if status == "Running":
            power = POWER_ON
        elif status in _STOPPED:
            power = POWER_OFF
        else:
            power, problems = POWER_MIXED, [f"pod is {status}"]
        # the infra container inherits the pod's labels: the workload's are the others
        apps = [
            c
            for c in by_pod.get(str(p.get("Id")), [])
            if _labels(c).get(LABEL_VNFC)
            and c.get("Id") != p.get("InfraId")
            and not c.get("IsInfra")
        ]
        names = []
        for c in apps:
            cname = c.get("Names")
            cname = str(cname[0] if isinstance(cname, list) and cname else cname)
            names.append(cname)
            if power == POWER_ON and str(c.get("State")) != "running":
                problems.append(f"container {cname} is {c.get('State')}")
        inspected = infra.get(str(p.get("InfraId")), {})
        networks = ((inspected.get("NetworkSettings") or {}).get("Networks")) or {}
        cps, cp_problems = _observed_cps(labels.get(LABEL_CPS, ""), networks)
        generation = labels.get(LABEL_GENERATION) or None
        record: str | None = record_volume(str(p.get("Name")))
        rec_labels = obs.records.get(str(record))
        if rec_labels is not None and rec_labels.get(LABEL_POD) == str(p.get("Id")):
            generation = rec_labels.get(LABEL_GENERATION) or generation
        else:
            record = None
        state = PodState(
            vnfc_id=labels.get(LABEL_VNFC, ""),
            vdu_id=labels.get(LABEL_VDU, ""),
            name=str(p.get("Name")),
            cps=cps,
            containers=tuple(sorted(names)),
            power=power,
            generation=generation,
            token=labels.get(LABEL_TOKEN) or None,
            problems=tuple(problems + cp_problems),
            pod_id=str(p.get("Id") or ""),
            record=record,
        )
        if not state.vnfc_id or state.vnfc_id in obs.pods:
            obs.strays.append(state)
        else:
            obs.pods[state.vnfc_id] = state
    return obs


def _tar(files: tuple[tuple[str, bytes], ...]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _label_args(labels: dict[str, str]) -> list[str]:
    out = []
    for key, value in sorted(labels.items()):
        out += ["--label", f"{key}={value}"]
    return out


class Applier:
    """Changes podman as a diff says, in an order that frees names before reusing them."""

    def __init__(
        self,
        pm: Podman,
        *,
        stop_timeout: int,
        token: str | None,
        power_off_timeout: int | None = None,
    ) -> None:
        self.pm = pm
        # how operate stops pods: the request's stopType/gracefulStopTimeout, else the VIM's
        self.power_off_timeout = stop_timeout if power_off_timeout is None else power_off_timeout
        self._taken: set[str] = set()  # addresses pinned by this apply
        self.stop_timeout = stop_timeout
        self.token = token

    def apply(self, changes: Changes) -> None:
        for pod in changes.delete_pods:
            self.pm.run(
                "pod", "rm", "--force", "--ignore", "--time", str(self.stop_timeout), pod.name
            )
        for name in [*changes.delete_volumes, *changes.delete_records]:
            self.pm.run("volume", "rm", "--force", name, ok_codes=(0, 1))
        for name in changes.delete_networks:
            self.pm.run("network", "rm", name, ok_codes=(0, 1))
        for name in changes.release_networks:
            # refused while another instance's pod is on it: then it stays
            self.pm.run("network", "rm", name, ok_codes=(0, 1, 2, 125))
        for net in changes.create_networks:
            self.create_network(changes.vnf_instance_id, net)
        for vol in changes.create_volumes:
            self.pm.run("volume", "create", *_label_args(vol.labels), vol.name)
            if vol.files:
                self.pm.run("volume", "import", vol.name, "-", stdin=_tar(vol.files))
        for planned in changes.create_pods:
            self.create_pod(planned)
        for have, power in changes.power_pods:
            if power == POWER_OFF:
                self.pm.run("pod", "stop", "--time", str(self.power_off_timeout), have.name)
            else:
                self.pm.run("pod", "start", have.name)
        for have, generation in changes.record_pods:
            self.record(changes.vnf_instance_id, have, generation)

    def record(self, inst: str, pod: PodState, generation: str) -> None:
        """Keep ``generation`` as the pod's software generation (its labels cannot change):
        its record volume is made again with it."""
        name = record_volume(pod.name)
        self.pm.run("volume", "rm", "--force", name, ok_codes=(0, 1))
        labels = {
            LABEL_INSTANCE: inst,
            LABEL_KIND: KIND_RECORD,
            LABEL_VNFC: pod.vnfc_id,
            LABEL_POD: pod.pod_id,
            LABEL_GENERATION: generation,
        }
        self.pm.run("volume", "create", *_label_args(labels), name)

    def create_network(self, inst: str, net: NetworkState) -> None:
        args = ["network", "create", "--subnet", net.cidr, "--disable-dns"]
        if net.gateway:
            args += ["--gateway", net.gateway]
        if net.mtu and net.mtu != 1500:
            args += ["--opt", f"mtu={net.mtu}"]
        if net.kind == "vl":
            # internal: no route out, no NAT; the VL belongs to this instance alone
            args += ["--internal", *_label_args({LABEL_INSTANCE: inst, LABEL_VL: net.vl_id or ""})]
        else:
            args += _label_args({LABEL_EXTERNAL: "true"})
        self.pm.run(*args, net.name)

    def free_address(self, network: str) -> str:
        """An address of ``network`` that no container has or was planned to have: podman's
        own allocation would give a pod another address on each start, so the driver pins
        one (from the tenth host up, as the local VIM does)."""
        found = self.pm.json("network", "inspect", network)
        subnets = [
            s for n in found for s in n.get("subnets") or [] if ":" not in str(s.get("subnet"))
        ]
        if not subnets:
            raise VimError(f"network {network} has no IPv4 subnet")
        net = ipaddress.ip_network(str(subnets[0]["subnet"]), strict=False)
        used = set(self._taken) | {str(s.get("gateway")) for s in subnets}
        ids = [
            str(c.get("Id"))
            for c in self.pm.json(
                "ps", "--all", "--format", "json", "--filter", f"network={network}"
            )
        ]
        for c in self.pm.json("container", "inspect", *ids) if ids else []:
            att = ((c.get("NetworkSettings") or {}).get("Networks") or {}).get(network) or {}
            used.add(str(att.get("IPAddress") or ""))
            label = ((c.get("Config") or {}).get("Labels") or {}).get(LABEL_CPS) or ""
            try:
                entries = json.loads(label) if label else []
            except ValueError:
                entries = []
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, list) and len(entry) == 8 and entry[1] == network:
                    used.add(str(entry[6] or ""))
        hosts = list(net.hosts())
        for addr in hosts[FIRST_DYNAMIC_HOST - 1 :] + hosts[: FIRST_DYNAMIC_HOST - 1]:
            if str(addr) not in used:
                self._taken.add(str(addr))
                return str(addr)
        raise VimError(f"network {network} has no free address left")

    def pin_addresses(self, st: PodState) -> PodState:
        """The pod's external CPs that the plan gives no address get a free one, for good."""
        if all(cp.ip or cp.kind != "ext" for cp in st.cps):
            return st
        cps = tuple(
            cp
            if cp.ip or cp.kind != "ext"
            else dataclasses.replace(cp, ip=self.free_address(cp.network))
            for cp in st.cps
        )
        return dataclasses.replace(st, cps=cps)

    def create_pod(self, pod: PodPlan) -> None:
        st = self.pin_addresses(pod.state)
        labels = dict(pod.labels)
        labels[LABEL_CPS] = _cps_label(st.cps)
        if st.generation:
            labels[LABEL_GENERATION] = st.generation
        if self.token:
            labels[LABEL_TOKEN] = self.token
        args = ["pod", "create", "--name", st.name, "--hostname", st.name, *_label_args(labels)]
        for cp in st.cps:
            opts = [f"interface_name={cp.ifname}"]
            if cp.ip:
                opts.append(f"ip={cp.ip}")
            if cp.mac:
                opts.append(f"mac={cp.mac}")
            args += ["--network", f"{cp.network}:{','.join(opts)}"]
        if not st.cps:
            args += ["--network", "none"]
        self.pm.run(*args)
        try:
            for i, c in enumerate(pod.vdu.containers):
                clabels = dict(pod.labels)
                if i == 0:
                    clabels[LABEL_MAIN] = "true"
                cargs = [
                    "create",
                    "--pod",
                    st.name,
                    "--name",
                    f"{st.name}-{c.name}",
                    "--pull",
                    "never",  # images come from local tarballs (podman load/import)
                    "--init",  # signals reach the workload: stops take no timeout
                    *_label_args(clabels),
                ]
                if c.command:
                    cargs += ["--entrypoint", json.dumps(list(c.command))]
                for key, value in c.env:
                    cargs += ["--env", f"{key}={value}"]
                for m in container_mounts(pod, c):
                    cargs += ["--volume", f"{m.volume}:{m.path}{':ro' if m.read_only else ''}"]
                if c.workdir:
                    cargs += ["--workdir", c.workdir]
                self.pm.run(*cargs, "--", c.image, *c.args)
            if st.power == POWER_ON:
                self.pm.run("pod", "start", st.name)
        except VimError:
            # a half-made pod would be kept by the next reconcile's diff as "broken": go now
            self.pm.run("pod", "rm", "--force", "--ignore", "--time", "0", st.name)
            raise
