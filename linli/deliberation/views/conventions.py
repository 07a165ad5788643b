"""Pages of resident conventions (居民公约).

Residents: the conventions of their community, the text in force in large type with the sign
button, a version open for comments with a comment box under each article, and the difference
between two versions. The secretary: the draft editor, opening comments, the comments per
article, putting a version to a vote, publishing, and the signatures per building with the
paper entry. A printable page carries the adopted text and the share of households that signed.
Reads are ``selectors.conventions``'; writes ``services.conventions``'."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.core.access import Actor, scope_for
from linli.core.pages import attempt, int_or_none
from linli.core.pagination import paginate
from linli.deliberation.capabilities import DelibCap
from linli.deliberation.models import (
    Convention,
    ConventionVersion,
    Electorate,
    VersionStatus,
    VoteRule,
    VoteStatus,
)
from linli.deliberation.selectors import conventions as selectors
from linli.deliberation.services import conventions as services
from linli.people.identity import mask_name, redact_for_public, redact_text
from linli.people.models import Household, Person
from linli.places.models import Place, PlaceKind
from linli.places.selectors import access_place

#: Households listed at once on the paper-signature page of a building.
PAPER_MAX = 300
#: Conventions per page of the list.
PER_PAGE = 30


# --- shared ---------------------------------------------------------------------------------------


def _require(actor: Actor, capability: str, place_path: str) -> None:
    if not scope_for(actor).allows(capability, place_path):
        raise PermissionDenied(_("您没有此项权限"))


def _run_version(actor: Actor, pk: int | str) -> ConventionVersion:
    """A version the actor may read and whose convention it runs (403 when it only reads)."""
    version = selectors.access_version(actor, pk)
    _require(actor, DelibCap.RUN, version.convention.place_path)
    return version


def _vote_url(version: ConventionVersion) -> str | None:
    """The vote's page, when the votes' pages offer one."""
    if version.vote_id is None:
        return None
    try:
        return reverse("deliberation:vote", kwargs={"pk": version.vote_id})
    except NoReverseMatch:
        return None


def _local_datetime(value: str, field: str) -> dt.datetime:
    """A ``datetime-local`` input (or a date alone: the end of that day) in the site's time zone."""
    value = (value or "").strip()
    try:
        if len(value) == 10:
            moment = dt.datetime.combine(dt.date.fromisoformat(value), dt.time(23, 59))
        else:
            moment = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError({field: [_("请填写日期和时间(YYYY-MM-DD HH:MM)")]}) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.get_current_timezone())
    return moment


def _to_version(version: ConventionVersion) -> HttpResponse:
    if version.status == VersionStatus.DRAFT:
        return redirect("deliberation:convention_edit", pk=version.pk)
    return redirect("deliberation:convention_version", pk=version.pk)


def _run_places(actor: Actor) -> list[Place]:
    """Where the actor may start a convention: the places of its grants that hold ``RUN`` (a
    system administrator starts one from a place's address)."""
    paths = scope_for(actor).paths(DelibCap.RUN)
    return list(Place.objects.filter(path__in=paths).order_by("path")) if paths else []


# --- residents' pages -----------------------------------------------------------------------------


@login_required
@require_GET
def convention_list(request: HttpRequest) -> HttpResponse:
    """The conventions the reader may read; a secretary's with their latest version's state."""
    user: Any = request.user
    page = paginate(request, selectors.convention_list(actor=user), PER_PAGE)
    rows = []
    for convention in page:
        runs = selectors.can_run(user, convention)
        versions = list(convention.versions.all())
        latest = versions[-1] if versions else None
        rows.append(
            {
                "convention": convention,
                "current": selectors.current_version(convention),
                "latest": latest if runs or (latest and latest.status != VersionStatus.DRAFT) else None,
                "open": next((v for v in versions if services.comments_are_open(v)), None),
                "runs": runs,
            }
        )
    return render(
        request,
        "deliberation/conventions_list.html",
        {"rows": rows, "page": page, "places": _run_places(user)},
    )


@login_required
@require_GET
def convention_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A convention: the text in force in large type, the sign button and the share that signed,
    a version open for comments, and every version the reader may read."""
    user: Any = request.user
    convention = selectors.access_convention(user, pk)
    versions = selectors.visible_versions(user, convention)
    current = selectors.current_version(convention)
    open_version = next((v for v in versions if services.comments_are_open(v)), None)
    signature = selectors.my_signature(user, current) if current else None
    households = selectors.my_households_under(user, convention) if current and current.published_at else []
    return render(
        request,
        "deliberation/conventions_detail.html",
        {
            "convention": convention,
            "versions": versions,
            "current": current,
            "articles": list(current.articles.order_by("number")) if current else [],
            "share": selectors.signature_share(current) if current and current.published_at else None,
            "signature": signature,
            "signer": mask_name(signature.signed_by.name) if signature else "",
            "households": households,
            "open_version": open_version,
            "runs": selectors.can_run(user, convention),
            "collects": scope_for(user).reaches(DelibCap.CHECK_IN, convention.place_path),
        },
    )


@login_required
@require_GET
def version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One version's text; while it is open for comments, a comment box under each article."""
    user: Any = request.user
    version = selectors.access_version(user, pk)
    convention = version.convention
    open_now = services.comments_are_open(version)
    runs = selectors.can_run(user, convention)
    shown = {
        article.pk: [(mask_name(c.author.name), redact_for_public(c.text), c.at) for c in found]
        for article, found in (
            selectors.comments_by_article(version) if version.status == VersionStatus.COMMENTS else []
        )
    }
    return render(
        request,
        "deliberation/conventions_version.html",
        {
            "convention": convention,
            "version": version,
            "articles": [(a, shown.get(a.pk, [])) for a in version.articles.all()],
            "open_now": open_now,
            "may_comment": open_now and services.may_take_part(user, convention),
            "runs": runs,
            "vote_url": _vote_url(version),
            "revote": version.status == VersionStatus.VOTING
            and version.vote is not None
            and version.vote.status == VoteStatus.CANCELLED,
            "electorates": [(e.value, e.label) for e in services.CONVENTION_ELECTORATES],
            "rules": [(r.value, r.label) for r in services.CONVENTION_RULES],
            "is_latest": selectors.latest_version(convention) == version,
            "previous": version.based_on,
        },
    )


@login_required
@require_POST
def comment_add(request: HttpRequest, pk: int) -> HttpResponse:
    """A resident's comment on one article."""
    user: Any = request.user
    article = selectors.access_article(user, pk)
    if not services.may_take_part(user, article.version.convention):
        raise PermissionDenied(_("您不能对该公约提意见"))
    attempt(
        request,
        lambda: services.comment_add(actor=user, article=article, text=request.POST.get("text", "")),
        _("意见已提交，谢谢"),
    )
    return redirect(reverse("deliberation:convention_version", kwargs={"pk": article.version_id}) + f"#a{pk}")


@login_required
@require_GET
def convention_diff(request: HttpRequest, pk: int) -> HttpResponse:
    """Two versions compared article by article (``?old=`` and ``?new=`` are version numbers;
    by default the latest version the reader may read against the one it came from)."""
    user: Any = request.user
    convention = selectors.access_convention(user, pk)
    versions = selectors.visible_versions(user, convention)
    by_number = {v.number: v for v in versions}
    new = by_number.get(int_or_none(request.GET.get("new")) or -1) or (versions[-1] if versions else None)
    old = by_number.get(int_or_none(request.GET.get("old")) or -1)
    if old is None and new is not None:  # the version it came from, else the one before it
        old = next((v for v in versions if v.pk == new.based_on_id), None) or next(
            (v for v in reversed(versions) if v.number < new.number), None
        )
    rows = selectors.version_diff(old, new) if old and new and old != new else []
    return render(
        request,
        "deliberation/conventions_diff.html",
        {
            "convention": convention,
            "versions": versions,
            "old": old,
            "new": new,
            "rows": rows,
            "counts": selectors.diff_counts(rows),
        },
    )


@login_required
@require_POST
def convention_sign(request: HttpRequest, pk: int) -> HttpResponse:
    """A household's signature of the published version, by a member signed in."""
    user: Any = request.user
    version = selectors.access_version(user, pk)
    household = None
    wanted = int_or_none(request.POST.get("household"))
    if wanted is not None:
        household = next((h for h in selectors.my_households_under(user, version.convention) if h.pk == wanted), None)
    attempt(
        request,
        lambda: services.convention_sign(actor=user, version=version, household=household),
        _("已签署，谢谢您守约"),
        refusals=True,
    )
    return redirect("deliberation:convention", pk=version.convention_id)


@login_required
@require_GET
def convention_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The adopted text for printing (a notice board, a paper signature sheet) with the share of
    households that signed."""
    user: Any = request.user
    convention = selectors.access_convention(user, pk)
    current = selectors.current_version(convention)
    if current is None:
        raise Http404("no adopted version")
    return render(
        request,
        "deliberation/conventions_print.html",
        {
            "convention": convention,
            "version": current,
            "articles": list(current.articles.order_by("number")),
            "share": selectors.signature_share(current),
            "printed_at": timezone.localtime(timezone.now()),
        },
    )


# --- the secretary's pages ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def convention_create(request: HttpRequest, code: str) -> HttpResponse:
    """A new convention at a place: its title and first articles, one per line."""
    user: Any = request.user
    place = access_place(user, code, DelibCap.RUN)
    title, body = "", ""
    if request.method == "POST":
        title, body = request.POST.get("title", ""), request.POST.get("articles", "")
        made: list[Convention] = []
        done = attempt(
            request,
            lambda: made.append(
                services.convention_create(
                    actor=user, place=place, title=title, articles=body.splitlines(), note=request.POST.get("note", "")
                )
            ),
            _("公约草稿已建立"),
        )
        if done:
            return redirect("deliberation:convention_edit", pk=made[0].versions.get().pk)
    return render(request, "deliberation/conventions_create.html", {"place": place, "title": title, "articles": body})


@login_required
@require_POST
def version_create(request: HttpRequest, pk: int) -> HttpResponse:
    """An amendment: a new draft copied from the latest version (or the one chosen)."""
    user: Any = request.user
    convention = selectors.access_convention(user, pk)
    _require(user, DelibCap.RUN, convention.place_path)
    base = None
    wanted = int_or_none(request.POST.get("base"))
    if wanted is not None:
        base = convention.versions.filter(number=wanted).first()
    made: list[ConventionVersion] = []
    if attempt(
        request,
        lambda: made.append(
            services.version_create(actor=user, convention=convention, base=base, note=request.POST.get("note", ""))
        ),
        _("新版本草稿已建立"),
    ):
        return redirect("deliberation:convention_edit", pk=made[0].pk)
    return redirect("deliberation:convention", pk=convention.pk)


@login_required
@require_GET
def version_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The draft editor: each article's text, its place, removing it; adding one; then opening
    the draft for comments or putting it to a vote."""
    user: Any = request.user
    version = _run_version(user, pk)
    if version.status != VersionStatus.DRAFT:
        return redirect("deliberation:convention_version", pk=version.pk)
    articles = list(version.articles.all())
    default_until = timezone.localtime(timezone.now() + dt.timedelta(days=14)).replace(second=0, microsecond=0)
    return render(
        request,
        "deliberation/conventions_edit.html",
        {
            "convention": version.convention,
            "version": version,
            "articles": articles,
            "positions": range(1, len(articles) + 1),
            "next_number": len(articles) + 1,
            "default_until": default_until.strftime("%Y-%m-%dT%H:%M"),
            "electorates": [(e.value, e.label) for e in services.CONVENTION_ELECTORATES],
            "rules": [(r.value, r.label) for r in services.CONVENTION_RULES],
            "is_latest": selectors.latest_version(version.convention) == version,
        },
    )


@login_required
@require_POST
def article_add(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    version = _run_version(user, pk)
    attempt(
        request,
        lambda: services.article_add(
            actor=user,
            version=version,
            text=request.POST.get("text", ""),
            number=int_or_none(request.POST.get("number")),
        ),
        _("已添加一条"),
    )
    return _to_version(version)


@login_required
@require_POST
def article_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Save an article's text, move it to another number, or remove it (``action``)."""
    user: Any = request.user
    article = selectors.access_article(user, pk)
    _require(user, DelibCap.RUN, article.version.convention.place_path)
    action = request.POST.get("action", "save")
    if action == "remove":
        attempt(request, lambda: services.article_remove(actor=user, article=article), _("已删除该条"))
    elif action == "move":
        number = int_or_none(request.POST.get("number"))
        if number is None:
            attempt(request, lambda: _refuse({"number": [_("请选择条号")]}), "")
        else:
            attempt(request, lambda: services.article_move(actor=user, article=article, number=number), _("已调整顺序"))
    else:
        attempt(
            request,
            lambda: services.article_change(actor=user, article=article, text=request.POST.get("text", "")),
            _("已保存"),
        )
    return _to_version(article.version)


def _refuse(errors: dict[str, list[str]]) -> None:
    raise ValidationError(errors)


@login_required
@require_POST
def version_discard(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    version = _run_version(user, pk)
    if attempt(request, lambda: services.version_discard(actor=user, version=version), _("草稿已放弃")):
        return redirect("deliberation:convention", pk=version.convention_id)
    return _to_version(version)


@login_required
@require_POST
def comments_open(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    version = _run_version(user, pk)
    attempt(
        request,
        lambda: services.comments_open(
            actor=user, version=version, until=_local_datetime(request.POST.get("until", ""), "until")
        ),
        _("已开始征求意见"),
    )
    version.refresh_from_db()
    return _to_version(version)


@login_required
@require_GET
def comments(request: HttpRequest, pk: int) -> HttpResponse:
    """The comments on a version, article by article with their counts (authors' names masked)."""
    user: Any = request.user
    version = _run_version(user, pk)
    rows = [
        (article, [(mask_name(c.author.name), redact_text(c.text), c.at) for c in found])
        for article, found in selectors.comments_by_article(version)
    ]
    return render(
        request,
        "deliberation/conventions_comments.html",
        {
            "convention": version.convention,
            "version": version,
            "rows": rows,
            "total": sum(len(found) for _article, found in rows),
            "open_now": services.comments_are_open(version),
        },
    )


@login_required
@require_POST
def put_to_vote(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    version = _run_version(user, pk)
    post = request.POST

    def run() -> None:
        closes = post.get("closes_at", "").strip()
        services.version_put_to_vote(
            actor=user,
            version=version,
            electorate=post.get("electorate", Electorate.HOUSEHOLDS),
            rule=post.get("rule", VoteRule.MAJORITY),
            closes_at=_local_datetime(closes, "closes_at") if closes else None,
        )

    attempt(request, run, _("已交付表决；表决结束后自动生效或退回"))
    return redirect("deliberation:convention_version", pk=version.pk)


@login_required
@require_POST
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    version = _run_version(user, pk)
    attempt(request, lambda: services.version_publish(actor=user, version=version), _("公约已公布，居民可以签署"))
    return redirect("deliberation:convention", pk=version.convention_id)


def _collect_version(actor: Actor, pk: int | str) -> ConventionVersion:
    """A version whose signatures the actor collects: it holds ``CHECK_IN`` at the convention's
    place or at a part of it (a grid worker, a building leader)."""
    return selectors.collect_version(actor, pk)


@login_required
@require_GET
def signatures(request: HttpRequest, pk: int) -> HttpResponse:
    """Signatures per building; with ``?building=``, that building's households for entering the
    signatures collected on paper."""
    user: Any = request.user
    version = _collect_version(user, pk)
    buildings = selectors.signatures_by_building(version)
    building = None
    households: list[tuple[Household, Any, list[tuple[int, str]]]] = []
    code = request.GET.get("building")
    if code:
        building = next((b.place for b in buildings if b.place.code == code), None)
        if building is None or not scope_for(user).allows(DelibCap.CHECK_IN, building.path):
            raise Http404("building not found")
        for household, signature in selectors.households_to_sign(version, building)[:PAPER_MAX]:
            members = [(m.person_id, mask_name(m.person.name)) for m in household.members.all()]
            households.append((household, signature, members))
    return render(
        request,
        "deliberation/conventions_signatures.html",
        {
            "convention": version.convention,
            "version": version,
            "share": selectors.signature_share(version),
            "buildings": buildings,
            "building": building,
            "households": households,
            "signable": version.status == VersionStatus.ADOPTED and version.published_at is not None,
            "collects_in": {b.place.pk for b in buildings if scope_for(user).allows(DelibCap.CHECK_IN, b.place.path)},
        },
    )


@login_required
@require_POST
def sign_paper(request: HttpRequest, pk: int) -> HttpResponse:
    """Enter a signature collected on paper for a household under the convention."""
    user: Any = request.user
    version = _collect_version(user, pk)
    household = (
        Household.objects.visible(user, DelibCap.CHECK_IN)
        .filter(pk=int_or_none(request.POST.get("household")) or 0)
        .select_related("place")
        .first()
    )
    signer = Person.objects.filter(
        pk=int_or_none(request.POST.get("signer")) or 0, household_links__household=household
    ).first()
    back = reverse("deliberation:convention_signatures", kwargs={"pk": version.pk})
    if household is None or signer is None:
        attempt(request, lambda: _refuse({"household": [_("请选择该户和签名的家庭成员")]}), "")
        return redirect(back)
    attempt(
        request,
        lambda: services.signature_record_paper(actor=user, version=version, household=household, signer=signer),
        _("已记录纸质签名"),
    )
    building = household.place.path[: len(household.place.path) - Place.steplen]
    found = Place.objects.filter(path=building, kind__in=(PlaceKind.BUILDING, PlaceKind.COURTYARD)).first()
    return redirect(f"{back}?building={found.code}" if found else back)


urlpatterns: list[URLPattern] = [
    path("conventions/", convention_list, name="conventions"),
    path("conventions/new/<str:code>/", convention_create, name="convention_create"),
    path("conventions/c/<int:pk>/", convention_detail, name="convention"),
    path("conventions/c/<int:pk>/diff/", convention_diff, name="convention_diff"),
    path("conventions/c/<int:pk>/print/", convention_print, name="convention_print"),
    path("conventions/c/<int:pk>/versions/new/", version_create, name="convention_version_create"),
    path("conventions/v/<int:pk>/", version_detail, name="convention_version"),
    path("conventions/v/<int:pk>/edit/", version_edit, name="convention_edit"),
    path("conventions/v/<int:pk>/articles/add/", article_add, name="convention_article_add"),
    path("conventions/v/<int:pk>/discard/", version_discard, name="convention_discard"),
    path("conventions/v/<int:pk>/comments/open/", comments_open, name="convention_comments_open"),
    path("conventions/v/<int:pk>/comments/", comments, name="convention_comments"),
    path("conventions/v/<int:pk>/vote/", put_to_vote, name="convention_vote"),
    path("conventions/v/<int:pk>/publish/", publish, name="convention_publish"),
    path("conventions/v/<int:pk>/sign/", convention_sign, name="convention_sign"),
    path("conventions/v/<int:pk>/signatures/", signatures, name="convention_signatures"),
    path("conventions/v/<int:pk>/signatures/paper/", sign_paper, name="convention_sign_paper"),
    path("conventions/a/<int:pk>/edit/", article_edit, name="convention_article_edit"),
    path("conventions/a/<int:pk>/comment/", comment_add, name="convention_comment"),
]
