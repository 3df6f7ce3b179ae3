"""What a VIM still holds of an instance, and removing orphans (``vnfm sync --clean-orphans``).

Deleting an instance's record while its VIM holds resources of it makes them
orphans nobody removes (``vnfm op fail`` of an INSTANTIATE, then ``vnfm delete``):
:func:`held_resources` names them so the delete can be refused. Orphans are
removed by the VIM driver's own removal by instance id (what TERMINATE does,
from discovery alone), never by hand.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence

from vnfm_runner.assurance.drift import Drift
from vnfm_runner.assurance.orphans import LOCAL_TARGET, VimTargetSpec, local_marked_resources

log = logging.getLogger("vnfm.assurance")


def held_resources(instance_id: str, known_instance_ids: Collection[str] = ()) -> list[str]:
    """The resources carrying the instance's marks on this host's VIM, as ``kind name``
    (empty when there are none, or when the VIM cannot be read here: not root)."""
    try:
        marked = local_marked_resources(known_instance_ids={instance_id, *known_instance_ids})
    except Exception as exc:  # no access to the local VIM: nothing of it can be held here
        log.debug("local VIM not readable: %s", exc)
        return []
    return sorted(f"{r.kind} {r.resource_id}" for r in marked if r.instance_id == instance_id)


def clean_orphans(
    orphans: Iterable[Drift],
    *,
    where: Mapping[str, Sequence[VimTargetSpec]] | None = None,
    timeout: float = 120.0,
) -> dict[str, str | None]:
    """Remove every orphan's instance from its VIM (the driver's removal by instance id);
    per orphaned instance id, None when removed or the error. ``where`` gives the VIMs
    (name, connection, secrets) holding an instance id's marks; default: the local VIM."""
    from vnfm_runner import paths

    paths.ensure_core_importable()
    from ansible_collections.nfv.vnfm.plugins.module_utils.vim import get_driver

    out: dict[str, str | None] = {}
    for instance_id in sorted({d.instance_id for d in orphans}):
        errors = []
        for name, connection, secrets in (where or {}).get(instance_id) or [LOCAL_TARGET]:
            try:
                driver = get_driver(
                    dict(connection), dict(secrets) if secrets else None, timeout=timeout
                )
                if not driver.remove(instance_id, check_mode=False).changed:
                    errors.append(f"VIM {name}: nothing found by the instance id")
            except Exception as exc:
                errors.append(f"VIM {name}: {type(exc).__name__}: {exc}")
        out[instance_id] = "; ".join(errors) or None
    return out
