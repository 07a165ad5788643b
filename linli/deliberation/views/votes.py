"""Pages of votes (表决): the votes of a place, a vote's page (the ballot form for an elector who
has not voted, participation so far, the result after close), the printable result notice
(公示), the published register and ballots, and the staff pages: create, open, close, paper
keying with its mismatch list, door-to-door, proxy and meeting entry, secret papers handed out,
and cancelling a vote with its reason."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.core.access import Actor, scope_for
from linli.core.audit import audit_export
from linli.core.errors import Conflict, error_response
from linli.core.pages import attempt, int_or_none, ints, messages_of
from linli.core.pagination import paginate
from linli.core.photos import PhotoUpload
from linli.deliberation.capabilities import DelibCap
from linli.deliberation.models import (
    Attendance,
    Channel,
    Elector,
    Electorate,
    Meeting,
    OptionsKind,
    PaperStatus,
    Participation,
    Proxy,
    Topic,
    Vote,
    VoteRule,
    VoteStatus,
)
from linli.deliberation.selectors import votes as sel
from linli.deliberation.services import votes as services
from linli.people.identity import mask_name
from linli.people.selectors import person_list
from linli.places.selectors import place_crumbs

PER_PAGE = 30
MAX_SCAN_BYTES = 8 * 1024 * 1024


def _require(actor: Actor, capability: str, vote: Vote) -> None:
    if not sel.may(actor, capability, vote):
        raise PermissionDenied(_("您没有此项权限"))


def option_label(vote: Vote, code: str, label: str) -> str:
    """An option's words in the reader's language (yes/no/abstain are the app's msgids)."""
    return _(label) if vote.options_kind == OptionsKind.YES_NO else label


def _options(vote: Vote) -> list[tuple[str, str]]:
    return [(o.code, option_label(vote, o.code, o.label)) for o in vote.options.all()]


def _ballot(vote: Vote) -> dict[str, Any]:
    """What every page with a ballot form needs: the vote, its options, radio or checkboxes."""
    return {"vote": vote, "options": _options(vote), "multiple": vote.options_kind == OptionsKind.SEVERAL_OF}


def _result_rows(vote: Vote) -> dict[str, Any] | None:
    """The stored result with its options' labels and reasons in the reader's language."""
    if vote.status != VoteStatus.CLOSED or not vote.result:
        return None
    result = dict(vote.result)
    labels = dict(_options(vote))
    result["options"] = [
        {
            **o,
            "label": labels.get(o["code"], o["label"]),
            "reason": _(o["reason"]) if o.get("reason") else "",
            "area_m2": sel.hundredths_text(o["area"]),
        }
        for o in result.get("options", [])
    ]
    result["leading_labels"] = [labels.get(c, c) for c in result.get("leading", [])]
    # named votes only: a secret vote's result has no breakdown by channel
    result["channels"] = [(Channel(c).label, n) for c, n in sorted(result.get("by_channel", {}).items())]
    result["reason"] = _(result["reason"]) if result.get("reason") else ""
    result["area_m2"] = {k: sel.hundredths_text(result["participation_area"][k]) for k in ("part", "whole")}
    return result


def _electors_text(electors: list[Elector]) -> list[str]:
    return [e.household.place.name if e.household else str(e.pk) for e in electors]


# --- residents' pages -----------------------------------------------------------------------------------


@login_required
@require_GET
def votes(request: HttpRequest, code: str) -> HttpResponse:
    """The votes of a place for its readers, newest first; staff may put a matter to a vote."""
    user: Any = request.user
    place = sel.vote_place(user, code)
    status = request.GET.get("status") or None
    mine = request.GET.get("mine") == "1"
    if mine:  # the home page's to-do: open votes where the reader has yet to vote
        qs = sel.votes_awaiting(user).filter(place_path__startswith=place.path)
    else:
        qs = sel.vote_list(actor=user, place=place, status=status if status in VoteStatus.values else None)
    can_run = scope_for(user).allows(DelibCap.RUN, place.path)
    return render(
        request,
        "deliberation/votes_list.html",
        {
            "place": place,
            "crumbs": place_crumbs(user, place, DelibCap.VIEW),
            "page": paginate(request, qs, per_page=PER_PAGE),
            "can_run": can_run,
            "electorates": Electorate.choices,
            "rules": VoteRule.choices,
            "kinds": OptionsKind.choices,
            "topics": list(Topic.objects.visible(user, DelibCap.RUN).filter(place_path__startswith=place.path)[:50])
            if can_run
            else [],
            "meetings": list(Meeting.objects.visible(user, DelibCap.RUN).filter(place_path__startswith=place.path)[:50])
            if can_run
            else [],
            "status": status or "",
            "mine": mine,
            "statuses": VoteStatus.choices,
        },
    )


def _closes_at(value: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError({"closes_at": [_("请填写截止时间(YYYY-MM-DD HH:MM)")]}) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.get_default_timezone())


@login_required
@require_POST
def vote_new(request: HttpRequest, code: str) -> HttpResponse:
    """Put a matter to a vote at a place (optionally for a topic or a meeting)."""
    user: Any = request.user
    place = sel.vote_place(user, code)
    if not scope_for(user).allows(DelibCap.RUN, place.path):
        raise PermissionDenied(_("您没有此项权限"))
    post = request.POST
    made: list[Vote] = []

    def run() -> None:
        topic, meeting = sel.vote_links(
            user, topic=int_or_none(post.get("topic")), meeting=int_or_none(post.get("meeting"))
        )
        made.append(
            services.vote_create(
                actor=user,
                place=place,
                title=post.get("title", ""),
                body=post.get("body", "")[:8000],
                electorate=post.get("electorate", Electorate.HOUSEHOLDS),
                rule=post.get("rule", VoteRule.MAJORITY),
                options_kind=post.get("options_kind", OptionsKind.YES_NO),
                options=post.get("options", "").splitlines(),
                max_choices=int_or_none(post.get("max_choices")) or 1,
                secret=post.get("secret") == "1",
                closes_at=_closes_at(post.get("closes_at", "")),
                topic=topic,
                meeting=meeting,
            )
        )

    if attempt(request, run, _("表决已创建，开始表决时生成名册")):
        return redirect("deliberation:vote", pk=made[0].pk)
    return redirect("deliberation:votes", code=place.code)


@login_required
@require_GET
def vote_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A vote: the question, its options and status, the reader's ballot form when on the
    register and not yet voted, participation so far (never choices), the result after close."""
    user: Any = request.user
    vote = sel.access_vote(user, pk)
    scope = scope_for(user)
    mine = sel.my_electors(user, vote)
    done = sel.participation_of(vote, mine) if mine else None
    checked_in = False
    if vote.meeting_id and scope.person_id:
        checked_in = Attendance.objects.filter(meeting_id=vote.meeting_id, person_id=scope.person_id).exists()
    groups: dict[str, Elector] = {}
    for e in mine:
        groups.setdefault(e.owner or str(e.pk), e)
    return render(
        request,
        "deliberation/votes_detail.html",
        {
            **_ballot(vote),
            "crumbs": place_crumbs(user, vote.place, DelibCap.VIEW),
            "mine": list(groups.values()),
            "my_units": _electors_text(mine) if vote.electorate == Electorate.OWNERS else [],
            "done": done,
            "can_vote": bool(mine) and done is None and vote.is_open and not _past(vote),
            "checked_in": checked_in,
            "so_far": _so_far(vote),
            "result": _result_rows(vote),
            "can_run": scope.allows(DelibCap.RUN, vote.place_path),
            "can_enter": scope.reaches(DelibCap.CHECK_IN, vote.place_path),
            "can_count": scope.reaches(DelibCap.COUNT, vote.place_path),
            "can_download": sel.can_download(vote),
            "candidates": [(p.pk, mask_name(p.name)) for p in sel.representative_candidates(user, vote)[:300]]
            if vote.status == VoteStatus.DRAFT
            and vote.electorate == Electorate.REPRESENTATIVES
            and scope.allows(DelibCap.RUN, vote.place_path)
            else [],
        },
    )


def _so_far(vote: Vote) -> dict[str, Any] | None:
    if vote.status == VoteStatus.DRAFT:
        return None
    found = sel.participation_so_far(vote)
    if found is not None:
        found["area_m2"] = {k: sel.hundredths_text(found["area"][k]) for k in ("part", "whole")}
    return found


def _past(vote: Vote) -> bool:
    return vote.closes_at is not None and vote.closes_at <= timezone.now()


@login_required
@require_POST
def vote_cast(request: HttpRequest, pk: int) -> HttpResponse:
    """The reader's ballot, online or (checked in) at the meeting. A second ballot for the same
    elector is a 409 page that says through which channel the elector already voted."""
    user: Any = request.user
    vote = sel.access_vote(user, pk)
    channel = Channel.MEETING if request.POST.get("channel") == Channel.MEETING else Channel.ONLINE
    elector_id = int_or_none(request.POST.get("elector"))
    elector = Elector.objects.filter(vote=vote, pk=elector_id).first() if elector_id else None
    try:
        services.vote_cast(
            actor=user, vote=vote, choices=request.POST.getlist("choice"), elector=elector, channel=channel
        )
    except Conflict as exc:
        return error_response(request, 409, str(exc), title=_("已经投过票"))
    except ValidationError as exc:
        messages.error(request, messages_of(exc))
        return redirect("deliberation:vote", pk=vote.pk)
    messages.success(request, _("您的票已计入"))
    return redirect("deliberation:vote", pk=vote.pk)


@login_required
@require_GET
def vote_notice(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable result notice (公示): the question, the rule and the matter's class, the
    register's fingerprint and totals, participation by head and area, and the result."""
    user: Any = request.user
    vote = sel.access_vote(user, pk)
    if vote.status != VoteStatus.CLOSED:
        raise Http404("no result yet")
    return render(
        request,
        "deliberation/votes_notice.html",
        {"vote": vote, "result": _result_rows(vote), "options": _options(vote), "now": timezone.now()},
    )


@login_required
@require_GET
def vote_register_json(request: HttpRequest, pk: int) -> HttpResponse:
    """The register and the named ballots as the JSON ``linli deliberation tally`` reads (opaque
    ids, no names), so that anyone can recount; not for a secret vote (it publishes counts)."""
    user: Any = request.user
    vote = sel.access_vote(user, pk)
    if not sel.can_download(vote):
        raise Http404("not published")
    document = sel.tally_document(vote)
    audit_export(actor=user, target=vote, place=vote.place, what="vote_register", rows=len(document["electors"]))
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False, indent=1), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="vote-{vote.pk}.json"'
    return response


# --- staff pages ------------------------------------------------------------------------------------------


@login_required
@require_POST
def vote_open(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    vote = sel.access_vote(user, pk)
    _require(user, DelibCap.RUN, vote)
    wanted = ints(request.POST.getlist("representative"))
    attempt(
        request,
        lambda: services.vote_open(
            actor=user, vote=vote, representatives=sel.named_representatives(user, vote, wanted)
        ),
        _("表决已开始，名册已冻结"),
    )
    return redirect("deliberation:vote", pk=vote.pk)


@login_required
@require_POST
def vote_close(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    vote = sel.access_vote(user, pk)
    _require(user, DelibCap.RUN, vote)
    attempt(request, lambda: services.vote_close(actor=user, vote=vote), _("表决已结束，结果已计算"))
    return redirect("deliberation:vote", pk=vote.pk)


@login_required
@require_POST
def vote_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a draft or open vote, with its reason (the staff who run votes at its place)."""
    user: Any = request.user
    vote = sel.access_vote(user, pk)
    _require(user, DelibCap.RUN, vote)
    attempt(
        request,
        lambda: services.vote_cancel(actor=user, vote=vote, reason=request.POST.get("reason", "")),
        _("表决已取消，不公布结果"),
    )
    return redirect("deliberation:vote", pk=vote.pk)


def _keyed(labels: dict[str, str], entry: Any) -> str:
    """One keying as the counters read it: the register number (named votes) and the options."""
    if entry is None:
        return ""
    chosen = _("、").join(labels.get(c, c) for c in entry.choices)
    return f"#{entry.elector_id} {chosen}" if entry.elector_id else chosen


def _sheets(vote: Vote) -> dict[str, Any]:
    sheets = sel.paper_sheets(vote)
    labels = dict(_options(vote))
    return {
        "mismatches": [
            (s.sheet, _keyed(labels, s.first), _keyed(labels, s.second))
            for s in sheets
            if s.status == PaperStatus.MISMATCH
        ],
        "waiting": [s for s in sheets if s.status == PaperStatus.KEYED_ONCE],
        "refused": [s for s in sheets if s.status == PaperStatus.REFUSED],
        "counted": sum(1 for s in sheets if s.status == PaperStatus.COUNTED),
    }


@login_required
@require_http_methods(["GET", "POST"])
def vote_paper(request: HttpRequest, pk: int) -> HttpResponse:
    """Paper ballots keyed twice: the keying form, the sheets waiting for their second keying,
    and the mismatches for the secretary to settle by keying the sheet again."""
    user: Any = request.user
    vote = sel.access_vote(user, pk)
    sel.require_reaching(user, DelibCap.COUNT, vote)
    if request.method == "POST":
        post = request.POST
        elector = int_or_none(post.get("elector")) if not vote.secret else None
        if not vote.secret and post.get("elector") and elector is None:
            elector = -1  # not a number: the service says the register has no such line
        attempt(
            request,
            lambda: services.paper_key(
                actor=user, vote=vote, sheet=post.get("sheet", ""), choices=post.getlist("choice"), elector=elector
            ),
            _("已录入"),
        )
        return redirect("deliberation:vote_paper", pk=vote.pk)
    return render(
        request,
        "deliberation/votes_paper.html",
        {
            **_ballot(vote),
            "handed_out": sel.handed_out(vote) if vote.secret else None,
            "min_papers": sel.SECRET_MIN_VOTERS,
            **_sheets(vote),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def vote_entry(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff entry: a named vote's ballot collected door to door (by a named collector), by
    proxy, or at the meeting; a secret vote's paper handed out."""
    user: Any = request.user
    vote = sel.access_vote(user, pk)
    sel.require_reaching(user, DelibCap.CHECK_IN, vote)
    if request.method == "POST":
        post = request.POST
        channel = post.get("channel", "")
        elector = int_or_none(post.get("elector"))

        def run() -> None:
            collector = sel.staff_person(user, int_or_none(post.get("collector"))) if channel == Channel.DOOR else None
            if elector is None:
                raise ValidationError({"elector": [_("请填写选民编号")]})
            if vote.secret:
                services.paper_hand_out(actor=user, vote=vote, elector=elector, channel=channel, collector=collector)
            else:
                services.vote_enter(
                    actor=user,
                    vote=vote,
                    elector=elector,
                    choices=post.getlist("choice"),
                    channel=channel,
                    collector=collector,
                )

        attempt(request, run, _("已发出纸质票") if vote.secret else _("已录入"))
        return redirect("deliberation:vote_entry", pk=vote.pk)
    return _entry_page(request, vote)


def _entry_page(request: HttpRequest, vote: Vote) -> HttpResponse:
    user: Any = request.user
    q = (request.GET.get("q") or "").strip()[:40]
    lines = (
        Elector.objects.filter(vote=vote)
        .select_related("household__place", "person")
        .order_by("household__place__path", "person__name", "pk")
    )
    if q:
        lines = lines.filter(sel.elector_label_q(q))
    page = paginate(request, lines, per_page=PER_PAGE)
    taken = dict(
        Participation.objects.filter(vote=vote, elector__in=[e.pk for e in page.object_list]).values_list(
            "elector_id", "channel"
        )
    )
    rows = [
        (
            e,
            e.household.place.name if e.household else "",
            mask_name(e.person.name) if e.person else "",
            Channel(taken[e.pk]).label if e.pk in taken else "",
        )
        for e in page.object_list
    ]
    collectors = list(
        person_list(actor=user)
        .filter(memberships__ended_at__isnull=True, memberships__place__path__startswith=vote.place_path)
        .exclude(memberships__role="resident")
        .distinct()[:100]
    )
    channels = (
        [(c, Channel(c).label) for c in sel.PAPER_CHANNELS]
        if vote.secret
        else [(c, Channel(c).label) for c in (Channel.DOOR, Channel.PROXY, Channel.MEETING)]
    )
    return render(
        request,
        "deliberation/votes_entry.html",
        {
            **_ballot(vote),
            "rows": rows,
            "page": page,
            "q": q,
            "collectors": [(p.pk, mask_name(p.name)) for p in collectors],
            "channels": channels,
            "proxies": list(Proxy.objects.filter(vote=vote).select_related("holder").order_by("-at")[:50]),
        },
    )


@login_required
@require_POST
def vote_proxy(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a written authorisation (委托书) with its scan."""
    user: Any = request.user
    vote = sel.access_vote(user, pk)
    sel.require_reaching(user, DelibCap.CHECK_IN, vote)
    post = request.POST

    def run() -> None:
        scan = request.FILES.get("scan")
        if scan is None:
            raise ValidationError({"scan": [_("请上传委托书照片")]})
        if scan.size and scan.size > MAX_SCAN_BYTES:
            raise ValidationError(
                {"scan": [_("照片过大(最大 %(size)s MB)") % {"size": MAX_SCAN_BYTES // 1024 // 1024}]}
            )
        holder = sel.staff_person(user, int_or_none(post.get("holder")), "holder")
        if holder is None:
            raise ValidationError({"holder": [_("请选择受托人")]})
        elector = int_or_none(post.get("elector"))
        if elector is None:
            raise ValidationError({"elector": [_("请填写选民编号")]})
        services.proxy_record(
            actor=user,
            vote=vote,
            elector=elector,
            holder=holder,
            scan=PhotoUpload(name=scan.name or "scan", content=scan.read()),
            note=post.get("note", ""),
        )

    attempt(request, run, _("委托书已登记"))
    return redirect("deliberation:vote_entry", pk=vote.pk)


@login_required
@require_GET
def vote_proxy_scan(request: HttpRequest, pk: int) -> FileResponse:
    """The scan of a written authorisation, for staff of the vote (not public media)."""
    user: Any = request.user
    proxy = Proxy.objects.filter(pk=int_or_none(pk) or 0).select_related("vote").first()
    if proxy is None:
        raise Http404("proxy not found")
    vote = sel.access_vote(user, proxy.vote_id)
    if not scope_for(user).reaches(DelibCap.CHECK_IN, vote.place_path):
        raise Http404("proxy not found")
    content_type = "image/png" if proxy.authorisation.endswith(".png") else "image/jpeg"
    response = FileResponse(default_storage.open(proxy.authorisation, "rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


urlpatterns: list[URLPattern] = [
    path("votes/p/<str:code>/", votes, name="votes"),
    path("votes/p/<str:code>/new/", vote_new, name="vote_new"),
    path("votes/<int:pk>/", vote_detail, name="vote"),
    path("votes/<int:pk>/cast/", vote_cast, name="vote_cast"),
    path("votes/<int:pk>/notice/", vote_notice, name="vote_notice"),
    path("votes/<int:pk>/register.json", vote_register_json, name="vote_register_json"),
    path("votes/<int:pk>/open/", vote_open, name="vote_open"),
    path("votes/<int:pk>/close/", vote_close, name="vote_close"),
    path("votes/<int:pk>/cancel/", vote_cancel, name="vote_cancel"),
    path("votes/<int:pk>/paper/", vote_paper, name="vote_paper"),
    path("votes/<int:pk>/entry/", vote_entry, name="vote_entry"),
    path("votes/<int:pk>/proxy/", vote_proxy, name="vote_proxy"),
    path("votes/proxies/<int:pk>/scan/", vote_proxy_scan, name="vote_proxy_scan"),
]
