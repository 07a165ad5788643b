"""Reads of resident conventions: the conventions an actor may read (a resident reads their own
community's), their versions (drafts only for those who write them), the difference between two
versions article by article, comments per article, and the share of households that signed.

The difference of two versions pairs their articles by ``key`` (an article keeps it from version
to version, whatever its number): an article is added, removed, changed or the same, and a
changed one carries a diff of its text by characters (Chinese has no spaces between words; a run
of Latin letters or digits stays one piece, so 30 → 50 reads as one change)."""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Substr
from django.http import Http404
from django.utils.translation import gettext as _

from linli.core.access import Actor, get_or_404, scope_for, under
from linli.deliberation.capabilities import DelibCap
from linli.deliberation.models import (
    ArticleComment,
    Convention,
    ConventionArticle,
    ConventionVersion,
    Signature,
    VersionStatus,
)
from linli.people.models import Household, HouseholdMember
from linli.places.models import Place, PlaceKind, path_len

BUILDING_PATH_LEN = path_len(PlaceKind.BUILDING)
#: Statuses a version has once residents may read it (a draft is the secretary's work).
PUBLIC_STATUSES = (
    VersionStatus.COMMENTS,
    VersionStatus.VOTING,
    VersionStatus.ADOPTED,
    VersionStatus.REJECTED,
    VersionStatus.SUPERSEDED,
)


# --- access --------------------------------------------------------------------------------------


def _readable(actor: Actor) -> QuerySet[Convention]:
    """The conventions ``actor`` may read: in its scope (a resident: its community), and with a
    version past drafting unless the actor runs it (a convention still in drafting is the
    secretary's work)."""
    found = Convention.objects.visible(actor, DelibCap.VIEW)
    scope = scope_for(actor)
    if scope.everything:
        return found
    public = ConventionVersion.objects.filter(convention=OuterRef("pk"), status__in=PUBLIC_STATUSES)
    return found.filter(Q(Exists(public)) | under(scope.paths(DelibCap.RUN)))


def convention_list(*, actor: Actor) -> QuerySet[Convention]:
    """The conventions ``actor`` may read, each with its versions (drafts included; filter them
    with ``visible_versions``) in two queries."""
    return (
        _readable(actor)
        .select_related("place")
        .prefetch_related(Prefetch("versions", queryset=ConventionVersion.objects.order_by("number")))
    )


def access_convention(actor: Actor, pk: int | str) -> Convention:
    """A convention the actor may read, with its versions (404 otherwise)."""
    return get_or_404(convention_list(actor=actor), pk, "convention")


def can_run(actor: Actor, convention: Convention) -> bool:
    """Whether ``actor`` drafts and runs ``convention`` (the secretary and community staff)."""
    return scope_for(actor).allows(DelibCap.RUN, convention.place_path)


def visible_versions(actor: Actor, convention: Convention) -> list[ConventionVersion]:
    """The convention's versions the actor may read, in order (drafts only for those who run it)."""
    versions = list(convention.versions.all())
    if can_run(actor, convention):
        return versions
    return [v for v in versions if v.status in PUBLIC_STATUSES]


def access_version(actor: Actor, pk: int | str) -> ConventionVersion:
    """A version the actor may read (404 otherwise: a draft, for a resident)."""
    version = get_or_404(
        ConventionVersion.objects.filter(convention__in=Convention.objects.visible(actor, DelibCap.VIEW))
        .select_related("convention__place", "vote", "based_on")
        .prefetch_related(Prefetch("articles", queryset=ConventionArticle.objects.order_by("number"))),
        pk,
        "convention version",
    )
    if version.status not in PUBLIC_STATUSES and not can_run(actor, version.convention):
        raise Http404("convention version not found")
    return version


def access_article(actor: Actor, pk: int | str) -> ConventionArticle:
    article = get_or_404(
        ConventionArticle.objects.filter(
            version__convention__in=Convention.objects.visible(actor, DelibCap.VIEW)
        ).select_related("version__convention__place"),
        pk,
        "convention article",
    )
    if article.version.status not in PUBLIC_STATUSES and not can_run(actor, article.version.convention):
        raise Http404("convention article not found")
    return article


def current_version(convention: Convention) -> ConventionVersion | None:
    """The adopted version in force (from the prefetched versions when there are some)."""
    adopted = [v for v in convention.versions.all() if v.status == VersionStatus.ADOPTED]
    return adopted[-1] if adopted else None


def latest_version(convention: Convention) -> ConventionVersion | None:
    versions = list(convention.versions.all())
    return max(versions, key=lambda v: v.number) if versions else None


# --- the difference between two versions ---------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """A run of text that is in both (``equal``), only in the newer (``insert``) or only in the
    older (``delete``) text."""

    kind: str
    text: str


@dataclass(frozen=True)
class ArticleDiff:
    kind: str  # "added", "removed", "changed" or "same"
    old_number: int | None
    new_number: int | None
    old_text: str
    new_text: str
    pieces: list[Piece] = field(default_factory=list)

    @property
    def moved(self) -> bool:
        return self.old_number is not None and self.new_number is not None and self.old_number != self.new_number


_TOKEN = re.compile(r"[A-Za-z0-9]+|\s+|.", re.S)


def text_diff(old: str, new: str) -> list[Piece]:
    """The pieces that turn ``old`` into ``new``, by characters (runs of Latin letters and
    digits kept whole); neighbouring pieces of one kind are joined. A single character left in
    common between two changes (a 的 in a rewritten clause) is folded into them, so that a
    rewrite reads as one change rather than as confetti; punctuation stays as an anchor."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    # (old text, new text) of each block; equal blocks have both the same
    blocks: list[tuple[str, str, bool]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        blocks.append(("".join(a[i1:i2]), "".join(b[j1:j2]), op == "equal"))
    folded: list[tuple[str, str, bool]] = []
    for i, (was, now, same) in enumerate(blocks):
        lone = same and len(was) == 1 and was.isalnum() and 0 < i < len(blocks) - 1
        if lone or (folded and not same and not folded[-1][2]):
            was_before, now_before, _same = folded.pop() if folded and not folded[-1][2] else ("", "", False)
            folded.append((was_before + was, now_before + now, False))
        else:
            folded.append((was, now, same))
    pieces: list[Piece] = []

    def add(kind: str, text: str) -> None:
        if not text:
            return
        if pieces and pieces[-1].kind == kind:
            pieces[-1] = Piece(kind, pieces[-1].text + text)
        else:
            pieces.append(Piece(kind, text))

    for was, now, same in folded:
        if same:
            add("equal", was)
        else:
            add("delete", was)
            add("insert", now)
    return pieces


def version_diff(old: ConventionVersion, new: ConventionVersion) -> list[ArticleDiff]:
    """``old`` and ``new`` compared article by article, in the newer version's order, each removed
    article where it stood in the older one."""
    before = list(old.articles.order_by("number"))
    after = list(new.articles.order_by("number"))
    old_by_key = {a.key: a for a in before}
    new_keys = {a.key for a in after}
    rows: list[ArticleDiff] = []
    for article in after:
        was = old_by_key.get(article.key)
        if was is None:
            rows.append(ArticleDiff("added", None, article.number, "", article.text, [Piece("insert", article.text)]))
        elif was.text == article.text:
            rows.append(ArticleDiff("same", was.number, article.number, was.text, article.text))
        else:
            rows.append(
                ArticleDiff(
                    "changed", was.number, article.number, was.text, article.text, text_diff(was.text, article.text)
                )
            )
    for article in before:
        if article.key in new_keys:
            continue
        removed = ArticleDiff("removed", article.number, None, article.text, "", [Piece("delete", article.text)])
        # after the last row that stood before it in the older version
        at = 0
        for i, row in enumerate(rows):
            if row.old_number is not None and row.old_number < article.number:
                at = i + 1
        rows.insert(at, removed)
    return rows


def diff_counts(rows: list[ArticleDiff]) -> dict[str, int]:
    counts = Counter(row.kind for row in rows)
    return {kind: counts.get(kind, 0) for kind in ("added", "removed", "changed", "same")}


# --- comments ------------------------------------------------------------------------------------


def comments_by_article(version: ConventionVersion) -> list[tuple[ConventionArticle, list[ArticleComment]]]:
    """Each article of ``version`` with its comments (oldest first), in two queries."""
    articles = list(
        version.articles.order_by("number").prefetch_related(
            Prefetch("comments", queryset=ArticleComment.objects.select_related("author").order_by("at", "id"))
        )
    )
    return [(a, list(a.comments.all())) for a in articles]


def comment_counts(version: ConventionVersion) -> dict[int, int]:
    """Article id → its number of comments."""
    rows = (
        ArticleComment.objects.filter(article__version=version)
        .values("article_id")
        .annotate(n=Count("id"))
        .values_list("article_id", "n")
    )
    return dict(rows)


# --- signatures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    """Households that signed out of the households under the place, in integers: a fraction,
    and a percentage rounded down (never above 100)."""

    signed: int
    total: int

    @property
    def percent(self) -> int:
        return min(self.signed, self.total) * 100 // self.total if self.total else 0

    @property
    def fraction(self) -> str:
        return f"{self.signed}/{self.total}"


def signature_share(version: ConventionVersion) -> Share:
    path = version.convention.place.path
    total = Household.objects.filter(place__path__startswith=path).count()
    signed = Signature.objects.filter(version=version, household__place__path__startswith=path).count()
    return Share(signed=min(signed, total), total=total)


@dataclass(frozen=True)
class BuildingShare:
    place: Place
    share: Share


def signatures_by_building(version: ConventionVersion) -> list[BuildingShare]:
    """The share of each building (or courtyard) under the convention's place, in three queries."""
    path = version.convention.place.path

    def by_building(qs: QuerySet[Household] | QuerySet[Signature], field_path: str) -> dict[str, int]:
        rows = (
            qs.annotate(building=Substr(field_path, 1, BUILDING_PATH_LEN))
            .values("building")
            .annotate(n=Count("id"))
            .values_list("building", "n")
        )
        return dict(rows)

    totals = by_building(Household.objects.filter(place__path__startswith=path), "place__path")
    signed = by_building(
        Signature.objects.filter(version=version, household__place__path__startswith=path), "household__place__path"
    )
    places = {p.path: p for p in Place.objects.filter(path__in=list(totals))}
    return [
        BuildingShare(places[p], Share(signed=min(signed.get(p, 0), n), total=n))
        for p, n in sorted(totals.items())
        if p in places
    ]


def households_to_sign(version: ConventionVersion, building: Place) -> list[tuple[Household, Signature | None]]:
    """The households of ``building`` under the convention with their signature (if any) and their
    members prefetched, for the staff's paper entry."""
    signatures = {
        s.household_id: s
        for s in Signature.objects.filter(version=version, household__place__path__startswith=building.path)
    }
    households = (
        Household.objects.filter(place__path__startswith=building.path)
        .filter(place__path__startswith=version.convention.place.path)
        .select_related("place")
        .prefetch_related(Prefetch("members", queryset=HouseholdMember.objects.select_related("person")))
        .order_by("place__path")
    )
    return [(h, signatures.get(h.pk)) for h in households]


def my_signature(actor: Actor, version: ConventionVersion) -> Signature | None:
    """The signature of the actor's household (any member's), if it signed."""
    person_id = scope_for(actor).person_id
    if person_id is None:
        return None
    households = HouseholdMember.objects.filter(person_id=person_id).values("household_id")
    return (
        Signature.objects.filter(version=version, household_id__in=households)
        .select_related("signed_by")
        .order_by("id")
        .first()
    )


def my_households_under(actor: Actor, convention: Convention) -> list[Household]:
    """The actor's households under the convention's place (those the actor may sign for)."""
    person_id = scope_for(actor).person_id
    if person_id is None:
        return []
    return list(
        Household.objects.filter(
            members__person_id=person_id, place__path__startswith=convention.place.path
        ).select_related("place")
    )


def collect_version(actor: Actor, pk: int | str) -> ConventionVersion:
    """A version whose signatures the actor collects: it holds ``CHECK_IN`` at the convention's
    place or at a part of it (a grid worker, a building leader); 404 when unreadable, 403 when
    readable but not collected by the actor."""
    version = access_version(actor, pk)
    if not scope_for(actor).reaches(DelibCap.CHECK_IN, version.convention.place_path):
        raise PermissionDenied(_("您没有此项权限"))
    return version
