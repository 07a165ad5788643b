"""Households and visits: care assignments (包保), visit policies, visits, night rounds (夜访) and
the opinions heard on the doorstep (向上报告居民心声).

Every row that holds something about a household keeps the household's place path
(``place_path``) so that a scope is one indexed prefix query, as elsewhere.
"""

from __future__ import annotations

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.core.access import Actor, PlaceScoped, scope_for
from linli.core.access import PlaceScopedQuerySet as PathScopedQuerySet
from linli.core.models import TimeStampedModel
from linli.people.models import Vulnerability
from linli.places.models import PlaceKind, path_len

#: Who a visit policy applies to: every household, households out by day, or households with
#: a member carrying one of the vulnerability marks.
EVERYONE = "everyone"
OUT_BY_DAY = "out_by_day"
POLICY_TARGETS: list[tuple[str, object]] = [
    (EVERYONE, _("所有住户")),
    (OUT_BY_DAY, _("白天不在家的住户")),
    *Vulnerability.choices,
]


#: What a community follows until its secretary sets its own policies: the seeds' practice.
DEFAULT_POLICIES: tuple[tuple[str, int, bool], ...] = (
    ("elderly_alone", 7, False),
    ("disabled", 14, False),
    ("seriously_ill", 14, False),
    (OUT_BY_DAY, 30, True),
    (EVERYONE, 90, False),
)
#: The length of a community's path (which community a row is in).
COMMUNITY_PATH_LEN = path_len(PlaceKind.COMMUNITY)


class CareAssignmentQuerySet(PathScopedQuerySet["CareAssignment"]):
    def current(self) -> CareAssignmentQuerySet:
        return self.filter(ended_at__isnull=True)

    def held_by(self, person_id: int) -> CareAssignmentQuerySet:
        """The households a carer cares for now (包保): the one statement of the carer rule."""
        return self.current().filter(carer_id=person_id)


@pghistory.track()
class CareAssignment(PlaceScoped):
    """A carer (党员中心户 or 楼栋长) responsible for a household. Reassigning ends the row and
    starts a new one, so the history of who cared for whom is kept."""

    household = models.ForeignKey(
        "people.Household", on_delete=models.PROTECT, related_name="care_assignments", verbose_name=_("住户")
    )
    carer = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="care_assignments", verbose_name=_("包保人")
    )
    place_source = "household.place"
    started_at = models.DateTimeField(_("开始"))
    ended_at = models.DateTimeField(_("结束"), null=True, blank=True)
    end_reason = models.CharField(_("结束原因"), max_length=200, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = CareAssignmentQuerySet.as_manager()

    @classmethod
    def visible_also(cls, actor: Actor, capability: str) -> Q | None:
        """A carer sees its own assignments, wherever they are."""
        person_id = scope_for(actor).person_id
        return Q(carer_id=person_id) if person_id is not None else None

    class Meta:
        ordering = ["place_path", "-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"], condition=models.Q(ended_at__isnull=True), name="care_one_active_carer"
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True) | models.Q(ended_at__gte=models.F("started_at")),
                name="care_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["carer"], condition=models.Q(ended_at__isnull=True), name="care_active_carer"),
            models.Index(fields=["place_path"], name="care_path_like", opclasses=["varchar_pattern_ops"]),
        ]
        verbose_name = _("包保关系")
        verbose_name_plural = _("包保关系")

    def __str__(self) -> str:
        return f"{self.carer} → {self.household}"


@pghistory.track()
class VisitPolicy(TimeStampedModel):
    """How often a community's households of one kind must be visited. A household follows the
    shortest interval among the policies that match it; when any of them asks for night visits,
    only night visits count for it."""

    community = models.ForeignKey(
        "places.Place", on_delete=models.CASCADE, related_name="visit_policies", verbose_name=_("社区")
    )
    target = models.CharField(_("适用住户"), max_length=32, choices=POLICY_TARGETS)
    interval_days = models.PositiveSmallIntegerField(
        _("走访间隔(天)"), validators=[MinValueValidator(1), MaxValueValidator(366)]
    )
    night_only = models.BooleanField(_("须夜访"), default=False)
    active = models.BooleanField(_("启用"), default=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["community", "interval_days", "target"]
        constraints = [
            models.UniqueConstraint(fields=["community", "target"], name="visit_policy_once"),
            models.CheckConstraint(
                condition=models.Q(interval_days__gte=1, interval_days__lte=366), name="visit_policy_interval_range"
            ),
        ]
        verbose_name = _("走访频次")
        verbose_name_plural = _("走访频次")

    def __str__(self) -> str:
        return f"{self.get_target_display()}: {self.interval_days}"


class HouseholdCare(models.Model):
    """What the visits app keeps about a household: whether it is out by day (so needs night
    visits), and when it was last visited, kept by ``visit_log`` so that coverage is one join."""

    household = models.OneToOneField(
        "people.Household", on_delete=models.CASCADE, primary_key=True, related_name="care"
    )
    out_by_day = models.BooleanField(_("白天不在家"), default=False)
    last_visit_at = models.DateTimeField(null=True, blank=True)
    last_night_visit_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("住户走访状态")
        verbose_name_plural = _("住户走访状态")

    def __str__(self) -> str:
        return f"care of household {self.household_id}"


class VisitKind(models.TextChoices):
    KNOCK = "knock", _("日常敲门")
    NIGHT = "night", _("夜访")
    FESTIVAL = "festival", _("节日走访")
    CARE = "care", _("关爱走访")
    POLICY = "policy", _("政策宣讲")


class VisitTag(models.TextChoices):
    POLICY_EXPLAINED = "policy_explained", _("向下传达政策")
    OPINION_HEARD = "opinion_heard", _("向上反映心声")


class NightRound(TimeStampedModel, PlaceScoped):
    """A night-visit round (夜访) of a courtyard party group: who goes, when, and the out-by-day
    households planned for it (those due for a night visit when the round was made)."""

    place = models.ForeignKey(
        "places.Place", on_delete=models.PROTECT, related_name="night_rounds", verbose_name=_("网格/院落")
    )
    starts_at = models.DateTimeField(_("开始"))
    ends_at = models.DateTimeField(_("结束"))
    members = models.ManyToManyField("people.Person", related_name="night_rounds", verbose_name=_("夜访小组"))
    households = models.ManyToManyField("people.Household", related_name="night_rounds", verbose_name=_("计划走访"))
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = PathScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="night_round_ends_later")
        ]
        indexes = [models.Index(fields=["place_path"], name="night_path_like", opclasses=["varchar_pattern_ops"])]
        verbose_name = _("夜访安排")
        verbose_name_plural = _("夜访安排")

    def __str__(self) -> str:
        return f"{self.place} {self.starts_at:%Y-%m-%d %H:%M}"


class Visit(PlaceScoped):
    """One visit to a household, logged on the doorstep (or later, from the phone's queue).

    Append-only: a visit is a record of what happened. ``client_key`` is the idempotency key the
    phone made when the visit was written down, so a resend after a lost answer is not a second
    visit. A visit that met nobody (``not_at_home``) is kept but does not count as a visit.
    """

    household = models.ForeignKey(
        "people.Household", on_delete=models.PROTECT, related_name="visits", verbose_name=_("住户")
    )
    place_source = "household.place"
    visitor = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="visits_made", verbose_name=_("走访人")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(_("走访类型"), max_length=16, choices=VisitKind.choices)
    visited_at = models.DateTimeField(_("走访时间"))
    recorded_at = models.DateTimeField(_("登记时间"))
    met_person = models.ForeignKey(
        "people.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits_met",
        verbose_name=_("见到的家庭成员"),
    )
    met_other = models.CharField(_("见到的其他人"), max_length=60, blank=True)
    heard = models.TextField(_("听到的情况"), max_length=2000, blank=True)
    tags = ArrayField(
        models.CharField(max_length=20, choices=VisitTag.choices), default=list, blank=True, verbose_name=_("标记")
    )
    policy_topic = models.CharField(_("宣讲的政策"), max_length=120, blank=True)
    needs_help = models.BooleanField(_("需要立即帮助"), default=False)
    not_at_home = models.BooleanField(_("不在家"), default=False)
    refused = models.BooleanField(_("拒绝走访"), default=False)
    photo = models.FileField(upload_to="visits/%Y/%m/", blank=True)
    need = models.ForeignKey(
        "needs.Need", null=True, blank=True, on_delete=models.SET_NULL, related_name="visits", verbose_name=_("诉求")
    )
    night_round = models.ForeignKey(NightRound, null=True, blank=True, on_delete=models.SET_NULL, related_name="visits")
    client_key = models.CharField(max_length=64, blank=True)

    objects = PathScopedQuerySet.as_manager()

    @classmethod
    def visible_also(cls, actor: Actor, capability: str) -> Q | None:
        """A carer reads the visits to the households it cares for now, and everyone its own."""
        person_id = scope_for(actor).person_id
        if person_id is None:
            return None
        mine = CareAssignment.objects.held_by(person_id).values("household_id")
        return Q(household_id__in=mine) | Q(visitor_id=person_id)

    class Meta:
        ordering = ["-visited_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recorded_by", "client_key"], condition=~models.Q(client_key=""), name="visit_client_key_once"
            ),
            models.UniqueConstraint(fields=["household", "visitor", "kind", "visited_at"], name="visit_not_twice"),
            models.CheckConstraint(
                condition=~(models.Q(not_at_home=True) & models.Q(refused=True)), name="visit_absent_or_refused"
            ),
        ]
        indexes = [
            models.Index(fields=["place_path"], name="visit_path_like", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["visited_at"], name="visit_at"),
            models.Index(fields=["household", "-visited_at"], name="visit_household_at"),
            models.Index(fields=["visitor", "-visited_at"], name="visit_visitor_at"),
        ]
        triggers = [pgtrigger.Protect(name="visit_append_only", operation=pgtrigger.Delete)]
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.household} {self.visited_at:%Y-%m-%d}"

    @property
    def counts(self) -> bool:
        """Whether the visit met the household (a knock on a closed door does not count)."""
        return not self.not_at_home


class OpinionStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    TOPIC = "topic", _("拟作议题")
    CLOSED = "closed", _("已回应")


class Opinion(TimeStampedModel, PlaceScoped):
    """An opinion heard on a visit, rolled up to the community for its secretary, who may mark
    it as a topic for a meeting (议事) or as answered."""

    visit = models.OneToOneField(Visit, on_delete=models.PROTECT, related_name="opinion")
    community = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="opinions")
    place_source = "visit.household.place"
    text = models.TextField(_("心声"), max_length=2000)
    status = models.CharField(_("状态"), max_length=8, choices=OpinionStatus.choices, default=OpinionStatus.OPEN)
    status_note = models.CharField(_("说明"), max_length=200, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = PathScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["place_path"], name="opinion_path_like", opclasses=["varchar_pattern_ops"])]
        verbose_name = _("居民心声")
        verbose_name_plural = _("居民心声")

    def __str__(self) -> str:
        return self.text[:40]


class VisitReminder(models.Model):
    """That a carer was reminded of their overdue households on a day: the reminder sweep
    writes this row first, so each carer gets at most one reminder a day."""

    carer = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    overdue = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["carer", "day"], name="visit_reminder_once_a_day")]

    def __str__(self) -> str:
        return f"reminder {self.carer_id} {self.day}"
