"""Writes of meetings (议事会) and their decisions: planning, invitations and replies,
attendance at the door, minutes with attachments, decisions that spawn a need or a vote.

Each service is keyword-only, takes ``actor``, checks the capability at the meeting's place,
runs in one transaction (the meeting's row locked where two writers could race) and queues
its notifications inside it, so nothing is sent for a write that rolled back.

Who may check in: the invitees, and, when the meeting is open to its place
(``Meeting.open_to_place``), anyone living in a household under its place. Check-in is open
from ``CHECKIN_BEFORE`` before the start until the end, and never for a cancelled meeting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core.access import Actor, Role, require, scope_for, user_of
from linli.core.audit import audit_record
from linli.core.models import AuditEntry
from linli.core.notify import notify
from linli.core.photos import PhotoUpload, clean_photo
from linli.deliberation.capabilities import DelibCap
from linli.deliberation.models import (
    AgendaItem,
    Attendance,
    CheckinMethod,
    Decision,
    DecisionNote,
    DecisionStatus,
    Electorate,
    Invitation,
    Meeting,
    MeetingKind,
    MeetingStatus,
    MinutesAttachment,
    Rsvp,
    Topic,
    TopicStatus,
    Vote,
    VoteRule,
    VoteStatus,
)
from linli.deliberation.notifications.meetings import BATCH
from linli.deliberation.selectors.meetings import AGENDA_TOPIC_STATUSES, may_report
from linli.deliberation.services.common import checked_text, now_or
from linli.deliberation.services.topics import topic_mark, topic_mark_settled, topic_step_back
from linli.deliberation.services.votes import vote_create
from linli.needs.models import Channel, Need
from linli.needs.services.handling import need_whistle
from linli.needs.services.intake import need_create
from linli.people.identity import redact_text
from linli.people.models import Department, Household, HouseholdMember, Membership, Person
from linli.places.models import Place, PlaceKind

#: Check-in opens this long before the start (and closes at the end).
CHECKIN_BEFORE = dt.timedelta(hours=1)
#: The longest meeting.
MAX_LENGTH = dt.timedelta(hours=12)
#: The years a meeting may be planned in.
MIN_YEAR, MAX_YEAR = 2000, 2100
#: Adults are invited by place or household.
ADULT_AGE = 18
MAX_AGENDA = 30
MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
#: Files a minutes may carry, by what their first bytes say (never by the name alone).
DOCUMENT_TYPES = {
    "pdf": ("application/pdf", b"%PDF-"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK\x03\x04"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK\x03\x04"),
}


def _text(value: str, field: str, limit: int, *, required: bool = False) -> str:
    return checked_text(value, field, limit, blank=_("请填写此项") if required else "")


def _lock(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update().get(pk=meeting.pk)


def _notify_invitees(kind: str, meeting: Meeting, invitation_ids: Sequence[int]) -> None:
    ids = sorted(invitation_ids)
    for start in range(0, len(ids), BATCH):
        notify(kind, meeting=meeting.pk, invitations=ids[start : start + BATCH])


# --- planning -------------------------------------------------------------------------------------


def _check_times(starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    # a year the database cannot hold in UTC (0001-01-01 in Beijing is 1 BC) breaks every list
    if not (starts_at.year >= MIN_YEAR and ends_at.year <= MAX_YEAR):
        raise ValidationError({"starts_at": [_("会议日期须在%(a)s年至%(b)s年之间") % {"a": MIN_YEAR, "b": MAX_YEAR}]})
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": [_("结束时间须晚于开始时间")]})
    if ends_at - starts_at > MAX_LENGTH:
        raise ValidationError({"ends_at": [_("一次会议最长12小时")]})


def _check_quorum(quorum: int | None) -> int | None:
    if quorum is None:
        return None
    if quorum < 1 or quorum > 100_000:
        raise ValidationError({"quorum": [_("法定人数须为正整数")]})
    return quorum


def _set_agenda(meeting: Meeting, titles: Sequence[str], topics: Sequence[Topic]) -> None:
    """Replace the agenda: the topics first, then the free titles. A topic put on it is
    scheduled; one taken off that no other planned meeting holds is back on the list."""
    titles = [t for t in (_text(t, "agenda", 120) for t in titles) if t]
    if len(titles) + len(topics) > MAX_AGENDA:
        raise ValidationError({"agenda": [_("议程最多%(n)s项") % {"n": MAX_AGENDA}]})
    for topic in topics:
        if not topic.place_path.startswith(meeting.place_path):
            raise ValidationError({"topics": [_("议题“%(title)s”不在本次会议的范围内") % {"title": topic.title}]})
        if topic.status not in AGENDA_TOPIC_STATUSES:
            raise ValidationError({"topics": [_("议题“%(title)s”已落实或不予列入") % {"title": topic.title}]})
    before = set(meeting.agenda.exclude(topic=None).values_list("topic_id", flat=True))
    meeting.agenda.all().delete()
    # a resident's title goes to every invitee (page, calendar file, API): its numbers masked
    items = [
        AgendaItem(meeting=meeting, topic=t, title=redact_text(t.title)[:120], position=i) for i, t in enumerate(topics)
    ]
    items += [AgendaItem(meeting=meeting, title=t, position=len(topics) + i) for i, t in enumerate(titles)]
    AgendaItem.objects.bulk_create(items)
    for topic in topics:
        if topic.status in (TopicStatus.GATHERING, TopicStatus.OFFERED, TopicStatus.LISTED):
            topic_mark(topic, TopicStatus.SCHEDULED)
    _unschedule(before - {t.pk for t in topics})


def _unschedule(topic_ids: Iterable[int]) -> None:
    """Topics no planned meeting holds any more go back on the list."""
    ids = set(topic_ids)
    if not ids:
        return
    held = set(
        AgendaItem.objects.filter(topic_id__in=ids, meeting__status=MeetingStatus.PLANNED).values_list(
            "topic_id", flat=True
        )
    )
    for topic in Topic.objects.filter(pk__in=ids - held, status=TopicStatus.SCHEDULED):
        topic_step_back(topic, TopicStatus.LISTED)


@transaction.atomic
def meeting_create(
    *,
    actor: Actor,
    place: Place,
    kind: str,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    venue: str,
    quorum: int | None = None,
    open_to_place: bool = False,
    agenda: Sequence[str] = (),
    topics: Sequence[Topic] = (),
) -> Meeting:
    """Plan a meeting at ``place`` (a community or a place inside one)."""
    require(actor, DelibCap.RUN, place)
    if place.kind in (PlaceKind.CITY, PlaceKind.DISTRICT, PlaceKind.COUNTY, PlaceKind.STREET, PlaceKind.TOWN):
        raise ValidationError({"place": [_("议事会在社区、网格、楼栋或院落召开")]})
    if kind not in MeetingKind.values:
        raise ValidationError({"kind": [_("未知的会议类型")]})
    _check_times(starts_at, ends_at)
    meeting = Meeting(
        place=place,
        kind=kind,
        title=_text(title, "title", 120, required=True),
        starts_at=starts_at,
        ends_at=ends_at,
        venue=_text(venue, "venue", 120, required=True),
        quorum=_check_quorum(quorum),
        open_to_place=open_to_place,
        organiser=user_of(actor),
    )
    meeting.save()
    _set_agenda(meeting, agenda, topics)
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, target=meeting, place=place)
    return meeting


@transaction.atomic
def meeting_update(
    *,
    actor: Actor,
    meeting: Meeting,
    kind: str,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    venue: str,
    quorum: int | None = None,
    open_to_place: bool = False,
    agenda: Sequence[str] = (),
    topics: Sequence[Topic] = (),
) -> Meeting:
    """Change a planned meeting. A new time, venue or title is told to the invitees (and
    their calendars: the file's sequence goes up); their reminder is due again."""
    require(actor, DelibCap.RUN, meeting.place)
    meeting = _lock(meeting)
    if meeting.status != MeetingStatus.PLANNED:
        raise ValidationError({"status": [_("只能修改筹备中的会议")]})
    if kind not in MeetingKind.values:
        raise ValidationError({"kind": [_("未知的会议类型")]})
    _check_times(starts_at, ends_at)
    title = _text(title, "title", 120, required=True)
    venue = _text(venue, "venue", 120, required=True)
    changed = (meeting.starts_at, meeting.ends_at, meeting.venue, meeting.title) != (starts_at, ends_at, venue, title)
    meeting.kind, meeting.title, meeting.venue = kind, title, venue
    meeting.starts_at, meeting.ends_at = starts_at, ends_at
    meeting.quorum, meeting.open_to_place = _check_quorum(quorum), open_to_place
    if changed:
        meeting.sequence += 1
    meeting.save()
    _set_agenda(meeting, agenda, topics)
    if changed:
        ids = list(meeting.invitations.exclude(rsvp=Rsvp.NO).values_list("pk", flat=True))
        meeting.invitations.update(reminded_at=None)
        _notify_invitees("deliberation.meeting_changed", meeting, ids)
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, target=meeting, place=meeting.place)
    return meeting


@transaction.atomic
def meeting_cancel(*, actor: Actor, meeting: Meeting, reason: str = "") -> Meeting:
    """Cancel a planned meeting: its invitees are told, its topics are back on the list."""
    require(actor, DelibCap.RUN, meeting.place)
    meeting = _lock(meeting)
    if meeting.status != MeetingStatus.PLANNED:
        raise ValidationError({"status": [_("只能取消筹备中的会议")]})
    meeting.status = MeetingStatus.CANCELLED
    meeting.sequence += 1
    meeting.save(update_fields=["status", "sequence", "updated_at"])
    _unschedule(meeting.agenda.exclude(topic=None).values_list("topic_id", flat=True))
    _notify_invitees("deliberation.meeting_cancelled", meeting, list(meeting.invitations.values_list("pk", flat=True)))
    audit_record(
        actor=actor,
        action=AuditEntry.Action.UPDATE,
        target=meeting,
        place=meeting.place,
        reason=_text(reason, "reason", 200),
        changes={"status": MeetingStatus.CANCELLED},
    )
    return meeting


# --- invitations ----------------------------------------------------------------------------------


def _adults(meeting: Meeting) -> Q:
    """Adults on the meeting's day; a person whose birth date is not known is counted in
    (better one invitation too many than a neighbour left out)."""
    day = timezone.localtime(meeting.starts_at).date()
    try:
        born_by = day.replace(year=day.year - ADULT_AGE)
    except ValueError:  # 29 February
        born_by = day.replace(year=day.year - ADULT_AGE, day=28)
    return Q(person__birth_date__isnull=True) | Q(person__birth_date__lte=born_by)


def _under_meeting(meeting: Meeting, place: Place) -> None:
    if not place.path.startswith(meeting.place_path):
        raise ValidationError({"place": [_("只能邀请本次会议范围内的居民")]})


def _invite(actor: Actor, meeting: Meeting, person_ids: Iterable[int], reason: str) -> list[Invitation]:
    """Invite the people not invited yet; each new invitee is told. Returns the new invitations."""
    require(actor, DelibCap.RUN, meeting.place)
    meeting = _lock(meeting)
    if meeting.status != MeetingStatus.PLANNED:
        raise ValidationError({"status": [_("只能邀请参加筹备中的会议")]})
    if meeting.ends_at <= timezone.now():
        raise ValidationError({"status": [_("会议已结束")]})
    wanted = set(person_ids)
    wanted -= set(meeting.invitations.filter(person_id__in=wanted).values_list("person_id", flat=True))
    # a meeting within a day has its reminder in the invitation itself
    soon = meeting.starts_at - timezone.now() <= dt.timedelta(days=1)
    rows = Invitation.objects.bulk_create(
        [
            Invitation(meeting=meeting, person_id=pk, reason=reason[:120], reminded_at=timezone.now() if soon else None)
            for pk in sorted(wanted)
        ]
    )
    if rows:
        _notify_invitees("deliberation.meeting_invited", meeting, [r.pk for r in rows])
        audit_record(
            actor=actor,
            action=AuditEntry.Action.UPDATE,
            target=meeting,
            place=meeting.place,
            reason=reason[:200],
            changes={"invited": len(rows)},
        )
    return rows


@transaction.atomic
def invite_by_place(*, actor: Actor, meeting: Meeting, place: Place) -> list[Invitation]:
    """Invite every adult member of the households under ``place`` (the meeting's place or
    a place inside it)."""
    _under_meeting(meeting, place)
    ids = (
        HouseholdMember.objects.filter(_adults(meeting), household__place__path__startswith=place.path)
        .values_list("person_id", flat=True)
        .distinct()
    )
    return _invite(actor, meeting, ids, _("按地点：%(place)s") % {"place": place.name})


@transaction.atomic
def invite_by_role(*, actor: Actor, meeting: Meeting, role: str, place: Place | None = None) -> list[Invitation]:
    """Invite everyone holding ``role`` (an active membership) at ``place`` or under it (the
    meeting's place by default)."""
    if role not in Role.values or role == Role.ADMIN:
        raise ValidationError({"role": [_("未知的角色")]})
    place = place or meeting.place
    _under_meeting(meeting, place)
    ids = (
        Membership.objects.filter(role=role, ended_at__isnull=True, place__path__startswith=place.path)
        .values_list("person_id", flat=True)
        .distinct()
    )
    return _invite(actor, meeting, ids, _("按角色：%(role)s") % {"role": Role(role).label})


@transaction.atomic
def invite_by_households(*, actor: Actor, meeting: Meeting, households: Sequence[Household]) -> list[Invitation]:
    """Invite the adult members of the chosen households (each under the meeting's place)."""
    if not households:
        raise ValidationError({"households": [_("请选择住户")]})
    for household in households:
        _under_meeting(meeting, household.place)
    ids = (
        HouseholdMember.objects.filter(_adults(meeting), household__in=households)
        .values_list("person_id", flat=True)
        .distinct()
    )
    return _invite(actor, meeting, ids, _("按住户"))


@transaction.atomic
def rsvp_set(*, actor: Actor, meeting: Meeting, answer: str, now: dt.datetime | None = None) -> Invitation:
    """The invitee answers: yes, no or maybe (again as often as they like, until it ends)."""
    now = now_or(now)
    if answer not in (Rsvp.YES, Rsvp.NO, Rsvp.MAYBE):
        raise ValidationError({"rsvp": [_("请选择参加、不参加或待定")]})
    person_id = scope_for(actor).person_id
    invitation = (
        Invitation.objects.select_for_update().filter(meeting=meeting, person_id=person_id).first()
        if person_id
        else None
    )
    if invitation is None:
        raise ValidationError({"rsvp": [_("您没有受邀参加这次会议")]})
    if meeting.status == MeetingStatus.CANCELLED:
        raise ValidationError({"rsvp": [_("会议已取消")]})
    if meeting.ends_at <= now:
        raise ValidationError({"rsvp": [_("会议已结束")]})
    invitation.rsvp, invitation.rsvp_at = answer, now
    invitation.save(update_fields=["rsvp", "rsvp_at"])
    return invitation


# --- attendance -----------------------------------------------------------------------------------


def checkin_open(meeting: Meeting, now: dt.datetime) -> bool:
    return meeting.status != MeetingStatus.CANCELLED and meeting.starts_at - CHECKIN_BEFORE <= now <= meeting.ends_at


def _check_window(meeting: Meeting, now: dt.datetime) -> None:
    if meeting.status == MeetingStatus.CANCELLED:
        raise ValidationError({"checkin": [_("会议已取消")]})
    if now < meeting.starts_at - CHECKIN_BEFORE:
        raise ValidationError({"checkin": [_("签到在会议开始前1小时开放")]})
    if now > meeting.ends_at:
        raise ValidationError({"checkin": [_("会议已结束，签到已关闭")]})


def may_attend(meeting: Meeting, person_id: int) -> bool:
    """An invitee, or (open meetings) someone living in a household under the meeting's place."""
    if Invitation.objects.filter(meeting=meeting, person_id=person_id).exists():
        return True
    return meeting.open_to_place and (
        HouseholdMember.objects.filter(
            person_id=person_id, household__place__path__startswith=meeting.place_path
        ).exists()
    )


def _attend(meeting: Meeting, person_id: int, method: str, actor: Actor, now: dt.datetime) -> tuple[Attendance, bool]:
    found = Attendance.objects.filter(meeting=meeting, person_id=person_id).first()
    if found is not None:
        return found, False
    row = Attendance.objects.create(
        meeting=meeting, person_id=person_id, method=method, at=now, checked_by=user_of(actor)
    )
    return row, True


@transaction.atomic
def checkin_by_token(*, actor: Actor, meeting: Meeting, token: str, now: dt.datetime | None = None) -> bool:
    """The resident who scanned the door's code checks themself in. Twice counts once:
    returns whether this was the first time."""
    now = now_or(now)
    meeting = _lock(meeting)
    if not token or token != meeting.checkin_token:
        raise ValidationError({"checkin": [_("签到码无效")]})
    _check_window(meeting, now)
    person_id = scope_for(actor).person_id
    if person_id is None or not may_attend(meeting, person_id):
        raise PermissionDenied(_("您不在这次会议的邀请名单中"))
    return _attend(meeting, person_id, CheckinMethod.QR, actor, now)[1]


@transaction.atomic
def attendance_tick(*, actor: Actor, meeting: Meeting, person: Person, now: dt.datetime | None = None) -> bool:
    """Staff at the door tick someone without a phone; returns whether it was new."""
    now = now_or(now)
    require(actor, DelibCap.CHECK_IN, meeting.place)
    meeting = _lock(meeting)
    _check_window(meeting, now)
    if not may_attend(meeting, person.pk):
        raise ValidationError({"person": [_("此人不在这次会议的邀请名单中")]})
    created = _attend(meeting, person.pk, CheckinMethod.STAFF, actor, now)[1]
    if created:
        audit_record(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            target=meeting,
            place=meeting.place,
            field="attendance",
            changes={"person": person.pk},
        )
    return created


@transaction.atomic
def attendance_untick(*, actor: Actor, meeting: Meeting, person: Person, now: dt.datetime | None = None) -> None:
    """Undo a tick made by mistake (while check-in is open)."""
    now = now_or(now)
    require(actor, DelibCap.CHECK_IN, meeting.place)
    meeting = _lock(meeting)
    _check_window(meeting, now)
    deleted, _rows = Attendance.objects.filter(meeting=meeting, person=person).delete()
    if deleted:
        audit_record(
            actor=actor,
            action=AuditEntry.Action.DELETE,
            target=meeting,
            place=meeting.place,
            field="attendance",
            changes={"person": person.pk},
        )


# --- minutes --------------------------------------------------------------------------------------


@transaction.atomic
def minutes_save(*, actor: Actor, meeting: Meeting, text: str) -> Meeting:
    """Write (or correct) the minutes of a meeting that has begun."""
    require(actor, DelibCap.RUN, meeting.place)
    meeting = _lock(meeting)
    if meeting.status == MeetingStatus.CANCELLED:
        raise ValidationError({"minutes": [_("会议已取消")]})
    meeting.minutes = _text(text, "minutes", 20000)
    meeting.save(update_fields=["minutes", "updated_at"])
    audit_record(actor=actor, action=AuditEntry.Action.UPDATE, target=meeting, place=meeting.place, field="minutes")
    return meeting


def _clean_file(name: str, content: bytes) -> tuple[bytes, str, str]:
    """(bytes, file name, content type) of an accepted attachment."""
    if not content:
        raise ValidationError({"file": [_("文件是空的")]})
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise ValidationError(
            {"file": [_("文件过大(最大 %(size)s MB)") % {"size": MAX_ATTACHMENT_BYTES // 1024 // 1024}]}
        )
    base = (name or "file").replace("\\", "/").rsplit("/", 1)[-1].strip()[:100] or "file"
    ext = base.rsplit(".", 1)[-1].lower() if "." in base else ""
    if ext in DOCUMENT_TYPES:
        content_type, magic = DOCUMENT_TYPES[ext]
        if not content.startswith(magic):
            raise ValidationError({"file": [_("文件内容与类型不符")]})
        return content, base, content_type
    if ext in ("jpg", "jpeg", "png", "heic", "heif"):
        # photos are re-encoded: the camera's location never reaches storage
        data, new_ext, _w, _h = clean_photo(PhotoUpload(name=base, content=content))
        stem = base.rsplit(".", 1)[0]
        return data, f"{stem}.{new_ext}", "image/png" if new_ext == "png" else "image/jpeg"
    raise ValidationError({"file": [_("只支持PDF、Word、Excel文件和JPEG、PNG、HEIC照片")]})


@transaction.atomic
def minutes_attach(
    *, actor: Actor, meeting: Meeting, name: str, content: bytes, now: dt.datetime | None = None
) -> MinutesAttachment:
    require(actor, DelibCap.RUN, meeting.place)
    meeting = _lock(meeting)
    if meeting.status == MeetingStatus.CANCELLED:
        raise ValidationError({"file": [_("会议已取消")]})
    if meeting.attachments.count() >= MAX_ATTACHMENTS:
        raise ValidationError({"file": [_("每次会议最多%(n)s个附件") % {"n": MAX_ATTACHMENTS}]})
    data, filename, content_type = _clean_file(name, content)
    row = MinutesAttachment(
        meeting=meeting,
        name=filename,
        content_type=content_type,
        size=len(data),
        uploaded_at=now_or(now),
        uploaded_by=user_of(actor),
    )
    row.file.save(filename, ContentFile(data), save=False)
    row.save()
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, target=row, place=meeting.place)
    return row


@transaction.atomic
def minutes_detach(*, actor: Actor, attachment: MinutesAttachment) -> None:
    meeting = attachment.meeting
    require(actor, DelibCap.RUN, meeting.place)
    audit_record(actor=actor, action=AuditEntry.Action.DELETE, target=attachment, place=meeting.place)
    attachment.file.delete(save=False)
    attachment.delete()


@transaction.atomic
def minutes_publish(*, actor: Actor, meeting: Meeting, now: dt.datetime | None = None) -> Meeting:
    """Publish the minutes: residents of the place may read them (and the decisions); the
    meeting is held."""
    now = now_or(now)
    require(actor, DelibCap.RUN, meeting.place)
    meeting = _lock(meeting)
    if meeting.status == MeetingStatus.CANCELLED:
        raise ValidationError({"minutes": [_("会议已取消")]})
    if meeting.starts_at > now:
        raise ValidationError({"minutes": [_("会议尚未开始")]})
    if not meeting.minutes.strip():
        raise ValidationError({"minutes": [_("请先填写会议记录")]})
    meeting.status = MeetingStatus.HELD
    if meeting.minutes_published_at is None:
        meeting.minutes_published_at = now
    meeting.save(update_fields=["status", "minutes_published_at", "updated_at"])
    audit_record(
        actor=actor, action=AuditEntry.Action.UPDATE, target=meeting, place=meeting.place, field="minutes_published"
    )
    return meeting


# --- decisions ------------------------------------------------------------------------------------


@transaction.atomic
def decision_create(
    *,
    actor: Actor,
    meeting: Meeting,
    text: str,
    owner: Person,
    due: dt.date,
    topic: Topic | None = None,
) -> Decision:
    """Record what the meeting decided, with its owner (told by SMS) and due date; its topic
    is decided."""
    require(actor, DelibCap.RUN, meeting.place)
    meeting = _lock(meeting)
    if meeting.status == MeetingStatus.CANCELLED:
        raise ValidationError({"meeting": [_("会议已取消")]})
    if topic is not None and not topic.place_path.startswith(meeting.place_path):
        raise ValidationError({"topic": [_("议题不在本次会议的范围内")]})
    if due < timezone.localtime(meeting.starts_at).date():
        raise ValidationError({"due": [_("完成期限不能早于会议日期")]})
    decision = Decision.objects.create(
        meeting=meeting, topic=topic, text=_text(text, "text", 2000, required=True), owner=owner, due=due
    )
    if topic is not None:
        topic_mark(topic, TopicStatus.DECIDED)
    notify("deliberation.decision_owner", decision=decision.pk)
    audit_record(
        actor=actor, action=AuditEntry.Action.CREATE, target=decision, place=meeting.place, changes={"owner": owner.pk}
    )
    return decision


@transaction.atomic
def decision_spawn_need(
    *,
    actor: Actor,
    decision: Decision,
    text: str = "",
    category_code: str | None = None,
    department: Department | None = None,
) -> Need:
    """Raise a need from a decision (channel 议事会, raised by the staff at the meeting's
    place), and with ``department`` whistle it there at once: it is then dispatched and
    followed like any other need."""
    require(actor, DelibCap.RUN, decision.meeting.place)
    decision = Decision.objects.select_for_update().select_related("meeting__place").get(pk=decision.pk)
    if decision.need_id is not None:
        raise ValidationError({"need": [_("该决定已转为诉求")]})
    need = need_create(
        actor=actor,
        text=_text(text, "text", 2000) or decision.text,
        place=decision.meeting.place,
        category_code=category_code or None,
        channel=Channel.MEETING,
    )
    if department is not None:
        need_whistle(
            actor=actor,
            need=need,
            departments=[department],
            note=_("议事会决定：%(text)s") % {"text": decision.text[:200]},
        )
    decision.need = need
    decision.save(update_fields=["need", "updated_at"])
    return need


@transaction.atomic
def decision_spawn_vote(
    *,
    actor: Actor,
    decision: Decision,
    title: str = "",
    electorate: str = Electorate.HOUSEHOLDS,
    rule: str = VoteRule.MAJORITY,
    secret: bool = False,
) -> Vote:
    """Put a decision to a vote of the meeting's place (a draft the votes' pages open)."""
    meeting = decision.meeting
    require(actor, DelibCap.RUN, meeting.place)
    decision = Decision.objects.select_for_update().get(pk=decision.pk)
    if (
        decision.vote_id is not None
        and Vote.objects.filter(pk=decision.vote_id).exclude(status=VoteStatus.CANCELLED).exists()
    ):
        raise ValidationError({"vote": [_("该决定已提交表决")]})
    if electorate not in Electorate.values:
        raise ValidationError({"electorate": [_("未知的表决范围")]})
    if rule not in VoteRule.values:
        raise ValidationError({"rule": [_("未知的表决规则")]})
    vote = vote_create(
        actor=actor,
        place=meeting.place,
        title=_text(title, "title", 120) or decision.text[:120],
        body=decision.text,
        electorate=electorate,
        rule=rule,
        secret=secret,
        topic=decision.topic,
        meeting=meeting,
    )
    decision.vote = vote
    decision.save(update_fields=["vote", "updated_at"])
    return vote


@transaction.atomic
def decision_record(
    *,
    actor: Actor,
    meeting: Meeting,
    text: str,
    owner: Person,
    due: dt.date,
    topic: Topic | None = None,
    spawn: str = "",
    category_code: str | None = None,
    department: Department | None = None,
    electorate: str = Electorate.HOUSEHOLDS,
    rule: str = VoteRule.MAJORITY,
) -> Decision:
    """A decision and its follow-up in one transaction: ``spawn`` ``"need"`` raises a need
    (whistled to ``department`` if given), ``"vote"`` puts it to a vote; a refused follow-up
    records no decision."""
    if spawn not in ("", "need", "vote"):
        raise ValidationError({"spawn": [_("未知的后续方式")]})
    decision = decision_create(actor=actor, meeting=meeting, text=text, owner=owner, due=due, topic=topic)
    if spawn == "need":
        decision_spawn_need(actor=actor, decision=decision, category_code=category_code, department=department)
    elif spawn == "vote":
        decision_spawn_vote(actor=actor, decision=decision, electorate=electorate, rule=rule)
    return decision


@transaction.atomic
def decision_report(
    *, actor: Actor, decision: Decision, text: str, status: str = "", now: dt.datetime | None = None
) -> Decision:
    """A note of progress, and perhaps the decision done or dropped (by its owner or the
    staff). When every decision of its topic that was not dropped is done, the topic is done."""
    now = now_or(now)
    if not may_report(actor, decision):
        raise PermissionDenied(_("只有责任人或社区工作人员可以更新进展"))
    decision = Decision.objects.select_for_update().get(pk=decision.pk)
    text = _text(text, "progress", 2000)
    if status and status not in (DecisionStatus.DONE, DecisionStatus.DROPPED, DecisionStatus.OPEN):
        raise ValidationError({"status": [_("未知的状态")]})
    if not text and not status:
        raise ValidationError({"progress": [_("请填写进展")]})
    if status == DecisionStatus.DROPPED and not text:
        raise ValidationError({"progress": [_("撤销须说明理由")]})
    if status and status != decision.status:
        decision.status = status
        decision.done_at = now if status == DecisionStatus.DONE else None
    elif status:
        status = ""  # no change of status: only the note
    if text:
        decision.progress = text
    decision.save(update_fields=["status", "done_at", "progress", "updated_at"])
    DecisionNote.objects.create(decision=decision, text=text, status=status, at=now, by=user_of(actor))
    if decision.topic_id is not None:
        _settle_topic(decision.topic_id)
    return decision


def _settle_topic(topic_id: int) -> None:
    topic_mark_settled(Topic.objects.select_for_update().get(pk=topic_id))


def decision_vote_closed(vote: Vote) -> None:
    """When the vote a decision was put to closes (``hooks.on_vote_closed``, inside the votes'
    transaction): its result is noted on the decision, and a decision the vote rejected is
    dropped (its topic settled as for any dropped decision)."""
    passed = (vote.result or {}).get("passed") if isinstance(vote.result, dict) else None
    for decision in Decision.objects.select_for_update().filter(vote=vote, status=DecisionStatus.OPEN):
        if passed is False:
            text = _("表决未通过，决定撤销")
            decision.status = DecisionStatus.DROPPED
        else:
            text = _("表决通过，请抓紧落实") if passed else _("表决已结束")
        decision.progress = text
        decision.save(update_fields=["status", "progress", "updated_at"])
        DecisionNote.objects.create(
            decision=decision,
            text=text,
            status=DecisionStatus.DROPPED if passed is False else "",
            at=vote.closed_at or timezone.now(),
        )
        if decision.topic_id is not None:
            _settle_topic(decision.topic_id)


def decision_vote_cancelled(vote: Vote) -> None:
    """When the vote a decision was put to is cancelled (``hooks.on_vote_cancelled``, inside the
    votes' transaction): the decision stays to be carried out, with a note of the cancellation
    and its reason; it may be put to a vote again."""
    text = _("表决已取消（%(reason)s），决定仍待落实，可重新提交表决") % {"reason": vote.cancel_reason}
    for decision in Decision.objects.select_for_update().filter(vote=vote, status=DecisionStatus.OPEN):
        decision.progress = text[:2000]
        decision.save(update_fields=["progress", "updated_at"])
        DecisionNote.objects.create(
            decision=decision, text=text[:2000], status="", at=vote.cancelled_at or timezone.now()
        )
