"""Compiled Jinja templates and collection modules kept on disk, for ``vnfm_warm`` runs.

ansible-core 2.19 compiles a template string every time it is evaluated (lex, parse,
generate Python, ``compile()``), in every forked worker, and every run starts over: in
webfarm's scale and heal, 0.4 s of CPU an operation, on the same role and hook texts
each time (issue 17). What Jinja generates depends only on the text and on the
environment's compile-time settings, so a code object is kept under a key made of both,
in memory and as a file (``marshal``) in a directory that only this user can write:
code objects are executed, as ``.pyc`` files are. A worker writes what it compiled; the
next worker, and the next run, load it instead.

The key also names what else shapes the generated code: the versions of Python, Jinja
and ansible-core, and the filter and test plugins that can be found (Jinja compiles a
call differently for a filter that takes the context); they make the cache's
generation, one directory each. Anything it cannot account for - a template debugger,
an ``autoescape`` function, a cache directory that is not this user's alone - means no
cache: Ansible's own path runs. Nothing is cached for text a template renders (values
marked unsafe are never compiled at all).

Collections' Python modules are the other half: ansible-core's collection loader
compiles their source at every import, without ``.pyc`` files (the planner and the VIM
drivers: 50-70 ms a run). They are kept the same way, keyed by their path and source.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import marshal
import os
import shutil
import stat
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from vnfm_runner.file_stamps import stamps

# Set by the runner (executor.strategy_env) to the home's cache directory; no cache without it.
COMPILE_CACHE_VAR = "VNFM_COMPILE_CACHE"

# A generation nobody used for this long is removed when a run starts.
STALE_AFTER_S = 30 * 24 * 3600

# The environment settings that change what Jinja generates for the same text.
_SETTINGS = (
    "block_start_string",
    "block_end_string",
    "variable_start_string",
    "variable_end_string",
    "comment_start_string",
    "comment_end_string",
    "line_statement_prefix",
    "line_comment_prefix",
    "trim_blocks",
    "lstrip_blocks",
    "newline_sequence",
    "keep_trailing_newline",
    "optimized",
    "is_async",
    "autoescape",
)

# The key of the expression whose parsed tree jinja2's compile_expression is compiling.
_EXPRESSION: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "vnfm_compile_cache_expression", default=None
)


class _Compiled:
    """A code object handed to ``from_string`` in place of a source (a cache hit)."""

    __slots__ = ("code",)

    def __init__(self, code: types.CodeType) -> None:
        self.code = code


def _digest(*parts: str | bytes) -> str:
    """sha256 of ``parts``, each ended by a NUL (no two lists of parts share a digest)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()


class CodeCache:
    """Code objects (templates, modules) by key, in memory and in ``directory``, a file each."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._memory: dict[str, types.CodeType] = {}

    @staticmethod
    def key(env: Any, kind: str, source: str, *extra: object) -> str | None:
        """The key of ``source`` compiled by ``env``; None when ``env`` cannot be cached."""
        settings = environment_settings(env)
        if settings is None:
            return None
        return _digest(kind, settings, repr(extra), str(source))

    def get(self, key: str) -> types.CodeType | None:
        code = self._memory.get(key)
        if code is not None:
            return code
        try:
            code = marshal.loads((self.directory / key[:2] / key).read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            return None  # absent, or cut short by a full disk: compiled again
        if not isinstance(code, types.CodeType):
            return None
        self._memory[key] = code
        return code

    def put(self, key: str, code: types.CodeType) -> None:
        self._memory[key] = code
        folder = self.directory / key[:2]
        with contextlib.suppress(OSError):  # a full or read-only disk costs the cache only
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".new-")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(marshal.dumps(code))
                os.replace(tmp, folder / key)  # whole files only: concurrent runs share it
            except OSError:
                os.unlink(tmp)
                raise


def environment_settings(env: Any) -> str | None:
    """The compile-time settings of ``env`` as text; None when they cannot be told."""
    if callable(getattr(env, "autoescape", False)):
        return None  # decided per template name, by code we cannot key
    if getattr(env, "_debuggable_template_source", False):
        return None  # ansible-core's template debugger writes its own sources
    values = [_name(type(env)), repr(_escape_backslashes())]
    values += [repr(getattr(env, name, None)) for name in _SETTINGS]
    finalize = getattr(env, "finalize", None)  # whether it takes the context shapes the code
    if finalize is not None:
        values += [_name(finalize), repr(getattr(finalize, "jinja_pass_arg", None))]
    values += sorted(_name(type(e)) for e in getattr(env, "extensions", {}).values())
    return "\x1f".join(values)


def _name(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', '?')}"


def _escape_backslashes() -> bool | None:
    """ansible-core's compile-time backslash escaping (its lexer reads it)."""
    module = sys.modules.get("ansible._internal._templating._jinja_bits")
    context = getattr(module, "_TemplateCompileContext", None)
    current = context.current(optional=True) if context is not None else None
    return None if current is None else bool(current.escape_backslashes)


def private_directory(path: Path) -> bool:
    """True when ``path`` is a directory of this user that nobody else can write
    (created so when missing)."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.lstat()
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.geteuid()
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def generation(plugin_dirs: Iterable[Path], versions: Iterable[str]) -> str:
    """A digest of ``versions`` and of every file below ``plugin_dirs`` (path, size,
    modification time): a changed filter or test plugin starts a new generation."""
    files = [repr((str(folder), found)) for folder in plugin_dirs if (found := stamps(folder))]
    return _digest(*versions, *files)[:32]


def prune(root: Path, keep: str, now: float | None = None) -> None:
    """Remove the generations under ``root`` that no run used for STALE_AFTER_S."""
    now = time.time() if now is None else now
    with contextlib.suppress(OSError):
        for entry in os.scandir(root):
            if entry.name == keep or not entry.is_dir(follow_symlinks=False):
                continue
            with contextlib.suppress(OSError):
                if now - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER_S:
                    shutil.rmtree(entry.path, ignore_errors=True)


def install(cache: CodeCache) -> Callable[[], None]:
    """Route ``jinja2.Environment.compile`` and ``compile_expression`` through ``cache``;
    returns the function that puts Jinja's own back."""
    import jinja2

    compile_ = jinja2.Environment.compile
    compile_expression = jinja2.Environment.compile_expression

    def cached_compile(
        self: Any,
        source: Any,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        if isinstance(source, _Compiled):
            return source.code
        if raw:
            return compile_(self, source, name, filename, raw, defer_init)
        if isinstance(source, str):
            key = cache.key(self, "template", source, name, filename, defer_init)
        else:  # the tree compile_expression parsed: kept under the expression's key
            key = _EXPRESSION.get()
            _EXPRESSION.set(None)
        code = cache.get(key) if key else None
        if code is None:
            code = compile_(self, source, name, filename, raw, defer_init)
            if key and isinstance(code, types.CodeType):
                cache.put(key, code)
        return code

    def cached_compile_expression(self: Any, source: str, undefined_to_none: bool = True) -> Any:
        key = cache.key(self, "expression", source, undefined_to_none)
        code = cache.get(key) if key else None
        if code is not None:
            template = self.from_string(_Compiled(code))
            return jinja2.environment.TemplateExpression(template, undefined_to_none)
        token = _EXPRESSION.set(key)
        try:
            return compile_expression(self, source, undefined_to_none)
        finally:
            _EXPRESSION.reset(token)

    jinja2.Environment.compile = cached_compile  # type: ignore[method-assign]
    jinja2.Environment.compile_expression = cached_compile_expression  # type: ignore[method-assign]

    def uninstall() -> None:
        jinja2.Environment.compile = compile_  # type: ignore[method-assign]
        jinja2.Environment.compile_expression = compile_expression  # type: ignore[method-assign]

    return uninstall


def install_module_cache(cache: CodeCache) -> Callable[[], None] | None:
    """Route ansible-core's collection loader's ``get_code`` through ``cache`` (keyed by the
    module's file name and source); None when this ansible-core has no such loader."""
    from ansible.utils.collection_loader import _collection_finder as finder

    loader = getattr(finder, "_AnsibleCollectionPkgLoaderBase", None)
    get_code = getattr(loader, "get_code", None)
    if loader is None or get_code is None:
        return None

    def cached_get_code(self: Any, fullname: str) -> Any:
        source = self.get_source(fullname)
        if source is None:  # a synthetic package: nothing to compile
            return get_code(self, fullname)
        key = _digest("module", str(self.get_filename(fullname) or "<string>"), source)
        code = cache.get(key)
        if code is None:
            code = get_code(self, fullname)
            if isinstance(code, types.CodeType):
                cache.put(key, code)
        return code

    loader.get_code = cached_get_code

    def uninstall() -> None:
        loader.get_code = get_code

    return uninstall


def install_from_environment() -> bool:
    """In ansible-playbook: install the cache the runner asked for (``VNFM_COMPILE_CACHE``).
    False when it did not ask, or when the directory is not this user's alone."""
    folder = os.environ.get(COMPILE_CACHE_VAR)
    if not folder or not private_directory(Path(folder)):
        return False
    import jinja2
    from ansible.module_utils.ansible_release import __version__ as ansible_version
    from ansible.plugins.loader import filter_loader, test_loader
    from ansible.utils.collection_loader import AnsibleCollectionConfig

    plugin_dirs: list[Path] = []
    for root in AnsibleCollectionConfig.collection_paths:
        for kind in ("filter", "test"):
            plugin_dirs += sorted(Path(root).glob(f"ansible_collections/*/*/plugins/{kind}"))
    for loader in (filter_loader, test_loader):  # ansible's own, configured, the playbook's
        plugin_dirs += [Path(p) for p in loader.print_paths().split(os.pathsep) if p]
    current = generation(plugin_dirs, (sys.version, jinja2.__version__, ansible_version))
    directory = Path(folder) / current
    with contextlib.suppress(OSError):
        directory.mkdir(mode=0o700, exist_ok=True)
        os.utime(directory)  # in use: not pruned
    prune(Path(folder), keep=current)
    cache = CodeCache(directory)
    install(cache)
    install_module_cache(cache)
    return True
