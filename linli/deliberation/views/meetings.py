"""Pages of meetings (议事会) and decisions.

Residents: the meetings they are invited to, a meeting's page (agenda, time, venue, reply,
calendar file, check-in, published minutes and decisions), the check-in page the door's QR
code opens. Secretaries: a community's meetings, planning and editing, invitations, the door
page with the live count, minutes with files, decisions. Street and district officials: the
decisions overdue across their communities. Reads go through ``selectors.meetings``, writes
through ``services.meetings``; a refusal is a message on the page, never a 500.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.core.access import scope_for
from linli.core.pages import attempt, int_or_none, ints, local_span, messages_of
from linli.core.pagination import paginate
from linli.deliberation import ics as ics
from linli.deliberation.capabilities import DelibCap
from linli.deliberation.models import (
    DecisionStatus,
    Electorate,
    Meeting,
    MeetingKind,
    MeetingStatus,
    Rsvp,
    VoteRule,
)
from linli.deliberation.selectors import meetings as sel
from linli.deliberation.selectors.votes import vote_list
from linli.deliberation.services import meetings as services
from linli.needs.capabilities import NeedCap
from linli.needs.models import Category
from linli.people.capabilities import PeopleCap
from linli.places.models import Place, PlaceKind, ancestor_path
from linli.places.selectors import access_place, place_crumbs, places_rooted

PER_PAGE = 30
MEETING_PLACE_KINDS = (PlaceKind.COMMUNITY, PlaceKind.VILLAGE, PlaceKind.GRID, PlaceKind.BUILDING, PlaceKind.COURTYARD)


def _user(request: HttpRequest) -> Any:
    return request.user


def _parse_quorum(value: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    quorum = int_or_none(value)
    if quorum is None:
        raise ValidationError({"quorum": [_("法定人数须为正整数")]})
    return quorum


def _meeting_fields(request: HttpRequest, place: Place) -> dict[str, Any]:
    post = request.POST
    starts_at, ends_at = local_span(post)
    wanted = set(ints(post.getlist("topic")))
    topics = [t for t in sel.topics_for_place(_user(request), place) if t.pk in wanted]
    return {
        "kind": post.get("kind", ""),
        "title": post.get("title", ""),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "venue": post.get("venue", ""),
        "quorum": _parse_quorum(post.get("quorum", "")),
        "open_to_place": post.get("open_to_place") == "1",
        "agenda": [line for line in post.get("agenda", "").splitlines() if line.strip()],
        "topics": topics,
    }


def _can(request: HttpRequest, capability: str, path_: str) -> bool:
    return scope_for(_user(request)).allows(capability, path_)


def _meeting_url(meeting: Meeting) -> str:
    return reverse("deliberation:meeting", kwargs={"pk": meeting.pk})


# --- residents -----------------------------------------------------------------------------------


@login_required
@require_GET
def meetings_mine(request: HttpRequest) -> HttpResponse:
    """The meetings I am invited to (to come, then past) and, for staff, their places' lists."""
    user = _user(request)
    past = request.GET.get("when") == "past"
    invitations = sel.my_invitations(actor=user, upcoming=not past)
    return render(
        request,
        "deliberation/meetings_mine.html",
        {
            "page": paginate(request, invitations, per_page=PER_PAGE),
            "past": past,
            # where the reader plans meetings or keeps their door (every planner keeps it too)
            "places": list(places_rooted(user, DelibCap.CHECK_IN).order_by("path")[:20]),
            "oversee": list(places_rooted(user, DelibCap.OVERSEE).order_by("path")[:20]),
        },
    )


@login_required
@require_GET
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    meeting = sel.access_meeting(user, pk)
    now = timezone.now()
    minutes = sel.minutes_readable(user, meeting)
    can_run = _can(request, DelibCap.RUN, meeting.place_path)
    return render(
        request,
        "deliberation/meetings_detail.html",
        {
            "meeting": meeting,
            "crumbs": place_crumbs(user, meeting.place, DelibCap.VIEW, link_self=True),
            "agenda": list(meeting.agenda.select_related("topic")),
            "invitation": sel.my_invitation(user, meeting),
            "rsvp_choices": [(Rsvp.YES, Rsvp.YES.label), (Rsvp.MAYBE, Rsvp.MAYBE.label), (Rsvp.NO, Rsvp.NO.label)],
            "open_for_rsvp": meeting.status == MeetingStatus.PLANNED and meeting.ends_at > now,
            "checkin_open": services.checkin_open(meeting, now),
            "minutes": minutes,
            "attachments": sel.attachments_of(meeting) if minutes else [],
            "decisions": sel.decisions_of_meeting(user, meeting),
            "can_run": can_run,
            "can_check_in": _can(request, DelibCap.CHECK_IN, meeting.place_path),
            "can_people": _can(request, PeopleCap.VIEW_PEOPLE, meeting.place_path),
            "counts": sel.rsvp_counts(meeting) if can_run else None,
        },
    )


@login_required
@require_POST
def meeting_rsvp(request: HttpRequest, pk: int) -> HttpResponse:
    """The invitee's answer: the button's fragment for htmx, else back to the meeting."""
    user = _user(request)
    meeting = sel.access_meeting(user, pk)
    error = ""
    try:
        services.rsvp_set(actor=user, meeting=meeting, answer=request.POST.get("rsvp", ""))
    except ValidationError as exc:
        error = messages_of(exc)
    if getattr(request, "htmx", False):
        return render(
            request,
            "deliberation/meetings_rsvp.html",
            {
                "meeting": meeting,
                "invitation": sel.my_invitation(user, meeting),
                "open_for_rsvp": True,
                "rsvp_choices": [(Rsvp.YES, Rsvp.YES.label), (Rsvp.MAYBE, Rsvp.MAYBE.label), (Rsvp.NO, Rsvp.NO.label)],
                "error": error,
            },
        )  # 200 even for a refusal: htmx swaps no 4xx answer, and the message must show
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("已回复"))
    return redirect(_meeting_url(meeting))


@login_required
@require_GET
def meeting_ics(request: HttpRequest, pk: int) -> HttpResponse:
    """The meeting as an iCalendar file, to add to a phone's calendar."""
    meeting = sel.access_meeting(_user(request), pk)
    body = ics.meeting_calendar(meeting, url=request.build_absolute_uri(_meeting_url(meeting)), host=request.get_host())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}.ics"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def meeting_checkin(request: HttpRequest, token: str) -> HttpResponse:
    """What the door's QR code opens: one tap checks the reader in (a GET never writes, so a
    link preview or a prefetch checks no one in). Sign-in comes back here."""
    user = _user(request)
    meeting = sel.meeting_by_token(user, token)
    person_id = scope_for(user).person_id
    now = timezone.now()
    if request.method == "POST":
        try:
            first = services.checkin_by_token(actor=user, meeting=meeting, token=token, now=now)
        except ValidationError as exc:
            messages.error(request, messages_of(exc))
        except PermissionDenied as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("签到成功，欢迎参会") if first else _("您已签到过了"))
        return redirect("deliberation:meeting_checkin", token=token)
    present = person_id is not None and meeting.attendance.filter(person_id=person_id).exists()
    return render(
        request,
        "deliberation/meetings_checkin.html",
        {
            "meeting": meeting,
            "token": token,
            "present": present,
            "may_attend": person_id is not None and services.may_attend(meeting, person_id),
            "open": services.checkin_open(meeting, now),
            "opens_at": meeting.starts_at - services.CHECKIN_BEFORE,
        },
    )


@login_required
@require_GET
def minutes_file(request: HttpRequest, pk: int, file_id: int) -> HttpResponseBase:
    """A file of the minutes, for whoever may read the minutes (never public media)."""
    user = _user(request)
    meeting = sel.access_meeting(user, pk)
    if not sel.minutes_readable(user, meeting):
        raise Http404("minutes not published")
    attachment = meeting.attachments.filter(pk=file_id).first()
    if attachment is None:
        raise Http404("file not found")
    response = FileResponse(attachment.file.open("rb"), content_type=attachment.content_type)
    response["Content-Disposition"] = "attachment; filename*=UTF-8''" + _quote(attachment.name)
    response["Cache-Control"] = "private, max-age=3600"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


# --- secretaries: a place's meetings, planning -------------------------------------------------


@login_required
@require_GET
def meetings_place(request: HttpRequest, code: str) -> HttpResponse:
    """The meetings of a place and below it, latest first."""
    user = _user(request)
    place = access_place(user, code, DelibCap.VIEW)
    meetings = sel.meeting_list(actor=user, place=place)
    return render(
        request,
        "deliberation/meetings_place.html",
        {
            "place": place,
            "crumbs": place_crumbs(user, place, DelibCap.VIEW),
            "page": paginate(request, meetings, per_page=PER_PAGE),
            "can_run": _can(request, DelibCap.RUN, place.path) and place.kind in MEETING_PLACE_KINDS,
        },
    )


def _form_context(request: HttpRequest, place: Place, meeting: Meeting | None) -> dict[str, Any]:
    """The planning form's values: what was posted (a refused form keeps them), else the
    meeting's, else a week from now at 19:00."""
    user = _user(request)
    zone = timezone.get_default_timezone()
    chosen: set[int] = set()
    free: list[str] = []
    if meeting is not None:
        for item in meeting.agenda.all():
            if item.topic_id:
                chosen.add(item.topic_id)
            else:
                free.append(item.title)
    start = (meeting.starts_at if meeting else timezone.now() + dt.timedelta(days=7)).astimezone(zone)
    end = meeting.ends_at.astimezone(zone) if meeting else start
    values = {
        "kind": meeting.kind if meeting else MeetingKind.BENCH,
        "title": meeting.title if meeting else "",
        "date": start.date().isoformat(),
        "start": start.strftime("%H:%M") if meeting else "19:00",
        "end": end.strftime("%H:%M") if meeting else "21:00",
        "venue": meeting.venue if meeting else "",
        "quorum": str(meeting.quorum or "") if meeting else "",
        "open_to_place": bool(meeting and meeting.open_to_place),
        "agenda": "\n".join(free),
    }
    if request.method == "POST":
        post = request.POST
        values.update(
            {k: post.get(k, "") for k in ("kind", "title", "date", "start", "end", "venue", "quorum", "agenda")}
        )
        values["open_to_place"] = post.get("open_to_place") == "1"
        chosen = set(ints(post.getlist("topic")))
    return {
        "place": place,
        "meeting": meeting,
        "crumbs": place_crumbs(user, place, DelibCap.VIEW, link_self=True),
        "kinds": MeetingKind.choices,
        "topics": list(sel.topics_for_place(user, place)[:100]),
        "chosen": chosen,
        "f": values,
    }


@login_required
@require_http_methods(["GET", "POST"])
def meeting_new(request: HttpRequest, code: str) -> HttpResponse:
    user = _user(request)
    place = sel.access_place_to_plan(user, code)
    if request.method == "POST":
        made: list[Meeting] = []

        def run() -> None:
            made.append(services.meeting_create(actor=user, place=place, **_meeting_fields(request, place)))

        if attempt(request, run, _("会议已安排，请发出邀请")):
            return redirect("deliberation:meeting_invite", pk=made[0].pk)
    return render(request, "deliberation/meetings_form.html", _form_context(request, place, None))


@login_required
@require_http_methods(["GET", "POST"])
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    meeting = sel.access_meeting_to(user, pk, DelibCap.RUN)
    if request.method == "POST":

        def run() -> None:
            services.meeting_update(actor=user, meeting=meeting, **_meeting_fields(request, meeting.place))

        if attempt(request, run, _("会议已修改，已通知受邀人")):
            return redirect(_meeting_url(meeting))
    return render(request, "deliberation/meetings_form.html", _form_context(request, meeting.place, meeting))


@login_required
@require_POST
def meeting_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    meeting = sel.access_meeting_to(user, pk, DelibCap.RUN)
    attempt(
        request,
        lambda: services.meeting_cancel(actor=user, meeting=meeting, reason=request.POST.get("reason", "")),
        _("会议已取消，已通知受邀人"),
    )
    return redirect(_meeting_url(meeting))


# --- invitations ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def meeting_invite(request: HttpRequest, pk: int) -> HttpResponse:
    """Invite by place, by role or by household; inviting again adds only the new people."""
    user = _user(request)
    meeting = sel.access_meeting_to(user, pk, DelibCap.RUN)
    if request.method == "POST":
        post = request.POST
        how = post.get("by", "")
        added: list[int] = []

        def run() -> None:
            if how == "place":
                place = access_place(user, post.get("place", ""), DelibCap.RUN)
                added.append(len(services.invite_by_place(actor=user, meeting=meeting, place=place)))
            elif how == "role":
                place = access_place(user, post.get("place", "") or meeting.place.code, DelibCap.RUN)
                rows = services.invite_by_role(actor=user, meeting=meeting, role=post.get("role", ""), place=place)
                added.append(len(rows))
            elif how == "household":
                wanted = ints(post.getlist("household"))
                households = list(sel.invitable_households(user, meeting).filter(pk__in=wanted)[:500])
                rows = services.invite_by_households(actor=user, meeting=meeting, households=households)
                added.append(len(rows))
            else:
                raise ValidationError({"by": [_("请选择邀请方式")]})

        try:
            run()
        except ValidationError as exc:
            messages.error(request, messages_of(exc))
        except Http404:
            messages.error(request, _("找不到该地点"))
        else:
            messages.success(request, _("已邀请%(n)s人(已受邀的不重复邀请)") % {"n": added[0]})
        return redirect("deliberation:meeting_invite", pk=meeting.pk)
    q = request.GET.get("q", "").strip()
    households = sel.invitable_households(user, meeting).select_related("place")
    if q:
        households = households.filter(place__name__icontains=q)
    return render(
        request,
        "deliberation/meetings_invite.html",
        {
            "meeting": meeting,
            "crumbs": place_crumbs(user, meeting.place, DelibCap.VIEW, link_self=True),
            "places": list(
                Place.objects.filter(path__startswith=meeting.place_path)
                .exclude(kind=PlaceKind.HOUSEHOLD)
                .order_by("path")[:200]
            ),
            "roles": [(r.value, r.label) for r in sel.INVITE_ROLES],
            "households": list(households.order_by("place__path")[:100]),
            "q": q,
            "counts": sel.rsvp_counts(meeting),
            "invited": paginate(
                request, meeting.invitations.select_related("person").order_by("person__name", "id"), per_page=50
            ),
            "can_people": _can(request, PeopleCap.VIEW_PEOPLE, meeting.place_path),
        },
    )


# --- the door ------------------------------------------------------------------------------------


@login_required
@require_GET
def meeting_door(request: HttpRequest, pk: int) -> HttpResponse:
    """The door page: the QR code to scan, the live count, and the invited list to tick."""
    user = _user(request)
    meeting = sel.access_meeting_to(user, pk, DelibCap.CHECK_IN)
    url = request.build_absolute_uri(reverse("deliberation:meeting_checkin", kwargs={"token": meeting.checkin_token}))
    q = request.GET.get("q", "").strip()
    return render(
        request,
        "deliberation/meetings_door.html",
        {
            "meeting": meeting,
            "svg": segno.make(url, error="m").svg_inline(scale=10, dark="#1d2327", title=meeting.title),
            "url": url,
            "count": sel.door_count(meeting),
            "rows": sel.door_list(meeting, q),
            "q": q,
            "open": services.checkin_open(meeting, timezone.now()),
            "can_people": _can(request, PeopleCap.VIEW_PEOPLE, meeting.place_path),
        },
    )


@login_required
@require_GET
def meeting_door_count(request: HttpRequest, pk: int) -> HttpResponse:
    """The live count, polled by the door page."""
    meeting = sel.access_meeting_to(_user(request), pk, DelibCap.CHECK_IN)
    return render(request, "deliberation/meetings_count.html", {"meeting": meeting, "count": sel.door_count(meeting)})


@login_required
@require_POST
def meeting_tick(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff tick someone without a phone from the invited list."""
    user = _user(request)
    meeting = sel.access_meeting_to(user, pk, DelibCap.CHECK_IN)
    undo = request.POST.get("undo") == "1"

    def run() -> None:
        person = sel.door_person(request.POST.get("person"))
        if undo:
            services.attendance_untick(actor=user, meeting=meeting, person=person)
        else:
            services.attendance_tick(actor=user, meeting=meeting, person=person)

    attempt(request, run, _("已取消签到") if undo else _("已代签到"))
    query = urlencode({"q": request.POST.get("q", "")}) if request.POST.get("q") else ""
    return redirect(reverse("deliberation:meeting_door", kwargs={"pk": meeting.pk}) + (f"?{query}" if query else ""))


# --- minutes -------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def meeting_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    """Write the minutes, attach files, publish."""
    user = _user(request)
    meeting = sel.access_meeting_to(user, pk, DelibCap.RUN)
    if request.method == "POST":
        action = request.POST.get("action", "save")

        def run() -> None:
            if action == "attach":
                upload = request.FILES.get("file")
                if upload is None:
                    raise ValidationError({"file": [_("请选择文件")]})
                if upload.size and upload.size > services.MAX_ATTACHMENT_BYTES:
                    raise ValidationError({"file": [_("文件过大(最大 %(size)s MB)") % {"size": 10}]})
                services.minutes_attach(actor=user, meeting=meeting, name=upload.name or "", content=upload.read())
            elif action == "detach":
                found = meeting.attachments.filter(pk=int_or_none(request.POST.get("file")) or 0).first()
                if found is None:
                    raise ValidationError({"file": [_("找不到该附件")]})
                services.minutes_detach(actor=user, attachment=found)
            elif action == "publish":
                services.minutes_save(actor=user, meeting=meeting, text=request.POST.get("minutes", meeting.minutes))
                services.minutes_publish(actor=user, meeting=meeting)
            else:
                services.minutes_save(actor=user, meeting=meeting, text=request.POST.get("minutes", ""))

        done = {
            "attach": _("附件已上传"),
            "detach": _("附件已删除"),
            "publish": _("会议记录已公布，居民可以查看"),
        }.get(action, _("会议记录已保存"))
        if attempt(request, run, done):
            return redirect("deliberation:meeting_minutes", pk=meeting.pk)
        meeting.refresh_from_db()
    return render(
        request,
        "deliberation/meetings_minutes.html",
        {
            "meeting": meeting,
            "crumbs": place_crumbs(user, meeting.place, DelibCap.VIEW, link_self=True),
            "attachments": sel.attachments_of(meeting),
            "count": sel.door_count(meeting),
            "attendees": list(meeting.attendance.select_related("person").order_by("at", "id")[:500]),
            "can_people": _can(request, PeopleCap.VIEW_PEOPLE, meeting.place_path),
        },
    )


# --- decisions -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def decision_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a decision of the meeting; it may raise a need (whistled at once to a
    department if one is chosen) or a vote."""
    user = _user(request)
    meeting = sel.access_meeting_to(user, pk, DelibCap.RUN)
    candidates = list(sel.owner_candidates(user, meeting)[:300])
    topics = sel.agenda_topics(meeting)
    departments = list(sel.decision_departments(meeting))
    if request.method == "POST":
        post = request.POST
        made: list[int] = []

        def run() -> None:
            owner = next((p for p in candidates if p.pk == int_or_none(post.get("owner"))), None)
            if owner is None:
                raise ValidationError({"owner": [_("请选择责任人")]})
            try:
                due = dt.date.fromisoformat(post.get("due", ""))
            except ValueError as exc:
                raise ValidationError({"due": [_("请填写完成期限(YYYY-MM-DD)")]}) from exc
            decision = services.decision_record(
                actor=user,
                meeting=meeting,
                text=post.get("text", ""),
                owner=owner,
                due=due,
                topic=next((t for t in topics if t.pk == int_or_none(post.get("topic"))), None),
                spawn=post.get("spawn", ""),
                category_code=post.get("category") or None,
                department=next((d for d in departments if d.pk == int_or_none(post.get("department"))), None),
                electorate=post.get("electorate") or Electorate.HOUSEHOLDS,
                rule=post.get("rule") or VoteRule.MAJORITY,
            )
            made.append(decision.pk)

        if attempt(request, run, _("决定已记录"), refusals=True):
            return redirect("deliberation:decision", pk=made[0])
    return render(
        request,
        "deliberation/meetings_decision_form.html",
        {
            "meeting": meeting,
            "crumbs": place_crumbs(user, meeting.place, DelibCap.VIEW, link_self=True),
            "candidates": candidates,
            "topics": topics,
            "departments": departments,
            "categories": list(
                Category.objects.filter(Q(city=None) | Q(city__path=ancestor_path(meeting.place_path, PlaceKind.CITY)))
                .filter(active=True)
                .order_by("code")[:100]
            ),
            "electorates": Electorate.choices,
            "rules": VoteRule.choices,
            "can_people": _can(request, PeopleCap.VIEW_PEOPLE, meeting.place_path),
            "due": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
        },
    )


@login_required
@require_GET
def decision_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    decision = sel.access_decision(user, pk)
    return render(
        request,
        "deliberation/meetings_decision.html",
        {
            "decision": decision,
            "meeting": decision.meeting,
            "notes": list(decision.notes.all()),
            "may_report": sel.may_report(user, decision),
            "can_people": _can(request, PeopleCap.VIEW_PEOPLE, decision.place_path),
            "can_need": decision.need_id is not None and _can(request, NeedCap.VIEW_NEEDS, decision.place_path),
            "vote": vote_list(actor=user).filter(pk=decision.vote_id).first() if decision.vote_id else None,
            "statuses": DecisionStatus,
            "overdue": decision.status == DecisionStatus.OPEN and decision.due < timezone.localdate(),
        },
    )


@login_required
@require_POST
def decision_report(request: HttpRequest, pk: int) -> HttpResponse:
    """A note of progress; done or dropped (by the owner or the staff)."""
    user = _user(request)
    decision = sel.access_decision_to_report(user, pk)
    attempt(
        request,
        lambda: services.decision_report(
            actor=user, decision=decision, text=request.POST.get("text", ""), status=request.POST.get("status", "")
        ),
        _("进展已更新"),
    )
    return redirect("deliberation:decision", pk=decision.pk)


@login_required
@require_GET
def decisions_place(request: HttpRequest, code: str) -> HttpResponse:
    """A place's decisions, open ones first by due date."""
    user = _user(request)
    place = access_place(user, code, DelibCap.VIEW)
    status = request.GET.get("status", "")
    qs = sel.decision_list(actor=user, place=place)
    if status in DecisionStatus.values:
        qs = qs.filter(status=status)
    return render(
        request,
        "deliberation/meetings_decisions.html",
        {
            "place": place,
            "crumbs": place_crumbs(user, place, DelibCap.VIEW),
            "page": paginate(request, qs, per_page=PER_PAGE),
            "status": status,
            "statuses": DecisionStatus.choices,
            "today": timezone.localdate(),
            "can_people": _can(request, PeopleCap.VIEW_PEOPLE, place.path),
        },
    )


@login_required
@require_GET
def decisions_overdue(request: HttpRequest, code: str) -> HttpResponse:
    """The street's (or district's) page: decisions overdue across its communities, counted
    by community, then listed; ``?community=`` narrows the list to one."""
    user = _user(request)
    place = access_place(user, code, DelibCap.OVERSEE)
    today = timezone.localdate()
    groups = sel.overdue_by_community(actor=user, place=place, today=today)
    chosen = request.GET.get("community", "")
    rows = sel.overdue_decisions(actor=user, place=place, today=today)
    if chosen:
        rows = rows.filter(place_path__startswith=next((c.path for c, _n in groups if c.code == chosen), "-"))
    return render(
        request,
        "deliberation/meetings_overdue.html",
        {
            "place": place,
            "crumbs": place_crumbs(user, place, DelibCap.OVERSEE),
            "groups": groups,
            "total": sum(n for _c, n in groups),
            "page": paginate(request, rows, per_page=PER_PAGE),
            "chosen": chosen,
            "today": today,
        },
    )


urlpatterns: list[URLPattern] = [
    path("meetings/", meetings_mine, name="meetings_mine"),
    path("meetings/place/<str:code>/", meetings_place, name="meetings_place"),
    path("meetings/place/<str:code>/new/", meeting_new, name="meeting_new"),
    path("meetings/checkin/<str:token>/", meeting_checkin, name="meeting_checkin"),
    path("meetings/<int:pk>/", meeting_detail, name="meeting"),
    path("meetings/<int:pk>/edit/", meeting_edit, name="meeting_edit"),
    path("meetings/<int:pk>/cancel/", meeting_cancel, name="meeting_cancel"),
    path("meetings/<int:pk>/invite/", meeting_invite, name="meeting_invite"),
    path("meetings/<int:pk>/rsvp/", meeting_rsvp, name="meeting_rsvp"),
    path("meetings/<int:pk>/meeting.ics", meeting_ics, name="meeting_ics"),
    path("meetings/<int:pk>/door/", meeting_door, name="meeting_door"),
    path("meetings/<int:pk>/door/count/", meeting_door_count, name="meeting_door_count"),
    path("meetings/<int:pk>/door/tick/", meeting_tick, name="meeting_tick"),
    path("meetings/<int:pk>/minutes/", meeting_minutes, name="meeting_minutes"),
    path("meetings/<int:pk>/files/<int:file_id>/", minutes_file, name="minutes_file"),
    path("meetings/<int:pk>/decisions/new/", decision_new, name="decision_new"),
    path("decisions/<int:pk>/", decision_detail, name="decision"),
    path("decisions/<int:pk>/report/", decision_report, name="decision_report"),
    path("decisions/place/<str:code>/", decisions_place, name="decisions_place"),
    path("decisions/oversee/<str:code>/", decisions_overdue, name="decisions_overdue"),
]
