"""Writes of topics (议题): a resident's proposal and the neighbours' supports (附议) that put it
on the secretary's list, a topic made of an opinion heard on a visit, the topics offered by
recurring needs (每月一题), the secretary's acceptance or refusal, the community's rules, and
``topic_mark`` for the meetings part.

Each service is one transaction and checks the actor's capability. A support locks its topic's
row first, so supports of one topic are counted one at a time: the count is the number of
support rows, and the threshold is crossed exactly once. The recurring sweep holds an advisory
lock per community and leaves out needs already linked to a topic, so two sweeps (or one run
twice) offer nothing twice.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from linli.core.access import Actor, require, scope_for, user_of
from linli.core.audit import audit_record
from linli.core.errors import Conflict
from linli.core.models import AuditEntry
from linli.core.notify import notify
from linli.deliberation.access import COMMUNITY_PATH_LEN, community_paths
from linli.deliberation.capabilities import DelibCap
from linli.deliberation.models import (
    CommunityRules,
    Decision,
    DecisionStatus,
    Topic,
    TopicNeed,
    TopicSource,
    TopicStatus,
    TopicSupport,
)
from linli.deliberation.selectors.topics import TOPIC_PLACE_KINDS, Rules, rules_of
from linli.needs.models import Category, Need, Status
from linli.places.models import Place, PlaceKind, path_len
from linli.visits.models import Opinion, OpinionStatus

#: The statuses in which a topic still gathers supports.
SUPPORTABLE = (TopicStatus.GATHERING, TopicStatus.LISTED, TopicStatus.SCHEDULED)
#: What the secretary may decline: an offer, a proposal, a topic on the list.
DECLINABLE = (TopicStatus.OFFERED, TopicStatus.GATHERING, TopicStatus.LISTED)
#: How far along a topic is, for ``topic_mark`` (which only moves a topic forward).
PROGRESS = {
    TopicStatus.GATHERING: 0,
    TopicStatus.OFFERED: 0,
    TopicStatus.DECLINED: 0,
    TopicStatus.LISTED: 1,
    TopicStatus.SCHEDULED: 2,
    TopicStatus.DECIDED: 3,
    TopicStatus.DONE: 4,
}
#: A resident may have this many proposals gathering supports at once.
MAX_GATHERING = 5
TITLE_MIN, TITLE_MAX, BODY_MAX, REASON_MAX = 4, 120, 4000, 200
#: Bounds of the community's rules (``rules_set``).
THRESHOLD_RANGE = (1, 500)
COUNT_RANGE = (2, 100)
DAYS_RANGE = (1, 365)
BUILDING_PATH_LEN = path_len(PlaceKind.BUILDING)
GRID_PATH_LEN = path_len(PlaceKind.GRID)
#: Namespace (the first key) of the advisory lock of the recurring sweep, per community.
RECURRING_LOCK = 0x4C4E5450


def _text(value: str, field: str, limit: int, minimum: int = 0) -> str:
    value = " ".join((value or "").split()) if field == "title" else (value or "").strip()
    if len(value) < minimum:
        raise ValidationError({field: [_("请至少写%(n)s个字") % {"n": minimum}]})
    if len(value) > limit:
        raise ValidationError({field: [_("最多%(limit)s个字") % {"limit": limit}]})
    return value


def may_take_part(actor: Actor, path: str) -> bool:
    """Whether ``actor`` may propose and support at ``path``: it holds ``PROPOSE`` somewhere in
    that community (a resident at their household, a grid worker at their grid)."""
    scope = scope_for(actor)
    return scope.allows(DelibCap.PROPOSE, path) or path[:COMMUNITY_PATH_LEN] in community_paths(actor, DelibCap.PROPOSE)


def _locked(topic: Topic) -> Topic:
    return Topic.objects.select_for_update().get(pk=topic.pk)


# --- proposals and supports -----------------------------------------------------------------------


@transaction.atomic
def topic_propose(*, actor: Actor, place: Place, title: str, body: str = "") -> Topic:
    """A resident proposes a topic for their community, grid or building; it gathers supports
    until the community's threshold puts it on the secretary's list. Staff who run
    deliberation at the place put it on the list at once (source ``STAFF``)."""
    if place.kind not in TOPIC_PLACE_KINDS:
        raise ValidationError({"place": [_("请选择社区、网格或楼栋")]})
    if not may_take_part(actor, place.path):
        raise PermissionDenied(_("只能在您所在的社区提议"))
    title = _text(title, "title", TITLE_MAX, TITLE_MIN)
    body = _text(body, "body", BODY_MAX)
    scope = scope_for(actor)
    staff = scope.allows(DelibCap.RUN, place.path)
    if not staff:
        if scope.person_id is None:
            raise ValidationError(_("只有登记的居民可以提议"))
        gathering = Topic.objects.filter(proposer_id=scope.person_id, status=TopicStatus.GATHERING).count()
        if gathering >= MAX_GATHERING:
            raise ValidationError(_("您已有%(n)s个提议正在征集附议，请等它们有了结果再提新的") % {"n": gathering})
    topic = Topic(
        place=place,
        title=title,
        body=body,
        source=TopicSource.STAFF if staff else TopicSource.PROPOSAL,
        status=TopicStatus.LISTED if staff else TopicStatus.GATHERING,
        proposer_id=scope.person_id,
        created_by=user_of(actor),
    )
    topic.full_clean()
    topic.save()
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, target=topic, place=place)
    return topic


@transaction.atomic
def topic_support(*, actor: Actor, topic: Topic) -> Topic:
    """Support (附议) a topic, once per person. The topic's row is locked first: supports are
    counted one at a time, so the proposal reaching its community's threshold moves to the
    secretary's list (and the secretary is told) exactly once."""
    if not may_take_part(actor, topic.place_path):
        raise PermissionDenied(_("只能附议您所在社区的议题"))
    person_id = scope_for(actor).person_id
    if person_id is None:
        raise ValidationError(_("只有登记的居民可以附议"))
    locked = _locked(topic)
    if locked.status not in SUPPORTABLE:
        raise ValidationError(_("该议题已不再征集附议"))
    if locked.proposer_id == person_id:
        raise ValidationError(_("不能附议自己的提议"))
    if TopicSupport.objects.filter(topic=locked, person_id=person_id).exists():
        raise ValidationError(_("您已经附议过了"))
    TopicSupport.objects.create(topic=locked, person_id=person_id)
    locked.supports = TopicSupport.objects.filter(topic=locked).count()
    fields = ["supports", "updated_at"]
    if locked.status == TopicStatus.GATHERING:
        threshold = rules_of(locked.place_path).support_threshold
        if locked.supports >= threshold:
            locked.status = TopicStatus.LISTED
            fields.append("status")
            notify("deliberation.topic_listed", topic=locked.pk, supports=locked.supports)
    locked.save(update_fields=fields)
    return locked


# --- the secretary --------------------------------------------------------------------------------


@transaction.atomic
def topic_from_opinion(*, actor: Actor, opinion: Opinion, title: str = "", body: str = "") -> Topic:
    """Make a topic of an opinion heard on a visit that the secretary marked 拟作议题: on the
    community's list at once, the opinion named as its origin (once: an opinion makes one topic)."""
    community = Place.objects.get(pk=opinion.community_id)
    require(actor, DelibCap.RUN, community)
    locked = Opinion.objects.select_for_update().get(pk=opinion.pk)
    if locked.status != OpinionStatus.TOPIC:
        raise ValidationError(_("只有标记为“拟作议题”的心声可以生成议题"))
    if Topic.objects.filter(opinion=locked).exists():
        raise Conflict(_("这条心声已经生成过议题"))
    text = " ".join(locked.text.split())
    title = _text(title or _shorten(text, 40), "title", TITLE_MAX, 2)
    body = _text(body or locked.text, "body", BODY_MAX)
    try:
        with transaction.atomic():
            topic = Topic.objects.create(
                place=community,
                title=title,
                body=body,
                source=TopicSource.OPINION,
                status=TopicStatus.LISTED,
                opinion=locked,
                created_by=user_of(actor),
            )
    except IntegrityError as exc:  # another tap made it meanwhile
        raise Conflict(_("这条心声已经生成过议题")) from exc
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, target=topic, place=community)
    return topic


@transaction.atomic
def topic_accept(*, actor: Actor, topic: Topic) -> Topic:
    """The secretary puts a topic offered by recurring needs (or a proposal still gathering
    supports) on the list."""
    require(actor, DelibCap.RUN, topic.place)
    locked = _locked(topic)
    if locked.status not in (TopicStatus.OFFERED, TopicStatus.GATHERING):
        raise Conflict(_("该议题已处理过了"))
    locked.status = TopicStatus.LISTED
    locked.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, target=locked, place=topic.place, field="status")
    return locked


@transaction.atomic
def topic_decline(*, actor: Actor, topic: Topic, reason: str) -> Topic:
    """The secretary declines a topic, saying why; a proposer is told."""
    require(actor, DelibCap.RUN, topic.place)
    reason = _text(reason, "reason", REASON_MAX, 2)
    locked = _locked(topic)
    if locked.status not in DECLINABLE:
        raise Conflict(_("该议题已列入议程，不能再不予列入"))
    locked.status, locked.status_note = TopicStatus.DECLINED, reason
    locked.save(update_fields=["status", "status_note", "updated_at"])
    audit_record(
        actor=actor, action=AuditEntry.Action.UPDATE, target=locked, place=topic.place, field="status", reason=reason
    )
    if locked.proposer_id is not None:
        notify("deliberation.topic_declined", topic=locked.pk)
    return locked


def topic_mark(topic: Topic, status: str) -> bool:
    """Move a topic forward as the meetings part takes it up: ``SCHEDULED`` when it is put on
    an agenda, ``DECIDED`` when a decision is taken on it, ``DONE`` when its decisions are
    done. Never backwards (a second agenda does not undo a decision); True if it moved. Call it
    inside the caller's transaction."""
    if status not in (TopicStatus.SCHEDULED, TopicStatus.DECIDED, TopicStatus.DONE):
        raise ValueError(f"topic_mark: {status!r} is not a meeting's status")
    behind = [s for s, rank in PROGRESS.items() if rank < PROGRESS[TopicStatus(status)]]
    moved = Topic.objects.filter(pk=topic.pk, status__in=behind).update(status=status, updated_at=timezone.now())
    if moved:
        topic.status = status
    return bool(moved)


def topic_step_back(topic: Topic, status: str) -> bool:
    """Move a topic one step back when what moved it forward is undone: ``LISTED`` again when
    no planned meeting holds it any more, ``DECIDED`` again when one of its decisions is
    reopened. True if it moved."""
    came_from = {TopicStatus.LISTED: TopicStatus.SCHEDULED, TopicStatus.DECIDED: TopicStatus.DONE}
    if status not in came_from:
        raise ValueError(f"topic_step_back: {status!r} is not a step back")
    moved = Topic.objects.filter(pk=topic.pk, status=came_from[TopicStatus(status)]).update(
        status=status, updated_at=timezone.now()
    )
    if moved:
        topic.status = status
    return bool(moved)


def topic_mark_settled(topic: Topic) -> bool:
    """``DONE`` once every decision taken on the topic is done (those dropped aside, at least
    one done), ``DECIDED`` again when one of them is reopened: for the meetings part to call
    when a decision's status changes. True if the topic moved."""
    statuses = set(
        Decision.objects.filter(topic=topic).exclude(status=DecisionStatus.DROPPED).values_list("status", flat=True)
    )
    if statuses == {DecisionStatus.DONE}:
        return topic_mark(topic, TopicStatus.DONE)
    if DecisionStatus.OPEN in statuses:
        return topic_step_back(topic, TopicStatus.DECIDED)
    return False


@transaction.atomic
def rules_set(
    *, actor: Actor, community: Place, support_threshold: int, recurring_count: int, recurring_days: int
) -> CommunityRules:
    """The community's rules: supports that list a proposal, and N needs within M days that
    offer a topic."""
    require(actor, DelibCap.RUN, community)
    if community.kind not in (PlaceKind.COMMUNITY, PlaceKind.VILLAGE):
        raise ValidationError({"community": [_("议事规则按社区设置")]})
    errors: dict[str, list[str]] = {}
    for field, value, (low, high) in (
        ("support_threshold", support_threshold, THRESHOLD_RANGE),
        ("recurring_count", recurring_count, COUNT_RANGE),
        ("recurring_days", recurring_days, DAYS_RANGE),
    ):
        if not isinstance(value, int) or not low <= value <= high:
            errors[field] = [_("请填写%(low)s到%(high)s之间的整数") % {"low": low, "high": high}]
    if errors:
        raise ValidationError(errors)
    before = rules_of(community.path)
    row, _created = CommunityRules.objects.update_or_create(
        community=community,
        defaults={
            "support_threshold": support_threshold,
            "recurring_count": recurring_count,
            "recurring_days": recurring_days,
        },
    )
    audit_record(
        actor=actor,
        action=AuditEntry.Action.UPDATE,
        target=row,
        place=community,
        changes={
            "support_threshold": [before.support_threshold, support_threshold],
            "recurring_count": [before.recurring_count, recurring_count],
            "recurring_days": [before.recurring_days, recurring_days],
        },
    )
    return row


# --- recurring needs (每月一题) --------------------------------------------------------------------


@dataclass(frozen=True)
class _Need:
    pk: int
    path: str
    category_id: int


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def piles(needs: Iterable[_Need], count: int) -> list[tuple[str, int, list[int]]]:
    """The piles of ``count`` or more needs of one category in one place of one community:
    ``(place path, category, need ids)``. The smallest place that reaches ``count`` wins: each
    building's pile first, then each grid's from the needs left, then the community's."""
    by_category: dict[int, list[_Need]] = defaultdict(list)
    for need in needs:
        by_category[need.category_id].append(need)
    found: list[tuple[str, int, list[int]]] = []
    for category_id, rows in sorted(by_category.items()):
        left = sorted(rows, key=lambda n: n.pk)
        for length in (BUILDING_PATH_LEN, GRID_PATH_LEN, COMMUNITY_PATH_LEN):
            groups: dict[str, list[_Need]] = defaultdict(list)
            for need in left:
                if len(need.path) >= length:
                    groups[need.path[:length]].append(need)
            taken: set[int] = set()
            for path, group in sorted(groups.items()):
                if len(group) >= count:
                    found.append((path, category_id, [n.pk for n in group]))
                    taken.update(n.pk for n in group)
            left = [n for n in left if n.pk not in taken]
    return found


def _candidates(community: Place, since: dt.datetime, now: dt.datetime) -> list[_Need]:
    """The community's needs with a category raised since ``since``, not merged into another
    and not yet linked to a topic (an offer declined is not offered again)."""
    rows = (
        Need.objects.filter(
            place_path__startswith=community.path, created_at__gte=since, created_at__lte=now, category__isnull=False
        )
        .exclude(status=Status.MERGED)
        .exclude(pk__in=TopicNeed.objects.values("need_id"))
        .values_list("pk", "place_path", "category_id")
    )
    return [_Need(pk, path, category_id) for pk, path, category_id in rows]


def _offer_text(place: Place, category: str, count: int, days: int) -> tuple[str, str]:
    title = _("%(place)s%(count)s件“%(category)s”诉求") % {"place": place.name, "count": count, "category": category}
    body = _("近%(days)s天内同一地点反复出现的同类诉求，建议议一议。") % {"days": days}
    return title, body


def _offer(community: Place, rules: Rules, path: str, category_id: int, need_ids: list[int]) -> Topic:
    place = community if path == community.path else Place.objects.get(path=path)
    category = Category.objects.get(pk=category_id)
    with translation.override(settings.LANGUAGE_CODE):  # kept as written, whoever runs the sweep
        title, body = _offer_text(place, category.name, len(need_ids), rules.recurring_days)
    topic = Topic.objects.create(
        place=place,
        title=_shorten(title, TITLE_MAX),
        body=body,
        source=TopicSource.RECURRING,
        status=TopicStatus.OFFERED,
        category=category,
    )
    TopicNeed.objects.bulk_create(TopicNeed(topic=topic, need_id=pk) for pk in need_ids)
    notify("deliberation.topic_offered", topic=topic.pk, count=len(need_ids), days=rules.recurring_days)
    return topic


def offer_recurring_topics(*, now: dt.datetime | None = None) -> int:
    """每月一题: for each community, each pile of N needs of one category in one building, grid
    or community within M days (the community's rules) that no topic holds yet becomes a topic
    offered to the secretary, with those needs linked; the secretary is told. One transaction
    per community under an advisory lock: a second sweep finds the needs linked and offers
    nothing. Returns how many topics were offered."""
    now = now or timezone.now()
    rules_rows = {r.community_id: r for r in CommunityRules.objects.all()}
    longest = max([Rules().recurring_days, *(r.recurring_days for r in rules_rows.values())])
    paths = (
        Need.objects.filter(created_at__gte=now - dt.timedelta(days=longest), category__isnull=False)
        .exclude(status=Status.MERGED)
        .exclude(pk__in=TopicNeed.objects.values("need_id"))
        .values_list("place_path", flat=True)
        .distinct()
    )
    community_paths_ = sorted({p[:COMMUNITY_PATH_LEN] for p in paths if len(p) >= COMMUNITY_PATH_LEN})
    communities = Place.objects.filter(
        path__in=community_paths_, kind__in=(PlaceKind.COMMUNITY, PlaceKind.VILLAGE)
    ).order_by("path")
    offered = 0
    for community in communities:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [RECURRING_LOCK, community.pk])
            rules = rules_of(community.path)
            since = now - dt.timedelta(days=rules.recurring_days)
            for path, category_id, need_ids in piles(_candidates(community, since, now), rules.recurring_count):
                _offer(community, rules, path, category_id, need_ids)
                offered += 1
    return offered
