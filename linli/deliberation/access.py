"""Who reads what in deliberation, beyond the kernel's subtree rule.

A resident's role is held at their household, yet the topics, meetings, votes and conventions
of their building, grid and community are theirs to read: ``community_also`` gives the rows
whose place lies in the community of any place where the actor holds ``capability`` (for the
models' ``visible_also``)."""

from __future__ import annotations

from django.db.models import Q

from linli.core.access import Actor, scope_for
from linli.places.models import PlaceKind, path_len

COMMUNITY_PATH_LEN = path_len(PlaceKind.COMMUNITY)


def community_paths(actor: Actor, capability: str) -> list[str]:
    """The paths of the communities where ``actor`` holds ``capability`` somewhere."""
    return sorted({p[:COMMUNITY_PATH_LEN] for p in scope_for(actor).paths(capability) if len(p) >= COMMUNITY_PATH_LEN})


def community_also(actor: Actor, capability: str, path_field: str = "place_path") -> Q | None:
    """Rows under the communities of the actor's grants (``None`` when there are none)."""
    query = Q()
    for path in community_paths(actor, capability):
        query |= Q(**{f"{path_field}__startswith": path})
    return query or None
