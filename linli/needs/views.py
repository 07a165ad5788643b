"""Pages of needs: report one (three taps from home), my needs with their timeline and
rating, the grid and community workbench, the departments' dispatches, the rating link sent
by SMS, and the QR code of a building's bulletin board."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from linli.core import ratelimit
from linli.core.access import SYSTEM, scope_for
from linli.core.errors import Conflict, error_response
from linli.core.models import IdempotencyRecord
from linli.core.pages import attempt, int_or_none, ints, messages_of, safe_next
from linli.core.pagination import paginate
from linli.needs import selectors, services, workflow
from linli.needs.capabilities import NeedCap
from linli.needs.emergency import emergency_for
from linli.needs.forms import NeedForm, RateForm
from linli.needs.models import (
    OPEN_STATUSES,
    Channel,
    DispatchStatus,
    Level,
    Need,
    RatingChannel,
    Status,
    Urgency,
    is_liaison,
    liaison_areas,
)
from linli.needs.photos import PhotoUpload
from linli.needs.rating_links import rating_link_open, rating_link_spend
from linli.people.capabilities import PeopleCap
from linli.people.models import Department
from linli.people.selectors import my_household
from linli.people.services import text_unmask
from linli.places.maps import community_sketch
from linli.places.models import Place, PlaceKind
from linli.places.selectors import access_place


def _home_place(user: Any) -> Place | None:
    household = my_household(actor=user)
    if household is not None:
        return household.place
    person = getattr(user, "person", None)
    return person.place if person is not None else None


# --- residents -------------------------------------------------------------------------------


@login_required
def need_new(request: HttpRequest) -> HttpResponse:
    """Report a need where the problem is: the reporter's flat or building, another building
    or courtyard of the community, or the community itself with a point on its sketch map.
    ``?place=CODE`` (from a building's QR code) preselects the place; otherwise the place of
    the last report, otherwise home."""
    user: Any = request.user
    scope = scope_for(request.user)
    if not scope.holds_anywhere(NeedCap.SUBMIT_NEED):
        raise PermissionDenied(_("您的角色不能反映诉求"))
    code = request.GET.get("place") or ""
    named = selectors.intake_place(request.user, code) if code else None
    if code and named is None:  # unknown, or outside where this person may report: the same 404
        raise Http404("place not found")
    home = _home_place(request.user)
    place = selectors.default_report_place(request.user, named=named, home=home)
    form = NeedForm(request.POST or None, request.FILES or None, initial={"place": place.code if place else ""})
    if request.method == "POST" and request.POST.get("place"):
        posted = selectors.intake_place(request.user, request.POST["place"])
        if posted is None:  # the picker offers none such: the form comes back at the default
            form.is_valid()
            form.add_error("place", _("请从列表中选择地点"))
        place = posted or place
    staff = place is not None and scope.allows(NeedCap.HANDLE_NEEDS, place.path)
    categories = list(selectors.category_list())
    picker = selectors.report_places(request.user, chosen=place, home=home)
    sketch = community_sketch(picker.community) if picker.community is not None else None
    page = {
        "form": form,
        "place": place,
        "picker": picker,
        "sketch": sketch,
        "categories": categories,
        "staff": staff,
        "point_messages": {
            "marked": _("已标出位置：%(name)s") % {"name": picker.community.name if picker.community else ""},
            "located": _("已取得您现在的位置"),
            "locating": _("正在取得位置…"),
            "failed": _("无法取得位置，请在列表中选择楼栋，或在图上点选"),
        },
    }
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        key = data.get("submission") or ""
        done = IdempotencyRecord.objects.filter(user=user, key=f"need-form:{key}").first() if key else None
        if done is not None and done.body:
            return redirect("needs:detail", pk=done.body["need"])
        verdict = ratelimit.hit_all(("need_intake_user", user.pk), ("need_intake_ip", ratelimit.client_ip(request)))
        if not verdict.allowed:  # the form comes back as it was, so nothing typed is lost
            form.add_error(None, _("提交太频繁，请稍后再试（约 %(s)s 秒）。") % {"s": verdict.retry_after})
            response = render(request, "needs/new.html", page, status=429)
            response["Retry-After"] = str(verdict.retry_after)
            return response
        reporter = None
        if staff and data.get("on_behalf_name"):
            reporter = services.Reporter(name=data["on_behalf_name"], phone=data.get("on_behalf_phone") or "")
        try:
            with transaction.atomic():
                point = place is not None and selectors.keeps_point(place) and data.get("lat") is not None
                need = services.need_create(
                    actor=request.user,
                    text=data["text"],
                    place=place,
                    lat=round(data["lat"], 6) if point else None,
                    lng=round(data["lng"], 6) if point else None,
                    category_code=data.get("category") or None,
                    urgency=data["urgency"],
                    channel=Channel.QR
                    if request.GET.get("via") == "qr"
                    else (Channel.STAFF if reporter else Channel.RESIDENT),
                    reporter=reporter,
                    photos=[PhotoUpload(name=f.name, content=f.read()) for f in data.get("photos") or []],
                )
                if key:
                    IdempotencyRecord.objects.create(
                        user=user,
                        key=f"need-form:{key}",
                        method="POST",
                        path=request.path,
                        fingerprint="",
                        status=302,
                        body={"need": need.pk},
                    )
        except ValidationError as exc:
            form.add_error(None, messages_of(exc))
            status = 400
        except IntegrityError:  # the same form sent twice at once: the first one won
            done = IdempotencyRecord.objects.filter(user=user, key=f"need-form:{key}").first()
            if done is not None and done.body:
                return redirect("needs:detail", pk=done.body["need"])
            raise
        else:
            messages.success(request, _("已提交，编号 %(pk)s。我们会尽快处理。") % {"pk": need.pk})
            return redirect("needs:detail", pk=need.pk)
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "needs/new.html",
        page,
        status=status,
    )


@login_required
def emergency_advice(request: HttpRequest) -> HttpResponse:
    """The safety advice for what is being typed on the report form (an htmx fragment,
    ``needs/_emergency.html``): empty unless the text describes an emergency."""
    text = (request.GET.get("text") or "")[: services.MAX_TEXT]
    found = emergency_for(text, selectors.category_list())
    return render(request, "needs/_emergency.html", {"emergency": found, "live": True})


@login_required
def my_needs(request: HttpRequest) -> HttpResponse:
    """The needs I reported, 请评价 on those waiting for my rating; ``?show=rate``: those only."""
    show = "rate" if request.GET.get("show") == "rate" else "all"
    found = (
        selectors.needs_to_rate(actor=request.user)
        if show == "rate"
        else selectors.need_list(actor=request.user, mine=True)
    )
    needs = selectors.with_rating_due(found, actor=request.user).order_by("-created_at", "-id")
    can_report = scope_for(request.user).holds_anywhere(NeedCap.SUBMIT_NEED)
    return render(
        request,
        "needs/mine.html",
        {"page": paginate(request, needs), "can_report": can_report, "show": show, "query": f"show={show}"},
    )


@login_required
def need_detail(request: HttpRequest, pk: int) -> HttpResponse:
    need = selectors.access_need(request.user, pk)
    need = selectors.need_detail_prefetch(Need.objects.filter(pk=need.pk)).select_related("category", "place", "grid")[
        0
    ]
    can_handle = selectors.can_handle(request.user, need)
    is_open = need.status in OPEN_STATUSES
    events = selectors.need_timeline_for(need=need, reader=request.user)
    to_rate = selectors.reporters_to_rate(need=need) if need.status == Status.RESOLVED else []
    duplicates: list[Need] = []
    submitted = next((e for e in events if e.kind == "submitted"), None)
    chosen = bool(need.category and submitted and submitted.data.get("chosen") == need.category.code)
    categories = list(selectors.category_list())
    emergency = None
    if is_open and selectors.is_reporter(request.user, need):
        emergency = emergency_for(need.text, categories, category=need.category, urgency=need.urgency)
    departments: list[Department] = []
    suggested: dict[int, str] = {}
    if can_handle and is_open:
        ids = [pk for pk, _rest in (submitted.data.get("duplicates", []) if submitted else [])]
        duplicates = list(selectors.need_list(actor=request.user, status=list(OPEN_STATUSES)).filter(pk__in=ids))
        departments = list(selectors.departments_in_reach(place_path=need.place_path))
        suggested = selectors.suggested_departments(need=need, departments=departments)
    verbs = workflow.verbs_for(request.user, need)
    working = {d.department_id for d in need.dispatches.all() if d.is_active}
    # the best suggestion is ticked, unless that department is already working on it
    ticked = next((pk for pk in suggested if pk not in working), None)
    rank = {pk: i for i, pk in enumerate(suggested)}
    departments.sort(key=lambda d: rank.get(d.pk, len(rank)))  # the suggested first, best first
    return render(
        request,
        "needs/detail.html",
        {
            "need": need,
            "shown_place": selectors.shown_places(request.user, [need])[need.pk],
            "can_unmask": scope_for(request.user).allows(PeopleCap.UNMASK, need.place_path),
            "events": events,
            "dispatches": list(need.dispatches.all()),
            "can_handle": can_handle,
            "verbs": verbs,
            "rate_form": RateForm(),
            "departments": [(d, suggested.get(d.pk, "")) for d in departments],
            "ticked": ticked,
            "transfer_targets": selectors.transfer_targets(actor=request.user, need=need)
            if "transfer" in verbs
            else [],
            "categories": categories,
            "urgencies": Urgency.choices,
            "emergency": emergency,
            "handler": selectors.handled_by(need) if is_open else None,
            # a reporter who has rated is told what happens next (reopened: who, by when)
            "next_step": selectors.reporter_of(request.user, need) is not None
            and ((is_open and need.reopen_count > 0) or (need.status == Status.RESOLVED and "rate" not in verbs)),
            "duplicates": duplicates,
            "category_chosen": chosen,
            "unrated_reporters": to_rate,
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def need_act(request: HttpRequest, pk: int, verb: str) -> HttpResponse:
    """One step of a need from its page: a verb of ``needs.workflow.NEED`` (the services check
    the state and the actor's capability again)."""
    transition = workflow.NEED.get(verb)
    if transition is None:
        raise Http404("unknown action")
    need = selectors.access_need(request.user, pk)
    user, post = request.user, request.POST

    def rate(**extra: Any) -> Any:
        return services.need_rate(
            actor=user,
            need=need,
            resolved=post.get("resolved") == "1",
            satisfaction=post.get("satisfaction", ""),
            comment=post.get("comment", ""),
            **extra,
        )

    def transfer() -> Any:
        target = access_place(user, post.get("place", ""), NeedCap.HANDLE_NEEDS)
        return services.need_transfer(actor=user, need=need, place=target, note=post.get("note", ""))

    steps: dict[str, Callable[[], Any]] = {
        "accept": lambda: services.need_accept(actor=user, need=need),
        "categorise": lambda: services.need_categorise(actor=user, need=need, category_code=post.get("category", "")),
        "urgency": lambda: services.need_set_urgency(actor=user, need=need, urgency=post.get("urgency", "")),
        "whistle": lambda: services.need_whistle(
            actor=user,
            need=need,
            departments=list(
                Department.objects.select_related("place").filter(pk__in=ints(post.getlist("department")))
            ),
            note=post.get("note", ""),
        ),
        "resolve": lambda: services.need_resolve(actor=user, need=need, result=post.get("result", "")),
        "transfer": transfer,
        "merge": lambda: services.need_merge(
            actor=user, duplicate=need, into=selectors.access_need(user, post.get("into", ""))
        ),
        "rate": rate,
        "phone-rate": lambda: rate(reporter=int_or_none(post.get("reporter")), channel=RatingChannel.PHONE),
    }
    if verb == "transfer" and post.get("place", "") not in dict(selectors.transfer_targets(actor=user, need=need)):
        # unknown, outside the actor's places or not a place to transfer to: the same answer
        return error_response(request, 400, _("转办地点不在可选范围内，请从列表中选择。"))
    attempt(request, steps[verb], str(transition.done))
    target_pk = need.pk
    if verb == "merge" and Need.objects.filter(pk=need.pk, status=Status.MERGED).exists():
        target_pk = Need.objects.get(pk=need.pk).merged_into_id or need.pk
    return redirect("needs:detail", pk=target_pk)


# --- the grid and community workbench -------------------------------------------------------------


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """The queue of needs to handle, by state, category, grid and due time, with bulk
    accept and bulk whistle."""
    scope = scope_for(request.user)
    if not scope.holds_anywhere(NeedCap.VIEW_NEEDS):
        raise PermissionDenied(_("您的角色没有诉求工作台"))
    params = request.GET
    status = params.get("status", "open")
    statuses: list[str] | None = (
        [str(s) for s in OPEN_STATUSES] if status == "open" else ([status] if status in Status.values else None)
    )
    grid = (
        Place.objects.visible(request.user, NeedCap.VIEW_NEEDS).filter(code=params["grid"], kind=PlaceKind.GRID).first()
        if params.get("grid")
        else None
    )
    due = params.get("due", "")
    due_before = None
    if due == "today":
        due_before = timezone.localtime().replace(hour=23, minute=59, second=59)
    elif due == "3d":
        due_before = timezone.now() + dt.timedelta(days=3)
    needs = selectors.need_list(
        actor=request.user,
        status=statuses,
        category=params.get("category") or None,
        place=grid,
        due_before=due_before,
        overdue=due == "overdue",
        q=params.get("q") or None,
        level=params.get("level") or None,
    )
    needs = selectors.with_rating_due(needs, actor=request.user).order_by("resolution_due", "id")
    if request.method == "POST":
        return _bulk(request)
    grids = Place.objects.visible(request.user, NeedCap.VIEW_NEEDS).filter(kind=PlaceKind.GRID).order_by("path")[:200]
    return render(
        request,
        "needs/queue.html",
        {
            "page": paginate(request, needs),
            "statuses": Status.choices,
            "levels": Level.choices,
            "status": status,
            "categories": list(selectors.category_list()),
            "grids": list(grids),
            "params": params,
            "departments": list(selectors.whistle_departments(actor=request.user)[:200]),
            "now": timezone.now(),
        },
    )


def _bulk(request: HttpRequest) -> HttpResponse:
    ids = ints(request.POST.getlist("need"))
    verb = request.POST.get("bulk")
    done, failed = 0, []
    departments = list(
        Department.objects.select_related("place").filter(pk__in=ints(request.POST.getlist("department")))
    )
    for need in selectors.need_list(actor=request.user).filter(pk__in=ids):
        try:
            if verb == "accept":
                services.need_accept(actor=request.user, need=need)
            elif verb == "whistle":
                services.need_whistle(actor=request.user, need=need, departments=departments)
            else:
                raise Http404("unknown bulk action")
            done += 1
        except (ValidationError, Conflict, PermissionDenied) as exc:
            failed.append(f"#{need.pk}: {messages_of(exc) if isinstance(exc, ValidationError) else exc}")
    if done:
        messages.success(request, _("已处理 %(n)s 件") % {"n": done})
    for line in failed[:10]:
        messages.error(request, line)
    return redirect(request.get_full_path())


# --- departments ---------------------------------------------------------------------------------------


#: The lists of the dispatch page (``?show=``): the filters of ``selectors.dispatch_list``.
_DISPATCH_LISTS: dict[str, dict[str, Any]] = {
    "active": {"active": True},
    "checkin": {"status": DispatchStatus.WHISTLED},
    "overdue": {"overdue": True},
    "returns": {"status": DispatchStatus.RETURN_REQUESTED},
    "all": {},
}


@login_required
def dispatches(request: HttpRequest) -> HttpResponse:
    """What has been whistled to my department: check in, resolve, or ask to return it."""
    scope = scope_for(request.user)
    if not (liaison_areas(request.user) or scope.holds_anywhere(NeedCap.VIEW_NEEDS)):
        raise PermissionDenied(_("您不是部门联络人"))
    show = request.GET.get("show", "active")
    if show not in _DISPATCH_LISTS:
        show = "active"
    now = timezone.now()
    page = paginate(request, selectors.dispatch_list(actor=request.user, now=now, **_DISPATCH_LISTS[show]))
    shown = selectors.shown_places(request.user, [d.need for d in page])
    for dispatch in page:
        dispatch.need.shown_place = shown[dispatch.need_id]
        # a department opens its job card; the community the need's own page
        dispatch.card = scope.everything or is_liaison(request.user, dispatch.department_id, dispatch.need.place_path)
    return render(
        request,
        "needs/dispatches.html",
        {"page": page, "show": show, "query": f"show={show}", "now": now},
    )


@login_required
def dispatch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A dispatch's job card 派单: what the department needs to do the job (the building, the
    community and its office phone, the photos, the whistle's note) and its buttons."""
    card = selectors.dispatch_card(actor=request.user, dispatch_id=pk)
    need = card.dispatch.need
    scope = scope_for(request.user)
    return render(
        request,
        "needs/dispatch.html",
        {
            "card": card,
            "d": card.dispatch,
            "need": need,
            "can_open_need": scope.allows(NeedCap.VIEW_NEEDS, need.place_path),
            "can_unmask": scope.allows(PeopleCap.UNMASK, need.place_path),
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def dispatch_act(request: HttpRequest, pk: int, verb: str) -> HttpResponse:
    """One step of a dispatch: a verb of ``needs.workflow.DISPATCH``."""
    transition = workflow.DISPATCH.get(verb)
    if transition is None:
        raise Http404("unknown action")
    dispatch = selectors.access_dispatch(request.user, pk)
    user, post = request.user, request.POST
    steps: dict[str, Callable[[], Any]] = {
        "checkin": lambda: services.dispatch_checkin(actor=user, dispatch=dispatch),
        "resolve": lambda: services.dispatch_resolve(actor=user, dispatch=dispatch, result=post.get("result", "")),
        "return": lambda: services.dispatch_return(actor=user, dispatch=dispatch, reason=post.get("reason", "")),
        "approve": lambda: services.dispatch_return_decide(
            actor=user, dispatch=dispatch, approve=True, note=post.get("note", "")
        ),
        "reject": lambda: services.dispatch_return_decide(
            actor=user, dispatch=dispatch, approve=False, note=post.get("note", "")
        ),
    }
    attempt(request, steps[verb], str(transition.done))
    return redirect(safe_next(request, reverse("needs:dispatches")))


# --- the rating link (no sign-in) and the building QR code ------------------------------------------------


def rate_by_link(request: HttpRequest, token: str) -> HttpResponse:
    """The page a rating SMS links to: the reporter rates without signing in. The link is
    single-use and expires (``rating_links``); a forged, spent or stale one is a 404 that
    says nothing of any need. Once rated, the page says what happens next: closed, or
    reopened (who handles it now, and by when), or waiting for the other reporters."""
    link = rating_link_open(token)
    if link is None:
        return error_response(request, 404, _("该评价链接无效、已使用或已过期。如需评价，请联系您的网格员。"))
    reporter = link.reporter
    need = reporter.need
    form = RateForm(request.POST or None)
    rated = reporter.ratings.filter(round=need.reopen_count + 1).exists()
    status = 200
    if request.method == "POST" and not rated and need.status == Status.RESOLVED:
        if form.is_valid():
            data = form.cleaned_data

            def rate_and_spend() -> None:
                with transaction.atomic():
                    if rating_link_open(token, lock=True) is None:  # spent by a request beside us
                        raise Conflict(_("该评价链接已使用。"))
                    services.need_rate(
                        # the reporter acts, through the link; the system stands in for one
                        # known by a phone number only
                        actor=reporter.user or SYSTEM,
                        need=need,
                        reporter=reporter,
                        resolved=data["resolved"],
                        satisfaction=data["satisfaction"],
                        comment=data.get("comment", ""),
                        channel=RatingChannel.SMS,
                    )
                    rating_link_spend(link)

            if attempt(request, rate_and_spend, _("谢谢您的评价")):
                need.refresh_from_db()
                return render(request, "needs/rate_link.html", _rate_link_context(need, rated=True))
        status = 400
    return render(
        request,
        "needs/rate_link.html",
        {**_rate_link_context(need, rated=rated), "form": form},
        status=status,
    )


def _rate_link_context(need: Need, *, rated: bool) -> dict[str, Any]:
    return {
        "need": need,
        "rated": rated,
        "open": need.status == Status.RESOLVED and not rated,
        "handler": selectors.handled_by(need) if need.is_open else None,
    }


@login_required
@require_POST
def need_unmask(request: HttpRequest, pk: int) -> HttpResponse:
    """The original text of a need, with the numbers a resident typed into it, for staff who
    may unmask there and give a reason (an htmx fragment; audited)."""
    need = selectors.access_need(request.user, pk)
    try:
        texts = text_unmask(
            actor=request.user,
            target=need,
            place=need.place,
            texts={"text": need.text, "result": need.result},
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as exc:
        return render(request, "needs/_unmasked.html", {"need": need, "error": messages_of(exc)}, status=400)
    response = render(request, "needs/_unmasked.html", {"need": need, "texts": texts})
    response.linli_unmasked = True  # type: ignore[attr-defined]
    return response


@login_required
def building_qr(request: HttpRequest, code: str) -> HttpResponse:
    """The QR code for a building's bulletin board: it opens the report form with the
    building filled in. ``?format=svg`` or ``?format=pdf`` gives the bare code for printing."""
    place = access_place(request.user, code, NeedCap.VIEW_NEEDS)
    if place.kind not in (PlaceKind.BUILDING, PlaceKind.COURTYARD, PlaceKind.GRID, PlaceKind.COMMUNITY):
        raise Http404("QR codes are for buildings, courtyards, grids and communities")
    url = request.build_absolute_uri(reverse("needs:new") + f"?place={place.code}&via=qr")
    qr = segno.make(url, error="m")
    svg = qr.svg_inline(scale=8, dark="#1d2327", title=place.name)
    if request.GET.get("format") == "pdf":
        import io

        out = io.BytesIO()
        qr.save(out, kind="pdf", scale=12, border=4)
        response = HttpResponse(out.getvalue(), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="linli-qr-{place.code}.pdf"'
        return response
    if request.GET.get("format") == "svg":
        response = HttpResponse(svg, content_type="image/svg+xml")
        response["Content-Disposition"] = f'inline; filename="linli-qr-{place.code}.svg"'
        return response
    return render(request, "needs/qr.html", {"place": place, "svg": svg, "url": url})


@login_required
def need_photo(request: HttpRequest, pk: int, photo_id: int) -> HttpResponseBase:
    """A photo of a need, for whoever may see the need (photos are not public media)."""
    from django.http import FileResponse

    need = selectors.access_need(request.user, pk)
    photo = need.photos.filter(pk=photo_id).first()
    if photo is None:
        raise Http404("photo not found")
    content_type = "image/png" if photo.image.name.endswith(".png") else "image/jpeg"
    response = FileResponse(photo.image.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response
