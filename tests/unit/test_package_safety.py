"""A VNF package is untrusted input: every hostile package is refused cleanly.

Each case must give a PackageError whose problems name the file (and the
line where there is one), the CLI must exit non-zero with one
``FILE[:LINE]: message`` line per problem and no traceback, and reading must
never write anywhere but its own temporary directory, which it removes.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from vnfd_builders import base_vnfd, dump, line_of, nodes, write_package

from vnfm_runner.core import Limits, PackageError, Problem, load_vnf

ROOT = Path(__file__).resolve().parents[2]
WEBFARM = ROOT / "examples" / "packages" / "webfarm"
VNFD = "Definitions/vnfd.yaml"
# FILE: message  or  FILE:LINE: message (the file may be an absolute path)
PROBLEM_LINE = re.compile(r"^(?P<file>[^:\s][^:]*?)(?::(?P<line>\d+))?: (?P<msg>\S.*)$")

# 9 levels of 9 aliases: 9**9 (387 million) nodes once expanded.
BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + k)}: &{chr(98 + k)} [{', '.join(['*' + chr(97 + k)] * 9)}]\n" for k in range(8)
)


# -- helpers --------------------------------------------------------------------------
@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make ``tempfile`` use an empty directory of our own, to see what reading leaves."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return tmp


def refused(path: Path, limits: Limits | None = None) -> list[Problem]:
    with pytest.raises(PackageError) as info:
        load_vnf(path, limits)
    problems = info.value.problems
    assert problems, "PackageError without problems"
    assert all(p.file for p in problems), [str(p) for p in problems]
    return problems


def errors(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems if p.severity == "error"]


def package(
    tmp_path: Path, doc: dict[str, Any] | None = None, files: dict[str, str] | None = None
) -> Path:
    """A valid package (the base VNFD, or ``doc``) plus extra ``files``."""
    return write_package(tmp_path / "pkg", {VNFD: doc or base_vnfd(), **(files or {})})


def zip_dir(src: Path, dest: Path, extra: Callable[[zipfile.ZipFile], None] | None = None) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w") as zf:
        for f in sorted(src.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(src).as_posix())
        if extra is not None:
            extra(zf)
    return dest


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def set_central_size(archive: Path, member: str, size: int) -> None:
    """Make the central directory lie about a member's uncompressed size."""
    data = bytearray(archive.read_bytes())
    pos = 0
    while (pos := data.find(b"PK\x01\x02", pos)) >= 0:
        name_len = struct.unpack_from("<H", data, pos + 28)[0]
        if bytes(data[pos + 46 : pos + 46 + name_len]) == member.encode():
            struct.pack_into("<I", data, pos + 24, size)
            archive.write_bytes(bytes(data))
            return
        pos += 4
    raise AssertionError(f"{member} not in {archive}")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vnfm_runner", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=120,
    )


# -- zip (CSAR) members ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("member", "message"),
    [
        ("../evil", "path escapes the package root: '../evil'"),
        ("Definitions/../../evil", "path escapes the package root: 'Definitions/../../evil'"),
        ("/tmp/evil", "absolute path in package: '/tmp/evil'"),
        ("C:/evil", "absolute path in package: 'C:/evil'"),
        ("..\\evil", "unsafe member name '..\\\\evil'"),
    ],
)
def test_zip_member_escaping_the_root_is_refused(
    tmp_path: Path, private_tmp: Path, member: str, message: str
) -> None:
    archive = zip_dir(WEBFARM, tmp_path / "a" / "b" / "pkg.zip", lambda z: z.writestr(member, "x"))
    before = files_under(tmp_path)
    problems = refused(archive)
    assert [str(p) for p in problems] == [f"{archive}: {message}"]
    assert files_under(tmp_path) == before, "reading wrote files"
    assert not list(tmp_path.rglob("evil")) and not Path("/tmp/evil").exists()
    assert list(private_tmp.iterdir()) == [], "temporary directory left behind"


def test_zip_symlink_member_is_refused(tmp_path: Path, private_tmp: Path) -> None:
    def add_link(zf: zipfile.ZipFile) -> None:
        info = zipfile.ZipInfo("Files/passwd")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")

    archive = zip_dir(WEBFARM, tmp_path / "pkg.zip", add_link)
    assert [str(p) for p in refused(archive)] == [f"{archive}: symlink in package: Files/passwd"]
    assert list(private_tmp.iterdir()) == []


def test_zip_member_lying_about_its_size_is_refused(tmp_path: Path, private_tmp: Path) -> None:
    """The central directory says 10 bytes, the member holds 100 000: never trusted."""
    for compression in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        archive = zip_dir(
            WEBFARM,
            tmp_path / f"pkg{compression}.zip",
            lambda z, c=compression: z.writestr("Files/big.bin", b"A" * 100_000, compress_type=c),
        )
        set_central_size(archive, "Files/big.bin", 10)
        (problem,) = refused(archive)
        assert problem.file == str(archive)
        assert "corrupt zip" in problem.message and "Files/big.bin" in problem.message
    assert list(private_tmp.iterdir()) == []


def test_zip_member_over_the_size_limit_is_refused_before_extraction(
    tmp_path: Path, private_tmp: Path
) -> None:
    archive = zip_dir(
        WEBFARM, tmp_path / "pkg.zip", lambda z: z.writestr("Files/big.bin", b"\0" * 2_000_000)
    )
    problems = refused(archive, Limits(max_file_bytes=1_000_000))
    assert [str(p) for p in problems] == [
        f"{archive}: member larger than 1000000 bytes: Files/big.bin"
    ]
    assert list(private_tmp.iterdir()) == []


def test_zip_with_too_many_members_is_refused(tmp_path: Path, private_tmp: Path) -> None:
    archive = zip_dir(WEBFARM, tmp_path / "pkg.zip")
    assert [str(p) for p in refused(archive, Limits(max_files=5))] == [
        f"{archive}: more than 5 files in package"
    ]
    assert list(private_tmp.iterdir()) == []


def test_reading_a_zip_removes_its_temporary_directory(tmp_path: Path, private_tmp: Path) -> None:
    archive = zip_dir(WEBFARM, tmp_path / "webfarm.zip")
    before = files_under(tmp_path)
    model, warnings = load_vnf(archive)
    assert [f.id for f in model.flavours] == ["compact", "default"]
    assert warnings == []
    assert list(private_tmp.iterdir()) == []
    assert files_under(tmp_path) == before


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "pkg.csar"
    bogus.write_bytes(b"PK\x03\x04 this is no zip")
    assert [str(p) for p in refused(bogus)] == [f"{bogus}: not a zip (CSAR) file nor a directory"]
    assert [str(p) for p in refused(tmp_path / "missing")] == [
        f"{tmp_path / 'missing'}: no such file or directory"
    ]


# -- directories ---------------------------------------------------------------------
@pytest.mark.parametrize(("link", "target"), [("Files/passwd", "/etc/passwd"), ("etc", "/etc")])
def test_directory_with_a_symlink_outside_is_refused(
    tmp_path: Path, link: str, target: str
) -> None:
    pkg = package(tmp_path)
    (pkg / link).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, pkg / link)
    assert [str(p) for p in refused(pkg)] == [f"{pkg}: symlink escapes the package root: {link}"]


def test_directory_with_a_symlink_inside_is_fine(tmp_path: Path) -> None:
    pkg = package(tmp_path, files={"Files/readme.txt": "hello"})
    os.symlink("readme.txt", pkg / "Files" / "alias.txt")
    model, _warnings = load_vnf(pkg)
    assert model.vnfd_id


def test_directory_with_too_many_files_is_refused(tmp_path: Path) -> None:
    pkg = package(tmp_path, files={f"Files/f{n}.txt": "x" for n in range(5)})
    assert [str(p) for p in refused(pkg, Limits(max_files=3))] == [
        f"{pkg}: more than 3 files in package"
    ]


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("../../etc/passwd", "path escapes the package root: ../../etc/passwd"),
        ("../../../../../../etc/passwd", "path escapes the package root"),
        ("/etc/passwd", "absolute path not allowed: /etc/passwd"),
    ],
)
def test_import_escaping_the_root_is_refused(tmp_path: Path, ref: str, message: str) -> None:
    doc = base_vnfd()
    doc["imports"] = [*doc["imports"], ref]
    pkg = package(tmp_path, doc)
    text = (pkg / VNFD).read_text()
    (problem,) = refused(pkg)
    assert (problem.file, problem.line) == (VNFD, line_of(text, "imports:"))
    assert message in problem.message


def test_import_through_a_symlink_inside_that_points_outside_is_refused(tmp_path: Path) -> None:
    """The directory check refuses it first; resolve() would refuse it too."""
    outside = tmp_path / "outside.yaml"
    outside.write_text("tosca_definitions_version: tosca_simple_yaml_1_3\n")
    doc = base_vnfd()
    doc["imports"] = [*doc["imports"], "types.yaml"]
    pkg = package(tmp_path, doc)
    os.symlink(outside, pkg / "Definitions" / "types.yaml")
    (problem,) = refused(pkg)
    assert "symlink escapes the package root: Definitions/types.yaml" in str(problem)


@pytest.mark.parametrize(
    ("file", "message"),
    [
        ("../../../etc/hook.yml", "path escapes the package root"),
        ("/etc/hook.yml", "artifact file '/etc/hook.yml' is outside the package"),
        ("file:///etc/hook.yml", "is outside the package"),
    ],
)
def test_artifact_file_escaping_the_root_is_refused(
    tmp_path: Path, file: str, message: str
) -> None:
    doc = base_vnfd()
    vnf = nodes(doc)["VNF"]
    vnf["interfaces"] = {"Vnflcm": {"instantiate_end": {"implementation": "hook"}}}
    vnf["artifacts"] = {"hook": {"type": "tosca.artifacts.Implementation", "file": file}}
    pkg = package(tmp_path, doc)
    text = (pkg / VNFD).read_text()
    (problem,) = refused(pkg)
    assert (problem.file, problem.line) == (VNFD, line_of(text, f"file: {file}"))
    assert message in problem.message


# -- YAML ------------------------------------------------------------------------------
def test_billion_laughs_is_refused(tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "pkg", {VNFD: BILLION_LAUGHS})
    assert errors(refused(pkg)) == [
        f"{VNFD}:1: YAML expands to more than 1000000 nodes (alias bomb?)"
    ]


def test_billion_laughs_in_an_imported_file_is_refused(tmp_path: Path) -> None:
    doc = base_vnfd()
    doc["imports"] = [*doc["imports"], "bomb.yaml"]
    bomb = "tosca_definitions_version: tosca_simple_yaml_1_3\n" + BILLION_LAUGHS
    pkg = package(tmp_path, doc, {"Definitions/bomb.yaml": bomb})
    assert errors(refused(pkg)) == [
        "Definitions/bomb.yaml:1: YAML expands to more than 1000000 nodes (alias bomb?)"
    ]


def test_alias_expansion_bound_is_configurable(tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "pkg", {VNFD: base_vnfd()})
    (problem,) = refused(pkg, Limits(max_yaml_nodes=50))
    assert problem.message == "YAML expands to more than 50 nodes (alias bomb?)"


def test_yaml_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    pkg = package(tmp_path)
    size = (pkg / VNFD).stat().st_size
    assert size > 1000
    assert errors(refused(pkg, Limits(max_yaml_bytes=1000))) == [
        f"{VNFD}: file is larger than 1000 bytes"
    ]
    load_vnf(pkg, Limits(max_yaml_bytes=size))  # exactly at the limit is fine


def test_duplicate_keys_are_refused_with_the_line_of_the_second(tmp_path: Path) -> None:
    text = dump(base_vnfd()).replace(
        "        descriptor_version: '1.0'\n",
        "        descriptor_version: '1.0'\n        provider: someone-else\n",
    )
    pkg = write_package(tmp_path / "pkg", {VNFD: text})
    second = line_of(text, "provider: acme")  # the later of the two
    assert errors(refused(pkg)) == [
        f"{VNFD}:{second}: YAML error: while constructing a mapping found duplicate key 'provider'"
    ]


def test_invalid_yaml_reports_its_line(tmp_path: Path) -> None:
    text = dump(base_vnfd()).replace("description: first VDU", "description: first: VDU")
    pkg = write_package(tmp_path / "pkg", {VNFD: text})
    (problem,) = refused(pkg)
    assert (problem.file, problem.line) == (VNFD, line_of(text, "first: VDU"))
    assert problem.message.startswith("YAML error: ")
    assert "mapping values are not allowed" in problem.message


def test_python_object_tag_is_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = (
        "tosca_definitions_version: tosca_simple_yaml_1_3\n"
        f'description: !!python/object/apply:os.system ["touch {marker}"]\n'
    )
    pkg = write_package(tmp_path / "pkg", {VNFD: text})
    (problem,) = refused(pkg)
    assert (problem.file, problem.line) == (VNFD, 2)
    assert "could not determine a constructor" in problem.message
    assert "python/object/apply:os.system" in problem.message
    assert not marker.exists()


def test_a_yaml_document_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    pkg = write_package(tmp_path / "pkg", {VNFD: "- just\n- a list\n"})
    assert errors(refused(pkg)) == [f"{VNFD}:1: a TOSCA file must be a YAML mapping"]


# -- TOSCA.meta ---------------------------------------------------------------------------
def test_non_utf8_tosca_meta_is_refused(tmp_path: Path) -> None:
    meta = (
        b"TOSCA-Meta-File-Version: 1.0\nCreated-by: \xff\xfe\nEntry-Definitions: " + VNFD.encode()
    )
    pkg = write_package(
        tmp_path / "pkg", {VNFD: base_vnfd(), "TOSCA-Metadata/TOSCA.meta": meta}, entry=None
    )
    assert errors(refused(pkg)) == ["TOSCA-Metadata/TOSCA.meta:2: TOSCA.meta is not UTF-8"]


def test_tosca_meta_without_entry_definitions_is_refused(tmp_path: Path) -> None:
    pkg = write_package(
        tmp_path / "pkg",
        {VNFD: base_vnfd()},
        meta="TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-by: tests\n",
    )
    assert errors(refused(pkg)) == [
        "TOSCA-Metadata/TOSCA.meta:1: TOSCA.meta has no Entry-Definitions"
    ]


def test_tosca_meta_naming_a_missing_entry_is_refused(tmp_path: Path) -> None:
    pkg = write_package(
        tmp_path / "pkg",
        {VNFD: base_vnfd()},
        meta="TOSCA-Meta-File-Version: 1.0\nEntry-Definitions: Definitions/nope.yaml\n",
    )
    assert errors(refused(pkg)) == [
        "TOSCA-Metadata/TOSCA.meta:2: Entry-Definitions file not found: Definitions/nope.yaml"
    ]


def test_tosca_meta_with_a_line_that_is_not_key_value_is_refused(tmp_path: Path) -> None:
    pkg = write_package(
        tmp_path / "pkg",
        {VNFD: base_vnfd()},
        meta=f"TOSCA-Meta-File-Version: 1.0\nEntry-Definitions: {VNFD}\nthis is not a key\n",
    )
    assert errors(refused(pkg)) == [
        "TOSCA-Metadata/TOSCA.meta:3: expected 'Key: value', got 'this is not a key'"
    ]


# -- manifest -------------------------------------------------------------------------
def _manifested(tmp_path: Path, algorithm: str = "SHA-256", digest: str | None = None) -> Path:
    text = dump(base_vnfd())
    digest = digest or hashlib.sha256(text.encode()).hexdigest()
    manifest = (
        "metadata:\n"
        "  vnf_product_name: tiny\n"
        "  vnf_provider_id: acme\n"
        "\n"
        f"Source: {VNFD}\n"
        f"Algorithm: {algorithm}\n"
        f"Hash: {digest}\n"
    )
    return write_package(
        tmp_path / "pkg",
        {VNFD: text, "tiny.mf": manifest},
        meta=(
            "TOSCA-Meta-File-Version: 1.0\n"
            f"Entry-Definitions: {VNFD}\n"
            "ETSI-Entry-Manifest: tiny.mf\n"
        ),
    )


def test_manifest_with_matching_digests_verifies(tmp_path: Path) -> None:
    model, warnings = load_vnf(_manifested(tmp_path))
    assert warnings == []
    assert model.manifest is not None
    assert model.manifest["artifacts"] == [
        {
            "source": VNFD,
            "algorithm": "SHA-256",
            "hash": hashlib.sha256((tmp_path / "pkg" / VNFD).read_bytes()).hexdigest(),
            "remote": False,
            "verified": True,
        }
    ]


def test_manifest_hash_mismatch_names_the_hash_line(tmp_path: Path) -> None:
    pkg = _manifested(tmp_path, digest="0" * 64)
    (problem,) = refused(pkg)
    assert (problem.file, problem.line) == ("tiny.mf", 7)  # the Hash: line
    assert problem.message.startswith(f"{VNFD}: hash mismatch (SHA-256 is ")
    assert problem.message.endswith(f"manifest says {'0' * 64})")


def test_manifest_unsupported_algorithm_is_refused(tmp_path: Path) -> None:
    pkg = _manifested(tmp_path, algorithm="MD5", digest="d41d8cd98f00b204e9800998ecf8427e")
    assert errors(refused(pkg)) == [
        f"tiny.mf:6: {VNFD}: unsupported Algorithm 'MD5' (supported: SHA-256, SHA-384, SHA-512)"
    ]


def test_manifest_entry_escaping_the_root_is_refused(tmp_path: Path) -> None:
    pkg = _manifested(tmp_path)
    mf = pkg / "tiny.mf"
    mf.write_text(mf.read_text() + "\nSource: ../../etc/passwd\nAlgorithm: SHA-256\nHash: 00\n")
    (problem,) = refused(pkg)
    assert (problem.file, problem.line) == ("tiny.mf", 9)
    assert "path escapes the package root" in problem.message


# -- the CLI: one located line per problem, never a traceback ----------------------------
HOSTILE: dict[str, Callable[[Path], Path]] = {
    "zip-slip": lambda t: zip_dir(WEBFARM, t / "p.zip", lambda z: z.writestr("../evil", "x")),
    "zip-symlink": lambda t: zip_dir(
        WEBFARM,
        t / "p.zip",
        lambda z: z.writestr(
            _symlink_info("Files/passwd"),
            "/etc/passwd",
        ),
    ),
    "alias-bomb": lambda t: write_package(t / "p", {VNFD: BILLION_LAUGHS}),
    "python-tag": lambda t: write_package(
        t / "p",
        {VNFD: 'x: !!python/object/apply:os.system ["true"]\n'},
    ),
    "no-entry": lambda t: write_package(t / "p", {VNFD: base_vnfd()}, meta="CSAR-Version: 1.1\n"),
    "hash-mismatch": lambda t: _manifested(t, digest="1" * 64),
    "invalid-yaml": lambda t: write_package(t / "p", {VNFD: "a: [1, 2\nb: 3\n"}),
    "not-a-zip": lambda t: _write(t / "p.zip", b"garbage"),
    "lying-zip": lambda t: _lying_zip(t),
}


def _symlink_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _lying_zip(tmp_path: Path) -> Path:
    archive = zip_dir(
        WEBFARM,
        tmp_path / "lying.zip",
        lambda z: z.writestr("Files/big.bin", b"A" * 50_000, compress_type=zipfile.ZIP_DEFLATED),
    )
    set_central_size(archive, "Files/big.bin", 7)
    return archive


CLI_CASES = [(case, ["validate"]) for case in sorted(HOSTILE)] + [
    ("zip-slip", ["show", "--format", "json"]),
    ("alias-bomb", ["show"]),
    ("hash-mismatch", ["show", "--format", "yaml"]),
]


@pytest.mark.parametrize(("case", "command"), CLI_CASES)
def test_cli_reports_hostile_packages_without_traceback(
    tmp_path: Path, case: str, command: list[str]
) -> None:
    path = HOSTILE[case](tmp_path)
    result = run_cli("package", command[0], str(path), *command[1:])
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines, "no problem reported"
    for line in lines:
        match = PROBLEM_LINE.match(line)
        assert match, f"not FILE[:LINE]: message: {line!r}"
        assert match["file"] in (str(path), VNFD, "TOSCA-Metadata/TOSCA.meta", "tiny.mf"), line
    assert not (tmp_path.parent / "evil").exists()
