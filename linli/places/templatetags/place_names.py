"""How a page names a place: ``{% load place_names %}``.

``{% place_name need.place %}`` names a place relative to the reader's scope, each name once,
in the reader's script (``places.selectors.PlaceNamer``); ``{% place_name a alone=True %}``
its own name only (a crumb). A list first says which places its rows will name, so that their
ancestors are loaded in one query: ``{% name_places page.object_list "visit.household.place" %}``
(``{% name_places crumbs "0" overdue "place" %}`` for two lists at once).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

from linli.places.selectors import PlaceNamer, in_reader_script

register = template.Library()

_ATTR = "_linli_place_namer"


def namer(context: template.Context) -> PlaceNamer:
    """The reader's namer, one per request (a page rendered without a request names places
    alone)."""
    request = context.get("request")
    if request is None:
        return PlaceNamer(None)
    found: PlaceNamer | None = getattr(request, _ATTR, None)
    if found is None:
        found = PlaceNamer.for_actor(request.user)
        setattr(request, _ATTR, found)
    return found


def _follow(item: Any, attrs: str) -> Any:
    """``item.a.b`` for ``"a.b"``, as a template would look it up (a key of a dict, an index:
    ``"0.place"`` of a pair)."""
    for attr in attrs.split(".") if attrs else ():
        if isinstance(item, Mapping):
            item = item.get(attr)
        elif attr.isdigit():
            item = item[int(attr)]
        else:
            item = getattr(item, attr, None)
        if item is None:
            return None
    return item


@register.simple_tag(takes_context=True)
def place_name(context: template.Context, place: Any, alone: bool = False) -> str:
    return namer(context).name(place, alone=alone)


@register.simple_tag(takes_context=True)
def name_places(context: template.Context, *lists: Any) -> str:
    """Load, in one query, what naming the places of a page will need: ``rows, "attrs"``
    pairs, the place at ``attrs`` of each row (a last list without attrs: the rows themselves
    are places)."""
    attrs_of = [*lists[1::2], ""] if len(lists) % 2 else list(lists[1::2])
    pairs = zip(lists[::2], attrs_of, strict=True)
    namer(context).prime(_follow(row, attrs) for rows, attrs in pairs for row in rows)
    return ""


@register.filter
def place_script(name: object) -> str:
    """A stored place name in the reader's script, where the tag cannot be used (a name cut
    short to fit a cell)."""
    return in_reader_script(str(name or ""))
