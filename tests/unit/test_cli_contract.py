"""The CLI as a script sees it: exit codes by kind of failure, --format on data commands,
results on stdout and diagnostics on stderr (docs/cli.md). Runs ``vnfm`` for real in a
subprocess with its own VNFM_HOME; no root needed (nothing is instantiated)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from vnfm_runner.cli.output import ExitCode

ROOT = Path(__file__).resolve().parents[2]
WEBFARM = str(ROOT / "examples" / "packages" / "webfarm")

Vnfm = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def vnfm(tmp_path_factory: pytest.TempPathFactory) -> Vnfm:
    home = tmp_path_factory.mktemp("vnfm-home")
    env = {**os.environ, "VNFM_HOME": str(home)}
    env.pop("VNFM_DATABASE_URL", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "vnfm_runner", *args],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
            env=env,
            timeout=120,
        )
        assert "Traceback" not in done.stderr, done.stderr
        return done

    return run


@pytest.fixture(scope="module")
def instance(vnfm: Vnfm) -> str:
    onboarded = vnfm("package", "onboard", WEBFARM)
    assert onboarded.returncode == 0, onboarded.stderr
    created = vnfm("create", "--vnfd-id", onboarded.stdout.strip(), "--name", "contract")
    assert created.returncode == 0, created.stderr
    return created.stdout.strip()


def test_exit_codes_say_what_kind_of_failure_it_was(
    vnfm: Vnfm, instance: str, tmp_path: Path
) -> None:
    missing = str(uuid.uuid4())
    cases: list[tuple[list[str], ExitCode, str]] = [
        (["show", missing], ExitCode.NOT_FOUND, f"no VNF instance {missing}"),
        (["op", "show", missing], ExitCode.NOT_FOUND, missing),
        (["instantiate", missing, "--flavour", "default"], ExitCode.NOT_FOUND, missing),
        (["vim", "show", "nope"], ExitCode.NOT_FOUND, "no VIM named 'nope'"),
        (["instantiate", instance], ExitCode.INVALID, "--flavour"),
        (["scale", instance, "--type", "SCALE_OUT"], ExitCode.INVALID, "--aspect"),
        (["terminate", instance, "--forceful", "--graceful-timeout", "3"], ExitCode.INVALID, ""),
        (["package", "validate", str(tmp_path)], ExitCode.INVALID, str(tmp_path)),
        (["instantiate", instance, "--bogus-flag"], ExitCode.INVALID, "--bogus-flag"),
        (["terminate", instance, "-q"], ExitCode.CONFLICT, "NOT_INSTANTIATED"),
        (["scale", instance, "--type", "SCALE_OUT", "--aspect", "web"], ExitCode.CONFLICT, ""),
    ]
    for args, code, text in cases:
        done = vnfm(*args)
        assert done.returncode == code, (args, done.returncode, done.stderr)
        assert text in done.stderr, (args, done.stderr)
        assert done.stdout == "", (args, done.stdout)
    bad = tmp_path / "request.json"
    bad.write_text("{not json")
    done = vnfm("instantiate", instance, "--params", str(bad))
    assert done.returncode == ExitCode.INVALID and "not valid JSON" in done.stderr


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_data_commands_print_json_or_yaml_on_stdout(vnfm: Vnfm, instance: str, fmt: str) -> None:
    parse = json.loads if fmt == "json" else yaml.safe_load
    listed = vnfm("list", "--format", fmt)
    assert listed.returncode == 0 and listed.stderr == "", listed.stderr
    assert [d["id"] for d in parse(listed.stdout)] == [instance]
    shown = vnfm("show", instance, "--format", fmt)
    assert parse(shown.stdout)["instantiationState"] == "NOT_INSTANTIATED"
    ops = vnfm("op", "list", "--instance", instance, "--format", fmt)
    assert ops.returncode == 0 and parse(ops.stdout) == []
    vims = vnfm("vim", "list", "--format", fmt)
    assert vims.returncode == 0 and isinstance(parse(vims.stdout), list)
    alarms = vnfm("alarm", "list", "--format", fmt)
    assert alarms.returncode == 0 and parse(alarms.stdout) == []
    plan = vnfm("plan", WEBFARM, "--flavour", "default", "--level", "small", "--format", fmt)
    assert plan.returncode == 0 and parse(plan.stdout)["flavourId"] == "default"


def test_tables_are_the_default_for_people(vnfm: Vnfm, instance: str) -> None:
    listed = vnfm("list")
    assert listed.returncode == 0 and instance in listed.stdout and "VNF instances" in listed.stdout
    ops = vnfm("op", "list")
    assert ops.returncode == 0 and "LCM operations" in ops.stdout
