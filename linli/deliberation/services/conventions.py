"""Writes of resident conventions (居民公约): drafting numbered versions of numbered articles, a
comment period, adoption through a vote, publication and signatures by households.

Preconditions shared by every service: one transaction; the convention's row is locked
(``select_for_update``) before a version changes, so that two secretaries' clicks are serialised;
only the latest version is edited, opened for comments or put to a vote. A version's articles
change only while it is a draft (the database refuses writes to an article of a version put to a
vote or adopted: ``models.conventions``). An amendment is a new version copied from another."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core.access import Actor, require, scope_for, user_of
from linli.core.audit import audit_record
from linli.core.errors import Conflict
from linli.core.models import AuditEntry
from linli.deliberation.capabilities import DelibCap
from linli.deliberation.models import (
    ArticleComment,
    Convention,
    ConventionArticle,
    ConventionVersion,
    Electorate,
    Signature,
    SignatureChannel,
    VersionStatus,
    Vote,
    VoteRule,
    VoteStatus,
)
from linli.deliberation.services.common import checked_text, now_or
from linli.deliberation.services.votes import vote_create
from linli.people.identity import mask_name
from linli.people.models import Household, HouseholdMember, Person
from linli.places.models import Place

MAX_TITLE = 120
MAX_ARTICLE = 4000
MAX_ARTICLES = 200
MAX_COMMENT = 2000
MAX_NOTE = 400
#: A comment period lasts at most this long.
MAX_COMMENT_DAYS = 90
#: A member younger than this does not sign for the household.
ADULT_AGE = 18
#: The electorates and rules a convention may be put to a vote under.
CONVENTION_ELECTORATES = (Electorate.HOUSEHOLDS, Electorate.PERSONS, Electorate.REPRESENTATIVES)
CONVENTION_RULES = (VoteRule.MAJORITY, VoteRule.TWO_THIRDS)
_SHIFT = 1000  # article numbers are moved out of the way by this much while renumbering


def _text(value: str, field: str, limit: int, *, required: bool = True) -> str:
    return checked_text(value, field, limit, blank=_("请填写内容") if required else "")


def _lock(convention: Convention) -> Convention:
    return Convention.objects.select_for_update().select_related("place").get(pk=convention.pk)


def _latest(convention: Convention) -> ConventionVersion:
    found = ConventionVersion.objects.filter(convention=convention).order_by("-number").first()
    if found is None:
        raise ValidationError(_("该公约还没有任何版本"))
    return found


def _fresh(version: ConventionVersion) -> tuple[Convention, ConventionVersion]:
    """The convention locked and the version read again under the lock."""
    convention = _lock(version.convention)
    return convention, ConventionVersion.objects.get(pk=version.pk)


def _draft(actor: Actor, version: ConventionVersion) -> ConventionVersion:
    """The draft ``version`` read again under the convention's lock, once the actor may run it."""
    require(actor, DelibCap.RUN, version.convention.place)
    _convention, version = _fresh(version)
    _expect_draft(version)
    return version


def _expect_latest(version: ConventionVersion) -> None:
    if _latest(version.convention).pk != version.pk:
        raise ValidationError(_("只能处理最新版本（第%(number)s版之后已有新版本）") % {"number": version.number})


def _expect_draft(version: ConventionVersion) -> None:
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(
            _("第%(number)s版%(status)s，条文不能再改；修改请另起新版本")
            % {"number": version.number, "status": version.get_status_display()}
        )


def may_take_part(actor: Actor, convention: Convention, capability: str = DelibCap.PROPOSE) -> bool:
    """Whether ``actor`` holds ``capability`` for ``convention``: at its place, or as a resident
    of its community (the community rule of ``deliberation.access``)."""
    return Convention.objects.visible(actor, capability).filter(pk=convention.pk).exists()


# --- drafting ------------------------------------------------------------------------------------


def _clean_articles(texts: Sequence[str]) -> list[str]:
    articles = [t.strip() for t in texts if t and t.strip()]
    if not articles:
        raise ValidationError({"articles": [_("请至少写一条")]})
    if len(articles) > MAX_ARTICLES:
        raise ValidationError({"articles": [_("最多%(limit)s条") % {"limit": MAX_ARTICLES}]})
    for text in articles:
        _text(text, "articles", MAX_ARTICLE)
    return articles


@transaction.atomic
def convention_create(*, actor: Actor, place: Place, title: str, articles: Sequence[str], note: str = "") -> Convention:
    """A convention at ``place`` with its first version, a draft of numbered articles."""
    require(actor, DelibCap.RUN, place)
    title = _text(title, "title", MAX_TITLE)
    texts = _clean_articles(articles)
    convention = Convention.objects.create(place=place, title=title)
    version = ConventionVersion.objects.create(
        convention=convention,
        number=1,
        note=_text(note, "note", MAX_NOTE, required=False),
        created_by=user_of(actor),
    )
    ConventionArticle.objects.bulk_create(
        ConventionArticle(version=version, number=i, text=text) for i, text in enumerate(texts, 1)
    )
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, target=convention, place=place)
    return convention


@transaction.atomic
def version_create(
    *,
    actor: Actor,
    convention: Convention,
    base: ConventionVersion | None = None,
    note: str = "",
    now: dt.datetime | None = None,
) -> ConventionVersion:
    """A new draft version copied from ``base`` (the latest version by default): an amendment of
    the adopted text, or a revision after comments or a failed vote. Refused while a draft or a
    vote is under way; a comment period still running on the latest version ends now."""
    now = now_or(now)
    require(actor, DelibCap.RUN, convention.place)
    convention = _lock(convention)
    latest = _latest(convention)
    if latest.status == VersionStatus.DRAFT:
        raise ValidationError(_("第%(number)s版还是草稿，请在草稿上修改") % {"number": latest.number})
    if latest.status == VersionStatus.VOTING:
        raise ValidationError(_("第%(number)s版正在表决，表决结束后才能另起新版本") % {"number": latest.number})
    if base is None:
        base = latest
    elif base.convention_id != convention.pk:
        raise ValidationError({"base": [_("依据版本不属于该公约")]})
    if latest.status == VersionStatus.COMMENTS and latest.comments_until and latest.comments_until > now:
        latest.comments_until = now
        latest.save(update_fields=["comments_until", "updated_at"])
    version = ConventionVersion.objects.create(
        convention=convention,
        number=latest.number + 1,
        based_on=base,
        note=_text(note, "note", MAX_NOTE, required=False),
        created_by=user_of(actor),
    )
    ConventionArticle.objects.bulk_create(
        ConventionArticle(version=version, number=a.number, key=a.key, text=a.text) for a in base.articles.all()
    )
    return version


@transaction.atomic
def version_discard(*, actor: Actor, version: ConventionVersion) -> None:
    """Throw away a draft that is not the first version (its articles go with it)."""
    version = _draft(actor, version)
    if version.number == 1:
        raise ValidationError(_("第1版不能放弃；可以修改它的条文"))
    version.delete()


def _renumber(version: ConventionVersion, ordered: Sequence[int]) -> None:
    """Number the articles ``ordered`` (their ids) 1, 2, … in that order. The numbers are moved
    out of the way first so that the unique (version, number) never clashes midway."""
    ConventionArticle.objects.filter(version=version).update(number=F("number") + _SHIFT)
    for number, pk in enumerate(ordered, 1):
        ConventionArticle.objects.filter(pk=pk).update(number=number)


def _order(version: ConventionVersion) -> list[int]:
    return list(ConventionArticle.objects.filter(version=version).order_by("number").values_list("pk", flat=True))


@transaction.atomic
def article_add(*, actor: Actor, version: ConventionVersion, text: str, number: int | None = None) -> ConventionArticle:
    """A new article in a draft, at ``number`` (the ones from there move down) or at the end."""
    version = _draft(actor, version)
    text = _text(text, "text", MAX_ARTICLE)
    order = _order(version)
    if len(order) >= MAX_ARTICLES:
        raise ValidationError({"text": [_("最多%(limit)s条") % {"limit": MAX_ARTICLES}]})
    position = len(order) if number is None else number - 1
    if not 0 <= position <= len(order):
        raise ValidationError({"number": [_("条号应在1到%(last)s之间") % {"last": len(order) + 1}]})
    article = ConventionArticle.objects.create(version=version, number=_SHIFT * 2, text=text)
    order.insert(position, article.pk)
    _renumber(version, order)
    article.refresh_from_db()
    return article


@transaction.atomic
def article_change(*, actor: Actor, article: ConventionArticle, text: str) -> ConventionArticle:
    """Change an article's text in a draft."""
    _draft(actor, article.version)
    article = ConventionArticle.objects.get(pk=article.pk)
    article.text = _text(text, "text", MAX_ARTICLE)
    article.save(update_fields=["text"])
    return article


@transaction.atomic
def article_remove(*, actor: Actor, article: ConventionArticle) -> None:
    """Remove an article from a draft; the ones after it move up. A version keeps one at least."""
    version = _draft(actor, article.version)
    order = _order(version)
    if order == [article.pk]:
        raise ValidationError(_("公约至少要有一条"))
    ConventionArticle.objects.filter(pk=article.pk).delete()
    _renumber(version, [pk for pk in order if pk != article.pk])


@transaction.atomic
def article_move(*, actor: Actor, article: ConventionArticle, number: int) -> ConventionArticle:
    """Renumber a draft's articles by moving one to ``number``."""
    version = _draft(actor, article.version)
    order = _order(version)
    if not 1 <= number <= len(order):
        raise ValidationError({"number": [_("条号应在1到%(last)s之间") % {"last": len(order)}]})
    order.remove(article.pk)
    order.insert(number - 1, article.pk)
    _renumber(version, order)
    return ConventionArticle.objects.get(pk=article.pk)


# --- comments ------------------------------------------------------------------------------------


@transaction.atomic
def comments_open(
    *, actor: Actor, version: ConventionVersion, until: dt.datetime, now: dt.datetime | None = None
) -> ConventionVersion:
    """Open the latest draft for residents' comments until ``until`` (its text is then fixed:
    a revision is a new version)."""
    now = now_or(now)
    require(actor, DelibCap.RUN, version.convention.place)
    _convention, version = _fresh(version)
    _expect_latest(version)
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(_("只有草稿可以征求意见"))
    if until <= now:
        raise ValidationError({"until": [_("截止时间应晚于现在")]})
    if until > now + dt.timedelta(days=MAX_COMMENT_DAYS):
        raise ValidationError({"until": [_("征求意见期最长%(days)s天") % {"days": MAX_COMMENT_DAYS}]})
    version.status = VersionStatus.COMMENTS
    version.comments_until = until
    version.save(update_fields=["status", "comments_until", "updated_at"])
    return version


def comments_are_open(version: ConventionVersion, now: dt.datetime | None = None) -> bool:
    return (
        version.status == VersionStatus.COMMENTS
        and version.comments_until is not None
        and now_or(now) < version.comments_until
    )


@transaction.atomic
def comment_add(
    *, actor: Actor, article: ConventionArticle, text: str, now: dt.datetime | None = None
) -> ArticleComment:
    """A resident's comment on one article, during its version's comment period."""
    now = now_or(now)
    version = article.version
    if not may_take_part(actor, version.convention):
        raise PermissionDenied(_("您不能对该公约提意见"))
    person_id = scope_for(actor).person_id
    if person_id is None:
        raise PermissionDenied(_("请先登记为居民再提意见"))
    version = ConventionVersion.objects.get(pk=version.pk)
    if version.status != VersionStatus.COMMENTS or version.comments_until is None:
        raise ValidationError(_("第%(number)s版不在征求意见期") % {"number": version.number})
    if now >= version.comments_until:
        local = timezone.localtime(version.comments_until)
        raise ValidationError(_("征求意见已于%(date)s截止") % {"date": local.strftime("%Y-%m-%d %H:%M")})
    return ArticleComment.objects.create(
        article=article, author_id=person_id, text=_text(text, "text", MAX_COMMENT), at=now
    )


# --- adoption through a vote ---------------------------------------------------------------------


@transaction.atomic
def version_put_to_vote(
    *,
    actor: Actor,
    version: ConventionVersion,
    electorate: str = Electorate.HOUSEHOLDS,
    rule: str = VoteRule.MAJORITY,
    closes_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Vote:
    """Put the latest version (a draft, or one whose comment period has ended) to a vote of the
    convention's place; its text is frozen from now on. A version whose vote was cancelled may
    be put to a vote again."""
    now = now_or(now)
    require(actor, DelibCap.RUN, version.convention.place)
    convention, version = _fresh(version)
    _expect_latest(version)
    if electorate not in CONVENTION_ELECTORATES:
        raise ValidationError({"electorate": [_("请选择投票人")]})
    if rule not in CONVENTION_RULES:
        raise ValidationError({"rule": [_("请选择通过规则")]})
    if closes_at is not None and closes_at <= now:
        raise ValidationError({"closes_at": [_("截止时间应晚于现在")]})
    cancelled = version.status == VersionStatus.VOTING and version.vote and version.vote.status == VoteStatus.CANCELLED
    if version.status not in (VersionStatus.DRAFT, VersionStatus.COMMENTS) and not cancelled:
        raise ValidationError(
            _("第%(number)s版%(status)s，不能交付表决")
            % {"number": version.number, "status": version.get_status_display()}
        )
    if comments_are_open(version, now):
        raise ValidationError(_("征求意见尚未截止，截止后才能交付表决"))
    if not version.articles.exists():
        raise ValidationError(_("公约至少要有一条"))
    vote = vote_create(
        actor=actor,
        place=convention.place,
        title=_("《%(title)s》第%(number)s版") % {"title": convention.title, "number": version.number},
        body="\n".join(f"{a.number}. {a.text}" for a in version.articles.all())[:8000],
        electorate=electorate,
        rule=rule,
        closes_at=closes_at,
    )
    version.vote = vote
    version.status = VersionStatus.VOTING
    version.save(update_fields=["vote", "status", "updated_at"])
    return vote


@transaction.atomic
def convention_vote_closed(vote: Any) -> None:
    """The reaction to a closed vote (``hooks.on_vote_closed``): the version it decided is
    adopted, superseding the version adopted before, or rejected. Runs inside the votes' service's
    transaction (a transaction of its own when called alone); a vote that decided no version
    changes nothing."""
    version = ConventionVersion.objects.select_for_update().filter(vote=vote, status=VersionStatus.VOTING).first()
    if version is None:
        return
    Convention.objects.select_for_update().filter(pk=version.convention_id).first()
    passed = bool((vote.result or {}).get("passed"))
    if passed:
        ConventionVersion.objects.filter(convention_id=version.convention_id, status=VersionStatus.ADOPTED).update(
            status=VersionStatus.SUPERSEDED, updated_at=timezone.now()
        )
        version.status = VersionStatus.ADOPTED
        version.adopted_at = vote.closed_at or timezone.now()
    else:
        version.status = VersionStatus.REJECTED
    version.save(update_fields=["status", "adopted_at", "updated_at"])


@transaction.atomic
def convention_vote_cancelled(vote: Any) -> None:
    """The reaction to a cancelled vote (``hooks.on_vote_cancelled``): the version put to it goes
    back to where it was (open for comments if it had a comment period, else a draft), so that it
    may be revised and put to a vote again; the database lets a version go back only when its
    vote was cancelled."""
    version = ConventionVersion.objects.select_for_update().filter(vote=vote, status=VersionStatus.VOTING).first()
    if version is None:
        return
    version.status = VersionStatus.COMMENTS if version.comments_until is not None else VersionStatus.DRAFT
    version.save(update_fields=["status", "updated_at"])


@transaction.atomic
def version_publish(*, actor: Actor, version: ConventionVersion, now: dt.datetime | None = None) -> ConventionVersion:
    """Publish an adopted version: residents may read it as the convention in force and sign it.
    Publishing again changes nothing."""
    now = now_or(now)
    require(actor, DelibCap.RUN, version.convention.place)
    _convention, version = _fresh(version)
    if version.status != VersionStatus.ADOPTED:
        raise ValidationError(_("只有表决通过的版本可以公布"))
    if version.published_at is None:
        version.published_at = now
        version.save(update_fields=["published_at", "updated_at"])
    return version


# --- signatures ----------------------------------------------------------------------------------


def _expect_signable(version: ConventionVersion) -> None:
    if version.status != VersionStatus.ADOPTED or version.published_at is None:
        raise ValidationError(_("只有已公布的现行公约可以签署"))


def _is_adult(person: Person) -> bool:
    age = person.age
    return age is None or age >= ADULT_AGE


def _existing(version: ConventionVersion, household: Household) -> Signature | None:
    return Signature.objects.select_related("signed_by").filter(version=version, household=household).first()


def _signed_elsewhere(signature: Signature) -> ValidationError:
    local = timezone.localtime(signature.at)
    return ValidationError(
        _("本户已由家庭成员%(name)s于%(date)s签署，无需再签")
        % {"name": mask_name(signature.signed_by.name), "date": local.strftime("%Y-%m-%d")}
    )


def _create_signature(**fields: Any) -> Signature:
    try:
        with transaction.atomic():
            return Signature.objects.create(**fields)
    except IntegrityError as exc:  # another member signed at the same moment
        raise Conflict(_("本户刚刚已有人签署，请刷新页面")) from exc


@transaction.atomic
def convention_sign(
    *, actor: Actor, version: ConventionVersion, household: Household | None = None, now: dt.datetime | None = None
) -> Signature:
    """Sign a published convention for the actor's household (one signature per household, by an
    adult member). Signing again returns the household's signature; a household another member
    signed for is refused with that member's masked name."""
    now = now_or(now)
    person_id = scope_for(actor).person_id
    person = Person.objects.filter(pk=person_id).first() if person_id is not None else None
    if person is None:
        raise PermissionDenied(_("请先登记为居民再签署"))
    version = ConventionVersion.objects.select_related("convention__place").get(pk=version.pk)
    _expect_signable(version)
    place_path = version.convention.place.path
    links = HouseholdMember.objects.filter(person=person, household__place__path__startswith=place_path)
    if household is not None:
        links = links.filter(household=household)
    link = links.select_related("household").order_by("household__place__path").first()
    if link is None:
        raise ValidationError(_("您家不在该公约的范围内，或您不是该户的登记成员"))
    household = link.household
    existing = _existing(version, household)
    if existing is not None:
        if existing.signed_by_id == person.pk:
            return existing
        raise _signed_elsewhere(existing)
    if not _is_adult(person):
        raise ValidationError(_("未满十八周岁的家庭成员不能代表本户签署"))
    return _create_signature(
        version=version, household=household, signed_by=person, channel=SignatureChannel.ONLINE, at=now
    )


@transaction.atomic
def signature_record_paper(
    *,
    actor: Actor,
    version: ConventionVersion,
    household: Household,
    signer: Person,
    now: dt.datetime | None = None,
) -> Signature:
    """Record a signature collected on paper: ``signer``, an adult member of ``household``,
    signed the printed convention. Staff enter it; the entry is audited."""
    now = now_or(now)
    household = Household.objects.select_related("place").get(pk=household.pk)
    require(actor, DelibCap.CHECK_IN, household.place)
    version = ConventionVersion.objects.select_related("convention__place").get(pk=version.pk)
    _expect_signable(version)
    if not household.place.path.startswith(version.convention.place.path):
        raise ValidationError({"household": [_("该户不在公约的范围内")]})
    if not HouseholdMember.objects.filter(household=household, person=signer).exists():
        raise ValidationError({"signer": [_("签名人不是该户的登记成员")]})
    existing = _existing(version, household)
    if existing is not None:
        if existing.signed_by_id == signer.pk:
            return existing
        raise _signed_elsewhere(existing)
    if not _is_adult(signer):
        raise ValidationError({"signer": [_("未满十八周岁的家庭成员不能代表本户签署")]})
    signature = _create_signature(
        version=version,
        household=household,
        signed_by=signer,
        channel=SignatureChannel.PAPER,
        recorded_by=user_of(actor),
        at=now,
    )
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CREATE,
        target=signature,
        place=household.place,
        changes={"channel": SignatureChannel.PAPER, "signer": signer.pk},
    )
    return signature
