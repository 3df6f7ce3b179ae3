# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Safe YAML loading that remembers where every mapping key came from.

Packages are untrusted: only the safe constructors are used, duplicate keys
are refused, and alias expansion is bounded (a "billion laughs" document is
refused before anything walks it). Mappings are :class:`LocatedDict`, a
plain ``dict`` that also knows its file and the line of each key, so the
model builder can report ``FILE:LINE: message``.
"""

from __future__ import annotations

import gc
from typing import Any

from ansible_collections.nfv.vnfm.plugins.module_utils.errors import PackageError, Problem

try:  # PyYAML comes with ansible-core; a bare target Python may still lack it
    import yaml

    HAS_YAML = True
    _BaseLoader: Any = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
except ImportError:  # pragma: no cover - reported by the modules
    HAS_YAML = False
    _BaseLoader = object

# A document may expand to at most this many nodes once aliases are followed.
DEFAULT_MAX_NODES = 1_000_000


class LocatedDict(dict[Any, Any]):
    """A dict that knows the file it came from and the line of each key."""

    __slots__ = ("file", "key_lines", "line")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.file: str | None = None
        self.line: int | None = None
        self.key_lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int | None:
        """Line (1-based) of ``key`` in its file, or of the mapping itself."""
        return self.key_lines.get(key, self.line)


def where(value: Any, key: Any = None) -> tuple[str | None, int | None]:
    """(file, line) of a mapping, or of one of its keys, when known."""
    if isinstance(value, LocatedDict):
        return value.file, (value.line_of(key) if key is not None else value.line)
    return None, None


class _Loader(_BaseLoader):  # type: ignore[misc]
    file_name: str | None = None

    def construct_mapping(self, node: Any, deep: bool = False) -> LocatedDict:
        if not isinstance(node, yaml.MappingNode):  # pragma: no cover - defensive
            raise yaml.constructor.ConstructorError(
                None, None, "expected a mapping", node.start_mark
            )
        self.flatten_mapping(node)
        result = LocatedDict()
        result.file = self.file_name
        result.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError as exc:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "found an unhashable key",
                    key_node.start_mark,
                ) from exc
            if key in result:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            result[key] = self.construct_object(value_node, deep=deep)
            result.key_lines[key] = key_node.start_mark.line + 1
        return result


def _construct_located_map(loader: _Loader, node: Any) -> LocatedDict:
    # Not a generator (unlike PyYAML's default): a self-referencing mapping is
    # refused as "unconstructable recursive node" instead of being built.
    return loader.construct_mapping(node, deep=True)


if HAS_YAML:
    _Loader.add_constructor("tag:yaml.org,2002:map", _construct_located_map)


def _expanded_size(node: Any, limit: int) -> int:
    """Number of nodes once aliases are expanded, stopping early above ``limit``."""
    memo: dict[int, int] = {}

    def size(n: Any) -> int:
        key = id(n)
        if key in memo:
            return memo[key]
        memo[key] = 1  # guards against recursive structures
        total = 1
        if isinstance(n, yaml.SequenceNode):
            for child in n.value:
                total += size(child)
                if total > limit:
                    break
        elif isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                total += size(k) + size(v)
                if total > limit:
                    break
        memo[key] = total
        return total

    return size(node)


def load_yaml(text: str | bytes, file_name: str, *, max_nodes: int = DEFAULT_MAX_NODES) -> Any:
    """Parse one YAML document safely; raise PackageError naming file and line."""
    loader = _Loader(text)
    loader.file_name = file_name
    # Composing and constructing allocate a great many small objects, none of
    # them garbage: cyclic GC passes over the growing graph only cost time
    # (5 to 10 times the parse itself for a large VNFD). Pause it meanwhile.
    collecting = gc.isenabled()
    gc.disable()
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, max_nodes) > max_nodes:
            raise PackageError(
                [
                    Problem(
                        f"YAML expands to more than {max_nodes} nodes (alias bomb?)",
                        file_name,
                        node.start_mark.line + 1,
                    )
                ]
            )
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = " ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
        raise PackageError([Problem(f"YAML error: {message}", file_name, line)]) from None
    except yaml.YAMLError as exc:
        raise PackageError([Problem(f"YAML error: {exc}", file_name)]) from None
    except RecursionError:
        raise PackageError([Problem("YAML nesting too deep", file_name)]) from None
    finally:
        if collecting:
            gc.enable()
        loader.dispose()
