"""Writes of votes (表决). ``vote_create`` is what the other parts call to put a matter to a vote (a
meeting's decision, a convention's adoption); ``vote_open`` draws and freezes the register;
``vote_cast`` (the elector, online or at the meeting), ``vote_enter`` (staff: door to door, by
proxy, at the meeting), ``paper_key`` (paper ballots keyed twice by two accounts) and, for a
secret vote, ``paper_hand_out`` record one counted ballot per elector across every channel;
``vote_close`` counts through ``deliberation.tally`` and tells the other parts
(``hooks.vote_closed``); ``vote_cancel`` ends a draft or open vote without a result
(``hooks.vote_cancelled``).

Each service is one transaction and locks the vote's row first, so that two writes to one vote
run one after the other (the register, the count of papers handed out, an owner's units). One
elector, one participation: the ``participation_once`` constraint is the last word.

Secret votes: ``Participation`` says who took part, ``SecretBallot`` what was chosen, with no
key, time or order between them (docs/decisions/0011-secret-ballots.md). Nothing here writes a
secret choice beside an account, a person or a time: not the audit trail, not a notification.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.core.access import SYSTEM, Actor, Role, require, scope_for, user_of
from linli.core.audit import audit_record
from linli.core.errors import Conflict
from linli.core.models import AuditEntry
from linli.core.photos import PhotoUpload, clean_photo
from linli.deliberation import hooks
from linli.deliberation.capabilities import DelibCap
from linli.deliberation.models import (
    Attendance,
    Ballot,
    Channel,
    Elector,
    Electorate,
    Meeting,
    OptionsKind,
    PaperEntry,
    PaperStatus,
    Participation,
    Proxy,
    SecretBallot,
    Topic,
    Vote,
    VoteOption,
    VoteRule,
    VoteStatus,
)
from linli.deliberation.selectors.votes import (
    PAPER_CHANNELS,
    SECRET_MIN_VOTERS,
    compute_result,
    counted_secret_sheets,
    handed_out,
    my_electors,
    open_votes_due,
    owner_group,
    pending_sheets,
    register_fingerprint,
    require_reaching,
)
from linli.deliberation.services.common import now_or
from linli.people.models import Household, HouseholdMember, Membership, Person, Relation, Tenure
from linli.places.models import Place

YES_NO_OPTIONS = (("yes", gettext_lazy("同意")), ("no", gettext_lazy("不同意")), ("abstain", gettext_lazy("弃权")))
ART278_RULES = (VoteRule.ART278_ORDINARY, VoteRule.ART278_SPECIAL)
#: An elector is an adult from this age (a person whose birth date is unknown is counted).
ADULT_AGE = 18
#: The roles that are residents' representatives when none are named.
REPRESENTATIVE_ROLES = (Role.BUILDING_LEADER, Role.CENTRAL_HOUSEHOLD)
MAX_OPTIONS = 20
#: A vote closes before this year (one in 9999 at UTC-12 is past 9999 in UTC).
MAX_YEAR = 2100


# --- creating -------------------------------------------------------------------------------------


@transaction.atomic
def vote_create(
    *,
    actor: Actor,
    place: Place,
    title: str,
    body: str = "",
    electorate: str = Electorate.HOUSEHOLDS,
    rule: str = VoteRule.MAJORITY,
    options_kind: str = OptionsKind.YES_NO,
    options: Sequence[str] = (),
    max_choices: int = 1,
    secret: bool = False,
    closes_at: dt.datetime | None = None,
    topic: Topic | None = None,
    meeting: Meeting | None = None,
) -> Vote:
    """A vote in draft: its register is drawn and frozen when it opens.

    Refused: an art. 278 rule outside an owners' vote (the article counts owners' areas); a
    secret owners' vote (an owner's area would tell who cast a ballot); an option vote with fewer
    than two options, or more allowed choices than options."""
    require(actor, DelibCap.RUN, place)
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = [_("请填写表决事项")]
    if electorate not in Electorate.values:
        errors["electorate"] = [_("未知的投票人范围")]
    if rule not in VoteRule.values:
        errors["rule"] = [_("未知的通过规则")]
    if options_kind not in OptionsKind.values:
        errors["options_kind"] = [_("未知的选项类型")]
    if rule in ART278_RULES and electorate != Electorate.OWNERS:
        errors["rule"] = [_("民法典第二百七十八条的规则只用于业主表决（按面积和人数）")]
    if secret and electorate == Electorate.OWNERS:
        errors["secret"] = [_("业主表决不能无记名：每户的面积各不相同，按面积计票会暴露投票人的选择，请改为记名表决")]
    labels = [o.strip() for o in options if o and o.strip()]
    if options_kind in (OptionsKind.ONE_OF, OptionsKind.SEVERAL_OF):
        if len(labels) < 2:
            errors["options"] = [_("请至少填写两个选项")]
        elif len(labels) > MAX_OPTIONS or len(set(labels)) != len(labels):
            errors["options"] = [_("选项最多%(n)s个，且不能重复") % {"n": MAX_OPTIONS}]
    if options_kind == OptionsKind.SEVERAL_OF:
        if not 1 <= max_choices <= max(len(labels), 1):
            errors["max_choices"] = [_("最多选几项应在1和选项数之间")]
    else:
        max_choices = 1
    if closes_at is not None and closes_at.year > MAX_YEAR:  # year 10000 in UTC would break every list
        errors["closes_at"] = [_("截止时间须在%(year)s年之前") % {"year": MAX_YEAR}]
    elif closes_at is not None and closes_at <= timezone.now():
        errors["closes_at"] = [_("截止时间应在将来")]
    for field, linked in (("topic", topic), ("meeting", meeting)):
        if linked is not None and not (
            place.path.startswith(linked.place_path) or linked.place_path.startswith(place.path)
        ):
            errors[field] = [_("表决的范围与所关联的议题或议事会不在同一社区")]
    if errors:
        raise ValidationError(errors)
    vote = Vote.objects.create(
        place=place,
        title=title[:160],
        body=body,
        electorate=electorate,
        rule=rule,
        options_kind=options_kind,
        max_choices=max_choices,
        secret=secret,
        closes_at=closes_at,
        topic=topic,
        meeting=meeting,
        created_by=user_of(actor),
    )
    pairs = YES_NO_OPTIONS if options_kind == OptionsKind.YES_NO else [(str(i), o) for i, o in enumerate(labels, 1)]
    with translation.override("zh-hans"):  # the msgids: shown in the reader's language (``option_label``)
        VoteOption.objects.bulk_create(
            VoteOption(vote=vote, code=code, label=str(label)[:120], position=i)
            for i, (code, label) in enumerate(pairs)
        )
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, target=vote, place=place)
    return vote


# --- opening: the register ------------------------------------------------------------------------


def _audit_status(actor: Actor, vote: Vote, **changes: Any) -> None:
    """The audit entry of a vote that opened or closed (its new status and what came with it)."""
    audit_record(
        actor=actor,
        action=AuditEntry.Action.UPDATE,
        target=vote,
        place=vote.place,
        field="status",
        changes={"status": vote.status, **changes},
    )


def _lock(vote: Vote) -> Vote:
    return Vote.objects.select_for_update().select_related("place").get(pk=vote.pk)


def _adult_cutoff(today: dt.date) -> dt.date:
    try:
        return today.replace(year=today.year - ADULT_AGE)
    except ValueError:  # 29 February
        return today.replace(year=today.year - ADULT_AGE, day=28)


def _shuffle(rows: list[Any]) -> None:
    random.SystemRandom().shuffle(rows)


def draw_register(
    vote: Vote, representatives: Sequence[Person] | None = None, *, today: dt.date | None = None
) -> list[Elector]:
    """The lines of the register as the people and households are now (unsaved):

    - households: each household under the vote's place, its head (户主) as the person;
    - persons: each adult member of a household under the place, once;
    - representatives: the persons named, or else the active building leaders and central
      households (党员中心户) of the place's subtree;
    - owners: each household under the place with tenure owner and a floor area, its head as
      the owner; a person heading several owned units is one owner (one key ``O1``, ``O2``… in
      a random order of the units), each unit with its area in hundredths of a square metre.
    """
    path = vote.place.path
    households = Household.objects.filter(place__path__startswith=path).order_by("place__path")
    heads = dict(
        HouseholdMember.objects.filter(household__place__path__startswith=path, relation=Relation.HEAD).values_list(
            "household_id", "person_id"
        )
    )
    if vote.electorate == Electorate.HOUSEHOLDS:
        return [Elector(vote=vote, household_id=h.pk, person_id=heads.get(h.pk)) for h in households.only("pk")]
    if vote.electorate == Electorate.PERSONS:
        cutoff = _adult_cutoff(today or timezone.localdate())
        members = (
            HouseholdMember.objects.filter(household__place__path__startswith=path)
            .filter(Q(person__birth_date__isnull=True) | Q(person__birth_date__lte=cutoff))
            .order_by("household__place__path", "person_id")
            .values_list("person_id", flat=True)
        )
        return [Elector(vote=vote, person_id=p) for p in dict.fromkeys(members)]
    if vote.electorate == Electorate.REPRESENTATIVES:
        if representatives:
            outside = [p for p in representatives if not p.place.path.startswith(path)]
            if outside:
                raise ValidationError({"representatives": [_("居民代表须是本表决范围内的居民")]})
            ids: Sequence[int] = [p.pk for p in representatives]
        else:
            ids = list(
                Membership.objects.filter(
                    role__in=REPRESENTATIVE_ROLES, ended_at__isnull=True, place__path__startswith=path
                )
                .order_by("place__path", "person_id")
                .values_list("person_id", flat=True)
            )
        return [Elector(vote=vote, person_id=p) for p in dict.fromkeys(ids)]
    # the units in a random order, so that neither the owners' keys nor the register's numbers
    # follow the addresses (the published register then names no flat by its position)
    owned = list(households.filter(tenure=Tenure.OWNER, floor_area__isnull=False).only("pk", "floor_area"))
    _shuffle(owned)
    keys: dict[Any, str] = {}
    lines = []
    for h in owned:
        head = heads.get(h.pk)
        group = ("person", head) if head is not None else ("unit", h.pk)
        owner = keys.setdefault(group, f"O{len(keys) + 1}")
        area = int((h.floor_area or 0) * 100)
        lines.append(Elector(vote=vote, household_id=h.pk, person_id=head, owner=owner, area=area))
    return lines


@transaction.atomic
def vote_open(
    *,
    actor: Actor,
    vote: Vote,
    representatives: Sequence[Person] | None = None,
    now: dt.datetime | None = None,
) -> Vote:
    """Open a draft vote: draw the register (``draw_register``), write it (its rows can then be
    neither changed nor deleted), and keep its fingerprint and totals. Changes to households and
    memberships afterwards do not change the vote."""
    now = now_or(now)
    require(actor, DelibCap.RUN, vote.place)
    vote = _lock(vote)
    if vote.status != VoteStatus.DRAFT:
        raise Conflict(_("只有草拟中的表决可以开始"))
    if vote.closes_at is not None and vote.closes_at <= now:
        raise ValidationError({"closes_at": [_("截止时间已过，请先修改截止时间")]})
    if representatives and vote.electorate != Electorate.REPRESENTATIVES:
        raise ValidationError({"representatives": [_("只有居民代表表决可以指定代表")]})
    lines = draw_register(vote, representatives)
    _shuffle(lines)  # register numbers in no order of address (see draw_register)
    if not lines:
        raise ValidationError({"electorate": [_("表决范围内没有符合条件的投票人，名册是空的")]})
    electors = Elector.objects.bulk_create(lines)
    vote.register_fingerprint = register_fingerprint(vote.pk, [(e.pk, e.owner, e.area) for e in electors])
    vote.register_heads = len({e.owner or f"elector:{e.pk}" for e in electors})
    vote.register_area = sum(e.area for e in electors)
    vote.status = VoteStatus.OPEN
    vote.opened_at = now
    vote.save(update_fields=["register_fingerprint", "register_heads", "register_area", "status", "opened_at"])
    _audit_status(actor, vote, electors=len(electors), fingerprint=vote.register_fingerprint)
    return vote


# --- casting --------------------------------------------------------------------------------------


def clean_choices(vote: Vote, choices: Sequence[str]) -> list[str]:
    """The option codes chosen, checked against the vote's options and its number of choices."""
    codes = set(vote.options.values_list("code", flat=True))
    chosen = list(dict.fromkeys(str(c).strip() for c in choices if str(c).strip()))
    if not chosen:
        raise ValidationError({"choices": [_("请选择")]})
    unknown = [c for c in chosen if c not in codes]
    if unknown:
        raise ValidationError({"choices": [_("没有这个选项：%(code)s") % {"code": unknown[0]}]})
    limit = vote.max_choices if vote.options_kind == OptionsKind.SEVERAL_OF else 1
    if len(chosen) > limit:
        raise ValidationError({"choices": [_("最多只能选%(n)s项") % {"n": limit}]})
    return sorted(chosen, key=lambda c: (len(c), c))


def _check_casting(vote: Vote, now: dt.datetime) -> None:
    if vote.status != VoteStatus.OPEN:
        raise Conflict(_("表决不在进行中"))
    if vote.closes_at is not None and vote.closes_at <= now:
        raise Conflict(_("表决已截止"))


def _voted_already(vote: Vote, electors: Sequence[Elector]) -> None:
    done = Participation.objects.filter(vote=vote, elector__in=[e.pk for e in electors]).order_by("pk").first()
    if done is not None:
        raise Conflict(
            _("该选民已经通过“%(channel)s”投过票，每位选民只计一票") % {"channel": Channel(done.channel).label}
        )


def _record(
    *,
    actor: Actor,
    vote: Vote,
    electors: Sequence[Elector],
    choices: list[str] | None,
    channel: str,
    now: dt.datetime,
    collector: Person | None = None,
    proxy: Proxy | None = None,
) -> list[Participation]:
    """One participation per line (an owner's units together) and, with ``choices``, the ballot:
    beside each participation for a named vote, one detached secret ballot for a secret vote."""
    _voted_already(vote, electors)
    made = []
    try:
        with transaction.atomic():
            for elector in electors:
                participation = Participation.objects.create(
                    vote=vote,
                    elector=elector,
                    channel=channel,
                    at=now,
                    recorded_by=user_of(actor),
                    collector=collector,
                    proxy=proxy,
                )
                made.append(participation)
                if choices is not None and not vote.secret:
                    Ballot.objects.create(participation=participation, vote=vote, choices=choices)
            if choices is not None and vote.secret:
                SecretBallot.objects.create(vote=vote, choices=choices)
    except IntegrityError:
        _voted_already(vote, electors)
        raise Conflict(_("该选民已经投过票，每位选民只计一票")) from None
    return made


@transaction.atomic
def vote_cast(
    *,
    actor: Actor,
    vote: Vote,
    choices: Sequence[str],
    elector: Elector | None = None,
    channel: str = Channel.ONLINE,
    now: dt.datetime | None = None,
) -> list[Participation]:
    """The elector votes, online or at the meeting (``MEETING``: checked in at the vote's
    meeting). A household member casts the household's vote; an owner casts for all their units
    alike. ``elector``: which of the reader's lines, when it has several (two households)."""
    now = now_or(now)
    if channel not in (Channel.ONLINE, Channel.MEETING):
        raise ValidationError({"channel": [_("本人只能网上投票或在会场扫码投票")]})
    vote = _lock(vote)
    _check_casting(vote, now)
    mine = my_electors(actor, vote)
    if not mine:
        raise PermissionDenied(_("您不在本次表决的名册中"))
    if elector is not None:
        mine = [e for e in mine if e.pk == elector.pk]
        if not mine:
            raise PermissionDenied(_("您不在本次表决的名册中"))
    elif len({e.owner or e.pk for e in mine}) > 1:
        raise ValidationError({"elector": [_("您在名册中有几户，请选择为哪一户投票")]})
    if channel == Channel.MEETING and not _checked_in(vote, scope_for(actor).person_id):
        raise ValidationError({"channel": [_("请先在会场签到，再扫码投票")]})
    chosen = clean_choices(vote, choices)
    return _record(
        actor=actor, vote=vote, electors=owner_group(vote, mine[0]), choices=chosen, channel=channel, now=now
    )


def _checked_in(vote: Vote, person_id: int | None) -> bool:
    """Whether the person is checked in at the vote's meeting (its attendance)."""
    if vote.meeting_id is None or person_id is None:
        return False
    return Attendance.objects.filter(meeting_id=vote.meeting_id, person_id=person_id).exists()


def _vote_elector(vote: Vote, elector: Elector | int) -> Elector:
    key = elector.pk if isinstance(elector, Elector) else elector
    found = (
        Elector.objects.filter(vote=vote, pk=key).select_related("household__place", "person__place").first()
        if isinstance(key, int)
        else None
    )
    if found is None:
        raise ValidationError({"elector": [_("名册中没有这个选民编号")]})
    return found


def _require_for(actor: Actor, capability: str, line: Elector) -> None:
    """Staff act for a line of the register where they may act for its home (a building leader
    in their building, a grid worker in their grid, community staff anywhere in the community)."""
    place = line.household.place if line.household is not None else line.person.place if line.person else None
    if place is None or not scope_for(actor).allows(capability, place.path):
        raise PermissionDenied(_("此地点不在您的管辖范围内。"))


@transaction.atomic
def vote_enter(
    *,
    actor: Actor,
    vote: Vote,
    elector: Elector | int,
    choices: Sequence[str],
    channel: str,
    collector: Person | None = None,
    now: dt.datetime | None = None,
) -> list[Participation]:
    """Staff enter a named vote's ballot collected from an elector: door to door (``DOOR``, by a
    named ``collector``), by proxy (``PROXY``: a recorded written authorisation for the line), or
    at the meeting for a checked-in elector without a phone (``MEETING``). A secret vote's papers
    are handed out (``paper_hand_out``) and keyed apart instead."""
    now = now_or(now)
    require_reaching(actor, DelibCap.CHECK_IN, vote)
    vote = _lock(vote)
    _check_casting(vote, now)
    if vote.secret:
        raise ValidationError({"channel": [_("无记名表决的纸质票发出后由两人录入，不能代录选择")]})
    line = _vote_elector(vote, elector)
    _require_for(actor, DelibCap.CHECK_IN, line)
    proxy = None
    if channel == Channel.DOOR:
        if collector is None:
            raise ValidationError({"collector": [_("上门收票须写明收票人")]})
    elif channel == Channel.PROXY:
        proxy = Proxy.objects.filter(vote=vote, elector=line).first()
        if proxy is None:
            raise ValidationError({"channel": [_("请先登记该选民的委托书")]})
    elif channel == Channel.MEETING:
        if not _checked_in(vote, line.person_id):
            raise ValidationError({"channel": [_("该选民没有在会场签到")]})
    else:
        raise ValidationError({"channel": [_("工作人员只能录入上门收票、委托投票或会场投票")]})
    chosen = clean_choices(vote, choices)
    made = _record(
        actor=actor,
        vote=vote,
        electors=owner_group(vote, line),
        choices=chosen,
        channel=channel,
        now=now,
        collector=collector,
        proxy=proxy,
    )
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CREATE,
        target=made[0],
        place=vote.place,
        changes={"channel": channel, "elector": line.pk, "collector": collector.pk if collector else None},
    )
    return made


@transaction.atomic
def paper_hand_out(
    *,
    actor: Actor,
    vote: Vote,
    elector: Elector | int,
    channel: str = Channel.PAPER,
    collector: Person | None = None,
    now: dt.datetime | None = None,
) -> list[Participation]:
    """A secret vote's paper given to an elector (at the station, door to door, or to a proxy
    holder): that is when the participation is recorded. The sheet, filled in and returned
    without a name, is keyed apart (``paper_key``) and cannot be traced back."""
    now = now_or(now)
    require_reaching(actor, DelibCap.CHECK_IN, vote)
    vote = _lock(vote)
    _check_casting(vote, now)
    if not vote.secret:
        raise ValidationError({"channel": [_("记名表决的纸质票录入时登记投票人，不需要登记发票")]})
    if channel not in PAPER_CHANNELS:
        raise ValidationError({"channel": [_("未知的投票方式")]})
    line = _vote_elector(vote, elector)
    _require_for(actor, DelibCap.CHECK_IN, line)
    proxy = None
    if channel == Channel.DOOR and collector is None:
        raise ValidationError({"collector": [_("上门收票须写明收票人")]})
    if channel == Channel.PROXY:
        proxy = Proxy.objects.filter(vote=vote, elector=line).first()
        if proxy is None:
            raise ValidationError({"channel": [_("请先登记该选民的委托书")]})
    made = _record(
        actor=actor,
        vote=vote,
        electors=[line],
        choices=None,
        channel=channel,
        now=now,
        collector=collector,
        proxy=proxy,
    )
    audit_record(
        actor=actor, action=AuditEntry.Action.CREATE, target=made[0], place=vote.place, changes={"channel": channel}
    )
    return made


@transaction.atomic
def proxy_record(
    *,
    actor: Actor,
    vote: Vote,
    elector: Elector | int,
    holder: Person,
    scan: PhotoUpload,
    note: str = "",
    now: dt.datetime | None = None,
) -> Proxy:
    """A written authorisation (委托书) for ``holder`` to vote for a line of the register, with
    its scan (re-encoded without its metadata, stored like other uploads)."""
    now = now_or(now)
    require_reaching(actor, DelibCap.CHECK_IN, vote)
    vote = _lock(vote)
    _check_casting(vote, now)
    line = _vote_elector(vote, elector)
    _require_for(actor, DelibCap.CHECK_IN, line)
    if Proxy.objects.filter(vote=vote, elector=line).exists():
        raise Conflict(_("该选民的委托书已登记"))
    if holder.pk == line.person_id:
        raise ValidationError({"holder": [_("受托人不能是选民本人")]})
    data, ext, _w, _h = clean_photo(scan)
    local = timezone.localtime(now)
    name = default_storage.save(
        f"deliberation/proxies/{local:%Y/%m}/proxy-{vote.pk}-{line.pk}.{ext}", ContentFile(data)
    )
    proxy = Proxy.objects.create(
        vote=vote,
        elector=line,
        holder=holder,
        authorisation=name,
        note=(note or "").strip()[:200],
        recorded_by=user_of(actor),
        at=now,
    )
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, target=proxy, place=vote.place)
    return proxy


# --- paper ballots, keyed twice -----------------------------------------------------------------------


def _same(a: PaperEntry, elector_id: int | None, choices: list[str]) -> bool:
    return a.elector_id == elector_id and list(a.choices) == choices


def _settle(actor: Actor, vote: Vote, first: PaperEntry, second: PaperEntry, now: dt.datetime) -> str:
    """Two keyings of a sheet: alike, the ballot counts (unless its elector voted already, or a
    secret vote would count more sheets than papers handed out); different, a mismatch."""
    if not _same(first, second.elector_id, list(second.choices)):
        status, note = PaperStatus.MISMATCH, ""
    elif vote.secret:
        if counted_secret_sheets(vote) >= handed_out(vote):
            status, note = PaperStatus.REFUSED, _("计入的纸质票不能多于发出的选票")
        else:
            SecretBallot.objects.create(vote=vote, choices=list(first.choices))
            status, note = PaperStatus.COUNTED, ""
    else:
        assert first.elector is not None
        try:
            with transaction.atomic():
                _record(
                    actor=actor,
                    vote=vote,
                    electors=owner_group(vote, first.elector),
                    choices=list(first.choices),
                    channel=Channel.PAPER,
                    now=now,
                )
            status, note = PaperStatus.COUNTED, ""
        except Conflict as exc:
            status, note = PaperStatus.REFUSED, str(exc)[:200]
    PaperEntry.objects.filter(pk__in=[first.pk, second.pk]).update(status=status, note=note)
    return status


@transaction.atomic
def paper_key(
    *,
    actor: Actor,
    vote: Vote,
    sheet: str,
    choices: Sequence[str],
    elector: Elector | int | None = None,
    now: dt.datetime | None = None,
) -> PaperEntry:
    """Key one paper sheet. The first keying waits for a second by another account; two alike
    count the ballot once, two different are a mismatch listed for the secretary, settled by
    keying the sheet again: the keying it agrees with stands (it must come from an account other
    than that keying's), the other is replaced. A named sheet carries its elector's register
    number; a secret sheet none. A secret vote's sheets are keyed once at least five papers are
    out, and never more are counted than were handed out."""
    now = now_or(now)
    require_reaching(actor, DelibCap.COUNT, vote)
    vote = _lock(vote)
    if vote.status != VoteStatus.OPEN:
        raise Conflict(_("表决不在进行中"))
    sheet = (sheet or "").strip()
    if not sheet or len(sheet) > 20:
        raise ValidationError({"sheet": [_("请填写票号（最多20个字符）")]})
    chosen = clean_choices(vote, choices)
    elector_id: int | None = None
    if vote.secret:
        if elector is not None:
            raise ValidationError({"elector": [_("无记名票不能录入投票人")]})
        if handed_out(vote) < SECRET_MIN_VOTERS:
            raise ValidationError({"sheet": [_("发出的纸质票不足五张，暂不能录入无记名票")]})
    else:
        if elector is None:
            raise ValidationError({"elector": [_("请填写纸质票上的选民编号")]})
        elector_id = _vote_elector(vote, elector).pk
    entries = {e.round: e for e in PaperEntry.objects.select_for_update().filter(vote=vote, sheet=sheet)}
    account = user_of(actor)
    if account is None:
        raise PermissionDenied(_("纸质票须由工作人员登录后录入"))
    first, second = entries.get(1), entries.get(2)
    if first is None:
        entry = PaperEntry.objects.create(
            vote=vote, sheet=sheet, round=1, elector_id=elector_id, choices=chosen, entered_by=account, at=now
        )
        audit_record(actor=actor, action=AuditEntry.Action.CREATE, target=entry, place=vote.place)
        return entry
    if second is None:
        if first.entered_by_id == account.pk:
            raise Conflict(_("第二次录入须由另一位工作人员完成"))
        entry = PaperEntry.objects.create(
            vote=vote, sheet=sheet, round=2, elector_id=elector_id, choices=chosen, entered_by=account, at=now
        )
        audit_record(actor=actor, action=AuditEntry.Action.CREATE, target=entry, place=vote.place)
        _settle(actor, vote, first, entry, now)
        entry.refresh_from_db()
        return entry
    if first.status != PaperStatus.MISMATCH:
        raise Conflict(_("这张票已录入两次"))
    # settling a mismatch: the keying this one agrees with stands, the other is replaced
    if _same(first, elector_id, chosen):
        stands, wrong = first, second
    elif _same(second, elector_id, chosen):
        stands, wrong = second, first
    else:
        raise ValidationError({"sheet": [_("与前两次录入都不一致，请再核对这张纸质票")]})
    if stands.entered_by_id == account.pk:
        raise Conflict(_("核对录入须由另一位工作人员完成"))
    audit_record(
        actor=actor,
        action=AuditEntry.Action.UPDATE,
        target=wrong,
        place=vote.place,
        reason=_("两次录入不一致，重新核对"),
        changes={"sheet": sheet, "round": wrong.round, "previous_by": wrong.entered_by_id},
    )
    wrong.elector_id, wrong.choices, wrong.entered_by, wrong.at = elector_id, chosen, account, now
    wrong.save(update_fields=["elector", "choices", "entered_by", "at"])
    pair = sorted([stands, wrong], key=lambda e: e.round)
    _settle(actor, vote, pair[0], pair[1], now)
    wrong.refresh_from_db()
    return wrong


# --- closing --------------------------------------------------------------------------------------------


@transaction.atomic
def vote_close(*, actor: Actor, vote: Vote, now: dt.datetime | None = None) -> Vote:
    """Close an open vote and count it (``selectors.votes.compute_result``, through the tally):
    refused while paper sheets wait for their second keying or a mismatch is unsettled. A secret
    vote's keyings are then removed: its choices stay only in the detached secret ballots."""
    now = now_or(now)
    require(actor, DelibCap.RUN, vote.place)
    vote = _lock(vote)
    if vote.status != VoteStatus.OPEN:
        raise Conflict(_("表决不在进行中"))
    waiting = pending_sheets(vote)
    if waiting:
        raise Conflict(_("还有%(n)s张纸质票待第二次录入或两次录入不一致，请先处理") % {"n": waiting})
    vote.result = compute_result(vote)
    vote.status = VoteStatus.CLOSED
    vote.closed_at = now
    vote.save(update_fields=["result", "status", "closed_at"])
    if vote.secret:
        PaperEntry.objects.filter(vote=vote).delete()
    _audit_status(actor, vote, passed=vote.result.get("passed"))
    hooks.vote_closed(vote)
    return vote


@transaction.atomic
def vote_cancel(*, actor: Actor, vote: Vote, reason: str, now: dt.datetime | None = None) -> Vote:
    """Cancel a draft or open vote, with its reason: an open vote's ballots then count for
    nothing and no result is ever published (its register and participations stay, as written);
    a secret vote's keyed sheets are removed as at close. The other parts are told
    (``hooks.vote_cancelled``): a decision put to the vote stays to be carried out, with a note; a
    convention's version goes back so that it can be put to a vote again."""
    now = now_or(now)
    require(actor, DelibCap.RUN, vote.place)
    vote = _lock(vote)
    if vote.status not in (VoteStatus.DRAFT, VoteStatus.OPEN):
        raise Conflict(_("只有草拟中或投票中的表决可以取消"))
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": [_("请填写取消原因")]})
    if len(reason) > 200:
        raise ValidationError({"reason": [_("取消原因最多200个字")]})
    was = vote.status
    vote.status = VoteStatus.CANCELLED
    vote.cancelled_at = now
    vote.cancel_reason = reason
    vote.result = None
    vote.save(update_fields=["status", "cancelled_at", "cancel_reason", "result"])
    if vote.secret:
        PaperEntry.objects.filter(vote=vote).delete()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.UPDATE,
        target=vote,
        place=vote.place,
        field="status",
        reason=reason,
        changes={"status": vote.status, "was": was},
    )
    hooks.vote_cancelled(vote)
    return vote


def close_due_votes(*, now: dt.datetime | None = None) -> int:
    """Close the open votes whose closing time has passed (the periodic sweep); a vote whose paper
    sheets still wait for keying stays open (no one can vote any more) until they are keyed."""
    now = now_or(now)
    closed = 0
    for vote in open_votes_due(now):
        if pending_sheets(vote):
            continue
        try:
            vote_close(actor=SYSTEM, vote=vote, now=now)
        except Conflict:
            continue
        closed += 1
    return closed
