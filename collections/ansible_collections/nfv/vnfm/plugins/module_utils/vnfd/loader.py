# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Package → VNF model: the one entry point of the VNFD layer.

``load_vnf(path)`` opens the package (zip or directory), finds the entry
definitions (TOSCA.meta, or the single YAML at the root), verifies the
manifest's digests, loads the TOSCA templates with their imports and builds
the :class:`~model.VnfModel`. All problems are collected; errors raise one
:class:`PackageError`, warnings stay in ``model.warnings``.
"""

from __future__ import annotations

import os
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.errors import PackageError, Problem
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd import model as m
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.builder import (
    VNF,
    FlavourBuilder,
    _Context,
    resolve_inputs,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.manifest import (
    URL_RE,
    ManifestEntry,
    parse_manifest,
    verify_entry,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.package import (
    Limits,
    Package,
    parse_tosca_meta,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.tosca import (
    ServiceTemplate,
    TypeRegistry,
    load_service_templates,
)

META = "TOSCA-Metadata/TOSCA.meta"


def load_vnf(
    path: str | os.PathLike[str], limits: Limits | None = None, *, strict: bool = False
) -> tuple[m.VnfModel, list[Problem]]:
    """Read a package; return the model and the warnings, or raise PackageError.

    Dangling references in parts a deployment may not use are warnings (errors when
    ``strict``); integrity failures are always errors.
    """
    with Package.open(path, limits) as package:
        return load_from_package(package, strict=strict)


def load_from_package(
    package: Package, *, strict: bool = False
) -> tuple[m.VnfModel, list[Problem]]:
    problems: list[Problem] = []
    entry, other, manifest_file = _entry_points(package, problems)
    manifest = _check_manifest(package, manifest_file, problems) if manifest_file else None
    if entry is None:
        raise PackageError(problems)
    templates, registry, load_problems = load_service_templates(package, entry, other)
    problems.extend(load_problems)
    if not any(t.topology is not None for t in templates) and any(
        p.severity == "error" for p in problems
    ):
        raise PackageError(problems)  # nothing to build: report why, not the consequences
    model = _build(package, templates, registry, problems, strict)
    model.entry_definitions = entry
    model.manifest = manifest
    model.deployment_kind = deployment_kind(package, model)
    if model.deployment_kind == "container":
        workload_artifacts(package, model)
    problems[:] = list(dict.fromkeys(problems))  # one report per distinct finding
    errors = [p for p in problems if p.severity == "error"]
    if errors or model is None:
        raise PackageError(problems)
    warnings = [p for p in problems if p.severity != "error"]
    model.warnings = [str(w) for w in warnings]
    return model, warnings


CONTAINER_ARTIFACTS = "Files/kubernetes/"


def deployment_kind(package: Package, model: m.VnfModel) -> str:
    """ "container" when the VDUs are containers, else "vm".

    A container package declares Kubernetes manifests (``Files/kubernetes/``) or Helm
    charts (a ``Chart.yaml``, or a chart archive) as artifacts (TOSCA.meta or manifest
    entries), and no VDU of it has a VM image. A package that brings up a Kubernetes
    cluster on VMs has images: it is a VM package.
    """
    if any(v.sw_image is not None for f in model.flavours for v in f.vdus):
        return "vm"
    listed = [str(b.get("Name") or "") for b in (package.meta.file_blocks if package.meta else [])]
    listed += [str(a.get("source") or "") for a in (model.manifest or {}).get("artifacts", [])]
    manifests = any(f.startswith(CONTAINER_ARTIFACTS) for f in listed)
    charts = any(f.endswith(("/Chart.yaml", ".tgz")) for f in listed if f.startswith("Files/"))
    return "container" if manifests or charts else "vm"


def workload_artifacts(package: Package, model: m.VnfModel) -> None:
    """A container VDU's software is its workload: each manifest of ``Files/kubernetes/``
    holding a workload named as the VDU becomes a software artifact of the VDU, whose
    digest is that workload's spec without ``replicas`` (the VNFM sets them). A package
    change then compares workloads as it compares VM software files (new image, command,
    environment: the VNFCs are replaced; another replica count: nothing), and the VNFCs'
    ``softwareGeneration`` follows them. Unreadable manifests are left to the
    instantiation, which reports them with their file and line."""
    import hashlib
    import json

    from ansible_collections.nfv.vnfm.plugins.module_utils.cnf.manifests import (
        MANIFEST_DIR,
        WORKLOAD_KINDS,
        load_manifests,
    )

    base = package.root / MANIFEST_DIR
    if not base.is_dir():
        return
    names = sorted(
        f"{MANIFEST_DIR}/{p.name}"
        for p in base.iterdir()
        if p.suffix in (".yaml", ".yml") and p.is_file() and not p.is_symlink()
    )
    found: dict[str, list[m.VduArtifact]] = {}
    for name in names:
        try:
            objects = load_manifests(str(package.root), [name])
        except PackageError:
            continue
        for obj in objects:
            kind = str(obj.get("kind"))
            if kind not in WORKLOAD_KINDS:
                continue
            spec = {k: v for k, v in dict(obj.get("spec") or {}).items() if k != "replicas"}
            text = json.dumps({"kind": kind, "spec": spec}, sort_keys=True, default=str)
            workload = str((obj.get("metadata") or {}).get("name"))
            found.setdefault(workload, []).append(
                m.VduArtifact(
                    name=f"{name}#{kind}/{workload}",
                    file=name,
                    type="kubernetes.workload",
                    sha256=hashlib.sha256(text.encode()).hexdigest(),
                )
            )
    for flavour in model.flavours:
        for vdu in flavour.vdus:
            known = {a.name for a in vdu.artifacts}
            vdu.artifacts += [a for a in found.get(vdu.name, []) if a.name not in known]


def _entry_points(
    package: Package, problems: list[Problem]
) -> tuple[str | None, list[str], str | None]:
    """(entry definitions, other definitions, manifest) of the package."""
    if package.exists(META):
        raw = b""
        try:
            raw = package.read_bytes(META, limit=1024 * 1024)
            text = raw.decode("utf-8")
            meta = parse_tosca_meta(text, META)
        except UnicodeDecodeError as exc:
            line = raw[: int(exc.start)].count(b"\n") + 1
            problems.append(Problem("TOSCA.meta is not UTF-8", META, line))
            return None, [], None
        except PackageError as exc:
            problems.extend(exc.problems)
            return None, [], None
        package.meta = meta
        entry = meta.entry_definitions
        if entry is None or not package.exists(entry):
            problems.append(
                Problem(
                    f"Entry-Definitions file not found: {entry}",
                    META,
                    _meta_line(text, "Entry-Definitions"),
                )
            )
            entry = None
        for key in ("ETSI-Entry-Change-Log", "ETSI-Entry-Licenses", "ETSI-Entry-Certificate"):
            value = meta.entries.get(key)
            if value and not package.exists(value) and not (package.root / value).is_dir():
                problems.append(
                    Problem(
                        f"{key} not found in package: {value}",
                        META,
                        _meta_line(text, key),
                        "warning",
                    )
                )
        for block in meta.file_blocks:
            _check_meta_block(package, block, text, problems)
        for other in meta.other_definitions:
            if not package.exists(other):
                problems.append(
                    Problem(
                        f"Other-Definitions file not found: {other}",
                        META,
                        _meta_line(text, "Other-Definitions"),
                    )
                )
        manifest = meta.entries.get("ETSI-Entry-Manifest")
        if manifest and not package.exists(manifest):
            problems.append(
                Problem(
                    f"ETSI-Entry-Manifest not found: {manifest}",
                    META,
                    _meta_line(text, "ETSI-Entry-Manifest"),
                )
            )
            manifest = None
        return entry, [o for o in meta.other_definitions if package.exists(o)], manifest
    # No TOSCA-Metadata: exactly one YAML file at the root is the entry.
    roots = [f for f in package.files() if "/" not in f and f.endswith((".yaml", ".yml"))]
    if len(roots) != 1:
        problems.append(
            Problem(
                "no TOSCA-Metadata/TOSCA.meta and "
                + ("no YAML file" if not roots else f"{len(roots)} YAML files")
                + " at the package root (expected exactly one)",
                package.source,
            )
        )
        return None, [], None
    entry = roots[0]
    stem = entry.rsplit(".", 1)[0]
    manifest = f"{stem}.mf" if package.exists(f"{stem}.mf") else None
    return entry, [], manifest


def _meta_line(text: str, needle: str) -> int | None:
    for lineno, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith(needle):
            return lineno
    return None


def _check_meta_block(
    package: Package, block: dict[str, str], text: str, problems: list[Problem]
) -> None:
    """One ``Name:`` block of TOSCA.meta. A block that gives a digest (``Algorithm``/
    ``Hash``) claims content: the file must be there and match it, else an integrity
    error (even outside --strict). A block without a digest only names a file, often an
    image delivered out of band: its absence is a warning. A remote ``Name`` is recorded,
    never fetched."""
    name = block.get("Name")
    if name is None:
        return
    line = _meta_line(text, f"Name: {name}")
    if not name or URL_RE.match(name):
        return
    given = [key for key in ("Algorithm", "Hash") if key in block]
    if not package.exists(name):
        problems.append(
            Problem(
                f"file listed in TOSCA.meta is not in the package: {name}",
                META,
                line,
                "error" if given else "warning",
            )
        )
        return
    if not given:
        return
    for key in ("Algorithm", "Hash"):
        if not block.get(key):
            why = "has no value" if key in block else f"is missing (the block gives {given[0]})"
            problems.append(Problem(f"{name}: TOSCA.meta {key} {why}", META, line))
            return
    entry = ManifestEntry(
        source=name,
        line=line or 1,
        algorithm=block["Algorithm"],
        hash=block["Hash"].lower(),
        algorithm_line=_meta_line(text, f"Algorithm: {block['Algorithm']}"),
        hash_line=_meta_line(text, f"Hash: {block['Hash']}"),
    )
    try:
        content = package.read_bytes(name)
    except PackageError as exc:
        problems.extend(Problem(p.message, META, line) for p in exc.problems)
        return
    problem = verify_entry(entry, content, META)
    if problem is not None:
        problems.append(
            Problem(problem.message.replace("manifest says", "TOSCA.meta says"), META, problem.line)
        )


def _check_manifest(package: Package, name: str, problems: list[Problem]) -> dict[str, Any] | None:
    try:
        text = package.read_bytes(name, limit=16 * 1024 * 1024).decode("utf-8")
    except UnicodeDecodeError:
        problems.append(Problem("manifest is not UTF-8", name))
        return None
    manifest, found = parse_manifest(text, name)
    problems.extend(found)
    for entry in manifest.entries:
        if entry.remote:
            continue
        try:
            content = package.read_bytes(entry.source)
        except PackageError as exc:
            problems.extend(Problem(p.message, name, entry.line) for p in exc.problems)
            continue
        problem = verify_entry(entry, content, name)
        if problem is not None:
            problems.append(problem)
    for set_name, sources in manifest.non_mano_artifact_sets.items():
        for src in sources:
            if not package.exists(src):
                problems.append(
                    Problem(f"non-MANO artifact {src} of set {set_name} not found", name)
                )
    return manifest.to_dict()


def _vnf_node(
    template: ServiceTemplate, registry: TypeRegistry
) -> tuple[str, dict[str, Any]] | None:
    topo = template.topology or {}
    nodes = topo.get("node_templates") or {}
    for name, node in nodes.items() if isinstance(nodes, dict) else []:
        if (
            isinstance(node, dict)
            and isinstance(node.get("type"), str)
            and registry.is_a("node_types", node["type"], VNF)
        ):
            return str(name), node
    return None


def _flavour_id(
    template: ServiceTemplate, registry: TypeRegistry, vnf_type: str | None
) -> str | None:
    topo = template.topology or {}
    subst = topo.get("substitution_mappings")
    if isinstance(subst, dict):
        props = subst.get("properties") or {}
        if isinstance(props, dict) and isinstance(props.get("flavour_id"), str):
            return str(props["flavour_id"])
    found = _vnf_node(template, registry)
    if found:
        props = found[1].get("properties") or {}
        value = props.get("flavour_id") if isinstance(props, dict) else None
        if isinstance(value, str):
            return value
        vnf_type = found[1]["type"]
    if vnf_type:
        default = registry.property_defaults("node_types", vnf_type).get("flavour_id")
        if isinstance(default, str):
            return default
    return None


def _build(
    package: Package,
    templates: list[ServiceTemplate],
    registry: TypeRegistry,
    problems: list[Problem],
    strict: bool = False,
) -> m.VnfModel:
    ctx = _Context(package, registry, problems)
    ctx.strict = strict
    own = [t for t in templates if t.topology is not None]
    flavour_templates = [
        t for t in own if isinstance((t.topology or {}).get("substitution_mappings"), dict)
    ]
    if not flavour_templates:
        flavour_templates = [t for t in own if _vnf_node(t, registry)]
    top = next((t for t in own if t not in flavour_templates and _vnf_node(t, registry)), None)

    # The VNF's own properties: type defaults, then the top template's node.
    vnf_type: str | None = None
    for t in ([top] if top else []) + flavour_templates:
        found = _vnf_node(t, registry)
        if found:
            vnf_type = found[1]["type"]
            break
    if vnf_type is None:
        for t in flavour_templates:
            subst = (t.topology or {}).get("substitution_mappings") or {}
            if isinstance(subst.get("node_type"), str):
                vnf_type = subst["node_type"]
                break
    if vnf_type is None or registry.get("node_types", vnf_type) is None:
        where = templates[0].data if templates else None
        ctx.error(
            "no VNF node (a node template or substitution node_type derived from tosca.nodes.nfv.VNF)",
            where,
        )
        return m.VnfModel("", None, None, None, None)
    base_props = dict(registry.property_defaults("node_types", vnf_type))
    top_node = _vnf_node(top, registry) if top else None
    if top_node is None:
        # A one-file VNFD: the flavour's own VNF node carries descriptor_id & co.
        top_node = next((n for n in (_vnf_node(t, registry) for t in flavour_templates) if n), None)
    if top_node:
        base_props.update(top_node[1].get("properties") or {})

    flavours: list[m.Flavour] = []
    seen: dict[str, str] = {}
    for template in flavour_templates:
        flavour_id = _flavour_id(template, registry, vnf_type)
        if flavour_id is None:
            ctx.error(
                "cannot tell the flavour_id of this deployment flavour",
                template.data,
                "topology_template",
            )
            continue
        if flavour_id in seen:
            ctx.error(
                f"flavour {flavour_id!r} is defined twice (also in {seen[flavour_id]})",
                template.data,
                "topology_template",
            )
            continue
        seen[flavour_id] = template.name
        props = dict(base_props)
        df_node = _vnf_node(template, registry)
        if df_node:
            props.update(df_node[1].get("properties") or {})
        props["flavour_id"] = flavour_id
        props = resolve_inputs(props, {"selected_flavour": flavour_id, "flavour_id": flavour_id})
        flavours.append(FlavourBuilder(ctx, template, flavour_id, props).build())

    props = resolve_inputs(base_props, {"selected_flavour": None})
    vnfd_id = props.get("descriptor_id")
    if not isinstance(vnfd_id, str) or not vnfd_id:
        where = top_node[1] if top_node else (templates[0].data if templates else None)
        ctx.error("the VNF has no descriptor_id", where, "properties")
        vnfd_id = ""
    if not flavours:
        ctx.error(
            "the VNFD defines no deployment flavour", templates[0].data if templates else None
        )
    info = props.get("vnfm_info")
    return m.VnfModel(
        vnfd_id=vnfd_id,
        vnfd_version=_str(props.get("descriptor_version")),
        provider=_str(props.get("provider")),
        product_name=_str(props.get("product_name")),
        software_version=_str(props.get("software_version")),
        product_info_name=_str(props.get("product_info_name")),
        product_info_description=_str(props.get("product_info_description")),
        vnfm_info=[str(i) for i in info] if isinstance(info, list) else [],
        configurable_properties=_dict(props.get("configurable_properties")),
        modifiable_attributes=_dict(props.get("modifiable_attributes")),
        lcm_operations_configuration=_dict(props.get("lcm_operations_configuration")),
        flavours=sorted(flavours, key=lambda f: f.id),
    )


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}
