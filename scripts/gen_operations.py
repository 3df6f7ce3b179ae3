#!/usr/bin/env python3
"""Write what the operation table decides outside Python: the playbooks of the
generic operations and the operation table of docs/architecture.md.

An operation's playbook is an AWX entry point (job templates name the file), and
its hooks must be imported by the playbook itself (``import_playbook`` is resolved
when the playbook is parsed, from extra vars only: a shared playbook imported with
``vars:`` cannot pick the hooks of its operation). So every generic operation keeps
a playbook of the same four plays, and this script writes them from
``plugins/module_utils/operations.py``. The table of docs/architecture.md (between
its ``operation-table`` markers) is written from the same rows.
tests/unit/test_operation_table.py fails when a committed file differs from what
this script writes.

The operations with plays of their own (INSTANTIATE, TERMINATE, CHANGE_VNFPKG and
the package-defined ones) have hand-written playbooks.

Usage: scripts/gen_operations.py [--check]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# ansible_collections.nfv.vnfm imports through the virtualenv (scripts/setup.sh: a .pth)

from ansible_collections.nfv.vnfm.plugins.module_utils.operations import (  # noqa: E402
    GENERIC,
    OPERATIONS,
    Operation,
    OperationSpec,
)

PLAYBOOKS = ROOT / "playbooks" / "runner"
ROLES = ROOT / "collections" / "ansible_collections" / "nfv" / "vnfm" / "roles"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
DOCS_BEGIN = "<!-- operation-table: written by scripts/gen_operations.py from operations.py -->"
DOCS_END = "<!-- end of operation-table -->"
# Generic operations whose playbook has a play besides the four (the batches).
HAND_WRITTEN = (Operation.CHANGE_VNFPKG,)
# Extra vars an operation reads besides the common ones: (role variable, expression, doc).
EXTRA_VARS: dict[Operation, list[tuple[str, str, str]]] = {
    Operation.HEAL: [
        (
            "operation_id",
            "{{ vnfm_operation_id | default('') }}",
            "# vnfm_operation_id (the LCM operation occurrence id: a retry does not recreate"
            " again what its\n# failed attempt healed; optional).",
        )
    ],
}


def generated() -> list[OperationSpec]:
    """The table's rows whose playbook this script writes."""
    return [OPERATIONS[op] for op in GENERIC if op not in HAND_WRITTEN]


def title(s: OperationSpec) -> str:
    return s.hook_prefix.replace("_", " ").capitalize()


def render(s: OperationSpec) -> str:
    r, t = s.role, title(s)
    start, end = s.hooks("start", "end")
    extras = EXTRA_VARS.get(s.operation, [])
    hooks_doc = "vnfm_hooks (hook name -> playbook path; optional)"
    lines = [
        "---",
        f"# SOL003 {s.operation}: plan → {start} hook → reconcile → {end} hook;"
        " one ansible-playbook run.",
        "# Written by scripts/gen_playbooks.py from the operation table"
        " (plugins/module_utils/operations.py).",
        "# The runner's playbook (AWX job templates run ../<operation>.yml, flat variables).",
        "# Extra vars (set by vnfm_runner): vnfm_vnf_instance_id,",
        "# vnfm_package_dir, vnfm_request (the SOL003 request body), vnfm_current_plan (the plan the",
        "# previous operation returned), vnfm_resources (current resource info), vnfm_vim,",
        f"# vnfm_vim_credentials, vnfm_vim_mapping (granted VIM assets), {hooks_doc}"
        + ("," if extras else "."),
        *[doc for _, _, doc in extras],
        f"- name: {t} - plan the desired state",
        "  hosts: localhost",
        "  gather_facts: false",
        "  tasks:",
        "    - name: Decide and plan",
        "      ansible.builtin.import_role:",
        f"        name: nfv.vnfm.{r}",
        "        tasks_from: plan.yml",
        "        rolespec_validate: false  # variables the runner built from checked records",
        f"      vars: &{r}_vars",
        f'        {r}_package_dir: "{{{{ vnfm_package_dir }}}}"',
        f'        {r}_vnf_instance_id: "{{{{ vnfm_vnf_instance_id }}}}"',
        f'        {r}_request: "{{{{ vnfm_request | default({{}}, true) }}}}"',
        f'        {r}_current_plan: "{{{{ vnfm_current_plan }}}}"',
        f'        {r}_resources: "{{{{ vnfm_resources | default({{}}, true) }}}}"',
        f"        {r}_vim: \"{{{{ vnfm_vim | default({{'vimType': 'local'}}, true) }}}}\"",
        f'        {r}_vim_credentials: "{{{{ vnfm_vim_credentials | default({{}}, true) }}}}"',
        f'        {r}_vim_mapping: "{{{{ vnfm_vim_mapping | default({{}}, true) }}}}"',
        f"        {r}_start_hook: \"{{{{ '{start}' in vnfm_hooks | default({{}}, true) }}}}\"",
        *[f'        {r}_{name}: "{expr}"' for name, expr, _ in extras],
        "",
        f"- name: {t} - package hook {start}",
        f"  ansible.builtin.import_playbook: \"{{{{ vnfm_hooks.{start} | default('hooks/noop.yml') }}}}\"",
        "",
        f"- name: {t} - reconcile the VIM",
        "  hosts: localhost",
        "  gather_facts: false",
        "  tasks:",
        "    - name: Reconcile and publish",
        "      ansible.builtin.import_role:",
        f"        name: nfv.vnfm.{r}",
        "        tasks_from: reconcile.yml",
        "        rolespec_validate: false  # variables the runner built from checked records",
        f"      vars: *{r}_vars",
        "",
        f"- name: {t} - package hook {end}",
        f"  ansible.builtin.import_playbook: \"{{{{ vnfm_hooks.{end} | default('hooks/noop.yml') }}}}\"",
    ]
    return "\n".join(lines) + "\n"


def docs_table() -> str:
    """The operation table of docs/architecture.md, one row per operation."""
    rows = [
        "| operation | role / playbook | package hooks (Vnflcm) | CLI | API | what decide changes |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for s in OPERATIONS.values():
        if (ROLES / s.role).is_dir():
            runs = f"`nfv.vnfm.{s.role}` / `{s.playbook}`"
        else:
            runs = f"`nfv.vnfm.vnf_lcm` / `{s.playbook}`"
        if s.hook_prefix:
            hooks = ", ".join(f"`{h}`" for h in s.hooks("start", "end"))
        else:
            hooks = "the package's own playbook"
        if s.api_task:
            api = f"`POST …/{{id}}/{s.api_task}`"
        elif s.request_model:
            api = "`PATCH …/{id}`"
        else:
            api = "—"
        name = "package-defined (CUSTOM)" if s.operation == Operation.CUSTOM else s.operation
        rows.append(f"| {name} | {runs} | {hooks} | `vnfm {s.cli}` | {api} | {s.summary} |")
    return "\n".join(rows) + "\n"


def with_docs_table(text: str) -> str:
    """``text`` (docs/architecture.md) with its operation table rewritten."""
    head, found, rest = text.partition(DOCS_BEGIN + "\n")
    if not found:
        raise SystemExit(f"{ARCHITECTURE}: no line {DOCS_BEGIN}")
    _, found, tail = rest.partition(DOCS_END)
    if not found:
        raise SystemExit(f"{ARCHITECTURE}: no line {DOCS_END}")
    return head + DOCS_BEGIN + "\n" + docs_table() + DOCS_END + tail


def expected() -> dict[Path, str]:
    """Every file this script writes, with the text it should hold."""
    files = {PLAYBOOKS / s.playbook: render(s) for s in generated()}
    files[ARCHITECTURE] = with_docs_table(ARCHITECTURE.read_text())
    return files


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for path, text in expected().items():
        if path.exists() and path.read_text() == text:
            continue
        stale.append(path.name)
        if not check:
            path.write_text(text)
    if stale:
        print(("stale: " if check else "written: ") + ", ".join(stale))
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
