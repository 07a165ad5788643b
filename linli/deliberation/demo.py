"""Demo deliberation (``linli load-demo``), from the seeds: Anju's bench meeting 板凳会 on the
party-service station with its three decisions (one overdue); Huajin's residents' representatives
voting unanimously for the adopted garden; Pingan's owners voting under Civil Code art. 278 to
use the maintenance fund, through every channel; 游乐场社区's monthly night talks 欢乐夜话 on
the needs that keep coming back; Anju's resident convention, commented, adopted and signed; and
in 常二社区 what the tour's accounts see (a meeting they are invited to, a vote they can cast,
a proposal gathering supports, a topic offered to the secretary).

Everything is built through the app's services on simulated clocks (``now=``), so that the rows
agree with each other. Two things are written directly, with the services' shapes: invitations
to meetings that are over (the invitation services refuse a meeting that has ended) and the
creation times of rows whose services take no clock. Residents who vote or sign online, or scan
the door's code, get an account that cannot sign in (no password, no phone), as the visits'
carers do. Everything is drawn from one ``random.Random(seed)``.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import zoneinfo
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.files.storage import default_storage
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.accounts.models import User
from linli.core.access import SYSTEM, Role, under
from linli.core.audit import audit_record
from linli.core.data import read_data
from linli.core.models import AuditEntry
from linli.core.notify import drop_pending
from linli.core.photos import PhotoUpload
from linli.deliberation.models import (
    AgendaItem,
    ArticleComment,
    Ballot,
    Convention,
    ConventionArticle,
    ConventionVersion,
    Decision,
    DecisionStatus,
    Elector,
    Electorate,
    Invitation,
    Meeting,
    MeetingKind,
    PaperEntry,
    Participation,
    Proxy,
    Rsvp,
    SecretBallot,
    Signature,
    Topic,
    TopicStatus,
    Vote,
    VoteRule,
)
from linli.deliberation.services import conventions as conv
from linli.deliberation.services import meetings as meet
from linli.deliberation.services import topics as top
from linli.deliberation.services import votes as vot
from linli.needs import services as needs
from linli.people.models import Household, HouseholdMember, Membership, Person, Relation
from linli.people.services import membership_grant
from linli.places.models import Place, PlaceKind

DATA = read_data("linli.deliberation", "demo")
REASON: str = DATA["reason"]

#: The append-only triggers that ``reset_demo`` suspends while it removes the demo's votes and
#: conventions.
TRIGGERS = (
    "deliberation.Elector:elector_frozen",
    "deliberation.Participation:participation_append_only",
    "deliberation.Ballot:ballot_append_only",
    "deliberation.SecretBallot:secret_ballot_immutable",
    "deliberation.ConventionArticle:convention_article_frozen",
    "deliberation.ConventionVersion:convention_version_forward",
)

#: (key, label) of the counts the demo summary prints.
COUNT_LABELS: tuple[tuple[str, Any], ...] = (
    ("topics", gettext_lazy("议题")),
    ("meetings", gettext_lazy("议事会")),
    ("decisions", gettext_lazy("议定事项")),
    ("overdue", gettext_lazy("其中逾期未落实")),
    ("votes", gettext_lazy("表决")),
    ("ballots", gettext_lazy("已投票")),
    ("signatures", gettext_lazy("签署公约的住户")),
)


def _tz() -> dt.tzinfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _png() -> bytes:
    """A small scan of a written authorisation (委托书): a white page."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (60, 80), "white").save(out, format="PNG")
    return out.getvalue()


class _Builder:
    def __init__(self, *, seed: int, step: Callable[[str], None]) -> None:
        self.rng = random.Random(seed)
        self.step = step
        self.now = timezone.now()
        self.tz = _tz()
        self.today = timezone.localdate()
        self.password = make_password(None)

    # --- time and people ---------------------------------------------------------------------

    def at(self, days_ago: float, hour: int, minute: int = 0) -> dt.datetime:
        """``hour:minute`` local time on the day ``days_ago`` days before today."""
        day = self.today - dt.timedelta(days=days_ago)
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=self.tz)

    def accounts_for(self, people: Sequence[Person]) -> dict[int, User]:
        """The account of each person, made for those who have none: residents who vote or sign
        online or scan the door's code have one; these cannot sign in (no password, no phone)."""
        found: dict[int, User] = {}
        new: list[tuple[Person, User]] = []
        # the rows as they are now (an account may have been made for another copy of a person)
        have = dict(
            Person.objects.filter(pk__in=[p.pk for p in people], user__isnull=False).values_list("pk", "user_id")
        )
        users = User.objects.in_bulk(list(have.values()))
        for person in people:
            if person.pk in have:
                found[person.pk] = person.user = users[have[person.pk]]
            elif person.pk not in found:
                user = User(username=f"resident-{person.pk}", display_name=person.name, password=self.password)
                new.append((person, user))
                found[person.pk] = user
        User.objects.bulk_create([u for _p, u in new])
        for person, user in new:
            person.user = user
        Person.objects.bulk_update([p for p, _u in new], ["user"])
        return found

    def staff(self, community: Place, role: str, username: str, exclude: Sequence[int] = ()) -> User:
        """The community's holder of ``role``, given to an adult party member living there when
        it has none (through the people services), with an account."""
        membership = (
            Membership.objects.filter(place=community, role=role, ended_at__isnull=True, person__user__isnull=False)
            .select_related("person__user")
            .order_by("id")
            .first()
        )
        if membership is not None:
            return membership.person.user  # type: ignore[no-any-return]
        person = (
            Person.objects.filter(place__path__startswith=community.path, household_links__isnull=False)
            .exclude(party_kind="")
            .exclude(pk__in=exclude)
            .exclude(name__in=["成良", "刘光彩", "何兆品"])
            .filter(birth_date__gte=self.today.replace(year=self.today.year - 55))
            .filter(birth_date__lte=self.today.replace(year=self.today.year - 28))
            .order_by("place__path", "id")
            .first()
        )
        assert person is not None, community.code
        membership_grant(actor=SYSTEM, person=person, place=community, role=role, reason=REASON)
        if person.user_id is not None:  # a carer already has one
            return person.user  # type: ignore[no-any-return]
        user = User.objects.create(username=username, display_name=person.name, password=self.password)
        person.user = user
        person.save(update_fields=["user", "updated_at"])
        return user

    def heads(self, path: str) -> list[tuple[Household, Person]]:
        rows = (
            HouseholdMember.objects.filter(household__place__path__startswith=path, relation=Relation.HEAD)
            .select_related("household__place", "person__user")
            .order_by("household__place__path")
        )
        return [(m.household, m.person) for m in rows]

    def invite_past(self, meeting: Meeting, person_ids: Sequence[int], reason: str, sent: dt.datetime) -> None:
        """Invitations to a meeting that is over, as ``invite_by_*`` wrote them when it was
        planned (those services refuse a meeting that has ended), with their replies."""
        rows = []
        for pk in sorted(set(person_ids)):
            answer = self.rng.choices([Rsvp.YES, Rsvp.MAYBE, Rsvp.NO, Rsvp.PENDING], [60, 10, 8, 22])[0]
            rows.append(
                Invitation(
                    meeting=meeting,
                    person_id=pk,
                    reason=reason[:120],
                    rsvp=answer,
                    rsvp_at=None if answer == Rsvp.PENDING else sent + dt.timedelta(hours=self.rng.uniform(1, 48)),
                    reminded_at=meeting.starts_at - dt.timedelta(hours=self.rng.uniform(20, 24)),
                )
            )
        Invitation.objects.bulk_create(rows)
        audit_record(
            actor=SYSTEM,
            action=AuditEntry.Action.UPDATE,
            target=meeting,
            place=meeting.place,
            reason=REASON,
            changes={"invited": len(rows)},
        )

    def backdate(self, model: Any, pk: int, at: dt.datetime, updated: dt.datetime | None = None) -> None:
        """The creation time of a row whose service takes no clock."""
        model.objects.filter(pk=pk).update(created_at=at, updated_at=updated or at)

    def adults_under(self, path: str, day: dt.date) -> list[int]:
        born_by = day.replace(year=day.year - 18)
        return list(
            HouseholdMember.objects.filter(household__place__path__startswith=path)
            .filter(Q(person__birth_date__isnull=True) | Q(person__birth_date__lte=born_by))
            .order_by("person_id")
            .values_list("person_id", flat=True)
            .distinct()
        )

    # --- Anju's bench meeting (seed 002) -------------------------------------------------------

    def anju_bench(self) -> None:
        data = DATA["anju_bench"]
        anju = Place.objects.filter(code=data["community"]).first()
        if anju is None:
            return
        self.step(_("议事 · %(community)s板凳会") % {"community": anju.name})
        secretary = self.staff(anju, Role.SECRETARY, f"secretary-{anju.code}")
        self.anju_secretary = secretary
        grid = Place.objects.filter(path__startswith=anju.path, kind=PlaceKind.GRID).order_by("path").first()
        assert grid is not None
        starts = self.at(data["days_ago"], 19, 0)
        planned = starts - dt.timedelta(days=6)
        meeting = meet.meeting_create(
            actor=secretary,
            place=anju,
            kind=MeetingKind.BENCH,
            title=data["title"],
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=2),
            venue=data["venue"],
            quorum=20,
            agenda=data["agenda"],
        )
        self.backdate(Meeting, meeting.pk, planned)
        invited = self.adults_under(grid.path, starts.date())
        self.invite_past(meeting, invited, _("按地点：%(place)s") % {"place": grid.name}, planned)
        # about half came: those with a phone scanned the door's code, the others were ticked
        came = sorted(self.rng.sample(invited, len(invited) // 2))
        people = {p.pk: p for p in Person.objects.filter(pk__in=came).select_related("user")}
        for name in ("成良", "刘光彩"):
            named = Person.objects.filter(name=name, place__path__startswith=anju.path).first()
            if named is not None and named.pk in invited and named.pk not in people:
                people[named.pk] = named
        scanners = [p for p in people.values() if p.phone and self.rng.random() < 0.6]
        accounts = self.accounts_for(scanners)
        for i, person in enumerate(sorted(people.values(), key=lambda p: p.pk)):
            at = starts - dt.timedelta(minutes=20) + dt.timedelta(seconds=37 * i)
            if person.pk in accounts:
                meet.checkin_by_token(actor=accounts[person.pk], meeting=meeting, token=meeting.checkin_token, now=at)
            else:
                meet.attendance_tick(actor=secretary, meeting=meeting, person=person, now=at)
        meet.minutes_save(actor=secretary, meeting=meeting, text=data["minutes"])
        meet.minutes_publish(actor=secretary, meeting=meeting, now=starts + dt.timedelta(days=1, hours=-9))
        secretary_person = Person.objects.get(user=secretary)
        for text, owner_name, due_in in data["decisions"]:
            owner = (
                secretary_person
                if owner_name == "secretary"
                else Person.objects.get(name=owner_name, place__path__startswith=anju.path)
            )
            decision = meet.decision_create(
                actor=secretary,
                meeting=meeting,
                text=text,
                owner=owner,
                due=self.today + dt.timedelta(days=due_in),
            )
            self.backdate(Decision, decision.pk, starts + dt.timedelta(hours=2))
        self.backdate(Meeting, meeting.pk, planned, starts + dt.timedelta(days=1, hours=-9))

    # --- Huajin's representatives and the garden (seed 000) ----------------------------------------

    def huajin_garden(self) -> None:
        data = DATA["huajin_garden"]
        huajin = Place.objects.filter(code=data["community"]).first()
        if huajin is None:
            return
        self.step(_("议事 · %(community)s居民代表表决") % {"community": huajin.name})
        representatives = list(
            Person.objects.filter(
                pk__in=Membership.objects.filter(
                    role__in=vot.REPRESENTATIVE_ROLES, ended_at__isnull=True, place__path__startswith=huajin.path
                ).values("person_id")
            ).order_by("id")
        )
        if not representatives:
            return
        accounts = self.accounts_for(representatives)
        starts = self.at(data["days_ago"], 15, 0)
        ends = starts + dt.timedelta(hours=2)
        meeting = meet.meeting_create(
            actor=SYSTEM,
            place=huajin,
            kind=MeetingKind.REPRESENTATIVES,
            title=data["meeting"],
            starts_at=starts,
            ends_at=ends,
            venue=data["venue"],
            quorum=(2 * len(representatives) + 2) // 3,
            agenda=[data["title"][:120]],
        )
        planned = starts - dt.timedelta(days=5)
        self.invite_past(
            meeting, [p.pk for p in representatives], _("按角色：%(role)s") % {"role": _("居民代表")}, planned
        )
        Invitation.objects.filter(meeting=meeting).update(rsvp=Rsvp.YES, rsvp_at=planned + dt.timedelta(hours=3))
        for i, person in enumerate(representatives):
            at = starts - dt.timedelta(minutes=15) + dt.timedelta(minutes=i)
            meet.checkin_by_token(actor=accounts[person.pk], meeting=meeting, token=meeting.checkin_token, now=at)
        meet.minutes_save(actor=SYSTEM, meeting=meeting, text=data["minutes"])
        decision = meet.decision_create(
            actor=SYSTEM,
            meeting=meeting,
            text=data["title"],
            owner=representatives[0],
            due=starts.date() + dt.timedelta(days=60),
        )
        vote = meet.decision_spawn_vote(
            actor=SYSTEM,
            decision=decision,
            title=data["title"],
            electorate=Electorate.REPRESENTATIVES,
            rule=VoteRule.MAJORITY,
        )
        opened = starts + dt.timedelta(minutes=40)
        vot.vote_open(actor=SYSTEM, vote=vote, representatives=representatives, now=opened)
        for i, person in enumerate(representatives):
            vot.vote_cast(
                actor=accounts[person.pk],
                vote=vote,
                choices=["yes"],
                channel="meeting",
                now=opened + dt.timedelta(minutes=1 + i * 0.5),
            )
        vot.vote_close(actor=SYSTEM, vote=vote, now=ends - dt.timedelta(minutes=10))
        meet.minutes_publish(actor=SYSTEM, meeting=meeting, now=ends + dt.timedelta(hours=20))
        meet.decision_report(
            actor=SYSTEM,
            decision=decision,
            text=data["done"],
            status=DecisionStatus.DONE,
            now=starts + dt.timedelta(days=52),
        )
        self.backdate(Meeting, meeting.pk, planned, ends + dt.timedelta(hours=20))
        self.backdate(Decision, decision.pk, ends - dt.timedelta(minutes=50), starts + dt.timedelta(days=52))
        self.backdate(Vote, vote.pk, ends - dt.timedelta(minutes=50), ends - dt.timedelta(minutes=10))

    # --- Pingan's owners and the maintenance fund (seed 003) ------------------------------------------

    def pingan_fund(self) -> None:
        data = DATA["pingan_fund"]
        linfeng = Place.objects.filter(code=data["community"]).first()
        if linfeng is None:
            return
        self.step(_("议事 · %(community)s业主表决") % {"community": linfeng.name})
        rng = self.rng
        secretary = self.staff(linfeng, Role.SECRETARY, f"secretary-{linfeng.code}")
        keyer = self.staff(
            linfeng, Role.COMMUNITY_STAFF, f"staff-{linfeng.code}", exclude=[Person.objects.get(user=secretary).pk]
        )
        collector = Person.objects.filter(name=data["collector"], place__path__startswith=linfeng.path).first()
        opened = self.at(data["days_ago"], 9, 0)
        vote = vot.vote_create(
            actor=secretary,
            place=linfeng,
            title=data["title"],
            body=data["body"],
            electorate=Electorate.OWNERS,
            rule=VoteRule.ART278_SPECIAL,
        )
        vot.vote_open(actor=secretary, vote=vote, now=opened)
        # one line per owner (no owner of several units in the estate)
        taking_part, agreeing = _turnout(vote, rng, data["turnout"], data["agree"])
        choices = ["yes"] * agreeing + [
            rng.choices(["no", "abstain"], [80, 20])[0] for _i in range(len(taking_part) - agreeing)
        ]
        rng.shuffle(choices)
        n = len(taking_part)
        online_n, door_n, paper_n = (n * data[k] // 1000 for k in ("online", "door", "paper"))
        online = taking_part[:online_n]
        door = taking_part[online_n : online_n + door_n]
        paper = taking_part[online_n + door_n : online_n + door_n + paper_n]
        proxied = taking_part[online_n + door_n + paper_n :]
        days = data["days_ago"]

        def moment(i: int, total: int, first: float = 0.2) -> dt.datetime:
            return opened + dt.timedelta(
                days=first + (days - 1.5 - first) * i / max(total, 1), minutes=rng.randint(0, 600)
            )

        accounts = self.accounts_for([line.person for line in online if line.person is not None])
        pick = dict(zip((id(line) for line in taking_part), choices, strict=True))
        for i, line in enumerate(online):
            assert line.person is not None
            vot.vote_cast(
                actor=accounts[line.person.pk], vote=vote, choices=[pick[id(line)]], now=moment(i, len(online))
            )
        for i, line in enumerate(door):  # 扫楼: a named collector goes door to door
            vot.vote_enter(
                actor=secretary,
                vote=vote,
                elector=line,
                choices=[pick[id(line)]],
                channel="door",
                collector=collector,
                now=moment(i, len(door), 2),
            )
        for i, line in enumerate(paper):  # keyed twice by two staff, one sheet mistyped once
            at = moment(i, len(paper), 3)
            sheet = f"P{i + 1:04d}"
            vot.paper_key(actor=secretary, vote=vote, sheet=sheet, elector=line, choices=[pick[id(line)]], now=at)
            wrong = i == 0
            second = (["no"] if pick[id(line)] == "yes" else ["yes"]) if wrong else [pick[id(line)]]
            vot.paper_key(
                actor=keyer, vote=vote, sheet=sheet, elector=line, choices=second, now=at + dt.timedelta(hours=2)
            )
            if wrong:  # the mismatch is settled by keying the sheet again
                vot.paper_key(
                    actor=keyer,
                    vote=vote,
                    sheet=sheet,
                    elector=line,
                    choices=[pick[id(line)]],
                    now=at + dt.timedelta(hours=3),
                )
        scan = _png()
        for i, line in enumerate(proxied):  # a written authorisation for a neighbour
            holder = (
                Person.objects.filter(place__path__startswith=linfeng.path, household_links__isnull=False)
                .exclude(pk=line.person_id)
                .order_by("id")[i]
            )
            at = moment(i, len(proxied), 4)
            vot.proxy_record(
                actor=secretary,
                vote=vote,
                elector=line,
                holder=holder,
                scan=PhotoUpload(name="weituoshu.png", content=scan),
                now=at,
            )
            vot.vote_enter(
                actor=secretary,
                vote=vote,
                elector=line,
                choices=[pick[id(line)]],
                channel="proxy",
                now=at + dt.timedelta(minutes=30),
            )
        vot.vote_close(actor=secretary, vote=vote, now=self.at(1, 18))
        self.backdate(Vote, vote.pk, opened - dt.timedelta(days=3), self.at(1, 18))

    # --- 游乐场社区's night talks on recurring needs (seed 000) --------------------------------------

    def youlechang_night(self) -> None:
        data = DATA["youlechang_night"]
        community = Place.objects.filter(code=data["community"]).first()
        if community is None:
            return
        self.step(_("议事 · %(community)s%(night)s") % {"community": community.name, "night": data["night"]})
        rng = self.rng
        buildings = list(
            Place.objects.filter(path__startswith=community.path, kind=PlaceKind.BUILDING).order_by("path")
        )
        piles: list[tuple[str, list[Any]]] = []
        for i, (code, text, count, first_days) in enumerate(data["recurring"]):
            building = buildings[i % len(buildings)]
            reporters = [p for _h, p in self.heads(building.path)]
            rng.shuffle(reporters)
            made = []
            for k in range(count):
                at = self.now - dt.timedelta(days=first_days - k * (first_days / 3 / count), hours=rng.uniform(0, 8))
                reporter = reporters[k % len(reporters)]
                made.append(
                    needs.need_create(
                        actor=SYSTEM,
                        text=text,
                        place=reporter.place,
                        category_code=code,
                        reporter=needs.Reporter(person=reporter),
                        now=at,
                    )
                )
            piles.append((code, made))
        # last month: the sweep offered the lighting, the night talk settled it, it was fixed
        past_code, past_needs = piles[0]
        past_first = data["recurring"][0][3]
        swept = self.now - dt.timedelta(days=past_first - 18)
        top.offer_recurring_topics(now=swept)
        past_topic = Topic.objects.get(place_path__startswith=community.path, category__code=past_code)
        top.topic_accept(actor=SYSTEM, topic=past_topic)
        self.backdate(Topic, past_topic.pk, swept)
        night_days = past_first - 24
        starts = self.at(night_days, 19, 30)
        night = meet.meeting_create(
            actor=SYSTEM,
            place=community,
            kind=MeetingKind.NIGHT,
            title=f"{data['night']} · {starts:%-m}月",
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=2),
            venue=data["venue"],
            open_to_place=True,
            topics=[past_topic],
        )
        invited = self.adults_under(past_topic.place_path, starts.date())
        self.invite_past(night, invited, _("按地点：%(place)s") % {"place": past_topic.place.name}, swept)
        for i, pk in enumerate(sorted(rng.sample(invited, max(1, len(invited) // 3)))):
            meet.attendance_tick(
                actor=SYSTEM, meeting=night, person=Person.objects.get(pk=pk), now=starts + dt.timedelta(minutes=i)
            )
        meet.minutes_save(actor=SYSTEM, meeting=night, text=data["past_minutes"])
        meet.minutes_publish(actor=SYSTEM, meeting=night, now=starts + dt.timedelta(hours=14))
        owner = self.heads(past_topic.place_path)[0][1]
        decision = meet.decision_create(
            actor=SYSTEM,
            meeting=night,
            text=data["past_decision"],
            owner=owner,
            due=starts.date() + dt.timedelta(days=10),
            topic=past_topic,
        )
        for k, need in enumerate(past_needs):
            needs.need_accept(actor=SYSTEM, need=need, now=starts + dt.timedelta(days=1, minutes=k))
            needs.need_resolve(
                actor=SYSTEM, need=need, result=data["resolved"], now=starts + dt.timedelta(days=6, minutes=k)
            )
        meet.decision_report(
            actor=SYSTEM,
            decision=decision,
            text=data["past_done"],
            status=DecisionStatus.DONE,
            now=starts + dt.timedelta(days=7),
        )
        self.backdate(Meeting, night.pk, swept + dt.timedelta(days=1), starts + dt.timedelta(hours=14))
        self.backdate(Decision, decision.pk, starts + dt.timedelta(hours=2), starts + dt.timedelta(days=7))
        # this month: the sweep offers the parking and the rubbish; the parking goes on the next night
        top.offer_recurring_topics(now=self.now - dt.timedelta(hours=2))
        code = piles[1][0]
        topic = Topic.objects.get(place_path__startswith=community.path, category__code=code)
        top.topic_accept(actor=SYSTEM, topic=topic)
        next_night = self.at(-(30 - night_days % 30 or 7), 19, 30)
        meet.meeting_create(
            actor=SYSTEM,
            place=community,
            kind=MeetingKind.NIGHT,
            title=f"{data['night']} · {next_night:%-m}月",
            starts_at=next_night,
            ends_at=next_night + dt.timedelta(hours=2),
            venue=data["venue"],
            open_to_place=True,
            topics=[topic],
        )

    # --- Anju's convention (seed 002) -------------------------------------------------------------

    def anju_convention(self) -> None:
        data = DATA["anju_convention"]
        anju = Place.objects.filter(code=data["community"]).first()
        secretary = getattr(self, "anju_secretary", None)
        if anju is None or secretary is None:
            return
        self.step(_("议事 · %(community)s居民公约") % {"community": anju.name})
        rng = self.rng
        articles: list[str] = data["articles"]
        added = 4  # the fifth article was added after the comments
        first = articles[:added] + articles[added + 1 :]
        drafted = self.now - dt.timedelta(days=120)
        convention = conv.convention_create(actor=secretary, place=anju, title=data["title"], articles=first)
        self.backdate(Convention, convention.pk, drafted)
        v1 = ConventionVersion.objects.get(convention=convention, number=1)
        opened = drafted + dt.timedelta(days=3)
        conv.comments_open(actor=secretary, version=v1, until=opened + dt.timedelta(days=21), now=opened)
        heads = self.heads(anju.path)
        commenters = [p for _h, p in heads if p.name not in ("成良", "刘光彩")][: len(data["comments"])]
        accounts = self.accounts_for(commenters)
        for _household, person in heads:  # a resident comments where they hold their role
            if person in commenters:
                membership_grant(actor=SYSTEM, person=person, place=person.place, role=Role.RESIDENT, reason=REASON)
        for (number, text), person in zip(data["comments"], commenters, strict=True):
            article = ConventionArticle.objects.get(version=v1, number=number)
            conv.comment_add(
                actor=accounts[person.pk],
                article=article,
                text=text,
                now=opened + dt.timedelta(days=rng.uniform(2, 15)),
            )
        revised = opened + dt.timedelta(days=23)
        v2 = conv.version_create(actor=secretary, convention=convention, now=revised)
        conv.article_add(actor=secretary, version=v2, text=articles[added], number=added + 1)
        voting = revised + dt.timedelta(days=5)
        vote = conv.version_put_to_vote(actor=secretary, version=v2, electorate=Electorate.HOUSEHOLDS, now=voting)
        vot.vote_open(actor=secretary, vote=vote, now=voting)
        taking_part, agreeing = _turnout(vote, rng, data["turnout"], data["agree"])
        online = [line for line in taking_part[: len(taking_part) // 2] if line.person is not None]
        accounts = self.accounts_for([line.person for line in online if line.person is not None])
        collector = Person.objects.get(user=secretary)
        for i, line in enumerate(taking_part):
            choice = "yes" if i < agreeing else rng.choice(["no", "abstain"])
            at = voting + dt.timedelta(days=1 + 9 * i / len(taking_part), minutes=rng.randint(0, 300))
            if line in online and line.person is not None:
                vot.vote_cast(actor=accounts[line.person.pk], vote=vote, choices=[choice], now=at)
            else:
                vot.vote_enter(
                    actor=secretary,
                    vote=vote,
                    elector=line,
                    choices=[choice],
                    channel="door",
                    collector=collector,
                    now=at,
                )
        closed = voting + dt.timedelta(days=11)
        vot.vote_close(actor=secretary, vote=vote, now=closed)
        v2.refresh_from_db()
        published = closed + dt.timedelta(days=2)
        conv.version_publish(actor=secretary, version=v2, now=published)
        self.backdate(Vote, vote.pk, voting, closed)
        # households sign: online those with an account, the others on the printed text
        signing = [(h, p) for h, p in heads]
        rng.shuffle(signing)
        signing = signing[: len(heads) * data["signed_per_thousand"] // 1000]
        online_signers = signing[: len(signing) * 2 // 5]
        accounts = self.accounts_for([p for _h, p in online_signers])
        for i, (household, person) in enumerate(signing):
            at = published + dt.timedelta(days=1 + 30 * i / len(signing), minutes=rng.randint(0, 600))
            if person.pk in accounts:
                conv.convention_sign(actor=accounts[person.pk], version=v2, household=household, now=at)
            else:
                conv.signature_record_paper(actor=secretary, version=v2, household=household, signer=person, now=at)

    # --- 常二社区: what the tour's accounts see ---------------------------------------------------

    def changer_rules(self) -> None:
        """常二's secretary asks for more needs before a topic is offered: its residents raise
        many, and one topic a month is what the monthly talk can take."""
        data = DATA["changer"]
        community = Place.objects.filter(code=data["community"]).first()
        secretary = User.objects.filter(username="secretary").first()
        if community is not None and secretary is not None:
            top.rules_set(
                actor=secretary,
                community=community,
                support_threshold=data["support_threshold"],
                recurring_count=data["recurring_count"],
                recurring_days=data["recurring_days"],
            )

    def changer(self) -> None:
        data = DATA["changer"]
        community = Place.objects.filter(code=data["community"]).first()
        users = {
            u.username: u for u in User.objects.filter(username__in=["secretary", "resident", *data["supporters"]])
        }
        secretary, resident = users.get("secretary"), users.get("resident")
        if community is None or secretary is None or resident is None:
            return
        self.step(_("议事 · %(community)s") % {"community": community.name})
        building = Place.objects.get(path=resident.person.place.path[:-4])
        starts = self.at(-data["in_days"], 19, 0)
        meeting = meet.meeting_create(
            actor=secretary,
            place=community,
            kind=MeetingKind.MONTHLY,
            title=data["meeting"],
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=2),
            venue=data["venue"],
            agenda=[data["vote"]],
        )
        meet.invite_by_place(actor=secretary, meeting=meeting, place=building)
        vote = vot.vote_create(
            actor=secretary,
            place=building,
            title=data["vote"],
            body=data["vote_body"],
            electorate=Electorate.HOUSEHOLDS,
            rule=VoteRule.MAJORITY,
            closes_at=self.now + dt.timedelta(days=data["vote_days"]),
            meeting=meeting,
        )
        vot.vote_open(actor=secretary, vote=vote, now=self.now - dt.timedelta(days=2))
        for i, name in enumerate(data["supporters"][:2]):
            if name in users:
                vot.vote_cast(
                    actor=users[name], vote=vote, choices=["yes"], now=self.now - dt.timedelta(days=1, hours=i)
                )
        topic = top.topic_propose(actor=resident, place=community, title=data["proposal"], body=data["proposal_body"])
        self.backdate(Topic, topic.pk, self.now - dt.timedelta(days=3))
        for name in data["supporters"]:
            if name in users:
                top.topic_support(actor=users[name], topic=topic)
        # the monthly sweep has offered the secretary the needs that keep coming back (the
        # needs' demo gives 常二 plenty); if none piled up, one of the resident's building
        if not Topic.objects.filter(place_path__startswith=community.path, status=TopicStatus.OFFERED).exists():
            top.offer_recurring_topics(now=self.now - dt.timedelta(hours=1))

    # --- 常四's drainage meeting (seed 004): what the street sees overdue --------------------------

    def changsi_drainage(self) -> None:
        data = DATA["changsi_drainage"]
        changsi = Place.objects.filter(code=data["community"]).first()
        if changsi is None:
            return
        self.step(_("议事 · %(community)s") % {"community": changsi.name})
        secretary = self.staff(changsi, Role.SECRETARY, f"secretary-{changsi.code}")
        starts = self.at(data["days_ago"], 15, 0)
        meeting = meet.meeting_create(
            actor=secretary,
            place=changsi,
            kind=MeetingKind.REPRESENTATIVES,
            title=data["title"],
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=2),
            venue=data["venue"],
        )
        self.backdate(Meeting, meeting.pk, starts - dt.timedelta(days=3))
        meet.minutes_save(actor=secretary, meeting=meeting, text=data["minutes"])
        meet.minutes_publish(actor=secretary, meeting=meeting, now=starts + dt.timedelta(days=1))
        owner = Person.objects.get(user=secretary)
        for text, due_in in data["decisions"]:
            decision = meet.decision_create(
                actor=secretary, meeting=meeting, text=text, owner=owner, due=self.today + dt.timedelta(days=due_in)
            )
            self.backdate(Decision, decision.pk, starts + dt.timedelta(hours=2))


def _turnout(vote: Vote, rng: random.Random, turnout: int, agree: int) -> tuple[list[Elector], int]:
    """The register's lines that take part (``turnout`` per thousand, drawn from the lines in the
    order of the addresses, so the same seed draws the same people) and how many of them agree
    (``agree`` per thousand of those)."""
    lines = list(
        Elector.objects.filter(vote=vote)
        .select_related("person__user")
        .order_by("household__place__path", "person_id", "id")
    )
    rng.shuffle(lines)
    taking_part = lines[: len(lines) * turnout // 1000]
    return taking_part, len(taking_part) * agree // 1000


def steps(paths: list[str]) -> int:
    """How many progress steps ``load`` takes."""
    return 7


def load(*, paths: list[str], step: Callable[[str], None], seed: int = 20261207) -> None:
    """Meetings, votes, topics and the convention of the seeds (inside the demo's transaction,
    after the needs and the visits)."""
    builder = _Builder(seed=seed, step=step)
    builder.changer_rules()
    builder.anju_bench()
    builder.huajin_garden()
    builder.pingan_fund()
    builder.youlechang_night()
    builder.anju_convention()
    builder.changer()
    builder.changsi_drainage()
    # the history is simulated: its notifications were due long ago, so none is sent now
    drop_pending("deliberation.")
    drop_pending("needs.")


def labels() -> list[tuple[str, str]]:
    """(key, label) of the counts the demo's summary prints."""
    return [(key, str(label)) for key, label in COUNT_LABELS]


def counts(paths: list[str]) -> dict[str, int]:
    """What the demo summary prints about deliberation, for the places under ``paths``."""
    if not paths:
        return {}
    q = under(paths)
    decisions = Decision.objects.filter(q)
    return {
        "topics": Topic.objects.filter(q).count(),
        "meetings": Meeting.objects.filter(q).count(),
        "decisions": decisions.count(),
        "overdue": decisions.filter(status=DecisionStatus.OPEN, due__lt=timezone.localdate()).count(),
        "votes": Vote.objects.filter(q).count(),
        "ballots": Participation.objects.filter(under(paths, "vote__place_path")).count(),
        "signatures": Signature.objects.filter(under(paths, "version__convention__place_path")).count(),
    }


def purge(paths: list[str]) -> list[QuerySet[Any]]:
    """What ``reset_demo`` deletes for deliberation, in order (the accounts made for residents go
    with the demo's people). The scans of the proxies' authorisations are removed from storage."""
    in_votes = under(paths, "vote__place_path")
    in_conventions = under(paths, "convention__place_path")
    for name in Proxy.objects.filter(in_votes).values_list("authorisation", flat=True):
        if name and default_storage.exists(name):
            default_storage.delete(name)
    return [
        Signature.objects.filter(under(paths, "version__convention__place_path")),
        ArticleComment.objects.filter(under(paths, "article__version__convention__place_path")),
        ConventionArticle.objects.filter(under(paths, "version__convention__place_path")),
        # a version's ``based_on`` protects the one it started from: the latest go first
        *[
            ConventionVersion.objects.filter(in_conventions, number=n)
            for n in sorted(
                set(ConventionVersion.objects.filter(in_conventions).values_list("number", flat=True)), reverse=True
            )
        ],
        Convention.objects.filter(under(paths)),
        Decision.objects.filter(under(paths, "meeting__place_path")),
        PaperEntry.objects.filter(in_votes),
        Ballot.objects.filter(in_votes),
        Participation.objects.filter(in_votes),
        Proxy.objects.filter(in_votes),
        SecretBallot.objects.filter(in_votes),
        Elector.objects.filter(in_votes),
        Vote.objects.filter(under(paths)),
        AgendaItem.objects.filter(under(paths, "meeting__place_path")),
        Meeting.objects.filter(under(paths)),
        Topic.objects.filter(under(paths)),
    ]
