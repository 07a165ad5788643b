"""Pages of coverage and care: my households (a carer), the coverage of a place (by child
place, by carer, by building), a household's visits and carer, care assignments and handovers,
visit policies, night rounds (夜访) and the opinions heard on the doorstep.

Every read goes through the visits selectors; every object named in a URL is fetched through
an ``access_*`` helper (404 outside the actor's scope); every POST is one service call followed
by a redirect with a message, and a refusal of the service is that message, never a 500.
Visit notes are shown only to those who may read them (the carer and the staff with
``view_visits``); a street official sees counts and households but no notes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linli.core.access import Actor, Role, get_or_404, scope_for
from linli.core.errors import error_response
from linli.core.imports import Queued, import_or_queue
from linli.core.pages import attempt, int_or_none, ints, messages_of, safe_next
from linli.core.pagination import paginate
from linli.core.sheets import XLSX_TYPE, ImportFailed
from linli.people.capabilities import PeopleCap
from linli.people.models import Household, Person
from linli.people.selectors import access_household, membership_list, person_list, sees_sensitive
from linli.places.models import Place, PlaceKind
from linli.places.selectors import access_place, community_of, place_ancestors, place_list
from linli.visits import selectors, services
from linli.visits.capabilities import VisitCap
from linli.visits.models import POLICY_TARGETS, OpinionStatus
from linli.visits.selectors import CoverageRow, CoverageSummary

#: The periods the coverage rate is shown over (days); 30 by default.
PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
PER_PAGE = 30
#: Above this many households the building view asks to drill down first (one row per household).
BUILDING_VIEW_MAX = 5000
#: Kinds of place a night round can be made for (``services.night_round_create``).
NIGHT_KINDS = (PlaceKind.GRID, PlaceKind.BUILDING, PlaceKind.COURTYARD, PlaceKind.COMMUNITY)
#: The lists of the coverage page: which statuses each shows.
LISTS: dict[str, tuple[str, ...]] = {
    "attention": ("never", "overdue", "due_soon"),
    "overdue": ("overdue",),
    "never": ("never",),
    "due_soon": ("due_soon",),
    "ok": ("ok", "none"),
    "all": ("never", "overdue", "due_soon", "ok", "none"),
}

#: An assignments file larger than this is refused before it is read.
MAX_IMPORT_BYTES = 5 * 1024 * 1024
#: At most this many row errors are shown as messages; the rest are counted.
MAX_ROW_MESSAGES = 20


# --- shared -------------------------------------------------------------------------------------


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    """Redirect to the page the form came from (``next``, same site only), else ``fallback``."""
    return redirect(safe_next(request, fallback))


def _require(actor: Actor, action: str, path_: str) -> None:
    if not scope_for(actor).allows(action, path_):
        raise PermissionDenied(_("您没有此项权限"))


def _days(value: str | None) -> int:
    days = int_or_none(value)
    return days if days in PERIODS else DEFAULT_PERIOD


def _query(request: HttpRequest, **changes: Any) -> str:
    """The page's query string without ``page`` (for the pager and the switches)."""
    params = {k: v for k, v in request.GET.items() if k != "page"}
    params.update({k: v for k, v in changes.items() if v is not None})
    return urlencode({k: v for k, v in params.items() if v not in ("", None)})


def _crumbs(actor: Actor, place: Place, action: str) -> list[tuple[Place, bool]]:
    scope = scope_for(actor)
    return [(a, a.pk != place.pk and scope.allows(action, a.path)) for a in place_ancestors(place)]


def _is_carer(actor: Actor, household: Household) -> bool:
    person_id = scope_for(actor).person_id
    if person_id is None:
        return False
    return selectors.assignment_list(actor=actor, carer_id=person_id).filter(household=household).exists()


def _access_household(actor: Actor, pk: int | str) -> tuple[Household, bool]:
    """The household if the actor may see its visits or coverage: its carer, or staff with
    ``view_visits``/``view_coverage`` at its place; 404 otherwise. Also says whether the
    actor is its carer."""
    household = access_household(actor, pk)
    scope = scope_for(actor)
    path_ = household.place.path
    carer = _is_carer(actor, household)
    if carer or scope.allows(VisitCap.VIEW_VISITS, path_) or scope.allows(VisitCap.VIEW_COVERAGE, path_):
        return household, carer
    raise Http404("household not found")


class _CoverageRows:
    """Coverage rows fetched one page at a time (LIMIT/OFFSET), the count known beforehand
    from the summary: the paginator never loads the whole list."""

    def __init__(self, total: int, fetch: Callable[[int, int], list[CoverageRow]]) -> None:
        self.total = total
        self.fetch = fetch

    def count(self) -> int:
        return self.total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, key: slice) -> list[CoverageRow]:
        start = key.start or 0
        stop = min(key.stop if key.stop is not None else self.total, self.total)
        return self.fetch(stop - start, start) if stop > start else []


def _total(place: Place, rows: Sequence[CoverageSummary]) -> CoverageSummary:
    def add(name: str) -> int:
        return sum(getattr(r, name) for r in rows)

    return CoverageSummary(
        key=place.path,
        place=place,
        carer_name="",
        households=add("households"),
        never=add("never"),
        overdue=add("overdue"),
        due_soon=add("due_soon"),
        ok=add("ok"),
        vulnerable=add("vulnerable"),
        vulnerable_overdue=add("vulnerable_overdue"),
        visited_in_period=add("visited_in_period"),
    )


def _count(total: CoverageSummary, statuses: tuple[str, ...]) -> int:
    counts = {
        "never": total.never,
        "overdue": total.overdue,
        "due_soon": total.due_soon,
        "ok": total.ok,  # ok and none together
        "none": 0,
    }
    return sum(counts[s] for s in statuses)


@dataclass
class Building:
    """One row of the building view: a building (or courtyard) and its households' cells."""

    path: str
    name: str
    cells: list[CoverageRow] = field(default_factory=list)

    @property
    def red(self) -> int:
        return sum(1 for c in self.cells if c.status in ("overdue", "never"))


def _buildings(rows: Sequence[CoverageRow]) -> list[Building]:
    found: dict[str, Building] = {}
    for row in sorted(rows, key=lambda r: r.path):
        key = row.path[:-4]
        if key not in found:
            found[key] = Building(path=key, name=row.building or "—")
        found[key].cells.append(row)
    return list(found.values())


# --- my households (a carer) --------------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """A carer's households, the most urgent first; staff go to the coverage of their place."""
    user: Any = request.user
    scope = scope_for(user)
    coverage_paths = scope.paths(VisitCap.VIEW_COVERAGE)
    is_carer = bool(scope.roles() & services.CARER_ROLES) and scope.person_id is not None
    if not (scope.everything or coverage_paths or is_carer):
        raise PermissionDenied(_("您的角色没有走访任务"))
    places = (
        list(Place.objects.filter(depth=1).order_by("path")[:20])
        if scope.everything
        else list(Place.objects.filter(path__in=coverage_paths).order_by("depth", "path")[:20])
    )
    if not is_carer and len(places) == 1:
        return redirect("visits:coverage", code=places[0].code)
    rows: list[CoverageRow] = []
    if is_carer:
        rows = selectors.coverage_rows(actor=user, carer_id=scope.person_id)
    return render(
        request,
        "visits/home.html",
        {
            "places": places,
            "is_carer": is_carer,
            "page": paginate(request, rows, per_page=PER_PAGE),
            "query": _query(request),
            "log_url": reverse("visits:log"),
            "late": sum(1 for r in rows if r.status in ("never", "overdue")),
            "can_sensitive": all(sees_sensitive(user, r.path) for r in rows),
            "can_people": all(scope.allows(PeopleCap.VIEW_PEOPLE, r.path) for r in rows),
        },
    )


# --- coverage of a place -------------------------------------------------------------------------


@login_required
@require_GET
def coverage(request: HttpRequest, code: str) -> HttpResponse:
    """Coverage of a place: per child place, per carer, the households to visit (vulnerable
    first) or a building-by-building view (``?view=buildings``), over ``?days=7|30|90``."""
    user: Any = request.user
    place = access_place(user, code, VisitCap.VIEW_COVERAGE)
    if place.kind == PlaceKind.HOUSEHOLD:
        household = Household.objects.filter(place=place).first()
        if household is None:
            raise Http404("household not found")
        return redirect("visits:household", pk=household.pk)
    scope = scope_for(user)
    days = _days(request.GET.get("days"))
    now = timezone.now()
    children = selectors.coverage_summary(actor=user, place=place, by="child", now=now, period_days=days)
    total = _total(place, children)
    carers = selectors.coverage_summary(actor=user, place=place, by="carer", now=now, period_days=days)
    view = "buildings" if request.GET.get("view") == "buildings" else "list"
    shown = request.GET.get("status", "attention")
    if shown not in LISTS:
        shown = "attention"
    too_many = False
    if view == "buildings":
        too_many = total.households > BUILDING_VIEW_MAX
        rows = [] if too_many else selectors.coverage_rows(actor=user, place=place, now=now, period_days=days)
        page = paginate(request, _buildings(rows), per_page=20)
    else:
        statuses = LISTS[shown]
        status = statuses[0] if len(statuses) == 1 else None
        # ok and none are the tail of the ordered list: skip the households to visit
        skip = _count(total, LISTS["attention"]) if shown == "ok" else 0

        def fetch(limit: int, offset: int) -> list[CoverageRow]:
            return selectors.coverage_rows(
                actor=user,
                place=place,
                now=now,
                period_days=days,
                status=None if shown == "ok" else status,
                limit=limit,
                offset=skip + offset,
            )

        page = paginate(request, _CoverageRows(_count(total, statuses), fetch), per_page=PER_PAGE)
    return render(
        request,
        "visits/coverage.html",
        {
            "place": place,
            "crumbs": _crumbs(user, place, VisitCap.VIEW_COVERAGE),
            "days": days,
            "periods": PERIODS,
            "total": total,
            "children": [c for c in children if c.place is not None],
            "carers": carers,
            "view": view,
            "shown": shown,
            "lists": [
                ("attention", _("待走访")),
                ("overdue", _("已超期")),
                ("never", _("从未走访")),
                ("due_soon", _("即将到期")),
                ("ok", _("按期")),
                ("all", _("全部")),
            ],
            "page": page,
            "too_many": too_many,
            "query": _query(request),
            "can_people": scope.allows(PeopleCap.VIEW_PEOPLE, place.path),
            "can_sensitive": sees_sensitive(user, place.path),
            "can_care": scope.allows(VisitCap.MANAGE_CARE, place.path),
            "can_opinions": scope.allows(VisitCap.VIEW_VISITS, place.path),
        },
    )


# --- one household ------------------------------------------------------------------------------


@login_required
@require_GET
def household_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A household's coverage, carer, visits (notes only for those who may read them) and
    assignment history; out-by-day and the carer are set here."""
    user: Any = request.user
    household, is_carer = _access_household(user, pk)
    scope = scope_for(user)
    path_ = household.place.path
    can_manage = scope.allows(VisitCap.MANAGE_CARE, path_)
    return render(
        request,
        "visits/household.html",
        {
            "household": household,
            "crumbs": _crumbs(user, household.place, VisitCap.VIEW_COVERAGE),
            "row": selectors.household_coverage(actor=user, household=household),
            "page": paginate(request, selectors.visit_list(actor=user, household=household), per_page=PER_PAGE),
            "query": _query(request),
            "can_notes": is_carer or scope.allows(VisitCap.VIEW_VISITS, path_),
            "can_people": scope.allows(PeopleCap.VIEW_PEOPLE, path_),
            "can_sensitive": sees_sensitive(user, path_),
            "can_manage": can_manage,
            "carers": services.carers_of(household.place) if can_manage else [],
            "history": list(
                selectors.assignment_list(actor=user, place=household.place, active=False).filter(household=household)[
                    :20
                ]
            ),
            "person_id": scope.person_id,
            "log_url": reverse("visits:log") if services.may_log_visit(user, household) else "",
        },
    )


@login_required
@require_POST
def household_out_by_day(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    household, _carer = _access_household(user, pk)
    _require(user, VisitCap.MANAGE_CARE, household.place.path)
    out = request.POST.get("out_by_day") == "1"
    attempt(
        request,
        lambda: services.household_care_set(actor=user, household=household, out_by_day=out),
        _("已标记为白天不在家，需夜访") if out else _("已取消白天不在家标记"),
    )
    return redirect("visits:household", pk=household.pk)


@login_required
@require_POST
def household_assign(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    household, _carer = _access_household(user, pk)
    _require(user, VisitCap.MANAGE_CARE, household.place.path)
    carer_id = int_or_none(request.POST.get("carer"))
    carer = next((p for p in services.carers_of(household.place) if p.pk == carer_id), None)
    if carer is None:
        messages.error(request, _("请选择本网格的党员中心户或楼栋长"))
    else:
        attempt(
            request,
            lambda: services.care_assign(
                actor=user, household=household, carer=carer, reason=request.POST.get("reason", "")
            ),
            _("已安排包保人"),
        )
    return redirect("visits:household", pk=household.pk)


# --- care assignments ---------------------------------------------------------------------------


@login_required
@require_GET
def care(request: HttpRequest, code: str) -> HttpResponse:
    """The care assignments of a place, the carers with their loads, and handovers."""
    user: Any = request.user
    place = access_place(user, code, VisitCap.VIEW_COVERAGE)
    scope = scope_for(user)
    carer_id = int_or_none(request.GET.get("carer"))
    assignments = selectors.assignment_list(actor=user, place=place, carer_id=carer_id)
    loads = {
        row["carer_id"]: row
        for row in selectors.assignment_list(actor=user, place=place)
        .order_by()
        .values("carer_id", "carer__name")
        .annotate(n=Count("id"))
    }
    can_manage = scope.allows(VisitCap.MANAGE_CARE, place.path)
    carers = services.carers_of(place) if can_manage else []
    table = [(p.pk, p.name, loads.get(p.pk, {}).get("n", 0)) for p in carers]
    known = {p.pk for p in carers}
    table += [(k, v["carer__name"], v["n"]) for k, v in loads.items() if k not in known]
    table.sort(key=lambda r: (-r[2], r[1]))
    return render(
        request,
        "visits/care.html",
        {
            "place": place,
            "crumbs": _crumbs(user, place, VisitCap.VIEW_COVERAGE),
            "page": paginate(request, assignments, per_page=PER_PAGE),
            "query": _query(request),
            "carer_id": carer_id,
            "loads": table,
            "carers": carers,
            "can_manage": can_manage,
            "can_unmask": scope.allows(PeopleCap.UNMASK, place.path),
            "can_people": scope.allows(PeopleCap.VIEW_PEOPLE, place.path),
            "can_opinions": scope.allows(VisitCap.VIEW_VISITS, place.path),
        },
    )


@login_required
@require_POST
def care_import(request: HttpRequest, code: str) -> HttpResponse:
    """Care assignments from an XLSX or CSV upload (住户编码 + 包保人手机 or 包保人编号): every row
    is checked first and nothing is written if any is bad; the row errors come back as messages."""
    user: Any = request.user
    place = access_place(user, code, VisitCap.VIEW_COVERAGE)
    _require(user, VisitCap.MANAGE_CARE, place.path)
    back = reverse("visits:care", kwargs={"code": place.code})
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择 XLSX 或 CSV 文件"))
        return redirect(back)
    if upload.size and upload.size > MAX_IMPORT_BYTES:
        messages.error(request, _("文件过大(最大5MB)"))
        return redirect(back)
    try:
        done = import_or_queue(
            actor=user,
            kind="care",
            data=upload.read(),
            filename=upload.name or "",
            params={"place": place.code, "back": back},
        )
    except ImportFailed as exc:
        for row in exc.row_errors[:MAX_ROW_MESSAGES]:
            messages.error(request, str(row))
        if len(exc.row_errors) > MAX_ROW_MESSAGES:
            messages.error(request, _("另有 %(n)s 行有错误") % {"n": len(exc.row_errors) - MAX_ROW_MESSAGES})
        return redirect(back)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, messages_of(exc) if isinstance(exc, ValidationError) else str(exc))
        return redirect(back)
    if isinstance(done, Queued):  # a large file: the worker imports it, with a progress page
        return redirect("import_job", pk=done.job.pk)
    messages.success(
        request,
        _("已导入：新安排 %(created)s 户，改派 %(updated)s 户，未变 %(unchanged)s 户")
        % {"created": done["created"], "updated": done["updated"], "unchanged": done["unchanged"]},
    )
    return redirect(back)


@login_required
@require_GET
def care_export(request: HttpRequest, code: str) -> HttpResponse:
    """The place's current care assignments as XLSX, in the import's columns (audited)."""
    from linli.visits.care_io import care_export as export_file

    user: Any = request.user
    place = access_place(user, code, VisitCap.VIEW_COVERAGE)
    _require(user, VisitCap.VIEW_COVERAGE, place.path)
    full = request.GET.get("full") == "1"
    try:
        data = export_file(actor=user, place=place, full=full, reason=request.GET.get("reason", ""))
    except ValidationError as exc:
        return error_response(request, 400, messages_of(exc))
    response = HttpResponse(data, content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="linli-care-{place.code}.xlsx"'
    response.linli_unmasked = full  # type: ignore[attr-defined]
    return response


@login_required
@require_POST
def care_end(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    assignment = get_or_404(selectors.assignment_list(actor=user), pk, "assignment")
    _require(user, VisitCap.MANAGE_CARE, assignment.place_path)
    attempt(
        request,
        lambda: services.care_end(actor=user, assignment=assignment, reason=request.POST.get("reason", "")),
        _("已结束包保"),
    )
    return _back(request, reverse("visits:household", kwargs={"pk": assignment.household_id}))


@login_required
@require_POST
def care_handover(request: HttpRequest, code: str) -> HttpResponse:
    """All of a carer's households to another carer (or to nobody): all or nothing."""
    user: Any = request.user
    place = access_place(user, code, VisitCap.VIEW_COVERAGE)
    _require(user, VisitCap.MANAGE_CARE, place.path)
    back = reverse("visits:care", kwargs={"code": place.code})
    leaving_id, to_id = int_or_none(request.POST.get("carer")), int_or_none(request.POST.get("to"))
    row = selectors.assignment_list(actor=user, place=place, carer_id=leaving_id).first() if leaving_id else None
    if row is None:
        messages.error(request, _("请选择要交接的包保人"))
        return redirect(back)
    to: Person | None = None
    if to_id is not None:
        to = next((p for p in services.carers_of(place) if p.pk == to_id), None)
        if to is None or to.pk == row.carer_id:
            messages.error(request, _("请选择另一位本网格的包保人"))
            return redirect(back)
    moved: list[int] = []

    def run() -> None:
        moved.append(services.carer_handover(actor=user, carer=row.carer, to=to, reason=request.POST.get("reason", "")))

    if attempt(request, run, _("已交接"), refusals=True):
        messages.info(request, _("共 %(n)s 户") % {"n": moved[0]})
    return redirect(back)


# --- visit policies -----------------------------------------------------------------------------


@login_required
@require_GET
def policies(request: HttpRequest, code: str) -> HttpResponse:
    """The visit policies a community follows (its own, or the defaults); its secretary edits
    them. Above a community: the communities to choose from."""
    user: Any = request.user
    place = access_place(user, code, VisitCap.VIEW_COVERAGE)
    try:
        community = community_of(place)
    except ValidationError:
        communities = (
            place_list(actor=user, action=VisitCap.VIEW_COVERAGE, kind=PlaceKind.COMMUNITY)
            .filter(path__startswith=place.path)
            .order_by("path")
        )
        return render(
            request,
            "visits/policies.html",
            {"place": place, "community": None, "page": paginate(request, communities), "query": _query(request)},
        )
    rows = {t: (d, n, own) for t, d, n, own in selectors.policy_list(community=community)}
    table = [(t, label, *rows.get(t, (None, False, False))) for t, label in POLICY_TARGETS]
    return render(
        request,
        "visits/policies.html",
        {
            "place": place,
            "community": community,
            "crumbs": _crumbs(user, community, VisitCap.VIEW_COVERAGE),
            "table": table,
            "own": any(own for _d, _n, own in rows.values()),
            "can_edit": scope_for(user).allows(VisitCap.MANAGE_VISIT_POLICY, community.path),
            "can_opinions": scope_for(user).allows(VisitCap.VIEW_VISITS, community.path),
        },
    )


@login_required
@require_POST
def policy_set(request: HttpRequest, code: str) -> HttpResponse:
    user: Any = request.user
    place = access_place(user, code, VisitCap.VIEW_COVERAGE)
    try:
        community = community_of(place)
    except ValidationError as exc:
        messages.error(request, messages_of(exc))
        return redirect("visits:policies", code=place.code)
    _require(user, VisitCap.MANAGE_VISIT_POLICY, community.path)
    post = request.POST
    attempt(
        request,
        lambda: services.policy_set(
            actor=user,
            community=community,
            target=post.get("target", ""),
            interval_days=post.get("interval_days", ""),  # type: ignore[arg-type]  # the service parses it
            night_only=post.get("night_only") == "1",
            active=post.get("active", "1") == "1",
        ),
        _("走访频次已保存"),
    )
    return redirect("visits:policies", code=community.code)


# --- night rounds -------------------------------------------------------------------------------


def _round_candidates(actor: Actor, place: Place) -> list[Person]:
    """Who may go on a night round of a place: its carers and the staff placed in it, among
    the people the actor may see."""
    ids = {p.pk for p in services.carers_of(place)}
    ids |= {
        m.person_id
        for m in membership_list(actor=actor, place=place).exclude(role__in=(Role.RESIDENT, Role.VOLUNTEER))[:200]
    }
    return list(person_list(actor=actor).filter(pk__in=ids)[:200])


def _parse_round(post: Any) -> tuple[dt.datetime, dt.datetime]:
    """Date and local start/end times (the site's time zone); an end before the start is the next day."""
    try:
        day = dt.date.fromisoformat(post.get("date", ""))
        start = dt.time.fromisoformat(post.get("start", ""))
        end = dt.time.fromisoformat(post.get("end", ""))
    except ValueError as exc:
        raise ValidationError({"starts_at": [_("请填写日期(YYYY-MM-DD)和时间(HH:MM)")]}) from exc
    starts_at = dt.datetime.combine(day, start, tzinfo=timezone.get_default_timezone())
    ends_at = dt.datetime.combine(day, end, tzinfo=timezone.get_default_timezone())
    if ends_at <= starts_at:
        ends_at += dt.timedelta(days=1)
    return starts_at, ends_at


@login_required
@require_GET
def nights(request: HttpRequest, code: str) -> HttpResponse:
    """The night rounds of a place, and a form to schedule one."""
    user: Any = request.user
    place = access_place(user, code, VisitCap.VIEW_COVERAGE)
    scope = scope_for(user)
    rounds = selectors.night_round_list(actor=user, place=place).annotate(
        planned=Count("households", distinct=True),
        met=Count("visits__household", filter=Q(visits__not_at_home=False), distinct=True),
    )
    can_manage = scope.allows(VisitCap.MANAGE_CARE, place.path) and place.kind in NIGHT_KINDS
    today = timezone.localtime(timezone.now()).date()
    return render(
        request,
        "visits/nights.html",
        {
            "place": place,
            "crumbs": _crumbs(user, place, VisitCap.VIEW_COVERAGE),
            "page": paginate(request, rounds, per_page=PER_PAGE),
            "query": _query(request),
            "can_manage": can_manage,
            "can_people": scope.allows(PeopleCap.VIEW_PEOPLE, place.path),
            "candidates": _round_candidates(user, place) if can_manage else [],
            "today": today.isoformat(),
            "can_opinions": scope.allows(VisitCap.VIEW_VISITS, place.path),
        },
    )


@login_required
@require_POST
def night_create(request: HttpRequest, code: str) -> HttpResponse:
    user: Any = request.user
    place = access_place(user, code, VisitCap.VIEW_COVERAGE)
    _require(user, VisitCap.MANAGE_CARE, place.path)
    post = request.POST
    wanted = set(ints(post.getlist("member")))
    members = [p for p in _round_candidates(user, place) if p.pk in wanted]
    made: list[int] = []

    def run() -> None:
        starts_at, ends_at = _parse_round(post)
        night = services.night_round_create(
            actor=user, place=place, starts_at=starts_at, ends_at=ends_at, members=members, note=post.get("note", "")
        )
        made.append(night.pk)

    if attempt(request, run, _("夜访已安排")):
        return redirect("visits:night", pk=made[0])
    return redirect("visits:nights", code=place.code)


@login_required
@require_GET
def night_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A night round: who goes, the households planned, and which were met during it."""
    user: Any = request.user
    night = selectors.access_night_round(user, pk)
    scope = scope_for(user)
    visited = selectors.night_round_visited(night_round=night)
    households = list(night.households.select_related("place").order_by("place__path"))
    can_notes = scope.allows(VisitCap.VIEW_VISITS, night.place_path)
    return render(
        request,
        "visits/night.html",
        {
            "night": night,
            "crumbs": _crumbs(user, night.place, VisitCap.VIEW_COVERAGE),
            "members": list(night.members.all()),
            "households": [(h, h.pk in visited) for h in households],
            "met": len(visited & {h.pk for h in households}),
            "extra": len(visited - {h.pk for h in households}),
            "visits": list(selectors.visit_list(actor=user).filter(night_round=night)[:100]) if can_notes else [],
            "can_notes": can_notes,
            "can_people": scope.allows(PeopleCap.VIEW_PEOPLE, night.place_path),
        },
    )


# --- opinions heard -----------------------------------------------------------------------------


@login_required
@require_GET
def opinions(request: HttpRequest, code: str) -> HttpResponse:
    """Opinions heard on visits in a place; the secretary marks them as a meeting topic or
    answered."""
    user: Any = request.user
    place = access_place(user, code, VisitCap.VIEW_VISITS)
    scope = scope_for(user)
    status = request.GET.get("status", "")
    if status not in OpinionStatus.values:
        status = ""
    page = paginate(request, selectors.opinion_list(actor=user, place=place, status=status or None), PER_PAGE)
    decidable = {op.pk for op in page if scope.allows(VisitCap.MANAGE_VISIT_POLICY, op.place_path)}
    return render(
        request,
        "visits/opinions.html",
        {
            "place": place,
            "crumbs": _crumbs(user, place, VisitCap.VIEW_VISITS),
            "page": page,
            "query": _query(request),
            "status": status,
            "statuses": OpinionStatus.choices,
            "decidable": decidable,
        },
    )


@login_required
@require_POST
def opinion_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    opinion = selectors.access_opinion(user, pk)
    _require(user, VisitCap.MANAGE_VISIT_POLICY, opinion.place_path)
    attempt(
        request,
        lambda: services.opinion_decide(
            actor=user, opinion=opinion, status=request.POST.get("status", ""), note=request.POST.get("note", "")
        ),
        _("已处理"),
    )
    return _back(request, reverse("visits:opinions", kwargs={"code": opinion.community.code}))


@login_required
@require_GET
def visit_photo(request: HttpRequest, pk: int) -> FileResponse:
    """The photo of a visit, for whoever may read the visit's notes (photos are not public media)."""
    visit = selectors.access_visit(request.user, pk)
    if not visit.photo:
        raise Http404("photo not found")
    content_type = "image/png" if visit.photo.name.endswith(".png") else "image/jpeg"
    response = FileResponse(visit.photo.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


urlpatterns: list[URLPattern] = [
    path("visits/", home, name="home"),
    path("visits/coverage/<str:code>/", coverage, name="coverage"),
    path("visits/households/<int:pk>/", household_detail, name="household"),
    path("visits/households/<int:pk>/out-by-day/", household_out_by_day, name="household_out_by_day"),
    path("visits/households/<int:pk>/assign/", household_assign, name="household_assign"),
    path("visits/care/<str:code>/", care, name="care"),
    path("visits/care/<str:code>/handover/", care_handover, name="care_handover"),
    path("visits/care/<str:code>/import/", care_import, name="care_import"),
    path("visits/care/<str:code>/export.xlsx", care_export, name="care_export"),
    path("visits/care/a/<int:pk>/end/", care_end, name="care_end"),
    path("visits/policies/<str:code>/", policies, name="policies"),
    path("visits/policies/<str:code>/set/", policy_set, name="policy_set"),
    path("visits/nights/<str:code>/", nights, name="nights"),
    path("visits/nights/<str:code>/new/", night_create, name="night_create"),
    path("visits/nights/r/<int:pk>/", night_detail, name="night"),
    path("visits/opinions/<str:code>/", opinions, name="opinions"),
    path("visits/opinions/o/<int:pk>/", opinion_decide, name="opinion_decide"),
    path("visits/v/<int:pk>/photo/", visit_photo, name="photo"),
]
