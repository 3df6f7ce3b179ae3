"""The runner's structure: no import cycles inside vnfm_runner, and no module reaching into
private members of another object (``svc._set_state``, ``self.store._sessions``).

Imports under TYPE_CHECKING and inside functions count: they show the same cycle.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "vnfm_runner"
PRIVATE = re.compile(r"^_[a-z]")


def _modules() -> dict[str, ast.Module]:
    out = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        out[name] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return out


def _imports(tree: ast.Module, known: set[str]) -> set[str]:
    deps: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:  # `from pkg import submodule` needs the submodule only
                sub = f"{node.module}.{alias.name}"
                deps.add(sub if sub in known else node.module)
        elif isinstance(node, ast.Import):
            deps.update(alias.name for alias in node.names)
    return deps & known


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles: list[list[str]] = []
    done: set[str] = set()
    stack: list[str] = []

    def visit(name: str) -> None:
        stack.append(name)
        for dep in sorted(graph[name]):
            if dep in stack:
                cycles.append([*stack[stack.index(dep) :], dep])
            elif dep not in done:
                visit(dep)
        stack.pop()
        done.add(name)

    for name in sorted(graph):
        if name not in done:
            visit(name)
    return cycles


def private_uses(name: str, tree: ast.Module) -> list[str]:
    """``x._member`` and ``self.x._member``: a private member of an object not ``self``'s."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not PRIVATE.match(node.attr):
            continue
        base = node.value
        other = isinstance(base, ast.Name) and base.id not in ("self", "cls")
        through_self = (
            isinstance(base, ast.Attribute)
            and isinstance(base.value, ast.Name)
            and base.value.id == "self"
        )
        if other or through_self:
            found.append(f"{name}:{node.lineno}: .{node.attr}")
    return found


def test_no_import_cycles() -> None:
    modules = _modules()
    known = set(modules)
    graph = {name: _imports(tree, known) - {name} for name, tree in modules.items()}
    assert import_cycles(graph) == []


def test_no_module_calls_into_private_members_of_another_object() -> None:
    uses = [use for name, tree in _modules().items() for use in private_uses(name, tree)]
    assert uses == []


def test_the_checks_see_what_they_look_for() -> None:
    """A cycle and a private call written here are found (the checks are not vacuous)."""
    assert import_cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]
    tree = ast.parse("svc._set_state(op)\nself.store._sessions\nself._own()\n")
    assert sorted(private_uses("m", tree)) == ["m:1: ._set_state", "m:2: ._sessions"]


def state_literals(name: str, tree: ast.Module, states: set[str]) -> list[str]:
    """Operation states written as strings: a misspelt one is a silent bug, a misspelt
    ``OperationState`` member an error that mypy reports. ``Literal[...]`` in API schemas
    is the exception (pydantic documents the spelled values)."""
    in_literal: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and getattr(node.value, "id", None) == "Literal":
            in_literal.update(id(n) for n in ast.walk(node.slice))
    return [
        f"{name}:{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in states and id(node) not in in_literal
    ]


def test_operation_states_are_named_through_the_domain_enum() -> None:
    from vnfm_runner.domain import OperationState

    states = {s.value for s in OperationState}
    found = [
        hit
        for name, tree in _modules().items()
        if not name.startswith(f"{PACKAGE}.domain")
        for hit in state_literals(name, tree, states)
    ]
    assert found == []
    tree = ast.parse('x = "FAILED_TEMP"\ny: Literal["FAILED_TEMP"]\n')
    assert state_literals("m", tree, states) == ["m:1: 'FAILED_TEMP'"]


# The ORM rows of the three records (domain/records.py) stay in the store; the SQL read
# models named here query their tables directly and hand nothing but records or
# documents on: the API's keyset listings and metrics, the notification journal's flush
# hook, and the assurance loops' own queries.
RECORD_ROWS = {"InstanceRow", "OperationRow", "PackageRow"}
SQL_READ_MODELS = (
    f"{PACKAGE}.store",
    f"{PACKAGE}.api.",
    f"{PACKAGE}.notify.",
    f"{PACKAGE}.assurance.",
    f"{PACKAGE}.pkgm.records",
)


def row_imports(name: str, tree: ast.Module) -> list[str]:
    return [
        f"{name}:{node.lineno}: {alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == f"{PACKAGE}.store.tables"
        for alias in node.names
        if alias.name in RECORD_ROWS
    ]


def test_records_not_rows_cross_the_layers() -> None:
    """The LCM handlers, the services, the engine and the CLI see records, never rows."""
    found = [
        hit
        for name, tree in _modules().items()
        if not name.startswith(SQL_READ_MODELS)
        for hit in row_imports(name, tree)
    ]
    assert found == []
    tree = ast.parse("from vnfm_runner.store.tables import InstanceRow, VimRow\n")
    assert row_imports("m", tree) == ["m:1: InstanceRow"]


def test_the_store_answers_with_records(tmp_path: Path) -> None:
    """What the Records port reads comes back typed: the domain's records and enums."""
    from vnfm_runner.bootstrap import open_store
    from vnfm_runner.domain import InstantiationState, Operation, OperationState
    from vnfm_runner.domain.records import VnfInstanceRecord, VnfLcmOpOccRecord
    from vnfm_runner.store.db import now

    store = open_store(f"sqlite:///{tmp_path / 'vnfm.db'}")
    stamp = now()
    store.add_instance(
        VnfInstanceRecord("i", "v", "p", InstantiationState.NOT_INSTANTIATED, {}, None, None, stamp)
    )
    store.start_operation(
        VnfLcmOpOccRecord("o", "i", Operation.SCALE, OperationState.STARTING, {"a": 1}, stamp)
    )
    instance, op = store.instance("i"), store.operation("o")
    assert isinstance(instance, VnfInstanceRecord) and isinstance(op, VnfLcmOpOccRecord)
    assert type(instance.instantiation_state) is InstantiationState
    assert type(op.state) is OperationState and type(op.operation) is Operation
    assert op.doc == {"a": 1} and op.created_at == stamp
    op.doc["a"] = 2  # a record is the reader's own copy: the store keeps what it committed
    assert store.operation("o").doc == {"a": 1}  # type: ignore[union-attr]


def test_each_record_has_its_rows_columns() -> None:
    """store/mapping.py maps by name: a column a migration adds needs its record field."""
    import dataclasses

    from vnfm_runner.domain.records import VnfInstanceRecord, VnfLcmOpOccRecord, VnfPackageRecord
    from vnfm_runner.store.tables import InstanceRow, OperationRow, PackageRow

    for record, row in (
        (VnfPackageRecord, PackageRow),
        (VnfInstanceRecord, InstanceRow),
        (VnfLcmOpOccRecord, OperationRow),
    ):
        assert {f.name for f in dataclasses.fields(record)} == set(row.__table__.columns.keys())
