"""The AWX objects shipped in awx/: the credential type (AWX's import format), one survey per
flat playbook, the inventory source file. Each is checked against what it feeds: the
variables and environment the playbooks, modules and inventory plugin read.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
AWX = ROOT / "awx"
PLUGINS = ROOT / "collections" / "ansible_collections" / "nfv" / "vnfm" / "plugins"
FLAT_PLAYBOOKS = sorted(p.stem for p in (ROOT / "playbooks").glob("*.yml"))
# AWX survey question types and credential input types
SURVEY_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}
INPUT_TYPES = {"string", "boolean"}
# the flat variables the issue names, each offered by some survey
ISSUE_FIELDS = {
    "vnf_instance_id", "flavour_id", "instantiation_level_id", "scale_type", "aspect_id",
    "number_of_steps", "vnfc_ids", "change_state_to", "vnfd_id", "termination_type",
    "vnfm_request",
}  # fmt: skip
# SOL003 enumerations behind the multiple-choice questions
SOL003_CHOICES = {
    "scale_type": {"SCALE_OUT", "SCALE_IN"},
    "change_state_to": {"STARTED", "STOPPED"},
    "termination_type": {"FORCEFUL", "GRACEFUL"},
    "delete_instance": {"true", "false"},
}


def _credential_type() -> dict[str, Any]:
    data = yaml.safe_load((AWX / "credential_types" / "vnfm_api.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_credential_type_is_in_awx_format() -> None:
    ct = _credential_type()
    assert set(ct) == {"name", "description", "kind", "inputs", "injectors"}
    assert ct["kind"] == "cloud"
    fields = ct["inputs"]["fields"]
    ids = [f["id"] for f in fields]
    assert len(ids) == len(set(ids))
    for field in fields:
        assert field["type"] in INPUT_TYPES and field["label"], field
    assert set(ct["inputs"]["required"]) <= set(ids)
    assert next(f for f in fields if f["id"] == "password")["secret"] is True
    assert set(ct["injectors"]) == {"env", "extra_vars"}


def test_credential_type_injects_the_contract_names() -> None:
    injectors = _credential_type()["injectors"]
    assert set(injectors["env"]) == {"VNFM_URL", "VNFM_API_USER", "VNFM_API_PASSWORD"}
    assert {"vnfm_url", "vnfm_username", "vnfm_password"} <= set(injectors["extra_vars"])
    # rendered as AWX renders injectors: Jinja over the credential's inputs only
    inputs = {"url": "https://vnfm:8443", "username": "u", "password": "p", "verify_ssl": False}
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    rendered = {
        k: env.from_string(v).render(**inputs)
        for section in injectors.values()
        for k, v in section.items()
    }
    assert rendered["VNFM_URL"] == rendered["vnfm_url"] == "https://vnfm:8443"
    assert rendered["VNFM_API_USER"] == rendered["vnfm_username"] == "u"
    assert rendered["VNFM_API_PASSWORD"] == rendered["vnfm_password"] == "p"
    assert rendered["vnfm_validate_certs"] == "False"


def test_what_is_injected_is_what_the_collection_reads() -> None:
    injectors = _credential_type()["injectors"]
    code = "\n".join(p.read_text(encoding="utf-8") for p in PLUGINS.rglob("*.py"))
    for name in injectors["env"]:
        assert f'"{name}"' in code, f"{name}: no plugin reads it"
    for playbook in FLAT_PLAYBOOKS:
        text = (ROOT / "playbooks" / f"{playbook}.yml").read_text(encoding="utf-8")
        for var in injectors["extra_vars"]:
            assert re.search(rf"\{{\{{\s*{var}\b", text), f"{playbook}.yml does not use {var}"


def _survey(operation: str) -> dict[str, Any]:
    data = json.loads((AWX / "surveys" / f"{operation}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_one_survey_per_flat_playbook() -> None:
    surveys = sorted(p.stem for p in (AWX / "surveys").glob("*.json"))
    assert FLAT_PLAYBOOKS and surveys == FLAT_PLAYBOOKS


@pytest.mark.parametrize("operation", FLAT_PLAYBOOKS)
def test_survey_is_a_valid_spec_of_its_playbooks_variables(operation: str) -> None:
    survey = _survey(operation)
    assert survey["name"] and survey["description"]
    playbook = (ROOT / "playbooks" / f"{operation}.yml").read_text(encoding="utf-8")
    variables = [q["variable"] for q in survey["spec"]]
    assert len(variables) == len(set(variables))
    assert "vnf_instance_id" in variables
    for question in survey["spec"]:
        var = question["variable"]
        assert question["type"] in SURVEY_TYPES, question
        assert question["question_name"] and isinstance(question["required"], bool)
        assert re.search(rf"\{{\{{\s*{var}\b", playbook), f"{operation}.yml does not read {var}"
        if question["type"] == "multiplechoice":
            choices = set(question["choices"].split("\n"))
            assert choices == SOL003_CHOICES[var], var
            assert question["default"] in choices
        if question["type"] in ("text", "textarea", "integer"):
            assert question["min"] <= question["max"]


def test_the_surveys_offer_every_flat_field_of_the_issue() -> None:
    offered = {q["variable"] for op in FLAT_PLAYBOOKS for q in _survey(op)["spec"]}
    assert offered >= ISSUE_FIELDS


def test_the_inventory_source_uses_the_collections_plugin() -> None:
    source = AWX / "inventory" / "vnfm.yml"
    assert source.name.endswith("vnfm.yml")  # the plugin's verify_file wants that suffix
    assert yaml.safe_load(source.read_text(encoding="utf-8")) == {"plugin": "nfv.vnfm.vnfm"}
    assert (PLUGINS / "inventory" / "vnfm.py").is_file()
