# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Kubernetes manifests of a CNF package (``Files/kubernetes/*.yaml``), read as untrusted input.

The layout is Tacker's: each VDU (``tosca.nodes.nfv.Vdu.Compute``) names a workload by
its ``properties.name`` (= the workload's ``metadata.name``); ConfigMaps, Secrets, PVCs
and Services ship alongside. The instantiate request may select the files with
``additionalParams.lcm-kubernetes-def-files``; else every ``Files/kubernetes/*.yaml``
(and ``*.yml``) is read, in name order.

Every document is parsed by the bounded safe loader (no tags, bounded aliases), then
checked: size, nesting depth, kind (only the kinds below), name, containers. Each
problem names ``FILE:LINE``. The mappings returned are ``LocatedDict``s (plain dicts
that remember their file and lines) so later checks can point at the document.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.errors import PackageError, Problem
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.package import Limits, Package
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.safe_yaml import (
    LocatedDict,
    load_yaml,
    where,
)

MANIFEST_DIR = "Files/kubernetes"
DEF_FILES_PARAM = "lcm-kubernetes-def-files"

# Workloads a VDU may name, and what may ship beside them.
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Pod")
OTHER_KINDS = ("ConfigMap", "Secret", "PersistentVolumeClaim", "Service")
KINDS = WORKLOAD_KINDS + OTHER_KINDS

# Bounds for untrusted manifests (a real CNF's files are a few kilobytes each).
MAX_FILE_BYTES = 1024 * 1024
MAX_FILES = 100
MAX_DOCUMENTS = 500
MAX_NODES = 100_000
MAX_DEPTH = 40

# RFC 1123 subdomain (object names) and label (container names).
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DOC_START = re.compile(r"^---(\s|$)")


def load_manifests(package_dir: str, files: list[str] | None = None) -> list[dict[str, Any]]:
    """Every Kubernetes object of the package's manifests (the ``files`` given, else all).

    ``files`` are package-relative paths (``additionalParams.lcm-kubernetes-def-files``).
    Raises PackageError listing every problem (``FILE:LINE: message``).
    """
    package = Package(Path(package_dir).resolve(), package_dir, Limits(), None)
    problems: list[Problem] = []
    names = _selected_files(package, files, problems)
    objects: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], tuple[str | None, int | None]] = {}
    for name in names:
        for obj in _load_file(package, name, problems):
            key = (str(obj.get("kind")), str(obj["metadata"]["name"]))
            file, line = where(obj)
            if key in seen:
                first_file, first_line = seen[key]
                problems.append(
                    Problem(
                        f"{key[0]} {key[1]!r} is defined twice (first at {first_file}:{first_line})",
                        file,
                        line,
                    )
                )
                continue
            seen[key] = (file, line)
            objects.append(obj)
        if len(objects) > MAX_DOCUMENTS:
            problems.append(Problem(f"more than {MAX_DOCUMENTS} Kubernetes objects", name))
            break
    if any(p.severity == "error" for p in problems):
        raise PackageError(problems)
    return objects


def def_files(additional_params: dict[str, Any] | None) -> list[str] | None:
    """The request's ``lcm-kubernetes-def-files`` (None when absent); PackageError if malformed."""
    value = (additional_params or {}).get(DEF_FILES_PARAM)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise PackageError(
            [Problem(f"additionalParams.{DEF_FILES_PARAM} must be a list of file paths")]
        )
    return list(value)


def workload_for(vdu: Any, manifests: list[dict[str, Any]]) -> dict[str, Any]:
    """The workload a VDU names: ``metadata.name`` equal to the VDU's ``properties.name``.

    ``vdu`` is the name itself, a mapping with ``name`` (or ``properties.name``), or a
    model object with a ``name`` attribute. Raises PackageError when none or several match.
    """
    name = _vdu_name(vdu)
    found = [
        m
        for m in manifests
        if m.get("kind") in WORKLOAD_KINDS and (m.get("metadata") or {}).get("name") == name
    ]
    if not found:
        raise PackageError(
            [
                Problem(
                    f"VDU {name!r}: no workload ({', '.join(WORKLOAD_KINDS)}) named {name!r} "
                    f"in the Kubernetes manifests"
                )
            ]
        )
    if len(found) > 1:
        kinds = ", ".join(str(m.get("kind")) for m in found)
        raise PackageError(
            [Problem(f"VDU {name!r}: several workloads named {name!r} ({kinds})", *where(found[1]))]
        )
    return found[0]


def pod_spec_of(workload: dict[str, Any]) -> dict[str, Any]:
    """The pod spec of a workload (``spec`` of a Pod, ``spec.template.spec`` otherwise)."""
    spec = workload.get("spec") or {}
    if workload.get("kind") == "Pod":
        return dict(spec)
    return dict((spec.get("template") or {}).get("spec") or {})


# -- internals -------------------------------------------------------------------


def _vdu_name(vdu: Any) -> str:
    if isinstance(vdu, str):
        return vdu
    if isinstance(vdu, dict):
        props = vdu.get("properties")
        if isinstance(props, dict) and isinstance(props.get("name"), str):
            return str(props["name"])
        if isinstance(vdu.get("name"), str):
            return str(vdu["name"])
    name = getattr(vdu, "name", None)
    if isinstance(name, str) and name:
        return name
    raise PackageError([Problem(f"cannot tell the VDU name of {vdu!r}")])


def _selected_files(
    package: Package, files: list[str] | None, problems: list[Problem]
) -> list[str]:
    if files is None:
        base = package.root / MANIFEST_DIR
        if not base.is_dir():
            problems.append(Problem(f"no {MANIFEST_DIR}/ directory in the package", package.source))
            return []
        names = sorted(
            f"{MANIFEST_DIR}/{p.name}"
            for p in base.iterdir()
            if p.suffix in (".yaml", ".yml") and p.is_file() and not p.is_symlink()
        )
        if not names:
            problems.append(Problem(f"no *.yaml file in {MANIFEST_DIR}/", package.source))
    else:
        names = []
        for f in files:
            norm = str(PurePosixPath(f))
            if PurePosixPath(norm).suffix not in (".yaml", ".yml"):
                problems.append(
                    Problem(f"{DEF_FILES_PARAM}: {f!r} is not a YAML manifest (*.yaml)")
                )
            elif norm not in names:
                names.append(norm)
    if len(names) > MAX_FILES:
        problems.append(Problem(f"more than {MAX_FILES} manifest files", package.source))
        return []
    return names


def _load_file(package: Package, name: str, problems: list[Problem]) -> list[LocatedDict]:
    try:
        raw = package.read_bytes(name, limit=MAX_FILE_BYTES)
    except PackageError as exc:
        # read_bytes names no file when the file is missing: name the selection
        problems.extend(
            p if p.file else Problem(f"{DEF_FILES_PARAM}: {p.message}", name) for p in exc.problems
        )
        return []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: int(exc.start)].count(b"\n") + 1
        problems.append(Problem("manifest is not UTF-8", name, line))
        return []
    out: list[LocatedDict] = []
    for first_line, chunk in _documents(text):
        try:
            # blank lines in front keep the loader's line numbers those of the file
            doc = load_yaml("\n" * (first_line - 1) + chunk, name, max_nodes=MAX_NODES)
        except PackageError as exc:
            problems.extend(exc.problems)
            continue
        if doc is None:
            continue
        if _check_object(doc, name, first_line, problems):
            out.append(doc)
        if len(out) > MAX_DOCUMENTS:
            problems.append(Problem(f"more than {MAX_DOCUMENTS} documents", name))
            break
    return out


def _documents(text: str) -> list[tuple[int, str]]:
    """(first line, text) of each YAML document (split at ``---`` lines)."""
    docs: list[tuple[int, str]] = []
    start = 1
    lines: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if _DOC_START.match(line):
            docs.append((start, "\n".join(lines)))
            start, lines = number, [line]
        elif line.rstrip() == "...":
            docs.append((start, "\n".join(lines)))
            start, lines = number + 1, []
        else:
            lines.append(line)
    docs.append((start, "\n".join(lines)))
    return [(s, t) for s, t in docs if t.strip()]


def _depth(value: Any, limit: int) -> int:
    stack: list[tuple[Any, int]] = [(value, 1)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def _check_object(doc: Any, file: str, line: int, problems: list[Problem]) -> bool:
    """True when ``doc`` is an object of an accepted kind; problems otherwise."""
    if not isinstance(doc, LocatedDict):
        problems.append(Problem("a manifest document must be a mapping", file, line))
        return False
    line = doc.line or line
    if _depth(doc, MAX_DEPTH) > MAX_DEPTH:
        problems.append(Problem(f"document nested deeper than {MAX_DEPTH} levels", file, line))
        return False
    ok = True
    if not isinstance(doc.get("apiVersion"), str) or not doc["apiVersion"]:
        problems.append(Problem("apiVersion is missing", file, doc.line_of("apiVersion")))
        ok = False
    kind = doc.get("kind")
    if kind == "List" or kind not in KINDS:
        problems.append(
            Problem(
                f"kind {kind!r} is not accepted in a CNF package (accepted: {', '.join(KINDS)})",
                file,
                doc.line_of("kind"),
            )
        )
        return False
    meta = doc.get("metadata")
    if not isinstance(meta, dict):
        problems.append(Problem(f"{kind}: metadata is missing", file, line))
        return False
    name = meta.get("name")
    if not isinstance(name, str) or len(name) > 253 or not _SUBDOMAIN.match(name):
        problems.append(
            Problem(
                f"{kind}: metadata.name {name!r} is not a valid Kubernetes name "
                "(lower-case RFC 1123 subdomain)",
                file,
                where(meta, "name")[1] or line,
            )
        )
        return False
    for key in ("labels", "annotations"):
        value = meta.get(key)
        if value is not None and (
            not isinstance(value, dict)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
        ):
            problems.append(
                Problem(
                    f"{kind} {name!r}: metadata.{key} must map strings to strings",
                    file,
                    where(meta, key)[1] or line,
                )
            )
            ok = False
    if kind in WORKLOAD_KINDS:
        ok = _check_workload(doc, kind, name, file, problems) and ok
    return ok


def _check_workload(
    doc: LocatedDict, kind: str, name: str, file: str, problems: list[Problem]
) -> bool:
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        problems.append(Problem(f"{kind} {name!r}: spec is missing", file, doc.line))
        return False
    if kind != "Pod":
        template = spec.get("template")
        if not isinstance(template, dict) or not isinstance(template.get("spec"), dict):
            problems.append(
                Problem(f"{kind} {name!r}: spec.template.spec is missing", file, *where(spec)[1:])
            )
            return False
        replicas = spec.get("replicas")
        if replicas is not None and (not isinstance(replicas, int) or replicas < 0):
            problems.append(
                Problem(
                    f"{kind} {name!r}: spec.replicas must be a non-negative integer",
                    file,
                    where(spec, "replicas")[1],
                )
            )
            return False
        pod = template["spec"]
    else:
        pod = spec
    containers = pod.get("containers")
    if not isinstance(containers, list) or not containers:
        problems.append(
            Problem(f"{kind} {name!r}: the pod has no containers", file, *where(pod)[1:])
        )
        return False
    ok = True
    for c in containers:
        cline = where(c)[1]
        if not isinstance(c, dict):
            problems.append(Problem(f"{kind} {name!r}: a container must be a mapping", file, None))
            ok = False
            continue
        cname = c.get("name")
        if not isinstance(cname, str) or len(cname) > 63 or not _LABEL.match(cname):
            problems.append(
                Problem(f"{kind} {name!r}: container name {cname!r} is invalid", file, cline)
            )
            ok = False
        if not isinstance(c.get("image"), str) or not c["image"]:
            problems.append(
                Problem(f"{kind} {name!r}: container {cname!r} has no image", file, cline)
            )
            ok = False
    return ok
