"""Deliberation's tiles and to-dos on the home page (``core.registry``). Topics: the 议题 tile
for residents and staff who take part, and for the secretary the count of topics offered by
recurring needs that wait for an answer."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linli.core.access import Actor, scope_for
from linli.core.registry import Tile, Todo
from linli.deliberation.capabilities import DelibCap
from linli.deliberation.models import TopicStatus
from linli.deliberation.selectors.topics import run_communities, topic_list

TILES = [
    Tile(
        key="deliberation-topics",
        title=_("议题"),
        note=_("提议、附议，社区议一议"),
        url_name="deliberation:topics",
        shown=lambda actor: scope_for(actor).holds_anywhere(DelibCap.VIEW),
        order=65,
    ),
]


def _offered(actor: Actor) -> tuple[int, str] | None:
    """Topics offered by recurring needs in the secretary's (first) community, to accept or decline."""
    scope = scope_for(actor)
    if scope.everything or not scope.holds_anywhere(DelibCap.RUN):
        return None
    communities = run_communities(actor)
    if not communities:
        return None
    community = communities[0]
    count = topic_list(actor=actor, place=community, status=TopicStatus.OFFERED).count()
    if not count:
        return None  # offers are occasional: the to-do shows only while one waits
    url = f"{reverse('deliberation:topic_board', args=[community.code])}?status={TopicStatus.OFFERED.value}"
    return count, url


TODOS = [Todo(key="todo-offered-topics", title=_("待确认的议题"), compute=_offered, order=70)]
