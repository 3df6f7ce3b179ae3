"""A hostile-input campaign against a real ``vnfm serve``: hypothesis beyond schemathesis.

test_fuzz.py sends what the OpenAPI document describes (and violations of it); this
sends what a JSON *text* can carry and a Python service may mishandle: lone
surrogates (as ``\\ud800`` escapes), NaN and Infinity, numbers that overflow to
infinity, nesting far deeper than the recursion limit, huge strings, many keys,
bytes that are not UTF-8, and the valid-but-awkward (U+0000, U+FFFF, RTL marks,
combining characters, astral characters) on the create and modify routes of
instances, packages and subscriptions.

Properties, per request: no 5xx; a refused request leaves every listing as it was
(no new record, the PATCHed record unchanged); an accepted name comes back as sent.
After the campaign: every listing answers 200, with and without all_fields, and
``vnfm list`` on the same store prints. Bounded (``HOSTILE_FUZZ_EXAMPLES``, default
120, about a minute); random each run, so that it keeps looking.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.server import REPO_ROOT, WEBFARM, Server, make_server, onboard_via_api, zip_dir

INST = "/vnflcm/v2/vnf_instances"
OPS = "/vnflcm/v2/vnf_lcm_op_occs"
PKGS = "/vnfpkgm/v1/vnf_packages"
SUBS = "/vnflcm/v2/subscriptions"
PKG_SUBS = "/vnfpkgm/v1/subscriptions"
LISTS = (INST, PKGS, SUBS, PKG_SUBS, OPS)
EXAMPLES = int(os.environ.get("HOSTILE_FUZZ_EXAMPLES", "120"))
SETTLED = ("COMPLETED", "FAILED", "ROLLED_BACK", "FAILED_TEMP")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home: Path = tmp_path_factory.mktemp("vnfm-hostile-fuzz")
    srv = make_server(home, api_page_size="1000", api_verify_callback="false").start()
    try:
        yield srv
    finally:
        srv.stop()


@dataclass
class Targets:
    vnfd_id: str
    instance_id: str  # PATCHed by the campaign
    package_id: str


@pytest.fixture(scope="module")
def targets(server: Server) -> Targets:
    with server.client() as c:
        pkg = onboard_via_api(c, zip_dir(WEBFARM))
        assert pkg["onboardingState"] == "ONBOARDED", pkg
        r = c.post(INST, json={"vnfdId": pkg["vnfdId"], "vnfInstanceName": "target"})
        assert r.status_code == 201, r.text
        created = c.post(PKGS, json={"userDefinedData": {"target": True}})
        assert created.status_code == 201, created.text
    return Targets(str(pkg["vnfdId"]), str(r.json()["id"]), str(created.json()["id"]))


# -- strategies ---------------------------------------------------------------------------------------
AWKWARD = [
    "\ud800",  # lone high surrogate
    "\udfff",  # lone low surrogate
    "\udc80",  # what a non-UTF-8 byte becomes (surrogateescape)
    "\ude00\ud83d",  # a pair in the wrong order
    "\x00",
    "\uffff",
    "\ufffe",
    "\ufeff",  # BOM
    "\u200f",  # RTL mark
    "\u202e",  # RTL override
    "e\u0301",  # combining acute
    "\u0301" * 50,
    "\U0001f600",
    "\U0010ffff",
    "[" * 3000,  # brackets inside a string are no depth
    '"\\',
]
BIG = [1024, 65_536, 65_537, 300_000, 2_000_000]

texts = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=40),  # surrogates included
    st.sampled_from(AWKWARD),
    st.lists(st.sampled_from(AWKWARD), min_size=1, max_size=6).map("".join),
    st.sampled_from(BIG).map(lambda n: "x" * n),
)
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -0.0, 5e-324]),
)


@dataclass(frozen=True)
class Deep:
    """Nesting serialised by hand (json.dumps would recurse): ``[[[...]]]`` or ``{"a":{...}}``."""

    depth: int
    objects: bool


deep = st.builds(Deep, st.sampled_from([10, 63, 64, 65, 200, 999, 5000, 100_000]), st.booleans())
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
values = st.recursive(
    st.one_of(scalars, deep),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=12,
)
many_keys = st.sampled_from([999, 1000, 1001, 5000]).map(lambda n: {f"k{i}": i for i in range(n)})
objects = st.one_of(st.dictionaries(texts, values, max_size=5), many_keys)


def encode(body: Any) -> bytes:
    """JSON text as a hostile client writes it: NaN/Infinity literals, lone surrogates as
    escapes (ensure_ascii), Deep as brackets."""
    deeps: list[Deep] = []

    def mark(value: Any) -> Any:
        if isinstance(value, Deep):
            deeps.append(value)
            return f"@@DEEP{len(deeps) - 1}@@"
        if isinstance(value, dict):
            return {k: mark(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mark(v) for v in value]
        return value

    text = json.dumps(mark(body), allow_nan=True)
    for i, d in enumerate(deeps):
        nested = (
            '{"a":' * d.depth + "1" + "}" * d.depth if d.objects else "[" * d.depth + "]" * d.depth
        )
        text = text.replace(f'"@@DEEP{i}@@"', nested)
    return text.encode()


@dataclass(frozen=True)
class Attack:
    method: str
    route: str  # INST, INST_ONE, PKGS, PKG_ONE, SUBS, PKG_SUBS
    body: bytes
    content_type: str | None


def _attack(method: str, route: str, bodies: st.SearchStrategy[Any]) -> st.SearchStrategy[Attack]:
    ctype = "application/merge-patch+json" if method == "PATCH" else "application/json"
    encoded = bodies.map(encode)
    raw = st.one_of(
        st.binary(max_size=200),  # not UTF-8, not JSON
        st.sampled_from([b"\xef\xbb\xbf{}", b'{"a":1', b"[]", b"null", b'"\\ud800"', b"NaN"]),
    )
    return st.builds(
        Attack,
        st.just(method),
        st.just(route),
        st.one_of(encoded, encoded, encoded, raw),
        st.one_of(st.just(ctype), st.sampled_from([None, "application/json; charset=latin-1"])),
    )


def attacks(t: Targets) -> st.SearchStrategy[Attack]:
    vnfd = st.one_of(st.just(t.vnfd_id), st.just(t.vnfd_id), texts)
    optional_strings = {"vnfInstanceName": texts, "vnfInstanceDescription": texts}
    create = st.fixed_dictionaries(
        {"vnfdId": vnfd}, optional={**optional_strings, "metadata": objects}
    )
    modify = st.fixed_dictionaries(
        {}, optional={**optional_strings, "metadata": objects, "extensions": objects}
    )
    pkg = st.fixed_dictionaries({}, optional={"userDefinedData": objects})
    name_filter = st.fixed_dictionaries(
        {
            "vnfInstanceSubscriptionFilter": st.fixed_dictionaries(
                {},
                optional={
                    "vnfInstanceNames": st.lists(texts, max_size=3),
                    "vnfdIds": st.lists(texts, max_size=3),
                },
            )
        },
        optional={"operationTypes": st.lists(texts, max_size=3)},
    )
    callback = st.one_of(
        st.just("http://127.0.0.1:9/cb"), texts.map(lambda s: "http://127.0.0.1:9/" + s)
    )
    sub = st.fixed_dictionaries({"callbackUri": callback}, optional={"filter": name_filter})
    pkg_sub = st.fixed_dictionaries(
        {"callbackUri": callback}, optional={"filter": st.one_of(objects, st.just({}))}
    )
    return st.one_of(
        _attack("POST", "INST", create),
        _attack("PATCH", "INST_ONE", modify),
        _attack("POST", "PKGS", pkg),
        _attack("PATCH", "PKG_ONE", pkg),
        _attack("POST", "SUBS", sub),
        _attack("POST", "PKG_SUBS", pkg_sub),
    )


# -- the campaign -----------------------------------------------------------------------------------------
def records(c: httpx.Client) -> dict[str, set[str]]:
    out = {}
    for path in LISTS:
        r = c.get(path)
        assert r.status_code == 200, f"{path}: {r.status_code} {r.text[:300]}"
        out[path] = {str(d["id"]) for d in r.json()}
    return out


def test_hostile_campaign(server: Server, targets: Targets) -> None:
    paths = {
        "INST": INST,
        "INST_ONE": f"{INST}/{targets.instance_id}",
        "PKGS": PKGS,
        "PKG_ONE": f"{PKGS}/{targets.package_id}",
        "SUBS": SUBS,
        "PKG_SUBS": PKG_SUBS,
    }
    seen: dict[int, int] = {}

    with server.client(timeout=30.0) as c:

        def wait_idle() -> None:
            """Until the target's MODIFY_INFO operations are done (a busy one is a 409)."""
            for _ in range(100):
                ops = c.get(OPS, params={"filter": f"(eq,vnfInstanceId,{targets.instance_id})"})
                if all(o["operationState"] in SETTLED for o in ops.json()):
                    return
                time.sleep(0.1)

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            print_blob=True,
        )
        @given(attack=attacks(targets))
        def campaign(attack: Attack) -> None:
            path = paths[attack.route]
            before = records(c)
            target_before = c.get(path).json() if attack.method == "PATCH" else None
            headers = {"Content-Type": attack.content_type} if attack.content_type else {}
            r = c.request(attack.method, path, content=attack.body, headers=headers)
            seen[r.status_code] = seen.get(r.status_code, 0) + 1
            assert r.status_code < 500, f"{attack.method} {path}: {r.status_code} {r.text[:500]}"
            if r.status_code >= 400:
                assert r.headers["content-type"].startswith("application/problem+json"), r.text
                assert records(c) == before, f"a refused request ({r.status_code}) left a record"
                if target_before is not None:
                    assert c.get(path).json() == target_before, "a refused PATCH changed the record"
                return
            if attack.route == "INST":  # an accepted name is given back as sent
                sent = json.loads(attack.body)
                doc = c.get(f"{INST}/{r.json()['id']}").json()
                for key in ("vnfInstanceName", "vnfInstanceDescription"):
                    if key in sent:
                        assert doc.get(key) == sent[key], key
                assert c.delete(f"{INST}/{r.json()['id']}").status_code == 204
            elif attack.route in ("PKGS", "SUBS", "PKG_SUBS"):
                assert c.delete(f"{path}/{r.json()['id']}").status_code == 204
            elif attack.route == "INST_ONE":
                wait_idle()

        campaign()

        # every listing answers after the campaign, its documents whole
        for path in LISTS:
            for params in ({}, {"all_fields": ""}):
                r = c.get(path, params=params)
                assert r.status_code == 200, f"{path} {params}: {r.status_code} {r.text[:300]}"
                assert isinstance(r.json(), list)
        assert c.get(f"{INST}/{targets.instance_id}").status_code == 200
    assert seen, "no request was sent"
    print(f"answers: {dict(sorted(seen.items()))}")

    for fmt in ("table", "json"):
        done = subprocess.run(
            [sys.executable, "-m", "vnfm_runner", "list", "--format", fmt],
            env={**server.env, "COLUMNS": "400"},  # rich cuts long cells to the width
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]
        assert targets.instance_id in done.stdout
    assert "Exception in ASGI application" not in server.log()
