"""The compiled-template cache of the ``vnfm_warm`` strategy: a template text is compiled
once, later evaluations (in this process or another, from the file) render the same
thing without compiling; anything that changes the generated code changes the key.
tests/integration/test_warm_strategy.py runs it inside ansible-playbook."""

from __future__ import annotations

import os
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from vnfm_runner import compile_cache as tc


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every compile that reaches Jinja (a cache miss); Jinja's own is back afterwards."""
    calls: list[Any] = []
    original = jinja2.Environment.compile

    def spy(self: Any, source: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(source)
        return original(self, source, *args, **kwargs)

    monkeypatch.setattr(jinja2.Environment, "compile", spy)
    monkeypatch.setattr(
        jinja2.Environment, "compile_expression", jinja2.Environment.compile_expression
    )
    return calls


class Runs:
    """The cache as one run after another sees it: the same directory, nothing in memory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.uninstall = tc.install(tc.CodeCache(directory))

    def next_run(self) -> None:
        self.uninstall()
        self.uninstall = tc.install(tc.CodeCache(self.directory))


@pytest.fixture
def runs(tmp_path: Path, compiles: list[Any]) -> Iterator[Runs]:
    runs = Runs(tmp_path / "gen")
    yield runs
    runs.uninstall()


def test_a_template_compiles_once_then_comes_from_memory_then_from_disk(
    tmp_path: Path, runs: Runs, compiles: list[Any]
) -> None:
    env = jinja2.Environment()
    text = "{{ items | map('upper') | join(',') }} {% if n > 1 %}many{% endif %}"
    first = env.from_string(text).render(items=["a", "b"], n=2)
    second = env.from_string(text).render(items=["c"], n=1)
    assert (first, second) == ("A,B many", "C ")
    assert compiles == [text]
    assert len(list((tmp_path / "gen").glob("*/*"))) == 1

    runs.next_run()
    assert env.from_string(text).render(items=["x"], n=5) == "X many"
    assert compiles == [text]


def test_an_expression_is_kept_under_its_own_key(
    tmp_path: Path, runs: Runs, compiles: list[Any]
) -> None:
    env = jinja2.Environment()
    assert env.compile_expression("a + b * 2")(a=1, b=3) == 7
    assert env.compile_expression("a + b * 2")(a=0, b=1) == 2
    assert len(compiles) == 1  # the parsed tree, once
    assert env.compile_expression("missing")() is None
    assert env.compile_expression("missing", undefined_to_none=False)() is not None
    runs.next_run()
    assert env.compile_expression("a + b * 2")(a=2, b=2) == 6
    assert env.compile_expression("missing", undefined_to_none=False)() is not None
    assert len(compiles) == 3


def test_the_settings_that_change_the_code_change_the_key(runs: Runs, compiles: list[Any]) -> None:
    text = "{% if x %}\n  A\n{% endif %}B"
    plain, trimmed = jinja2.Environment(), jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    other = jinja2.Environment(variable_start_string="[[", variable_end_string="]]")
    assert plain.from_string(text).render(x=1) == "\n  A\nB"
    assert trimmed.from_string(text).render(x=1) == "  A\nB"
    assert other.from_string("[[ x ]] {{ x }}").render(x=1) == "1 {{ x }}"
    assert plain.from_string("[[ x ]] {{ x }}").render(x=1) == "[[ x ]] 1"
    assert len(compiles) == 4
    keys = {tc.CodeCache.key(e, "template", text) for e in (plain, trimmed, other)}
    assert len(keys) == 3


def test_an_autoescape_function_is_not_cached(runs: Runs, compiles: list[Any]) -> None:
    env = jinja2.Environment(autoescape=jinja2.select_autoescape())
    for _ in range(2):
        assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"
    assert len(compiles) == 2
    assert tc.CodeCache.key(env, "template", "{{ x }}") is None


def test_a_damaged_file_is_compiled_again(tmp_path: Path, runs: Runs, compiles: list[Any]) -> None:
    env = jinja2.Environment()
    env.from_string("{{ 1 + x }}")
    (path,) = (tmp_path / "gen").glob("*/*")
    path.write_bytes(b"\x00garbage")
    runs.next_run()
    assert env.from_string("{{ 1 + x }}").render(x=2) == "3"
    assert len(compiles) == 2


def test_a_syntax_error_is_still_reported_and_not_kept(tmp_path: Path, runs: Runs) -> None:
    env = jinja2.Environment()
    for _ in range(2):
        with pytest.raises(jinja2.TemplateSyntaxError):
            env.from_string("{{ x | }}")
        with pytest.raises(jinja2.TemplateSyntaxError):
            env.compile_expression("a +")
    assert not list((tmp_path / "gen").glob("*/*"))


def test_ansible_templating_gives_the_same_results_from_the_cache(
    tmp_path: Path, runs: Runs, compiles: list[Any]
) -> None:
    variables = {"items": [3, 1, 2], "name": "web-0", "flag": True}
    texts = [
        "{{ items | sort | map('string') | join('-') }}",
        "{{ name | regex_replace('-\\d+$', '') }}:{{ items | length }}",
        "{{ {'a': items | max} | to_json }}",
        "{{ 'on' if flag else 'off' }} {{ name is match('web') }}",
    ]

    def render() -> list[Any]:
        templar = Templar(loader=DataLoader(), variables=variables)
        return [templar.template(trust_as_template(t)) for t in texts] + [
            templar.evaluate_conditional(trust_as_template("items | length > 2 and flag"))
        ]

    expected = ["1-2-3", "web:3", '{"a": 3}', "on True", True]
    assert render() == expected
    misses = len(compiles)
    assert misses >= len(texts)
    assert render() == expected
    runs.next_run()
    assert render() == expected
    assert len(compiles) == misses


def test_ansible_backslash_escaping_is_part_of_the_key() -> None:
    module = sys.modules["ansible._internal._templating._jinja_bits"]
    context = module._TemplateCompileContext
    env = jinja2.Environment()
    plain = tc.CodeCache.key(env, "template", "{{ 'a\\nb' }}")
    with context(escape_backslashes=True):
        escaped = tc.CodeCache.key(env, "template", "{{ 'a\\nb' }}")
    with context(escape_backslashes=False):
        unescaped = tc.CodeCache.key(env, "template", "{{ 'a\\nb' }}")
    assert len({plain, escaped, unescaped}) == 3


def test_only_a_directory_of_this_user_alone_is_used(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    assert tc.private_directory(mine)
    assert stat.S_IMODE(mine.stat().st_mode) == 0o700
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    assert not tc.private_directory(shared)
    link = tmp_path / "link"
    link.symlink_to(mine)
    assert not tc.private_directory(link)
    (tmp_path / "file").write_text("")
    assert not tc.private_directory(tmp_path / "file")
    assert not tc.private_directory(tmp_path / "file" / "below")
    if os.geteuid() == 0:
        foreign = tmp_path / "foreign"
        foreign.mkdir(mode=0o700)
        os.chown(foreign, 65534, 65534)
        assert not tc.private_directory(foreign)


def test_a_changed_plugin_or_version_starts_a_new_generation(tmp_path: Path) -> None:
    plugins = tmp_path / "filter_plugins"
    plugins.mkdir()
    (plugins / "mine.py").write_text("x = 1\n")
    first = tc.generation([plugins, tmp_path / "absent"], ["py", "jinja"])
    assert tc.generation([plugins], ["py", "jinja"]) == first
    assert tc.generation([plugins], ["py", "jinja2"]) != first
    later = time.time() + 5
    os.utime(plugins / "mine.py", (later, later))
    assert tc.generation([plugins], ["py", "jinja"]) != first
    (plugins / "other.py").write_text("")
    assert len({first, tc.generation([plugins], ["py", "jinja"])}) == 2
    before = tc.generation([plugins], ["py", "jinja"])
    (plugins / "sub").mkdir()
    (plugins / "sub" / "nested.py").write_text("")  # a plugin in a subdirectory counts
    assert tc.generation([plugins], ["py", "jinja"]) != before


def test_generations_nobody_used_for_a_month_are_removed(tmp_path: Path) -> None:
    for name in ("current", "recent", "old"):
        (tmp_path / name / "ab").mkdir(parents=True)
    (tmp_path / "a-file").write_text("")
    old = time.time() - tc.STALE_AFTER_S - 60
    os.utime(tmp_path / "old", (old, old))
    os.utime(tmp_path / "current", (old, old))
    tc.prune(tmp_path, keep="current")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "current", "recent"]
