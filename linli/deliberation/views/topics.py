"""Pages of topics (议题): a resident's page (my proposals and supports, the community's topics,
a proposal form, a support button that works with and without htmx), a topic's page (its origin,
and later what was decided and done), and the secretary's pages (the community's list by status
and source with the opinions to take up, acceptance or refusal, the community's rules)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linli.core.access import scope_for
from linli.core.pages import attempt, int_or_none, messages_of, safe_next
from linli.core.pagination import paginate
from linli.deliberation.access import COMMUNITY_PATH_LEN
from linli.deliberation.capabilities import DelibCap
from linli.deliberation.models import TopicSource, TopicStatus
from linli.deliberation.selectors import topics as selectors
from linli.deliberation.services import topics as services
from linli.people.identity import mask_name
from linli.places.models import Place, PlaceKind
from linli.places.selectors import access_place, place_crumbs

PER_PAGE = 20
MINE = 20


def _query(request: HttpRequest) -> str:
    return urlencode({k: v for k, v in request.GET.items() if k != "page" and v})


@login_required
@require_GET
def topics(request: HttpRequest) -> HttpResponse:
    """议题: my proposals, my supports, the topics of my community, and a proposal form."""
    user: Any = request.user
    page = paginate(request, selectors.topic_list(actor=user), PER_PAGE)
    mine = list(selectors.my_proposals(actor=user)[:MINE])
    supported = list(selectors.my_supports(actor=user)[:MINE])
    ids = [t.pk for t in page]
    return render(
        request,
        "deliberation/topics_home.html",
        {
            "page": page,
            "query": _query(request),
            "mine": mine,
            "supported": supported,
            "supported_ids": selectors.supported_ids(actor=user, topic_ids=ids),
            "supportable": {t.pk for t in page if _can_support(user, t)},
            "places": selectors.proposal_places(user),
            "communities": selectors.run_communities(user),
            "person_id": scope_for(user).person_id,
            "form": request.session.pop("topic_form", None) or {},
        },
    )


@login_required
@require_POST
def topic_propose(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    places = {p.pk: p for p in selectors.proposal_places(user)}
    place = places.get(int_or_none(request.POST.get("place")) or 0)
    title, body = request.POST.get("title", ""), request.POST.get("body", "")
    fallback = reverse("deliberation:topics")
    if place is None:
        messages.error(request, _("请选择议题所在的社区、网格或楼栋"))
        request.session["topic_form"] = {"title": title[:200], "body": body[:4000]}
        return redirect(fallback)
    made: list[Any] = []
    done = attempt(
        request,
        lambda: made.append(services.topic_propose(actor=user, place=place, title=title, body=body)),
        _("提议已提交"),
    )
    if not done:
        request.session["topic_form"] = {"title": title[:200], "body": body[:4000], "place": place.pk}
        return redirect(fallback)
    return redirect("deliberation:topic", pk=made[0].pk)


@login_required
@require_GET
def topic_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A topic: its origin (the proposer's name masked, the opinion heard, the needs linked),
    its supports, and what was decided and done on it."""
    user: Any = request.user
    topic = selectors.access_topic(user, pk)
    scope = scope_for(user)
    return render(
        request,
        "deliberation/topics_detail.html",
        {
            "topic": topic,
            "crumbs": place_crumbs(user, topic.place, DelibCap.RUN, link_self=True),
            "needs": selectors.linked_needs(actor=user, topic=topic),
            "opinion": selectors.opinion_of(actor=user, topic=topic),
            "outcome": selectors.topic_outcome(actor=request.user, topic=topic),
            "supported": bool(selectors.supported_ids(actor=user, topic_ids=[topic.pk])),
            "can_support": _can_support(user, topic),
            "can_run": scope.allows(DelibCap.RUN, topic.place_path),
            "person_id": scope.person_id,
            "proposer": mask_name(topic.proposer.name) if topic.proposer is not None else "",
        },
    )


def _can_support(user: Any, topic: Any) -> bool:
    person_id = scope_for(user).person_id
    return (
        person_id is not None
        and topic.status in services.SUPPORTABLE
        and topic.proposer_id != person_id
        and services.may_take_part(user, topic.place_path)
    )


@login_required
@require_POST
def topic_support(request: HttpRequest, pk: int) -> HttpResponse:
    """附议. With htmx the button is replaced by its new state; without, back to the page."""
    user: Any = request.user
    topic = selectors.access_topic(user, pk)
    if not services.may_take_part(user, topic.place_path):
        raise PermissionDenied(_("只能附议您所在社区的议题"))
    if getattr(request, "htmx", False):
        error = ""
        try:
            topic = services.topic_support(actor=user, topic=topic)
        except ValidationError as exc:
            error = messages_of(exc)
            topic.refresh_from_db()
        return render(
            request,
            "deliberation/topics_support.html",
            {
                "topic": topic,
                "supported": bool(selectors.supported_ids(actor=user, topic_ids=[topic.pk])),
                "can_support": _can_support(user, topic),
                "error": error,
                "next": reverse("deliberation:topic", kwargs={"pk": topic.pk}),
            },
        )
    attempt(request, lambda: services.topic_support(actor=user, topic=topic), _("已附议"))
    return redirect(safe_next(request, reverse("deliberation:topic", kwargs={"pk": topic.pk})))


# --- the secretary --------------------------------------------------------------------------------


@login_required
@require_GET
def topic_board(request: HttpRequest, code: str) -> HttpResponse:
    """The secretary's list of a community's topics, filtered by status and source, with the
    counts of each, and the opinions heard that wait to be made a topic."""
    user: Any = request.user
    place = access_place(user, code, DelibCap.RUN)
    status = request.GET.get("status", "")
    status = status if status in TopicStatus.values else ""
    source = request.GET.get("source", "")
    source = source if source in TopicSource.values else ""
    page = paginate(
        request, selectors.topic_list(actor=user, place=place, status=status or None, source=source or None), PER_PAGE
    )
    counts = selectors.topic_counts(actor=user, place=place)
    return render(
        request,
        "deliberation/topics_board.html",
        {
            "place": place,
            "crumbs": place_crumbs(user, place, DelibCap.RUN),
            "page": page,
            "query": _query(request),
            "status": status,
            "source": source,
            "statuses": [(v, label, counts.by_status[v]) for v, label in TopicStatus.choices],
            "sources": [(v, label, counts.by_source[v]) for v, label in TopicSource.choices],
            "total": counts.total,
            "opinions": list(selectors.opinions_to_take_up(actor=user, place=place)[:50]),
            "community": _community_of(user, place),
        },
    )


def _community_of(user: Any, place: Place) -> Place | None:
    """The community of a place, if the reader runs deliberation there (for its rules)."""
    if len(place.path) < COMMUNITY_PATH_LEN:
        return None
    if len(place.path) == COMMUNITY_PATH_LEN:
        return place
    community = Place.objects.filter(path=place.path[:COMMUNITY_PATH_LEN]).first()
    return community if community is not None and scope_for(user).allows(DelibCap.RUN, community.path) else None


def _board(topic: Any) -> str:
    community = Place.objects.filter(path=topic.place_path[:COMMUNITY_PATH_LEN]).first()
    if community is None:
        return reverse("deliberation:topic", kwargs={"pk": topic.pk})
    return reverse("deliberation:topic_board", kwargs={"code": community.code})


@login_required
@require_POST
def topic_accept(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    topic = selectors.access_topic(user, pk)
    attempt(request, lambda: services.topic_accept(actor=user, topic=topic), _("已列入待议议题"))
    return redirect(safe_next(request, _board(topic)))


@login_required
@require_POST
def topic_decline(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    topic = selectors.access_topic(user, pk)
    reason = request.POST.get("reason", "")
    attempt(request, lambda: services.topic_decline(actor=user, topic=topic, reason=reason), _("已不予列入"))
    return redirect(safe_next(request, _board(topic)))


@login_required
@require_POST
def topic_from_opinion(request: HttpRequest, pk: int) -> HttpResponse:
    """One tap: the opinion heard becomes a topic on the list."""
    user: Any = request.user
    opinion = selectors.access_opinion_to_take_up(user, pk)
    made: list[Any] = []
    done = attempt(
        request,
        lambda: made.append(
            services.topic_from_opinion(actor=user, opinion=opinion, title=request.POST.get("title", ""))
        ),
        _("已生成议题"),
    )
    if done:
        return redirect("deliberation:topic", pk=made[0].pk)
    return redirect(safe_next(request, reverse("deliberation:topic_board", kwargs={"code": opinion.community.code})))


@login_required
@require_GET
def topic_rules(request: HttpRequest, code: str) -> HttpResponse:
    """The community's rules: supports that list a proposal; N needs within M days."""
    user: Any = request.user
    place = access_place(user, code, DelibCap.RUN)
    community = place if place.kind in (PlaceKind.COMMUNITY, PlaceKind.VILLAGE) else None
    return render(
        request,
        "deliberation/topics_rules.html",
        {
            "place": place,
            "community": community,
            "crumbs": place_crumbs(user, place, DelibCap.RUN),
            "rules": selectors.rules_of(community.path) if community is not None else None,
            "ranges": {
                "threshold": services.THRESHOLD_RANGE,
                "count": services.COUNT_RANGE,
                "days": services.DAYS_RANGE,
            },
        },
    )


@login_required
@require_POST
def topic_rules_set(request: HttpRequest, code: str) -> HttpResponse:
    user: Any = request.user
    place = access_place(user, code, DelibCap.RUN)
    # a missing or junk number is -1: out of range, refused by the service with the range
    values = {
        name: n if (n := int_or_none(request.POST.get(name))) is not None else -1
        for name in ("support_threshold", "recurring_count", "recurring_days")
    }
    attempt(
        request,
        lambda: services.rules_set(
            actor=user,
            community=place,
            support_threshold=values["support_threshold"],
            recurring_count=values["recurring_count"],
            recurring_days=values["recurring_days"],
        ),
        _("议事规则已保存"),
    )
    return redirect("deliberation:topic_rules", code=place.code)


urlpatterns: list[URLPattern] = [
    path("topics/", topics, name="topics"),
    path("topics/new/", topic_propose, name="topic_propose"),
    path("topics/<int:pk>/", topic_detail, name="topic"),
    path("topics/<int:pk>/support/", topic_support, name="topic_support"),
    path("topics/<int:pk>/accept/", topic_accept, name="topic_accept"),
    path("topics/<int:pk>/decline/", topic_decline, name="topic_decline"),
    path("topics/opinions/<int:pk>/", topic_from_opinion, name="topic_from_opinion"),
    path("topics/place/<str:code>/", topic_board, name="topic_board"),
    path("topics/rules/<str:code>/", topic_rules, name="topic_rules"),
    path("topics/rules/<str:code>/set/", topic_rules_set, name="topic_rules_set"),
]
