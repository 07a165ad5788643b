"""Reads of votes (表决), always through the actor's scope: the votes a reader may see, the
register lines that are the reader's own, participation so far, the keyed paper sheets, the
register's fingerprint, the result computed through ``deliberation.tally`` and the register and
ballots as the JSON that ``linli deliberation tally`` reads.

Every figure of a result comes from :func:`deliberation.tally.tally`; nothing here adds, divides
or compares areas or heads itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext

from linli.core.access import Actor, get_or_404, scope_for, under
from linli.deliberation.access import community_paths
from linli.deliberation.capabilities import DelibCap
from linli.deliberation.models import (
    Ballot,
    Channel,
    Elector,
    Electorate,
    Meeting,
    OptionsKind,
    PaperEntry,
    PaperStatus,
    Participation,
    SecretBallot,
    Topic,
    Vote,
    VoteStatus,
)
from linli.deliberation.tally import Ballot as TallyBallot
from linli.deliberation.tally import Choice, Ratio, Rule, tally
from linli.deliberation.tally import Elector as TallyElector
from linli.people.models import HouseholdMember, Person
from linli.people.selectors import person_list
from linli.places.models import Place

#: A secret vote's choices are not published when fewer voters than this took part.
SECRET_MIN_VOTERS = 5
#: The first line of the text the register's fingerprint is taken over (docs/decisions/0011).
FINGERPRINT_HEADER = "linli-register-v1"


# --- reading votes --------------------------------------------------------------------------------


def _readable(actor: Actor) -> QuerySet[Vote]:
    """The votes of the actor's communities (``Vote.visible_also``); a draft only for those who
    run deliberation at its place."""
    scope = scope_for(actor)
    qs = Vote.objects.visible(actor, DelibCap.VIEW)
    if scope.everything:
        return qs
    return qs.filter(~Q(status=VoteStatus.DRAFT) | under(scope.paths(DelibCap.RUN)))


def vote_list(*, actor: Actor, place: Place | None = None, status: str | None = None) -> QuerySet[Vote]:
    """The votes the actor may read (those of its communities; drafts for their organisers),
    newest first; under ``place`` when given."""
    qs = _readable(actor).select_related("place")
    if place is not None:
        qs = qs.filter(place_path__startswith=place.path)
    if status:
        qs = qs.filter(status=status)
    return qs


def access_vote(actor: Actor, pk: Any) -> Vote:
    """A vote the actor may read, else 404."""
    return get_or_404(_readable(actor).select_related("place", "meeting"), pk, "vote")


def vote_place(actor: Actor, code: str) -> Place:
    """The place named in a URL, if the actor reads deliberation there (its subtree, or the
    community where it lives), else 404."""
    place: Place | None = Place.objects.filter(code=code).first()
    if place is None:
        raise Http404("place not found")
    scope = scope_for(actor)
    if scope.allows(DelibCap.VIEW, place.path):
        return place
    if any(place.path.startswith(p) for p in community_paths(actor, DelibCap.VIEW)):
        return place
    raise Http404("place not found")


def may(actor: Actor, capability: str, vote: Vote) -> bool:
    return scope_for(actor).allows(capability, vote.place_path)


def require_reaching(actor: Actor, capability: str, vote: Vote) -> None:
    """Staff who hold ``capability`` at the vote's place or at some part of it (a grid worker
    keys a community vote's papers), else PermissionDenied (the pages, the API and the services)."""
    if not scope_for(actor).reaches(capability, vote.place_path):
        raise PermissionDenied(gettext("此地点不在您的管辖范围内。"))


def representative_candidates(actor: Actor, vote: Vote) -> QuerySet[Person]:
    """Who may be named a residents' representative of a vote: the people of its place."""
    return person_list(actor=actor).filter(place__path__startswith=vote.place_path).order_by("name", "pk")


def named_representatives(actor: Actor, vote: Vote, ids: Iterable[int]) -> list[Person] | None:
    """The representatives named for a vote by their person ids (``None`` when none are named:
    the register takes the carers); an id that is not a person of the vote's place is refused."""
    wanted = set(ids)
    if not wanted:
        return None
    found = list(representative_candidates(actor, vote).filter(pk__in=wanted))
    if len(found) != len(wanted):
        raise ValidationError({"representatives": [gettext("居民代表须是本表决范围内的居民")]})
    return found


def staff_person(actor: Actor, person_id: int | None, field: str = "collector") -> Person | None:
    """A collector or proxy holder named by person id among the people the actor sees (``None``
    when not named); an unknown id is a message on ``field``."""
    if person_id is None:
        return None
    found: Person | None = person_list(actor=actor).filter(pk=person_id).first()
    if found is None:
        raise ValidationError({field: [gettext("找不到这位收票人")]})
    return found


def vote_links(actor: Actor, *, topic: int | None, meeting: int | None) -> tuple[Topic | None, Meeting | None]:
    """The topic and the meeting a new vote is put for, among those the actor runs; an id that is
    not one of them is a message on its field."""
    found_topic = Topic.objects.visible(actor, DelibCap.RUN).filter(pk=topic).first() if topic else None
    found_meeting = Meeting.objects.visible(actor, DelibCap.RUN).filter(pk=meeting).first() if meeting else None
    errors: dict[str, list[str]] = {}
    if topic and found_topic is None:
        errors["topic"] = [gettext("找不到这个议题")]
    if meeting and found_meeting is None:
        errors["meeting"] = [gettext("找不到这次议事会")]
    if errors:
        raise ValidationError(errors)
    return found_topic, found_meeting


# --- the reader on the register ------------------------------------------------------------------


def person_of(actor: Actor) -> Person | None:
    person_id = scope_for(actor).person_id
    if person_id is None:
        return None
    return Person.objects.filter(pk=person_id).first()


def my_electors(actor: Actor, vote: Vote) -> list[Elector]:
    """The register lines the actor votes for: its household's (one household one vote: any
    member casts it), its own (persons, representatives), or every unit it owns (owners)."""
    person_id = scope_for(actor).person_id
    if person_id is None or vote.status == VoteStatus.DRAFT:
        return []
    lines = Elector.objects.filter(vote=vote).select_related("household__place")
    if vote.electorate == Electorate.HOUSEHOLDS:
        households = HouseholdMember.objects.filter(person_id=person_id).values("household_id")
        return list(lines.filter(household_id__in=households))
    return list(lines.filter(person_id=person_id))


def owner_group(vote: Vote, elector: Elector) -> list[Elector]:
    """The lines an elector's ballot covers: in an owners' vote, every unit of the same owner
    (their units vote alike, as the count requires); otherwise the line itself."""
    if vote.electorate == Electorate.OWNERS and elector.owner:
        return list(Elector.objects.filter(vote=vote, owner=elector.owner).order_by("pk"))
    return [elector]


def participation_of(vote: Vote, electors: Sequence[Elector]) -> Participation | None:
    return Participation.objects.filter(vote=vote, elector__in=[e.pk for e in electors]).order_by("pk").first()


# --- the register's fingerprint -------------------------------------------------------------------


def register_text(vote_id: int, lines: Iterable[tuple[int, str, int]]) -> str:
    """The canonical text of a register: a header line, ``vote:<id>``, then one line per elector
    sorted by its id: ``<id>\\t<owner key>\\t<area in hundredths>``, each ending in ``\\n``. Only
    row ids, opaque owner keys and areas: no name, no address, no person's id."""
    body = "".join(f"{i}\t{owner}\t{area}\n" for i, owner, area in sorted(lines))
    return f"{FINGERPRINT_HEADER}\nvote:{vote_id}\n{body}"


def register_fingerprint(vote_id: int, lines: Iterable[tuple[int, str, int]]) -> str:
    """SHA-256 (hex) of :func:`register_text`."""
    return hashlib.sha256(register_text(vote_id, lines).encode("utf-8")).hexdigest()


def stored_fingerprint(vote: Vote) -> str:
    """The fingerprint of the register as it is stored now (equal to ``vote.register_fingerprint``
    unless the frozen rows were tampered with)."""
    rows = Elector.objects.filter(vote=vote).values_list("pk", "owner", "area")
    return register_fingerprint(vote.pk, rows)


# --- counting -------------------------------------------------------------------------------------


def _tally_electors(electors: Sequence[Elector]) -> list[TallyElector]:
    """The register as the count reads it: outside owners' votes each line is a head of its own
    and has no area (the rules then count heads only)."""
    return [TallyElector(id=str(e.pk), area=e.area, owner=e.owner or f"elector:{e.pk}") for e in electors]


def _ratio(r: Ratio) -> dict[str, Any]:
    return {"part": r.part, "whole": r.whole, "fraction": str(r)}


def participation_so_far(vote: Vote) -> dict[str, Any] | None:
    """Who has taken part so far, by head and by area (never what they chose); through the
    count, with every participation counted as an abstention."""
    electors = list(Elector.objects.filter(vote=vote).order_by("pk"))
    if not electors:
        return None
    taken = set(Participation.objects.filter(vote=vote).values_list("elector_id", flat=True))
    result = tally(
        Rule.MAJORITY,
        _tally_electors(electors),
        [TallyBallot(str(e.pk), Choice.ABSTAIN) for e in electors if e.pk in taken],
    )
    return {
        "heads": _ratio(result.participation_heads),
        "area": _ratio(result.participation_area),
        "weighted": vote.electorate == Electorate.OWNERS,
    }


def cast_ballots(vote: Vote, electors: Sequence[Elector]) -> list[tuple[str, list[str]]]:
    """``(elector id, choices)`` of every counted ballot. A secret ballot has no elector: for
    the arithmetic only, the k secret ballots are set beside the first k participating lines
    (a secret vote is never weighted, so every line weighs the same and the pairing changes
    nothing in the result); the pairing is never stored or shown."""
    if not vote.secret:
        rows = Ballot.objects.filter(vote=vote).values_list("participation__elector_id", "choices")
        return [(str(elector), list(choices)) for elector, choices in rows]
    papers = sorted(list(c) for c in SecretBallot.objects.filter(vote=vote).values_list("choices", flat=True))
    taken = sorted(Participation.objects.filter(vote=vote).values_list("elector_id", flat=True))
    if len(papers) > len(taken):
        raise ValueError("more secret ballots than participations")
    return [(str(elector), choices) for elector, choices in zip(taken, papers, strict=False)]


def compute_result(vote: Vote) -> dict[str, Any]:
    """The result of a vote as published: participation, for each option the heads and area
    that chose it, the leading option(s), and for a yes/no vote whether it passed under its rule
    and why (the count's own reason). An option vote tells, for each option, whether it met the
    rule as a yes would. A secret vote with fewer than five voters publishes participation only.
    Reasons are written in zh-Hans (the msgids) and translated when shown."""
    with translation.override("zh-hans"):
        return _compute(vote)


def _compute(vote: Vote) -> dict[str, Any]:
    electors = list(Elector.objects.filter(vote=vote).order_by("pk"))
    register = _tally_electors(electors)
    rule = Rule(vote.rule)
    ballots = cast_ballots(vote, electors)
    base = tally(rule, register, [TallyBallot(e, Choice.ABSTAIN) for e, _c in ballots])
    options = list(vote.options.order_by("position", "pk"))
    result: dict[str, Any] = {
        "version": 1,
        "rule": vote.rule,
        "electorate": vote.electorate,
        "options_kind": vote.options_kind,
        "secret": vote.secret,
        "register_fingerprint": vote.register_fingerprint,
        "register_heads": vote.register_heads,
        "register_area": vote.register_area,
        "voters": base.participation_heads.part,
        "participation_heads": _ratio(base.participation_heads),
        "participation_area": _ratio(base.participation_area),
        "withheld": False,
        "passed": None,
        "reason": "",
        "options": [],
        "leading": [],
    }
    if not vote.secret:
        channels: dict[str, int] = {}
        for channel in Participation.objects.filter(vote=vote).values_list("channel", flat=True):
            channels[channel] = channels.get(channel, 0) + 1
        result["by_channel"] = channels
    if vote.secret and len(ballots) < SECRET_MIN_VOTERS:
        result["withheld"] = True
        result["reason"] = gettext("参与表决的不足五人，按无记名投票规则不公布结果")
        return result
    if vote.secret:
        # the counters have read every paper sheet: the result less the paper would be the
        # phones' ballots, so these too must be none or at least five
        online = Participation.objects.filter(vote=vote).exclude(channel__in=PAPER_CHANNELS).count()
        if 0 < online < SECRET_MIN_VOTERS and online < len(ballots):
            result["withheld"] = True
            result["reason"] = gettext("网上投票的不足五人，按无记名投票规则不公布结果")
            return result
    for option in options:
        counted = tally(
            rule, register, [TallyBallot(e, Choice.YES if option.code in c else Choice.NO) for e, c in ballots]
        )
        row: dict[str, Any] = {
            "code": option.code,
            "label": option.label,
            "heads": counted.yes_heads.part,
            "area": counted.yes_area.part,
            "ballots": sum(1 for _e, c in ballots if option.code in c),
        }
        if vote.options_kind != OptionsKind.YES_NO:
            row["passed"] = counted.passed
            row["reason"] = counted.reason
        result["options"].append(row)
    most = max((o["heads"] for o in result["options"]), default=0)
    result["leading"] = [o["code"] for o in result["options"] if most and o["heads"] == most]
    if vote.options_kind == OptionsKind.YES_NO:
        counted = tally(rule, register, [TallyBallot(e, Choice(c[0])) for e, c in ballots])
        result["passed"] = counted.passed
        result["reason"] = counted.reason
        result["tally"] = counted.as_json()
    elif not ballots:
        result["reason"] = base.reason
    return result


# --- the published register and ballots ---------------------------------------------------------


def hundredths_text(area: int) -> str:
    return str((Decimal(area) / 100).quantize(Decimal("0.01")))


def can_download(vote: Vote) -> bool:
    """The register and named ballots are published for a closed, named yes/no vote (the form
    ``linli deliberation tally`` reads); a secret vote publishes counts only."""
    return vote.status == VoteStatus.CLOSED and not vote.secret and vote.options_kind == OptionsKind.YES_NO


def tally_document(vote: Vote) -> dict[str, Any]:
    """The register and the ballots as ``linli deliberation tally`` reads them, with opaque ids
    only (register row ids, owner keys, areas in square metres as strings), and the register's
    fingerprint (recomputable from ``electors`` by :func:`register_text`)."""
    electors = list(Elector.objects.filter(vote=vote).order_by("pk"))
    weighted = vote.electorate == Electorate.OWNERS
    rows: list[dict[str, Any]] = []
    for e in electors:
        row: dict[str, Any] = {"id": str(e.pk), "area": hundredths_text(e.area)}
        row["owner"] = e.owner if weighted else None
        rows.append(row)
    ballots = [{"elector": elector, "choice": choices[0]} for elector, choices in cast_ballots(vote, electors)]
    return {
        "rule": vote.rule,
        "vote": vote.pk,
        "register_fingerprint": vote.register_fingerprint,
        "electors": rows,
        "ballots": sorted(ballots, key=lambda b: int(b["elector"])),
    }


# --- paper keying ----------------------------------------------------------------------------------


@dataclass
class Sheet:
    sheet: str
    status: str
    note: str
    first: PaperEntry | None
    second: PaperEntry | None


def paper_sheets(vote: Vote, *, statuses: Sequence[str] | None = None) -> list[Sheet]:
    """The keyed sheets of a vote, by sheet number, each with its two keyings."""
    entries = PaperEntry.objects.filter(vote=vote).select_related("entered_by").order_by("sheet", "round")
    if statuses:
        entries = entries.filter(status__in=statuses)
    sheets: dict[str, Sheet] = {}
    for entry in entries:
        sheet = sheets.setdefault(entry.sheet, Sheet(entry.sheet, entry.status, entry.note, None, None))
        if entry.round == 1:
            sheet.first = entry
        else:
            sheet.second = entry
    return list(sheets.values())


def pending_sheets(vote: Vote) -> int:
    """Sheets keyed once or keyed twice differently: the vote cannot close while any wait."""
    return (
        PaperEntry.objects.filter(vote=vote, round=1, status__in=(PaperStatus.KEYED_ONCE, PaperStatus.MISMATCH))
        .values("sheet")
        .count()
    )


def handed_out(vote: Vote) -> int:
    """Papers given to the electors of a secret vote (a participation recorded by staff)."""
    return Participation.objects.filter(vote=vote, channel__in=PAPER_CHANNELS).count()


def counted_secret_sheets(vote: Vote) -> int:
    return PaperEntry.objects.filter(vote=vote, round=1, status=PaperStatus.COUNTED).count()


#: The channels through which a secret vote's elector receives a paper (keyed later, apart).
PAPER_CHANNELS = (Channel.PAPER, Channel.DOOR, Channel.PROXY)


def open_votes_due(now: Any) -> QuerySet[Vote]:
    return Vote.objects.filter(status=VoteStatus.OPEN, closes_at__isnull=False, closes_at__lte=now).order_by("pk")


def elector_label_q(q: str) -> Q:
    """Register lines whose household's place name or code contains ``q``."""
    return Q(household__place__name__icontains=q) | Q(household__place__code__icontains=q)


def votes_awaiting(actor: Actor) -> QuerySet[Vote]:
    """Open votes, before their closing time, where the reader is on the register (for itself,
    its household or its units) and has not voted yet: the home page's to-do."""
    from django.db.models import Exists, OuterRef
    from django.utils import timezone

    person_id = scope_for(actor).person_id
    if person_id is None:
        return Vote.objects.none()
    households = HouseholdMember.objects.filter(person_id=person_id).values("household_id")
    lines = Elector.objects.filter(
        Q(vote__electorate=Electorate.HOUSEHOLDS, household_id__in=households)
        | (~Q(vote__electorate=Electorate.HOUSEHOLDS) & Q(person_id=person_id))
    )
    voted = Participation.objects.filter(vote=OuterRef("pk"), elector__in=lines)
    return (
        vote_list(actor=actor, status=VoteStatus.OPEN)
        .filter(pk__in=lines.values("vote_id"))
        .filter(Q(closes_at__isnull=True) | Q(closes_at__gt=timezone.now()))
        .exclude(Exists(voted))
    )


def home_place(actor: Actor) -> Place | None:
    """The place whose votes the reader's tile opens: its first community, else its first grant."""
    paths = community_paths(actor, DelibCap.VIEW) or scope_for(actor).paths(DelibCap.VIEW)
    if not paths:
        return None
    found: Place | None = Place.objects.filter(path=paths[0]).first()
    return found
