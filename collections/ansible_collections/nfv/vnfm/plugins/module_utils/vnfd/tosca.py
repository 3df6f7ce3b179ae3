# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""TOSCA service templates: imports, type definitions and type inheritance.

:func:`load_service_templates` reads the entry definitions and everything it
imports (relative files, recursively, each file once, so cycles end) and
resolves imports of the ETSI SOL001 normative types from our own offline
catalogue unless the package ships the file. :class:`TypeRegistry` answers
"is type X derived from Y" and collects inherited property defaults.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.errors import PackageError, Problem
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd import _sol001_catalogue as catalogue
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.package import Package
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd.safe_yaml import LocatedDict, load_yaml

TYPE_SECTIONS = (
    "artifact_types",
    "data_types",
    "capability_types",
    "interface_types",
    "relationship_types",
    "node_types",
    "group_types",
    "policy_types",
)
SUPPORTED_VERSIONS = (
    "tosca_simple_yaml_1_0",
    "tosca_simple_yaml_1_1",
    "tosca_simple_yaml_1_2",
    "tosca_simple_yaml_1_3",
)
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


@dataclass
class ServiceTemplate:
    """One parsed TOSCA file of the package (or of the catalogue)."""

    name: str  # package-relative path, or "catalogue:<key>"
    data: dict[str, Any]
    from_catalogue: bool = False

    @property
    def topology(self) -> dict[str, Any] | None:
        topo = self.data.get("topology_template")
        return topo if isinstance(topo, dict) else None


@dataclass
class TypeDef:
    name: str
    kind: str  # one of TYPE_SECTIONS
    data: dict[str, Any]
    origin: str  # template name where it is defined


@dataclass
class TypeRegistry:
    types: dict[str, dict[str, TypeDef]] = field(
        default_factory=lambda: {kind: {} for kind in TYPE_SECTIONS}
    )
    # Answers of ancestry() and property_defaults(), asked once per node template.
    _memo: dict[tuple[str, str, str], Any] = field(default_factory=dict, repr=False)

    def add_template(self, template: ServiceTemplate, problems: list[Problem]) -> None:
        self._memo.clear()
        for kind in TYPE_SECTIONS:
            section = template.data.get(kind) or {}
            if not isinstance(section, dict):
                problems.append(_problem(f"'{kind}' must be a mapping", template.data, kind))
                continue
            for name, body in section.items():
                if not isinstance(body, dict):
                    problems.append(_problem(f"type {name!r} must be a mapping", section, name))
                    continue
                existing = self.types[kind].get(name)
                if existing is None or (
                    existing.origin.startswith("catalogue:") and not template.from_catalogue
                ):
                    # A package's own definition wins over our catalogue's.
                    self.types[kind][name] = TypeDef(name, kind, body, template.name)

    def get(self, kind: str, name: str) -> TypeDef | None:
        return self.types[kind].get(name)

    def ancestry(self, kind: str, name: str) -> list[str]:
        """``name`` and its ancestors, nearest first (stops at unknown types or loops)."""
        memo = self._memo.get(("ancestry", kind, name))
        if memo is not None:
            return list(memo)
        chain: list[str] = []
        current: str | None = name
        while current and current not in chain:
            chain.append(current)
            typedef = self.types[kind].get(current)
            if typedef is None:
                break
            parent = typedef.data.get("derived_from")
            current = parent if isinstance(parent, str) else None
        self._memo["ancestry", kind, name] = tuple(chain)
        return chain

    def is_a(self, kind: str, name: str, ancestor: str) -> bool:
        return ancestor in self.ancestry(kind, name)

    def property_defaults(self, kind: str, name: str) -> dict[str, Any]:
        """Inherited property defaults, the most derived type winning."""
        memo = self._memo.get(("defaults", kind, name))
        if memo is not None:
            return dict(memo)
        defaults: dict[str, Any] = {}
        for type_name in reversed(self.ancestry(kind, name)):
            typedef = self.types[kind].get(type_name)
            props = (typedef.data.get("properties") or {}) if typedef else {}
            if not isinstance(props, dict):
                continue
            for prop, spec in props.items():
                if isinstance(spec, dict) and "default" in spec:
                    defaults[prop] = spec["default"]
        self._memo["defaults", kind, name] = dict(defaults)
        return defaults

    def check_hierarchy(self, problems: list[Problem]) -> None:
        """Every ``derived_from`` names a known type of the same kind."""
        for kind, table in self.types.items():
            for typedef in table.values():
                parent = typedef.data.get("derived_from")
                if parent is None or typedef.origin.startswith("catalogue:"):
                    continue
                if not isinstance(parent, str) or parent not in table:
                    problems.append(
                        _problem(
                            f"{kind[:-1].replace('_', ' ')} {typedef.name!r} is derived from "
                            f"unknown type {parent!r}",
                            typedef.data,
                            "derived_from",
                        )
                    )


def _problem(message: str, mapping: Any, key: Any = None, severity: str = "error") -> Problem:
    if isinstance(mapping, LocatedDict):
        return Problem(
            message,
            mapping.file,
            mapping.line_of(key) if key is not None else mapping.line,
            severity,
        )
    return Problem(message, severity=severity)


def load_service_templates(
    package: Package, entry: str, extra: list[str] | None = None
) -> tuple[list[ServiceTemplate], TypeRegistry, list[Problem]]:
    """Load ``entry`` (and ``extra`` Other-Definitions) with all their imports.

    Returns the templates in load order (entry first), the type registry
    (TOSCA base types included) and the problems found.
    """
    problems: list[Problem] = []
    loaded: dict[str, ServiceTemplate] = {}
    order: list[ServiceTemplate] = []
    registry = TypeRegistry()
    base = ServiceTemplate("catalogue:tosca-simple-profile", catalogue.tosca_base_document(), True)
    registry.add_template(base, problems)

    def load_file(relpath: str, importer: dict[str, Any] | None, key: Any) -> None:
        try:
            full = package.resolve(relpath)
        except PackageError as exc:
            problems.extend(_relocate(exc.problems, importer, key))
            return
        name = package.relative(full)
        if name in loaded:
            return  # already loaded (also ends import cycles)
        if not full.is_file():
            where = _problem(f"imported file not found in package: {relpath}", importer, key)
            problems.append(where)
            return
        try:
            raw = package.read_bytes(name, limit=package.limits.max_yaml_bytes)
            data = load_yaml(raw, name, max_nodes=package.limits.max_yaml_nodes)
        except PackageError as exc:
            problems.extend(exc.problems)
            return
        if not isinstance(data, dict):
            problems.append(Problem("a TOSCA file must be a YAML mapping", name, 1))
            return
        template = ServiceTemplate(name, data)
        loaded[name] = template
        order.append(template)
        version = data.get("tosca_definitions_version")
        if version not in SUPPORTED_VERSIONS:
            problems.append(
                _problem(
                    f"unsupported tosca_definitions_version {version!r} "
                    f"(supported: {', '.join(SUPPORTED_VERSIONS)})",
                    data,
                    "tosca_definitions_version" if version is not None else None,
                )
            )
        registry.add_template(template, problems)
        imports = data.get("imports") or []
        if not isinstance(imports, list):
            problems.append(_problem("'imports' must be a list", data, "imports"))
            return
        for item in imports:
            ref = item.get("file") if isinstance(item, dict) else item
            if not isinstance(ref, str):
                problems.append(_problem(f"bad import {item!r}", data, "imports"))
                continue
            resolve_import(ref, name, data)

    def resolve_import(ref: str, importer_name: str, importer: dict[str, Any]) -> None:
        normative = catalogue.normative_import(ref)
        if not _URL.match(ref) and package.exists(ref, base=importer_name):
            load_file(
                package.relative(package.resolve(ref, base=importer_name)), importer, "imports"
            )
            return
        if normative is not None:
            key = f"catalogue:{normative}"
            if key not in loaded:
                doc = ServiceTemplate(key, catalogue.catalogue_document(normative), True)
                loaded[key] = doc
                registry.add_template(doc, problems)
                for sub in doc.data.get("imports") or []:
                    sub_key = catalogue.normative_import(
                        sub if isinstance(sub, str) else sub.get("file", "")
                    )
                    if sub_key and f"catalogue:{sub_key}" not in loaded:
                        resolve_import(sub_key, importer_name, importer)
            return
        if _URL.match(ref):
            problems.append(
                _problem(
                    f"remote import {ref!r} is not a known normative type file and is not fetched",
                    importer,
                    "imports",
                )
            )
            return
        try:
            target = package.relative(package.resolve(ref, base=importer_name))
        except PackageError as exc:
            problems.extend(_relocate(exc.problems, importer, "imports"))
            return
        load_file(target, importer, "imports")

    load_file(entry, None, None)
    for other in extra or []:
        load_file(other, None, None)
    registry.check_hierarchy(problems)
    return order, registry, problems


def _relocate(problems: list[Problem], mapping: Any, key: Any) -> list[Problem]:
    """Give location-less problems the location of the import that caused them."""
    out = []
    for p in problems:
        if p.line is None and isinstance(mapping, LocatedDict):
            out.append(Problem(p.message, mapping.file, mapping.line_of(key), p.severity))
        else:
            out.append(p)
    return out
