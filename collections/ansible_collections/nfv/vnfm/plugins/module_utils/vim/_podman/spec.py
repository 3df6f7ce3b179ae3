# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""What podman makes of a VDU's Kubernetes workload: its containers and volumes, and
what it cannot do, per kind (refused, or a warning).

Podman runs one pod per VNFC on one host. It has no Services (no virtual IP, no load
balancing), no StatefulSet semantics (ordered start, stable network identity, volume
claim templates), no probes or readiness gates, and no scheduling (affinity,
anti-affinity, node selectors, tolerations): those are warned about and ignored. What
would give a package's containers the host (host network, PID or IPC namespaces,
hostPath volumes, privileged containers) is refused.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.vim.base import VimError

# kind of a volume the driver makes from a pod's ``volumes`` (volume label)
CONFIGMAP = "configmap"
SECRET = "secret"
CLAIM = "pvc"
EMPTYDIR = "emptydir"
STORAGE = "storage"  # a plan volume (VirtualBlockStorage)
STORAGE_MOUNT = "/mnt"  # a plan volume <storageId> is mounted at /mnt/<storageId>


@dataclass(frozen=True)
class Mount:
    volume: str  # podman volume name
    path: str
    read_only: bool = False


@dataclass(frozen=True)
class ContainerSpec:
    name: str
    image: str
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    mounts: tuple[Mount, ...] = ()
    workdir: str | None = None


@dataclass(frozen=True)
class SharedVolume:
    """An instance-level volume: a ConfigMap's or Secret's files, or a claim's storage."""

    name: str
    kind: str
    files: tuple[tuple[str, bytes], ...] = ()

    @property
    def digest(self) -> str:
        h = hashlib.sha256()
        for path, data in self.files:
            h.update(path.encode() + b"\0" + hashlib.sha256(data).digest())
        return h.hexdigest()[:16]


@dataclass(frozen=True)
class VduSpec:
    """The containers of one VDU's pods; ``emptydirs`` are per pod (``<pod>-<name>``)."""

    workload: str
    kind: str
    containers: tuple[ContainerSpec, ...]
    emptydirs: tuple[str, ...] = ()
    grace: int | None = None


def _str_list(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise VimError(f"{what} must be a list of strings")
    return tuple(str(v) for v in value)


def _objects(manifests: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {
        str((m.get("metadata") or {}).get("name")): m for m in manifests if m.get("kind") == kind
    }


def _data(obj: dict[str, Any], kind: str) -> dict[str, bytes]:
    """A ConfigMap's or Secret's keys and their bytes."""
    name = (obj.get("metadata") or {}).get("name")
    out: dict[str, bytes] = {}
    for key, value in (obj.get("stringData") or {}).items() if kind == "Secret" else ():
        out[str(key)] = str(value).encode()
    encoded = ("data", "binaryData") if kind == "Secret" else ("binaryData",)
    for field in ("data", "binaryData"):
        items = obj.get(field) or {}
        if not isinstance(items, dict):
            raise VimError(f"{kind} {name!r}: {field} must be a mapping")
        for key, value in items.items():
            if field in encoded:
                try:
                    out[str(key)] = base64.b64decode(str(value), validate=True)
                except ValueError:
                    raise VimError(f"{kind} {name!r}: {field}.{key} is not base64") from None
            else:
                out[str(key)] = str(value).encode()
    for key in out:
        if not key or "/" in key or key in (".", ".."):
            raise VimError(f"{kind} {name!r}: key {key!r} cannot be a file name")
    return out


class Translator:
    """Turns the workloads of a package's manifests into podman specs (one instance)."""

    def __init__(self, manifests: list[dict[str, Any]], prefix: str) -> None:
        self.manifests = manifests
        self.prefix = prefix
        self.configmaps = _objects(manifests, "ConfigMap")
        self.secrets = _objects(manifests, "Secret")
        self.claims = _objects(manifests, "PersistentVolumeClaim")
        self.shared: dict[str, SharedVolume] = {}
        self.warnings: list[str] = []
        for name in sorted(_objects(manifests, "Service")):
            self.warnings.append(
                f"Service {name!r}: podman has no Services (no virtual IP, no load balancing); "
                "clients reach the pods at their CP addresses"
            )

    def _warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    def vdu(self, workload: dict[str, Any]) -> VduSpec:
        kind = str(workload.get("kind"))
        name = str((workload.get("metadata") or {}).get("name"))
        what = f"{kind} {name!r}"
        spec = workload.get("spec") or {}
        pod = spec if kind == "Pod" else (spec.get("template") or {}).get("spec") or {}
        if kind == "StatefulSet":
            self._warn(
                f"{what}: podman runs independent pods: the ordinal is the VNFC index, but there "
                "is no ordered start or stable network identity"
            )
            if spec.get("volumeClaimTemplates"):
                raise VimError(f"{what}: volumeClaimTemplates are not supported on podman")
        if kind == "DaemonSet":
            self._warn(f"{what}: podman is one node: the plan's VNFC count is the pod count")
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            if pod.get(key):
                raise VimError(f"{what}: {key} is refused (a package gets no host namespace)")
        for key in ("affinity", "nodeSelector", "tolerations", "topologySpreadConstraints"):
            if pod.get(key):
                self._warn(f"{what}: {key} is ignored (podman is one host, no scheduler)")
        if pod.get("readinessGates"):
            self._warn(f"{what}: readinessGates are ignored on podman")
        if pod.get("initContainers"):
            raise VimError(f"{what}: initContainers are not supported on podman")
        volumes: dict[str, tuple[str, str]] = {}  # pod volume name -> (podman volume, kind)
        emptydirs: list[str] = []
        for vol in pod.get("volumes") or []:
            if not isinstance(vol, dict) or not isinstance(vol.get("name"), str):
                raise VimError(f"{what}: a volume needs a name")
            volumes[vol["name"]] = self._volume(what, vol, emptydirs)
        containers = tuple(self._container(what, c, volumes) for c in pod.get("containers") or [])
        grace = pod.get("terminationGracePeriodSeconds")
        return VduSpec(
            name,
            kind,
            containers,
            tuple(emptydirs),
            grace if isinstance(grace, int) and not isinstance(grace, bool) else None,
        )

    def _volume(self, what: str, vol: dict[str, Any], emptydirs: list[str]) -> tuple[str, str]:
        vname = vol["name"]
        if "configMap" in vol or "secret" in vol:
            is_cm = "configMap" in vol
            ref = vol["configMap" if is_cm else "secret"] or {}
            src = str(ref.get("name" if is_cm else "secretName"))
            objs = self.configmaps if is_cm else self.secrets
            if src not in objs:
                if ref.get("optional"):
                    objs = {src: {"metadata": {"name": src}}}
                else:
                    kind = "ConfigMap" if is_cm else "Secret"
                    raise VimError(f"{what}: volume {vname!r}: no {kind} {src!r} in the manifests")
            data = _data(objs[src], "ConfigMap" if is_cm else "Secret")
            items = ref.get("items")
            if items:
                data = {str(i["path"]): data[str(i["key"])] for i in items if i.get("key") in data}
            kind = CONFIGMAP if is_cm else SECRET
            name = f"{self.prefix}-{'cm' if is_cm else 'secret'}-{src}"
            self.shared[name] = SharedVolume(name, kind, tuple(sorted(data.items())))
            return name, kind
        if "persistentVolumeClaim" in vol:
            claim = str((vol["persistentVolumeClaim"] or {}).get("claimName"))
            if claim not in self.claims:
                raise VimError(
                    f"{what}: volume {vname!r}: no PersistentVolumeClaim {claim!r} in the manifests"
                )
            name = f"{self.prefix}-pvc-{claim}"
            self.shared[name] = SharedVolume(name, CLAIM)
            return name, CLAIM
        if "emptyDir" in vol:
            emptydirs.append(vname)
            return vname, EMPTYDIR
        other = sorted(k for k in vol if k != "name")
        raise VimError(f"{what}: volume {vname!r}: {', '.join(other)} volumes are not supported")

    def _container(
        self, what: str, c: dict[str, Any], volumes: dict[str, tuple[str, str]]
    ) -> ContainerSpec:
        cname = str(c.get("name"))
        where = f"{what} container {cname!r}"
        sec = c.get("securityContext") or {}
        if sec.get("privileged") or sec.get("allowPrivilegeEscalation"):
            raise VimError(f"{where}: privileged containers are refused")
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            if c.get(probe):
                self._warn(f"{what}: {probe} is not evaluated on podman")
        for port in c.get("ports") or []:
            if isinstance(port, dict) and port.get("hostPort"):
                self._warn(f"{where}: hostPort is ignored (reach the pod at its CP address)")
        env: dict[str, str] = {}
        for source in c.get("envFrom") or []:
            env.update(self._env_from(where, source))
        for item in c.get("env") or []:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise VimError(f"{where}: env entries need a name")
            env[item["name"]] = self._env_value(where, item)
        mounts = []
        for m in c.get("volumeMounts") or []:
            if not isinstance(m, dict) or m.get("name") not in volumes:
                raise VimError(f"{where}: volumeMount {m!r} names no volume of the pod")
            path = m.get("mountPath")
            if not isinstance(path, str) or not path.startswith("/"):
                raise VimError(f"{where}: volumeMount {m['name']!r} needs an absolute mountPath")
            if m.get("subPath"):
                raise VimError(f"{where}: volumeMount {m['name']!r}: subPath is not supported")
            vol, kind = volumes[m["name"]]
            read_only = bool(m.get("readOnly")) or kind in (CONFIGMAP, SECRET)
            mounts.append(Mount(vol, path, read_only))
        workdir = c.get("workingDir")
        return ContainerSpec(
            name=cname,
            image=str(c.get("image")),
            command=_str_list(c.get("command"), f"{where}: command"),
            args=_str_list(c.get("args"), f"{where}: args"),
            env=tuple(sorted(env.items())),
            mounts=tuple(mounts),
            workdir=workdir if isinstance(workdir, str) else None,
        )

    def _ref(self, where: str, kind: str, name: object, key: object = None) -> dict[str, bytes]:
        objs = self.configmaps if kind == "ConfigMap" else self.secrets
        if name not in objs:
            raise VimError(f"{where}: no {kind} {name!r} in the manifests")
        data = _data(objs[str(name)], kind)
        if key is not None and key not in data:
            raise VimError(f"{where}: {kind} {name!r} has no key {key!r}")
        return data

    def _env_from(self, where: str, source: Any) -> dict[str, str]:
        if not isinstance(source, dict):
            raise VimError(f"{where}: envFrom entries must be mappings")
        prefix = str(source.get("prefix") or "")
        for field, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            if field in source:
                data = self._ref(where, kind, (source[field] or {}).get("name"))
                return {prefix + k: v.decode(errors="replace") for k, v in data.items()}
        raise VimError(f"{where}: envFrom needs configMapRef or secretRef")

    def _env_value(self, where: str, item: dict[str, Any]) -> str:
        if "valueFrom" not in item:
            value = item.get("value", "")
            return "" if value is None else str(value)
        src = item["valueFrom"] or {}
        for field, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
            if field in src:
                ref = src[field] or {}
                data = self._ref(where, kind, ref.get("name"), ref.get("key"))
                return data[str(ref.get("key"))].decode(errors="replace")
        raise VimError(
            f"{where}: env {item['name']!r}: only configMapKeyRef and secretKeyRef are "
            "supported on podman"
        )


def workload_name(vnfc: dict[str, Any], plan: dict[str, Any]) -> list[str]:
    """Names the VDU's workload may have: the plan's when it gives one, else the VDU id
    (as written, then as a Kubernetes name: Tacker's VDU1 names workload vdu1)."""
    given = vnfc.get("workload") or (plan.get("workloads") or {}).get(vnfc.get("vduId"))
    if isinstance(given, str) and given:
        return [given]
    vdu = str(vnfc.get("vduId"))
    return list(dict.fromkeys([vdu, vdu.lower().replace("_", "-")]))
