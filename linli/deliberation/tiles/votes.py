"""The votes' tile and to-do on the home page (``core.registry``)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linli.core.access import Actor
from linli.core.registry import Tile, Todo
from linli.deliberation.selectors import votes as sel


def _votes_url(actor: Actor) -> str:
    place = sel.home_place(actor)
    return reverse("deliberation:votes", args=[place.code]) if place is not None else reverse("home")


def _awaiting(actor: Actor) -> tuple[int, str] | None:
    """Open votes where the reader is on the register and has not voted: the list at the link.
    Votes are occasional, so the to-do shows only while one waits for the reader."""
    place = sel.home_place(actor)
    if place is None:
        return None
    count = sel.votes_awaiting(actor).filter(place_path__startswith=place.path).count()
    if not count:
        return None
    return count, f"{reverse('deliberation:votes', args=[place.code])}?{urlencode({'mine': '1'})}"


TILES = [
    Tile(
        key="deliberation-votes",
        title=_("表决"),
        note=_("投票、表决结果与公示"),
        url_name="deliberation:votes",
        url=_votes_url,
        shown=lambda actor: sel.home_place(actor) is not None,
        order=70,
        section="more",
    ),
]

TODOS = [Todo(key="todo-votes", title=_("待投票的表决"), compute=_awaiting, order=70)]
