"""Extra vars for Ansible: every value the runner passes is tagged ``!unsafe``.

One rule, no exceptions: nothing the runner hands to a playbook is ever
templated. Requests come from NFVOs and CLI users, grant answers from the NFVO,
hook paths and names from VNF packages, and even the runner's own ids and paths
need no templating — so there is no "trusted" channel that a value could be
put in by mistake (a grant's ``vimFlavourId`` of ``{{ lookup('pipe', …) }}``
once ran as root that way). The playbooks read these values through their own
trusted ``{{ vnfm_… }}`` expressions; the values themselves stay text.

The tag goes on each top-level value. On a mapping or a list it covers
everything inside (Ansible propagates it), and the contents keep their normal,
quoted YAML form. That matters: Ansible re-resolves the type of a tagged
*scalar* as if it were unquoted, so ``!unsafe 'on'`` would come back as
``true``. A lone string whose type would change that way is refused here
rather than silently turned into something else.
"""

from __future__ import annotations

from typing import Any

import yaml


class UnsafeVarError(ValueError):
    """A value cannot be passed to Ansible as unsafe text without changing its type."""


class _Unsafe:
    """Marks a top-level value for the dumper."""

    def __init__(self, name: str, value: Any) -> None:
        self.name = name
        self.value = value


class _Dumper(yaml.SafeDumper):
    pass


class _Resolver(yaml.resolver.Resolver):
    pass


_STR_TAG = "tag:yaml.org,2002:str"


def _represent_unsafe(dumper: yaml.SafeDumper, data: _Unsafe) -> yaml.Node:
    value = data.value
    node: yaml.Node
    if isinstance(value, dict):
        node = dumper.represent_dict(value)
    elif isinstance(value, (list, tuple)):
        node = dumper.represent_list(list(value))
    elif isinstance(value, str):
        # Ansible re-types a tagged scalar as if unquoted ('on' -> true, '12' -> 12).
        if _Resolver().resolve(yaml.ScalarNode, value, (True, False)) != _STR_TAG:  # type: ignore[no-untyped-call]
            raise UnsafeVarError(
                f"extra var {data.name!r}: {value!r} would reach Ansible as another type"
            )
        return dumper.represent_scalar("!unsafe", value, style="'")
    else:
        return dumper.represent_data(value)  # numbers, booleans, None: nothing to template
    node.tag = "!unsafe"
    return node


_Dumper.add_representer(_Unsafe, _represent_unsafe)


def dump_extravars(variables: dict[str, Any]) -> str:
    """YAML for ``env/extravars`` with every value tagged ``!unsafe``."""
    doc = {name: _Unsafe(name, value) for name, value in variables.items()}
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=True, default_flow_style=False)
