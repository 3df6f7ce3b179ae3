"""Extra vars for Ansible with every user-provided value tagged ``!unsafe``.

Values from NFVOs, CLI users and VNF packages are data: Ansible must never
template them, so ``{{ lookup('pipe', 'id') }}`` in a request stays text.

The tag goes on each untrusted top-level value. On a mapping or a list it
covers everything inside (Ansible propagates it), and the contents keep
their normal, quoted YAML form. That matters: Ansible re-resolves the type of
a tagged *scalar* as if it were unquoted, so ``!unsafe 'on'`` would come back
as ``true``; inside a tagged container, ``'on'`` stays the string it is.
"""

from __future__ import annotations

from typing import Any

import yaml


class _Unsafe:
    """Marks a top-level value for the dumper."""

    def __init__(self, value: Any) -> None:
        self.value = value


class _Dumper(yaml.SafeDumper):
    pass


def _represent_unsafe(dumper: yaml.SafeDumper, data: _Unsafe) -> yaml.Node:
    value = data.value
    node: yaml.Node
    if isinstance(value, dict):
        node = dumper.represent_dict(value)
    elif isinstance(value, (list, tuple)):
        node = dumper.represent_list(list(value))
    elif isinstance(value, str):
        # A lone string: a one-item list would change its type, so tag the scalar
        # and accept Ansible's re-typing; ours never pass one (see dump_extravars).
        return dumper.represent_scalar("!unsafe", value, style="'")
    else:
        return dumper.represent_data(value)  # numbers, booleans, None: nothing to template
    node.tag = "!unsafe"
    return node


_Dumper.add_representer(_Unsafe, _represent_unsafe)


def dump_extravars(trusted: dict[str, Any], untrusted: dict[str, Any]) -> str:
    """YAML for ``env/extravars``: ``trusted`` as is, ``untrusted`` tagged ``!unsafe``."""
    doc: dict[str, Any] = dict(trusted)
    doc.update({k: _Unsafe(v) for k, v in untrusted.items()})
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=True, default_flow_style=False)
