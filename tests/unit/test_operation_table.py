"""The operation table is read everywhere: every operation is wired the way its row says.

For each row of ``plugins/module_utils/operations.py``: the playbook exists and runs
the role and the hooks of the row, the role and its molecule scenario exist, a generic
role hands the row's operation to nfv.vnfm.vnf_lcm, the SOL001 Vnflcm interface has
the hooks, ``vnfm <cli>`` exists, the API route exists with the row's request model,
and docs/architecture.md lists the row. Generated files equal what the generator
writes, so adding a row and running ``scripts/gen_operations.py`` is the way in.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.nfv.vnfm.plugins.module_utils.operations import (
    GENERIC,
    OPERATIONS,
    Operation,
    OperationSpec,
    spec,
)
from ansible_collections.nfv.vnfm.plugins.module_utils.plan import decide
from ansible_collections.nfv.vnfm.plugins.module_utils.plan.entry import ARGUMENT_SPEC
from ansible_collections.nfv.vnfm.plugins.module_utils.vnfd._sol001_catalogue import (
    VNFD_TYPES,
    catalogue_document,
)

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = ROOT / "collections" / "ansible_collections" / "nfv" / "vnfm"
ROLES = COLLECTION / "roles"
PLAYBOOKS = ROOT / "playbooks" / "runner"
SOL003 = [s for s in OPERATIONS.values() if s.operation is not Operation.CUSTOM]
ALL = list(OPERATIONS.values())


def _ids(specs: list[OperationSpec]) -> list[str]:
    return [str(s.operation) for s in specs]


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _generator() -> Any:
    loaded = importlib.util.spec_from_file_location(
        "gen_operations", ROOT / "scripts" / "gen_operations.py"
    )
    assert loaded is not None and loaded.loader is not None
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    return module


def _included_roles(play: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(role, tasks_from, vars) of every role a play imports (import_role: static)."""
    found = []
    for task in play.get("tasks", []):
        assert "ansible.builtin.include_role" not in task, task.get("name")
        inc = task.get("ansible.builtin.import_role")
        if inc:
            found.append((inc["name"], inc.get("tasks_from", "main.yml"), task.get("vars", {})))
    return found


# --- the table itself ----------------------------------------------------------------


def test_the_table_has_one_row_per_operation_and_spec_finds_it() -> None:
    assert set(OPERATIONS) == set(Operation)
    for op, row in OPERATIONS.items():
        assert row.operation is op
        assert spec(str(op)) is row
    with pytest.raises(KeyError, match="NO_SUCH_OP"):
        spec("NO_SUCH_OP")
    assert len({s.cli for s in ALL}) == len(ALL), "two operations share a CLI verb"
    assert len({s.playbook for s in ALL}) == len(ALL), "two operations share a playbook"


def test_decide_reads_hook_prefixes_and_custom_from_the_table() -> None:
    assert {str(s.operation): s.hook_prefix for s in SOL003} == decide.HOOK_PREFIX
    assert decide.CUSTOM == Operation.CUSTOM


# --- Ansible: playbooks, roles, module choices, molecule --------------------------------


@pytest.mark.parametrize("row", SOL003, ids=_ids(SOL003))
def test_playbook_runs_the_role_between_the_hooks_of_the_row(row: OperationSpec) -> None:
    plays = _yaml(PLAYBOOKS / row.playbook)
    imports = [
        p["ansible.builtin.import_playbook"]
        for p in plays
        if "ansible.builtin.import_playbook" in p
    ]
    start, end = row.hooks("start", "end")
    assert imports[0] == f"{{{{ vnfm_hooks.{start} | default('hooks/noop.yml') }}}}"
    assert imports[-1] == f"{{{{ vnfm_hooks.{end} | default('hooks/noop.yml') }}}}"
    # one ansible-playbook run: the plan play before the start hook, reconcile before the end
    kinds = ["import" if "ansible.builtin.import_playbook" in p else "play" for p in plays]
    assert kinds[0] == "play" and kinds[1] == "import" and kinds[-1] == "import", kinds
    roles = {name for p in plays if "hosts" in p for name, _, _ in _included_roles(p)}
    assert roles == {f"nfv.vnfm.{row.role}"}, roles


def test_custom_operation_playbook_runs_vnf_lcm_with_custom() -> None:
    row = OPERATIONS[Operation.CUSTOM]
    plays = _yaml(PLAYBOOKS / row.playbook)
    included = [inc for p in plays if "hosts" in p for inc in _included_roles(p)]
    assert {name for name, _, _ in included} == {"nfv.vnfm.vnf_lcm"}
    assert all(v["vnf_lcm_operation"] == Operation.CUSTOM for _, _, v in included)
    assert not (ROLES / row.role).exists()


@pytest.mark.parametrize("row", SOL003, ids=_ids(SOL003))
def test_role_and_its_molecule_scenario_exist(row: OperationSpec) -> None:
    role = ROLES / row.role
    for part in (
        "tasks/main.yml",
        "tasks/reconcile.yml",
        "meta/argument_specs.yml",
        "meta/main.yml",
    ):
        assert (role / part).is_file(), f"roles/{row.role}/{part}"
    specs = _yaml(role / "meta/argument_specs.yml")["argument_specs"]
    assert "main" in specs and "reconcile" in specs
    scenario = ROOT / "molecule" / row.role
    for part in ("molecule.yml", "converge.yml", "verify.yml"):
        assert (scenario / part).is_file(), f"molecule/{row.role}/{part}"


GENERIC_ROLES = [OPERATIONS[op] for op in GENERIC]


@pytest.mark.parametrize("row", GENERIC_ROLES, ids=_ids(GENERIC_ROLES))
def test_generic_role_hands_its_operation_to_vnf_lcm(row: OperationSpec) -> None:
    """One mapping per role (tasks/lcm.yml) onto vnf_lcm; the entry points name the phase."""
    tasks = ROLES / row.role / "tasks"
    (include,) = _yaml(tasks / "lcm.yml")
    # static: resolved when the playbook is parsed, no include round trip at run time
    inc = include["ansible.builtin.import_role"]
    assert inc["name"] == "nfv.vnfm.vnf_lcm"
    assert inc["tasks_from"] == f"{{{{ {row.role}_phase }}}}.yml"
    args = include["vars"]
    assert args["vnf_lcm_operation"] == row.operation
    assert args["vnf_lcm_reconcile"] is row.changes_vim
    # every value is one of the role's documented variables, under the role's prefix
    options = _yaml(ROLES / row.role / "meta/argument_specs.yml")["argument_specs"]["main"][
        "options"
    ]
    lcm_options = _yaml(ROLES / "vnf_lcm/meta/argument_specs.yml")["argument_specs"]["main"][
        "options"
    ]
    for name, value in args.items():
        assert name in lcm_options, name
        if isinstance(value, str) and "{{" in value:
            used = re.findall(rf"\b{row.role}_[a-z_]+", value)
            assert used, (name, value)
            # the heal token of a package change is a fact of its own plan phase
            assert all(u in options or u == "change_vnfpkg_heal_token" for u in used), used
    for required in ("package_dir", "vnf_instance_id", "current_plan"):
        assert args[f"vnf_lcm_{required}"] == f"{{{{ {row.role}_{required} }}}}"
    # no phase file repeats the mapping: each includes lcm.yml with its phase
    for entry in ("plan.yml", "reconcile.yml", "main.yml"):
        for task in _yaml(tasks / entry):
            assert "ansible.builtin.import_role" not in task, f"{row.role}/tasks/{entry}"
            assert "ansible.builtin.include_role" not in task, f"{row.role}/tasks/{entry}"
            if task.get("ansible.builtin.include_tasks") == "lcm.yml":
                assert task["vars"] == {f"{row.role}_phase": entry.removesuffix(".yml")}


def test_vnf_lcm_accepts_every_operation_of_the_table() -> None:
    options = _yaml(ROLES / "vnf_lcm/meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    assert set(options["vnf_lcm_operation"]["choices"]) == {str(op) for op in Operation}


def _module_documentation(path: Path) -> dict[str, Any]:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DOCUMENTATION":
            assert isinstance(node.value, ast.Constant)
            doc: dict[str, Any] = yaml.safe_load(node.value.value)
            return doc
    raise AssertionError(f"{path}: no DOCUMENTATION")


def test_vnf_plan_documents_the_operations_of_the_table() -> None:
    """The module's argument_spec takes its choices from the table; its static
    DOCUMENTATION must list the same (validate-modules compares it with the spec)."""
    module = COLLECTION / "plugins/modules/vnf_plan.py"
    choices = _module_documentation(module)["options"]["operation"]["choices"]
    assert choices == [str(op) for op in Operation if op is not Operation.TERMINATE]
    assert ARGUMENT_SPEC["operation"]["choices"] == choices
    assert "argument_spec=ARGUMENT_SPEC" in module.read_text()


@pytest.mark.parametrize("row", SOL003, ids=_ids(SOL003))
def test_sol001_vnflcm_interface_has_the_hooks_of_the_row(row: OperationSpec) -> None:
    vnflcm = catalogue_document(VNFD_TYPES)["interface_types"]["tosca.interfaces.nfv.Vnflcm"]
    operations = vnflcm["operations"]
    assert row.hook_prefix in operations
    for hook in row.hooks("start", "end"):
        assert hook in operations, hook


def test_molecule_scenarios_share_one_configuration() -> None:
    shared = _yaml(ROOT / ".config/molecule/config.yml")
    assert shared["ansible"]["playbooks"]["converge"] == "converge.yml"
    assert "idempotence" in shared["scenario"]["test_sequence"]
    for path in sorted((ROOT / "molecule").glob("*/molecule.yml")):
        own = _yaml(path) or {}
        # a scenario says only what differs: never the executor or the environment again
        assert "executor" not in own.get("ansible", {}), path
        assert "env" not in own.get("ansible", {}), path


def test_generated_files_are_what_the_generator_writes() -> None:
    gen = _generator()
    assert {s.operation for s in gen.generated()} == set(GENERIC) - {Operation.CHANGE_VNFPKG}
    for path, text in gen.expected().items():
        assert path.read_text() == text, f"{path} differs: run scripts/gen_operations.py"


def test_architecture_lists_every_operation() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    table = text.split("<!-- operation-table:")[1].split("<!-- end of operation-table -->")[0]
    for row in ALL:
        line = next(ln for ln in table.splitlines() if f"`{row.playbook}`" in ln)
        assert f"`vnfm {row.cli}`" in line and row.summary in line, line


# --- the runner: CLI and API ----------------------------------------------------------


@pytest.mark.parametrize("row", ALL, ids=_ids(ALL))
def test_cli_has_the_command_of_the_row(row: OperationSpec) -> None:
    from vnfm_runner.cli.main import cli

    assert row.cli in cli.commands, f"vnfm {row.cli}"


@pytest.fixture(scope="module")
def api_paths(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Any]:
    """(method, path with any parameter name as {}) -> operation, as the app serves them
    (its OpenAPI document: the same whichever way the routers are built)."""
    from vnfm_runner.api.app import create_app
    from vnfm_runner.settings import Settings

    app = create_app(Settings(home=tmp_path_factory.mktemp("vnfm-table")))
    return {
        (method.upper(), re.sub(r"\{[^}]+\}", "{}", path)): operation
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
    }


SOL003_API = [s for s in SOL003 if s.request_model]


@pytest.mark.parametrize("row", SOL003_API, ids=_ids(SOL003_API))
def test_api_has_the_route_of_the_row_with_its_request_model(
    row: OperationSpec, api_paths: dict[tuple[str, str], Any]
) -> None:
    base = "/vnflcm/v2/vnf_instances/{}"
    key = ("POST", f"{base}/{row.api_task}") if row.api_task else ("PATCH", base)
    assert key in api_paths, key
    content = api_paths[key]["requestBody"]["content"]
    (schema,) = [c["schema"] for c in content.values()]
    assert schema["$ref"].rsplit("/", 1)[-1] == row.request_model, (key, schema)
