"""Extra vars for Ansible with every user-provided string marked ``!unsafe``.

Values from NFVOs, CLI users and VNF packages are data: Ansible must never
template them, so ``{{ lookup('pipe', 'id') }}`` in a request stays text.
"""

from __future__ import annotations

from typing import Any

import yaml


class Unsafe(str):
    """A string that Ansible must not template."""


class _Dumper(yaml.SafeDumper):
    pass


def _represent_unsafe(dumper: yaml.SafeDumper, data: Unsafe) -> yaml.Node:
    return dumper.represent_scalar("!unsafe", str(data))


_Dumper.add_representer(Unsafe, _represent_unsafe)


def mark_unsafe(value: Any) -> Any:
    """A copy of ``value`` with every string value (not keys) wrapped in Unsafe."""
    if isinstance(value, str):
        return Unsafe(value)
    if isinstance(value, dict):
        return {k: mark_unsafe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mark_unsafe(v) for v in value]
    return value


def dump_extravars(trusted: dict[str, Any], untrusted: dict[str, Any]) -> str:
    """YAML for ``env/extravars``: ``trusted`` as is, ``untrusted`` marked unsafe."""
    doc = dict(trusted)
    doc.update({k: mark_unsafe(v) for k, v in untrusted.items()})
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=True, default_flow_style=False)
