"""Reads of the place tree, always through the actor's scope."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from linli.core.access import Actor, scope_for
from linli.core.registry import annotate_place_counts
from linli.core.text import normalize, to_taiwan
from linli.places.capabilities import PlaceCap
from linli.places.models import GRID_LEVEL, Place, PlaceKind, ancestor_paths, path_len, place_label


def place_list(
    *,
    actor: Actor,
    action: str = PlaceCap.VIEW_PLACES,
    parent: Place | None = None,
    kind: str | None = None,
    q: str | None = None,
) -> QuerySet[Place]:
    qs = Place.objects.visible(actor, action)
    if parent is not None:
        qs = qs.filter(path__startswith=parent.path, depth=parent.depth + 1)
    if kind:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(name_search__contains=normalize(q))
    return qs.order_by("path")


def place_roots(*, actor: Actor) -> QuerySet[Place]:
    """The top nodes an actor may browse: its grant places (or the cities for admins)."""
    return places_rooted(actor, PlaceCap.VIEW_PLACES).order_by("path")


def places_rooted(actor: Actor, capability: str) -> QuerySet[Place]:
    """The places where the actor's capability is rooted (the cities for the system and for
    admins): where its pages for that capability start."""
    roots = scope_for(actor).roots(capability)
    found: QuerySet[Place] = Place.objects.filter(depth=1) if roots is None else Place.objects.filter(path__in=roots)
    return found


def check_city(city: Place | None) -> None:
    """A per-city setting (a calendar, a catalogue) needs a city, or ``None`` for the national one."""
    if city is not None and city.kind != PlaceKind.CITY:
        raise ValidationError(_("“%(name)s”不是市。") % {"name": city.name})


def access_place(actor: Actor, code: str, action: str = PlaceCap.VIEW_PLACES) -> Place:
    """The place with this code if the actor may ``action`` it, else 404 (never a 403 that
    would confirm the place exists)."""
    place: Place | None = Place.objects.visible(actor, action).filter(code=code).first()
    if place is None:
        raise Http404("place not found")
    return place


def ancestor(place: Place, kind: str) -> Place | None:
    """The ancestor of ``place`` at the level of ``kind`` (the place itself at that level);
    ``None`` above it. One query at most."""
    depth = path_len(kind)
    if len(place.path) < depth:
        return None
    if len(place.path) == depth:
        return place
    above: Place | None = Place.objects.filter(path=place.path[:depth]).first()
    return above


def community_of(place: Place) -> Place:
    """The community (or village) a place belongs to; a place above every community is refused."""
    found = ancestor(place, PlaceKind.COMMUNITY)
    if found is None or found.kind not in (PlaceKind.COMMUNITY, PlaceKind.VILLAGE):
        raise ValidationError({"place": [_("该地点不属于任何社区")]})
    return found


def place_ancestors(place: Place) -> list[Place]:
    """The chain from the root to ``place`` (inclusive), one query."""
    steps = [place.path[: i * Place.steplen] for i in range(1, place.depth + 1)]
    return list(Place.objects.filter(path__in=steps).order_by("depth"))


def place_crumbs(
    actor: Actor,
    place: Place,
    action: str = PlaceCap.VIEW_PLACES,
    *,
    with_self: bool = True,
    link_self: bool = False,
) -> list[tuple[Place, bool]]:
    """The chain from the root to ``place`` (``with_self``: inclusive) for a page's crumbs, each
    with whether it is a link: only the levels the reader may open (``access_place`` with the
    same ``action`` would let them in), and ``place`` itself only with ``link_self`` (a page
    about something at the place, not the place's own page). Two queries."""
    chain = place_ancestors(place)
    if not with_self:
        chain = chain[:-1]
    opens = set(Place.objects.visible(actor, action).filter(pk__in=[p.pk for p in chain]).values_list("pk", flat=True))
    return [(p, p.pk in opens and (link_self or p.pk != place.pk)) for p in chain]


def with_counts(qs: QuerySet[Place]) -> QuerySet[Place]:
    """Annotate each place with the households in its subtree, and with what other apps
    count there (``core.registry.register_place_counts``: the people app's residents), each a
    correlated subquery on an indexed prefix: the query count does not grow with the rows."""
    households = (
        Place.objects.filter(kind=PlaceKind.HOUSEHOLD, path__startswith=OuterRef("path"))
        .order_by()
        .values("kind")
        .annotate(c=Count("id"))
        .values("c")
    )
    return annotate_place_counts(
        qs.annotate(household_count=Coalesce(Subquery(households, output_field=IntegerField()), 0))
    )


def place_search(*, actor: Actor, q: str, limit: int = 20) -> list[Place]:
    """Places whose normalised name contains the normalised query (社區 finds 社区)."""
    key = normalize(q)
    if not key:
        return []
    return list(place_list(actor=actor).filter(name_search__contains=key).order_by("depth", "path")[:limit])


# --- naming places for a reader ------------------------------------------------------------------


def reader_level(actor: Actor) -> int | None:
    """The level of the tree (``KIND_LEVEL``) where the reader's widest role is held: 0 for the
    system and admins, ``None`` for someone who holds none (an anonymous visitor)."""
    scope = scope_for(actor)
    if scope.everything:
        return 0
    depths = [len(g.path) // Place.steplen for g in scope.grants]
    return min(depths) - 1 if depths else None


def in_reader_script(text: str) -> str:
    """A stored name (simplified) as the reader's language writes it: converted to 繁體 with
    OpenCC for zh-Hant, unchanged otherwise."""
    return to_taiwan(text) if (get_language() or "").lower() == "zh-hant" else text


class PlaceNamer:
    """Names places for one reader, as ``place_label`` says: relative to the reader's scope,
    each name once, in the reader's script. Anything with a ``path`` and a ``name`` can be
    named (a ``Place``, a coverage row). The ancestors' names are remembered: ``prime`` loads
    those of a whole list in one query, so that naming its rows costs nothing more; a place
    named without it costs one query for the ancestors not yet known."""

    def __init__(self, level: int | None) -> None:
        self.level = level
        self._names: dict[str, str | None] = {}

    @classmethod
    def for_actor(cls, actor: Actor) -> PlaceNamer:
        return cls(reader_level(actor))

    def prime(self, places: Iterable[Any]) -> None:
        wanted = {
            path for place in places if place is not None for path in ancestor_paths(place.path, include_self=False)
        }
        missing = wanted - self._names.keys()
        if not missing:
            return
        self._names.update(dict.fromkeys(missing))
        self._names.update(Place.objects.filter(path__in=missing).values_list("path", "name"))

    def name(self, place: Any, *, alone: bool = False) -> str:
        """The place's name for this reader; ``alone``: as one step of a path below its parent
        (a crumb), without the name of an administrative parent it begins with (第1网格 under
        常二社区)."""
        if place is None:
            return ""
        level = len(place.path) // Place.steplen - 1
        if alone:
            return in_reader_script(self._alone(place, level))
        if self.level is None or level <= self.level:
            return in_reader_script(place.name)
        self.prime([place])
        chain = [
            (len(path) // Place.steplen - 1, found)
            for path in ancestor_paths(place.path, include_self=False)
            if (found := self._names.get(path)) is not None
        ]
        return in_reader_script(place_label([*chain, (level, place.name)], self.level))

    def _alone(self, place: Any, level: int) -> str:
        if level > GRID_LEVEL or level == 0:
            return str(place.name)
        self.prime([place])
        parent = self._names.get(place.path[: -Place.steplen])
        return place_label([(level - 1, parent), (level, place.name)] if parent else [(level, place.name)], level - 1)
