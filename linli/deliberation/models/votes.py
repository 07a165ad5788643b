"""Votes (表决): the register of electors frozen when a vote opens (with its fingerprint), the
options, who took part and through which channel, and the ballots.

A named vote keeps each ballot beside its elector (``Ballot``). A secret vote keeps who took
part (``Participation``) and what was chosen (``SecretBallot``) in two tables that share no key,
no time and no order: a secret ballot has a random id, no voter and no timestamp, and can be
neither changed nor deleted (Loomio's detached anonymous ballots).
"""

from __future__ import annotations

import uuid

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.access import Actor, PlaceScoped, PlaceScopedQuerySet
from linli.core.models import TimeStampedModel
from linli.deliberation.access import community_also

__all__ = [
    "Ballot",
    "Channel",
    "Elector",
    "Electorate",
    "OptionsKind",
    "PaperEntry",
    "PaperStatus",
    "Participation",
    "Proxy",
    "SecretBallot",
    "Vote",
    "VoteOption",
    "VoteRule",
    "VoteStatus",
]


class Electorate(models.TextChoices):
    HOUSEHOLDS = "households", _("一户一票")
    PERSONS = "persons", _("一人一票")
    REPRESENTATIVES = "representatives", _("居民代表")
    OWNERS = "owners", _("业主(按面积和人数)")


class VoteRule(models.TextChoices):
    """The names are those of ``deliberation.tally.Rule``."""

    MAJORITY = "majority", _("过半数")
    TWO_THIRDS = "two_thirds", _("三分之二以上")
    ART278_ORDINARY = "art278_ordinary", _("民法典第278条 一般事项")
    ART278_SPECIAL = "art278_special", _("民法典第278条 重大事项")


class OptionsKind(models.TextChoices):
    YES_NO = "yes_no", _("同意/不同意/弃权")
    ONE_OF = "one_of", _("多选一")
    SEVERAL_OF = "several_of", _("多选多")


class VoteStatus(models.TextChoices):
    DRAFT = "draft", _("草拟")
    OPEN = "open", _("投票中")
    CLOSED = "closed", _("已结束")
    CANCELLED = "cancelled", _("已取消")


class Channel(models.TextChoices):
    ONLINE = "online", _("网上投票")
    MEETING = "meeting", _("会场扫码")
    PAPER = "paper", _("纸质票")
    DOOR = "door", _("上门收票")
    PROXY = "proxy", _("委托投票")


class Vote(TimeStampedModel, PlaceScoped):
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+", verbose_name=_("范围"))
    title = models.CharField(_("表决事项"), max_length=160)
    body = models.TextField(_("说明"), max_length=8000, blank=True)
    topic = models.ForeignKey(
        "deliberation.Topic", null=True, blank=True, on_delete=models.PROTECT, related_name="votes"
    )
    meeting = models.ForeignKey(
        "deliberation.Meeting", null=True, blank=True, on_delete=models.PROTECT, related_name="votes"
    )
    electorate = models.CharField(_("投票人"), max_length=16, choices=Electorate.choices)
    rule = models.CharField(_("通过规则"), max_length=16, choices=VoteRule.choices)
    options_kind = models.CharField(_("选项"), max_length=12, choices=OptionsKind.choices, default=OptionsKind.YES_NO)
    max_choices = models.PositiveSmallIntegerField(_("最多选几项"), default=1)
    secret = models.BooleanField(_("无记名投票"), default=False)
    status = models.CharField(_("状态"), max_length=10, choices=VoteStatus.choices, default=VoteStatus.DRAFT)
    closes_at = models.DateTimeField(_("截止时间"), null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    #: a cancelled vote: when and why (its ballots count for nothing, no result is published)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True)
    #: SHA-256 of the register as frozen when the vote opened, and its totals
    register_fingerprint = models.CharField(max_length=64, blank=True)
    register_heads = models.PositiveIntegerField(default=0)
    register_area = models.BigIntegerField(default=0)  # hundredths of a square metre
    #: the result computed at close (deliberation.tally's), kept as published
    result = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = PlaceScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["place_path"], name="vote_path_like", opclasses=["varchar_pattern_ops"])]
        verbose_name = _("表决")
        verbose_name_plural = _("表决")

    def __str__(self) -> str:
        return self.title

    @classmethod
    def visible_also(cls, actor: Actor, capability: str) -> models.Q | None:
        """The votes of the communities where the actor reads deliberation (a resident's
        household grant reaches its community's votes)."""
        return community_also(actor, capability) if capability == "view_deliberation" else None

    @property
    def is_open(self) -> bool:
        return self.status == VoteStatus.OPEN


class VoteOption(models.Model):
    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="options")
    #: "yes", "no", "abstain" for a yes/no vote; "1", "2", … otherwise
    code = models.CharField(max_length=12)
    label = models.CharField(_("选项"), max_length=120)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["vote", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["vote", "code"], name="vote_option_code_once")]

    def __str__(self) -> str:
        return self.label


class Elector(models.Model):
    """A line of the register, written when the vote opens and never changed."""

    vote = models.ForeignKey(Vote, on_delete=models.PROTECT, related_name="electors")
    person = models.ForeignKey("people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    household = models.ForeignKey("people.Household", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    #: who the owner is (a person may own several units and is counted once by head)
    owner = models.CharField(max_length=40, blank=True)
    area = models.BigIntegerField(default=0)  # hundredths of a square metre

    class Meta:
        ordering = ["vote", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["vote", "household"], condition=models.Q(household__isnull=False), name="elector_household_once"
            ),
            models.UniqueConstraint(
                fields=["vote", "person"],
                condition=models.Q(household__isnull=True, person__isnull=False),
                name="elector_person_once",
            ),
        ]
        triggers = [pgtrigger.Protect(name="elector_frozen", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.vote_id}/{self.pk}"


class Proxy(models.Model):
    """A written authorisation for someone to vote for an elector (委托书)."""

    vote = models.ForeignKey(Vote, on_delete=models.PROTECT, related_name="proxies")
    elector = models.ForeignKey(Elector, on_delete=models.PROTECT, related_name="+")
    holder = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+", verbose_name=_("受托人"))
    authorisation = models.CharField(_("委托书"), max_length=200)  # the stored scan's name
    note = models.CharField(_("备注"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vote", "elector"], name="proxy_once")]

    def __str__(self) -> str:
        return f"{self.vote_id}/{self.elector_id}"


class Participation(models.Model):
    """That an elector took part, through which channel: one per elector across all channels,
    so one elector has one counted ballot."""

    vote = models.ForeignKey(Vote, on_delete=models.PROTECT, related_name="participations")
    elector = models.ForeignKey(Elector, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("投票方式"), max_length=8, choices=Channel.choices)
    at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: the named collector of a door-to-door round (扫楼)
    collector = models.ForeignKey("people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    proxy = models.ForeignKey(Proxy, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vote", "elector"], name="participation_once")]
        triggers = [pgtrigger.Protect(name="participation_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.vote_id}/{self.elector_id}"


class Ballot(models.Model):
    """A named vote's ballot, beside the participation it belongs to."""

    participation = models.OneToOneField(Participation, on_delete=models.PROTECT, related_name="ballot")
    vote = models.ForeignKey(Vote, on_delete=models.PROTECT, related_name="ballots")
    choices = ArrayField(models.CharField(max_length=12))  # option codes

    class Meta:
        triggers = [pgtrigger.Protect(name="ballot_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.vote_id}/{self.pk}"


class SecretBallot(models.Model):
    """A secret vote's ballot: a random id, the vote and the choices; no voter, no time."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vote = models.ForeignKey(Vote, on_delete=models.PROTECT, related_name="+")
    choices = ArrayField(models.CharField(max_length=12))

    class Meta:
        triggers = [pgtrigger.Protect(name="secret_ballot_immutable", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.vote_id}"


class PaperStatus(models.TextChoices):
    KEYED_ONCE = "once", _("待第二次录入")
    COUNTED = "counted", _("已计入")
    MISMATCH = "mismatch", _("两次录入不一致")
    REFUSED = "refused", _("未计入")


class PaperEntry(models.Model):
    """One keying of a paper ballot; a sheet counts when two different staff keyed it alike.
    Both keyings of a sheet carry the sheet's status (and, when it was not counted, why)."""

    vote = models.ForeignKey(Vote, on_delete=models.PROTECT, related_name="paper_entries")
    sheet = models.CharField(_("票号"), max_length=20)
    round = models.PositiveSmallIntegerField()  # 1 or 2
    elector = models.ForeignKey(Elector, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    choices = ArrayField(models.CharField(max_length=12))
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    status = models.CharField(_("状态"), max_length=8, choices=PaperStatus.choices, default=PaperStatus.KEYED_ONCE)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vote", "sheet", "round"], name="paper_entry_round_once"),
            models.CheckConstraint(condition=models.Q(round__in=[1, 2]), name="paper_entry_round_1_or_2"),
        ]

    def __str__(self) -> str:
        return f"{self.vote_id}/{self.sheet}/{self.round}"
