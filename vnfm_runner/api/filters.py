"""SOL013 5.2 attribute-based filtering and 5.3 attribute selectors.

``filter=(eq,vnfdId,abc);(neq,instantiationState,INSTANTIATED)`` — terms joined
by ``;`` all hold. An attribute is a path through objects, with ``/`` (SOL013)
or ``.`` between names; through an array a term holds if it holds for any
element. Values are separated by ``,``; a value with ``,``, ``)`` or ``'`` is
written in single quotes, a quote inside doubled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vnfm_runner.api.problems import ApiProblem

OPERATORS = ("eq", "neq", "in", "nin", "gt", "gte", "lt", "lte", "cont", "ncont")
_MISSING = object()


@dataclass(frozen=True)
class Term:
    op: str
    path: tuple[str, ...]
    values: tuple[str, ...]

    @property
    def attr(self) -> str:
        return ".".join(self.path)


def _bad(detail: str) -> ApiProblem:
    return ApiProblem(400, f"filter: {detail}")


def _split_path(text: str) -> tuple[str, ...]:
    parts = tuple(p for p in text.replace("/", ".").split(".") if p)
    if not parts:
        raise _bad("an attribute name is empty")
    return parts


def parse(text: str | None) -> list[Term]:
    """The terms of a filter expression (400 ProblemDetails when malformed)."""
    if not text:
        return []
    terms: list[Term] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] != "(":
            raise _bad(f"expected '(' at position {i}")
        i += 1
        fields: list[str] = []
        current = ""
        quoted_any = False
        while True:
            if i >= n:
                raise _bad("a term is not closed with ')'")
            ch = text[i]
            if ch == "'" and not current and not quoted_any:
                i += 1
                while True:
                    if i >= n:
                        raise _bad("a quoted value is not closed")
                    if text[i] == "'":
                        if i + 1 < n and text[i + 1] == "'":
                            current += "'"
                            i += 2
                            continue
                        i += 1
                        break
                    current += text[i]
                    i += 1
                quoted_any = True
                continue
            if ch in ",)":
                fields.append(current)
                current = ""
                quoted_any = False
                i += 1
                if ch == ")":
                    break
                continue
            current += ch
            i += 1
        if len(fields) < 3:
            raise _bad("a term needs (operator,attribute,value[,value...])")
        op = fields[0]
        if op not in OPERATORS:
            raise _bad(f"unknown operator {op!r} (known: {', '.join(OPERATORS)})")
        values = tuple(fields[2:])
        if op in ("gt", "gte", "lt", "lte") and len(values) != 1:
            raise _bad(f"{op} takes one value")
        terms.append(Term(op, _split_path(fields[1]), values))
        if i < n:
            if text[i] != ";":
                raise _bad(f"expected ';' between terms at position {i}")
            i += 1
    return terms


def _values_at(doc: Any, path: tuple[str, ...]) -> list[Any]:
    """Every value at the path (arrays fan out); empty when absent."""
    current: list[Any] = [doc]
    for name in path:
        nxt: list[Any] = []
        for item in current:
            items = item if isinstance(item, list) else [item]
            for obj in items:
                if isinstance(obj, dict) and name in obj:
                    nxt.append(obj[name])
        current = nxt
    out: list[Any] = []
    for v in current:
        out.extend(v if isinstance(v, list) else [v])
    return out


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _compare(actual: Any, op: str, wanted: str) -> bool:
    if isinstance(actual, (int, float)) and not isinstance(actual, bool):
        try:
            a: Any = float(actual)
            b: Any = float(wanted)
        except ValueError:
            a, b = _as_text(actual), wanted
    else:
        a, b = _as_text(actual), wanted
    if op == "gt":
        return bool(a > b)
    if op == "gte":
        return bool(a >= b)
    if op == "lt":
        return bool(a < b)
    return bool(a <= b)


def holds(term: Term, doc: dict[str, Any]) -> bool:
    found = [v for v in _values_at(doc, term.path) if v is not None]
    texts = [_as_text(v) for v in found]
    if term.op in ("eq", "in"):
        return any(t in term.values for t in texts)
    if term.op in ("neq", "nin"):
        return not any(t in term.values for t in texts)
    if term.op == "cont":
        return any(w in t for t in texts for w in term.values)
    if term.op == "ncont":
        return not any(w in t for t in texts for w in term.values)
    return any(_compare(v, term.op, term.values[0]) for v in found)


def matches(terms: list[Term], doc: dict[str, Any]) -> bool:
    return all(holds(t, doc) for t in terms)


# -- attribute selectors (SOL013 5.3) ---------------------------------------------------------
def _paths(text: str | None, what: str) -> list[tuple[str, ...]]:
    if text is None:
        return []
    out = [_split_path(p) for p in text.split(",") if p.strip()]
    if not out:
        raise ApiProblem(400, f"{what}: give one attribute or more")
    return out


def _without(value: Any, path: tuple[str, ...]) -> Any:
    """value without the attribute at path (in every item of a list on the way).

    Only the containers on the path are copied; the rest is shared with value,
    which is never changed (a listing answers 100 documents or more: copying each
    whole document cost more than reading it)."""
    if isinstance(value, list):
        return [_without(v, path) for v in value]
    if not path or not isinstance(value, dict) or path[0] not in value:
        return value
    out = dict(value)
    if len(path) == 1:
        del out[path[0]]
    else:
        out[path[0]] = _without(value[path[0]], path[1:])
    return out


def _keep_only(doc: dict[str, Any], full: dict[str, Any], path: tuple[str, ...]) -> None:
    """Copy the value at path from full into doc (creating the parents)."""
    src: Any = full
    dst: Any = doc
    for i, name in enumerate(path):
        if not isinstance(src, dict) or name not in src:
            return
        if i == len(path) - 1:
            dst[name] = src[name]
            return
        src = src[name]
        # copied before writing into it: below the top, doc shares containers with full
        dst[name] = dict(dst[name]) if isinstance(dst.get(name), dict) else {}
        dst = dst[name]


@dataclass(frozen=True)
class Selector:
    all_fields: bool
    fields: list[tuple[str, ...]]
    exclude: list[tuple[str, ...]]
    default_excluded: tuple[tuple[str, ...], ...]

    def apply(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The document as selected; ``doc`` itself is left as it is."""
        if self.all_fields:
            return doc
        out: dict[str, Any] = dict(doc)
        for path in self.exclude or self.default_excluded:
            out = _without(out, path)
        if not self.exclude:
            for path in self.fields:
                _keep_only(out, doc, path)
        return out


def selector(
    *,
    all_fields: str | None,
    fields: str | None,
    exclude_fields: str | None,
    exclude_default: str | None,
    default_excluded: tuple[str, ...],
) -> Selector:
    given = [
        n
        for n, v in (
            ("all_fields", all_fields),
            ("fields", fields),
            ("exclude_fields", exclude_fields),
        )
        if v is not None
    ]
    if "all_fields" in given and len(given) > 1:
        raise ApiProblem(400, "all_fields cannot be combined with fields or exclude_fields")
    if fields is not None and exclude_fields is not None:
        raise ApiProblem(400, "fields and exclude_fields cannot be combined")
    if exclude_default is not None and exclude_fields is not None:
        raise ApiProblem(400, "exclude_default and exclude_fields cannot be combined")
    return Selector(
        all_fields=all_fields is not None,
        fields=_paths(fields, "fields"),
        exclude=_paths(exclude_fields, "exclude_fields"),
        default_excluded=tuple(_split_path(p) for p in default_excluded),
    )
