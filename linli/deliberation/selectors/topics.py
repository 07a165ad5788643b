"""Reads of topics (议题), always through the actor's scope.

Who reads what: everyone who takes part in a community's deliberation (``DelibCap.VIEW``,
widened from a resident's household to its community by ``Topic.visible_also``) reads its
topics that are public: gathering supports, listed, scheduled, decided, done. What the
secretary has not taken up (an offer of recurring needs, a topic declined) is read only by
those who run deliberation there (``DelibCap.RUN``), and a declined proposal by its proposer too.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from linli.core.access import Actor, get_or_404, scope_for, under
from linli.deliberation.access import COMMUNITY_PATH_LEN
from linli.deliberation.capabilities import DelibCap
from linli.deliberation.models import (
    CommunityRules,
    Decision,
    Topic,
    TopicNeed,
    TopicSource,
    TopicStatus,
    TopicSupport,
    Vote,
)
from linli.needs.models import Need
from linli.needs.selectors import need_list
from linli.places.models import Place, PlaceKind, path_len
from linli.visits.models import Opinion, OpinionStatus

#: Places a topic may be about: a community (or village), a grid, a building (or courtyard).
TOPIC_PLACE_KINDS = (PlaceKind.COMMUNITY, PlaceKind.VILLAGE, PlaceKind.GRID, PlaceKind.BUILDING, PlaceKind.COURTYARD)
#: The statuses every reader of the community sees.
PUBLIC_STATUSES = (
    TopicStatus.GATHERING,
    TopicStatus.LISTED,
    TopicStatus.SCHEDULED,
    TopicStatus.DECIDED,
    TopicStatus.DONE,
)


def readable(actor: Actor) -> Q | None:
    """The topics' condition beyond the place scope (``None``: no further condition)."""
    scope = scope_for(actor)
    if scope.everything:
        return None
    condition = Q(status__in=PUBLIC_STATUSES) | under(scope.paths(DelibCap.RUN))
    if scope.person_id is not None:
        condition |= Q(proposer_id=scope.person_id)
    return condition


@dataclass(frozen=True)
class Rules:
    """A community's rules, or the defaults when it has none."""

    support_threshold: int = 10
    recurring_count: int = 3
    recurring_days: int = 30
    own: bool = False


def rules_of(path: str) -> Rules:
    """The rules of the community a place at ``path`` lies in (the defaults when it has none)."""
    row = CommunityRules.objects.filter(community__path=path[:COMMUNITY_PATH_LEN]).first()
    if row is None:
        return Rules()
    return Rules(row.support_threshold, row.recurring_count, row.recurring_days, own=True)


def proposal_places(actor: Actor) -> list[Place]:
    """Where the actor may propose a topic: the community, grid and building of each place
    where it takes part (a resident's household: its building, grid and community)."""
    scope = scope_for(actor)
    deepest = path_len(PlaceKind.BUILDING)
    paths: set[str] = set()
    for grant in scope.paths(DelibCap.PROPOSE):
        for length in range(COMMUNITY_PATH_LEN, min(len(grant), deepest) + 1, Place.steplen):
            paths.add(grant[:length])
    return list(Place.objects.filter(path__in=paths, kind__in=TOPIC_PLACE_KINDS).order_by("path"))


def run_communities(actor: Actor) -> list[Place]:
    """The communities where the actor runs deliberation (their topic lists), at most 50."""
    scope = scope_for(actor)
    qs = Place.objects.filter(kind__in=(PlaceKind.COMMUNITY, PlaceKind.VILLAGE))
    if not scope.everything:
        qs = qs.filter(under(scope.paths(DelibCap.RUN), "path"))
    return list(qs.order_by("path")[:50])


def topic_list(
    *, actor: Actor, place: Place | None = None, status: str | None = None, source: str | None = None
) -> QuerySet[Topic]:
    """Topics the actor may read, newest first (``place``: within its subtree)."""
    qs = Topic.objects.visible(actor, DelibCap.VIEW).select_related("place", "category", "proposer")
    condition = readable(actor)
    if condition is not None:
        qs = qs.filter(condition)
    if place is not None:
        qs = qs.filter(place_path__startswith=place.path)
    if status:
        qs = qs.filter(status=status)
    if source:
        qs = qs.filter(source=source)
    return qs.order_by("-created_at", "-id")


def access_topic(actor: Actor, topic_id: int | str) -> Topic:
    """The topic if the actor may read it, else 404."""
    return get_or_404(topic_list(actor=actor), topic_id, "topic")


def my_proposals(*, actor: Actor) -> QuerySet[Topic]:
    person_id = scope_for(actor).person_id
    if person_id is None:
        return Topic.objects.none()
    return topic_list(actor=actor).filter(proposer_id=person_id)


def my_supports(*, actor: Actor) -> QuerySet[Topic]:
    person_id = scope_for(actor).person_id
    if person_id is None:
        return Topic.objects.none()
    supported = TopicSupport.objects.filter(person_id=person_id).values("topic_id")
    return topic_list(actor=actor).filter(pk__in=supported)


def supported_ids(*, actor: Actor, topic_ids: list[int]) -> set[int]:
    """Which of these topics the actor has supported."""
    person_id = scope_for(actor).person_id
    if person_id is None or not topic_ids:
        return set()
    return set(
        TopicSupport.objects.filter(person_id=person_id, topic_id__in=topic_ids).values_list("topic_id", flat=True)
    )


@dataclass(frozen=True)
class Counts:
    by_status: dict[str, int]
    by_source: dict[str, int]
    total: int


def topic_counts(*, actor: Actor, place: Place) -> Counts:
    """How many topics of the place the actor reads, by status and by source (one query)."""
    rows = topic_list(actor=actor, place=place).order_by().values("status", "source").annotate(n=Count("id"))
    by_status = dict.fromkeys(TopicStatus.values, 0)
    by_source = dict.fromkeys(TopicSource.values, 0)
    total = 0
    for row in rows:
        by_status[row["status"]] += row["n"]
        by_source[row["source"]] += row["n"]
        total += row["n"]
    return Counts(by_status, by_source, total)


def opinions_to_take_up(*, actor: Actor, place: Place) -> QuerySet[Opinion]:
    """Opinions heard on visits in the place that the secretary marked 拟作议题 and that are not
    a topic yet, for those who run deliberation there."""
    return (
        Opinion.objects.visible(actor, DelibCap.RUN)
        .filter(place_path__startswith=place.path, status=OpinionStatus.TOPIC, topic__isnull=True)
        .select_related("visit__household__place")
        .order_by("-created_at", "-id")
    )


def access_opinion_to_take_up(actor: Actor, opinion_id: int | str) -> Opinion:
    opinions = Opinion.objects.visible(actor, DelibCap.RUN).select_related("community")
    return get_or_404(opinions, opinion_id, "opinion")


@dataclass(frozen=True)
class LinkedNeed:
    need: Need
    readable: bool  # whether the reader may open the need's page


def linked_needs(*, actor: Actor, topic: Topic) -> list[LinkedNeed]:
    """The needs linked to a topic, each with whether the reader may open it (two queries)."""
    ids = list(TopicNeed.objects.filter(topic=topic).values_list("need_id", flat=True))
    needs = list(Need.objects.filter(pk__in=ids).select_related("place", "category").order_by("created_at", "id"))
    opens = set(need_list(actor=actor).filter(pk__in=ids).values_list("pk", flat=True))
    return [LinkedNeed(n, n.pk in opens) for n in needs]


def opinion_of(*, actor: Actor, topic: Topic) -> Opinion | None:
    """The opinion a topic was made of, if the reader may read the visit records it came from."""
    if topic.opinion_id is None:
        return None
    from linli.visits.capabilities import VisitCap

    found: Opinion | None = Opinion.objects.visible(actor, VisitCap.VIEW_VISITS).filter(pk=topic.opinion_id).first()
    return found


@dataclass(frozen=True)
class Outcome:
    decisions: list[Decision]
    votes: list[Vote]


def topic_outcome(*, actor: Actor, topic: Topic) -> Outcome:
    """What was decided on a topic and what came of it, as far as ``actor`` may read it: its
    decisions (a resident's once the minutes are published) and its votes (not drafts)."""
    from linli.deliberation.selectors.meetings import decisions_of_topic
    from linli.deliberation.selectors.votes import vote_list

    decisions = sorted(decisions_of_topic(actor, topic), key=lambda d: (d.due, d.pk))
    votes = list(vote_list(actor=actor).filter(topic=topic).order_by("-created_at", "-id"))
    return Outcome(decisions, votes)
