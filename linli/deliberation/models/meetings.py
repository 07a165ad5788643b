"""Meetings (议事会): bench meetings, monthly talks, councils, representatives' and owners'
meetings, night talks; their agenda, invitations and replies, attendance checked in at the
door, minutes, and the decisions taken, each with an owner and a due date."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.core.access import Actor, PlaceScoped, PlaceScopedQuerySet
from linli.core.models import TimeStampedModel
from linli.deliberation.access import community_also
from linli.deliberation.capabilities import DelibCap

__all__ = [
    "AgendaItem",
    "Attendance",
    "CheckinMethod",
    "Decision",
    "DecisionNote",
    "DecisionStatus",
    "Invitation",
    "Meeting",
    "MeetingKind",
    "MeetingStatus",
    "MinutesAttachment",
    "Rsvp",
]


class MeetingKind(models.TextChoices):
    BENCH = "bench", _("板凳会")
    MONTHLY = "monthly", _("治政月谈")
    COUNCIL = "council", _("议事会")
    REPRESENTATIVES = "representatives", _("居民代表会议")
    OWNERS = "owners", _("业主大会")
    NIGHT = "night", _("夜话")


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", _("筹备中")
    HELD = "held", _("已召开")
    CANCELLED = "cancelled", _("已取消")


def _checkin_token() -> str:
    return secrets.token_urlsafe(16)


class Meeting(TimeStampedModel, PlaceScoped):
    """A meeting of residents at a place (a building's bench meeting, a community's council):
    when and where, its agenda, who is invited and who came, its minutes once published and
    the decisions it took. Residents read the meetings of their community and those they
    are invited to; staff plan them, keep the door and write the minutes."""

    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+", verbose_name=_("范围"))
    kind = models.CharField(_("类型"), max_length=16, choices=MeetingKind.choices)
    title = models.CharField(_("名称"), max_length=120)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    venue = models.CharField(_("地点"), max_length=120)
    #: the heads present for the meeting to decide (None: no quorum)
    quorum = models.PositiveIntegerField(_("法定人数"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED)
    #: what the QR code at the door carries; a new one is drawn when the meeting is re-opened
    checkin_token = models.CharField(max_length=32, default=_checkin_token, unique=True, editable=False)
    minutes = models.TextField(_("会议记录"), max_length=20000, blank=True)
    minutes_published_at = models.DateTimeField(null=True, blank=True)
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: anyone living under the meeting's place may check in at the door, not only the invitees
    open_to_place = models.BooleanField(_("范围内居民均可签到"), default=False)
    #: how many times its time, venue or title changed (the calendar file's SEQUENCE)
    sequence = models.PositiveIntegerField(default=0)

    objects = PlaceScopedQuerySet.as_manager()

    @classmethod
    def visible_also(cls, actor: Actor, capability: str) -> Q | None:
        """Reading: the meetings of the actor's communities (a resident's role is held at
        their household) and those they are invited to."""
        if capability != DelibCap.VIEW:
            return None
        mine_invitations = Invitation.objects.filter(Q(person__user_id=actor.pk))
        invited = Q(pk__in=mine_invitations.values("meeting_id"))
        mine = community_also(actor, capability)
        return invited if mine is None else mine | invited

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["place_path"], name="meeting_path_like", opclasses=["varchar_pattern_ops"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="meeting_ends_after_start"
            )
        ]
        verbose_name = _("议事会")
        verbose_name_plural = _("议事会")

    def __str__(self) -> str:
        return self.title


class AgendaItem(models.Model):
    """One item of a meeting's agenda: a free title, or a topic of the meeting's place."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda")
    topic = models.ForeignKey(
        "deliberation.Topic", null=True, blank=True, on_delete=models.PROTECT, related_name="agenda_items"
    )
    title = models.CharField(_("议程"), max_length=120)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["meeting", "position", "id"]

    def __str__(self) -> str:
        return self.title


class Rsvp(models.TextChoices):
    PENDING = "pending", _("未回复")
    YES = "yes", _("参加")
    NO = "no", _("不参加")
    MAYBE = "maybe", _("待定")


class Invitation(models.Model):
    """One invited person (invitations by place, role or household are resolved to people when
    sent); ``reason`` says why they were invited."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="invitations")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=120, blank=True)
    rsvp = models.CharField(_("回复"), max_length=8, choices=Rsvp.choices, default=Rsvp.PENDING)
    rsvp_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "person"], name="invitation_once")]

    def __str__(self) -> str:
        return f"{self.meeting_id}/{self.person_id}"


class CheckinMethod(models.TextChoices):
    QR = "qr", _("扫码签到")
    STAFF = "staff", _("工作人员代签")


class Attendance(models.Model):
    """Someone present at a meeting: checked in by scanning the door's QR code, or ticked by
    the staff at the door from the invited list."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=8, choices=CheckinMethod.choices)
    at = models.DateTimeField()
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "person"], name="attendance_once")]

    def __str__(self) -> str:
        return f"{self.meeting_id}/{self.person_id}"


class DecisionStatus(models.TextChoices):
    OPEN = "open", _("落实中")
    DONE = "done", _("已落实")
    DROPPED = "dropped", _("已撤销")


class Decision(TimeStampedModel, PlaceScoped):
    """What a meeting decided, with an owner and a due date; it may spawn a need (dispatched
    like any other) or a vote, and later a co-building project."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="decisions")
    topic = models.ForeignKey(
        "deliberation.Topic", null=True, blank=True, on_delete=models.PROTECT, related_name="decisions"
    )
    place_source = "meeting.place"
    text = models.TextField(_("决定事项"), max_length=2000)
    owner = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+", verbose_name=_("责任人"))
    due = models.DateField(_("完成期限"))
    status = models.CharField(_("状态"), max_length=8, choices=DecisionStatus.choices, default=DecisionStatus.OPEN)
    done_at = models.DateTimeField(null=True, blank=True)
    progress = models.TextField(_("进展"), max_length=2000, blank=True)
    need = models.ForeignKey("needs.Need", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    vote = models.ForeignKey("deliberation.Vote", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    objects = PlaceScopedQuerySet.as_manager()

    @classmethod
    def visible_also(cls, actor: Actor, capability: str) -> Q | None:
        """Reading: the decisions of the actor's communities once the meeting's minutes are
        published, and those the actor is responsible for."""
        if capability != DelibCap.VIEW:
            return None
        owned = Q(owner__user_id=actor.pk)
        mine = community_also(actor, capability)
        return owned if mine is None else (mine & Q(meeting__minutes_published_at__isnull=False)) | owned

    class Meta:
        ordering = ["due", "id"]
        indexes = [models.Index(fields=["place_path"], name="decision_path_like", opclasses=["varchar_pattern_ops"])]
        verbose_name = _("决定")
        verbose_name_plural = _("决定")

    def __str__(self) -> str:
        return self.text[:40]


class DecisionNote(models.Model):
    """A note of progress on a decision, by its owner or the staff; the last one is also kept
    on the decision (``Decision.progress``)."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="notes")
    text = models.TextField(_("进展"), max_length=2000)
    #: the status the decision took with this note ("" when it only reports progress)
    status = models.CharField(max_length=8, choices=DecisionStatus.choices, blank=True)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["decision", "at", "id"]

    def __str__(self) -> str:
        return self.text[:40]


class MinutesAttachment(models.Model):
    """A file attached to a meeting's minutes (a signed sheet, a photo of the whiteboard, a
    plan): read with the minutes, by those who may read them."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="deliberation/minutes/%Y/%m/")
    name = models.CharField(_("文件名"), max_length=120)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["meeting", "uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name
