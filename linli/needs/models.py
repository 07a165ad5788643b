"""Needs 诉求 and their dispatch 吹哨报到: the catalogue, the need, its reporters, the departments
it is whistled to, its timeline, ratings, deadlines, the working-day calendar and the
roll-ups of the three rates.

A need belongs to one node of the place tree (a household, building, grid or community) and
copies that node's ``path`` into ``place_path`` so that every read is one indexed prefix
query; ``district`` is kept on the large tables as the sharding key (STACK.md).
"""

from __future__ import annotations

import uuid
from typing import Any

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from linli.core.access import Actor, PlaceScoped, PlaceScopedQuerySet, scope_for
from linli.core.models import TimeStampedModel
from linli.core.timeline import TimelineEvent
from linli.people.models import DepartmentKind
from linli.workdays.models import LimitUnit


class Level(models.TextChoices):
    """Who handles a need: the grid, the community, or higher up after escalation."""

    GRID = "grid", _("网格")
    COMMUNITY = "community", _("社区")
    STREET = "street", _("街道")
    DISTRICT = "district", _("区")


#: Escalation goes one level up at a time.
NEXT_LEVEL: dict[str, str | None] = {
    Level.GRID: Level.COMMUNITY,
    Level.COMMUNITY: Level.STREET,
    Level.STREET: Level.DISTRICT,
    Level.DISTRICT: None,
}


class HandlingLevel(models.TextChoices):
    """The default handling level of a category in the dispatch catalogue."""

    GRID = "grid", _("网格")
    COMMUNITY = "community", _("社区")
    DEPARTMENT = "department", _("部门")


class EmergencyKind(models.TextChoices):
    """What a resident must do at once, before anyone comes, when a need of a category is an
    emergency (the advice and the numbers to call are ``needs.emergency``'s)."""

    GAS = "gas", _("燃气泄漏")
    FIRE = "fire", _("火情")
    DANGER = "danger", _("人身危险")


#: The urgencies that have limits of their own (一般 uses the category's).
URGENCY_LIMIT_KEYS = ("urgent", "emergency")


def validate_urgency_limits(value: Any) -> None:
    """``{"urgent": [[4, "hours"], [4, "hours"], [3, "workdays"]], "emergency": [...]}``: for
    each urgency, the (response, check-in, resolution) limits, each a positive amount and a
    unit; an urgency left out takes the default catalogue's."""
    if not isinstance(value, dict) or set(value) - set(URGENCY_LIMIT_KEYS):
        raise ValidationError(_("按紧急程度的时限只能有 urgent 和 emergency 两项"))
    for limits in value.values():
        if (
            not isinstance(limits, list)
            or len(limits) != 3
            or not all(
                isinstance(pair, list)
                and len(pair) == 2
                and isinstance(pair[0], int)
                and not isinstance(pair[0], bool)
                and 1 <= pair[0] <= 365
                and pair[1] in LimitUnit.values
                for pair in limits
            )
        ):
            raise ValidationError(_("按紧急程度的时限应为三项(响应、报到、办结)，每项为 1 到 365 的数和单位"))


class Category(TimeStampedModel):
    """A line of the dispatch catalogue 派单目录: what kind of need, who handles it by default,
    its time limits (response, department check-in, resolution) for an ordinary need and for
    紧急 and 特急 ones, and what a resident must do at once when it is an emergency (a gas
    smell, a fire, a person in danger: which words say so, and the utility's repair line).

    ``city`` is the city whose catalogue this is; a category without a city is the default
    for cities that have not defined their own code.
    """

    city = models.ForeignKey(
        "places.Place", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("城市")
    )
    code = models.SlugField(_("编码"), max_length=32)
    name = models.CharField(_("名称"), max_length=60)
    name_hant = models.CharField(_("名称(繁体)"), max_length=60, blank=True)
    name_en = models.CharField(_("名称(英文)"), max_length=80, blank=True)
    level = models.CharField(
        _("默认办理层级"), max_length=16, choices=HandlingLevel.choices, default=HandlingLevel.GRID
    )
    department_kind = models.CharField(_("默认承办部门类别"), max_length=32, choices=DepartmentKind.choices, blank=True)
    response_limit = models.PositiveSmallIntegerField(_("响应时限"), default=1)
    response_unit = models.CharField(
        _("响应时限单位"), max_length=8, choices=LimitUnit.choices, default=LimitUnit.WORKDAYS
    )
    checkin_limit = models.PositiveSmallIntegerField(_("部门报到时限"), default=1)
    checkin_unit = models.CharField(
        _("报到时限单位"), max_length=8, choices=LimitUnit.choices, default=LimitUnit.WORKDAYS
    )
    resolution_limit = models.PositiveSmallIntegerField(_("办结时限"), default=7)
    resolution_unit = models.CharField(
        _("办结时限单位"), max_length=8, choices=LimitUnit.choices, default=LimitUnit.WORKDAYS
    )
    urgency_limits = models.JSONField(
        _("紧急、特急时限"),
        default=dict,
        blank=True,
        validators=[validate_urgency_limits],
        help_text=_("紧急和特急诉求的响应、报到、办结时限；不填则用默认目录的"),
    )
    keywords = ArrayField(models.CharField(max_length=30), default=list, blank=True, verbose_name=_("关键词"))
    examples = ArrayField(models.TextField(), default=list, blank=True, verbose_name=_("示例"))
    emergency = models.CharField(_("紧急情况提示"), max_length=16, choices=EmergencyKind.choices, blank=True)
    emergency_words = ArrayField(
        models.CharField(max_length=30),
        default=list,
        blank=True,
        verbose_name=_("紧急情况关键词"),
        help_text=_("诉求内容含这些词时，立即向居民显示安全提示和求助电话"),
    )
    emergency_phone = models.CharField(_("抢修电话"), max_length=40, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    public = models.BooleanField(
        _("公开"),
        default=True,
        help_text=_("开放接口不带密钥时可见（去掉个人信息）；纠纷、个人求助等不公开"),
    )

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["city", "code"], nulls_distinct=False, name="category_code_per_city"),
            models.CheckConstraint(
                condition=~models.Q(level="department") | ~models.Q(department_kind=""),
                name="category_department_level_names_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(response_limit__gt=0, checkin_limit__gt=0, resolution_limit__gt=0),
                name="category_limits_positive",
            ),
        ]
        verbose_name = _("诉求类别")
        verbose_name_plural = _("派单目录")

    def __str__(self) -> str:
        return self.label()

    def label(self, language: str | None = None) -> str:
        lang = (language or get_language() or "zh-hans").lower()
        if lang.startswith("en") and self.name_en:
            return self.name_en
        if lang in ("zh-hant", "zh-tw", "zh-hk") and self.name_hant:
            return self.name_hant
        return self.name


class Channel(models.TextChoices):
    RESIDENT = "resident", _("居民手机")
    QR = "qr", _("楼栋二维码")
    STAFF = "staff", _("工作人员代录")
    VISIT = "visit", _("走访")
    PATROL = "patrol", _("巡查")
    MEETING = "meeting", _("议事会")
    API = "api", _("接口")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")
    EMERGENCY = "emergency", _("特急")


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("待受理")
    ACCEPTED = "accepted", _("办理中")
    WHISTLED = "whistled", _("已吹哨")
    RESOLVED = "resolved", _("待回访")
    CLOSED = "closed", _("已办结")
    MERGED = "merged", _("已合并")


#: States in which a need is still open (not resolved, closed or merged into another).
OPEN_STATUSES = (Status.SUBMITTED, Status.ACCEPTED, Status.WHISTLED)


class NeedQuerySet(PlaceScopedQuerySet):
    """Needs by their place; ``visible`` adds, through ``Need.visible_also``, what a liaison's
    department was whistled and what the actor reported."""


def liaison_areas(actor: Actor) -> list[tuple[int, str]]:
    """Where ``actor`` works as a department's liaison: (department, area path) for each of its
    grants that names a department. The one statement of the liaison rule: a liaison reads and
    works the needs whistled to its department inside the area of its grant."""
    return [(g.department_id, g.path) for g in scope_for(actor).grants if g.department_id is not None]


def covers(area: str, place_path: str) -> bool:
    """Whether a liaison's grant at ``area`` covers a need at ``place_path``."""
    return place_path.startswith(area)


def is_liaison(actor: Actor, department_id: int, place_path: str) -> bool:
    """Whether ``actor`` is a liaison of the department for a need at ``place_path``."""
    return any(d == department_id and covers(area, place_path) for d, area in liaison_areas(actor))


class Need(TimeStampedModel, PlaceScoped):
    """A need 诉求 raised by residents (or found on a visit or patrol) at a place.

    ``text`` is kept as written; ``text_search`` is its normalised form (traditional →
    simplified, debris removed) for search, duplicates and triage. Duplicates are merged into
    one need with several reporters; ``heat`` (热度) counts them.
    """

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # when it was raised (set by intake, which may back-date an entry made after a visit or a
    # phone call), and the time of its last event; not Django's auto_now fields
    created_at = models.DateTimeField(_("反映时间"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now, editable=False)
    text = models.TextField(_("诉求内容"))
    text_search = models.TextField(editable=False, default="")
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="needs", verbose_name=_("类别")
    )
    category_confirmed = models.BooleanField(_("类别已确认"), default=False)
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="needs", verbose_name=_("地点"))
    grid = models.ForeignKey(
        "places.Place", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("网格")
    )
    district = models.ForeignKey("places.Place", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    lat = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    lng = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    address_string = models.CharField(_("地址"), max_length=200, blank=True)
    channel = models.CharField(_("来源渠道"), max_length=16, choices=Channel.choices, default=Channel.RESIDENT)
    urgency = models.CharField(_("紧急程度"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    level = models.CharField(_("办理层级"), max_length=16, choices=Level.choices, default=Level.GRID)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    api_client = models.ForeignKey(
        "accounts.ApiClient", null=True, blank=True, on_delete=models.SET_NULL, related_name="needs"
    )
    response_due = models.DateTimeField(_("响应时限"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("办结时限"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    result = models.TextField(_("办理结果"), blank=True)
    reopen_count = models.PositiveSmallIntegerField(default=0)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_needs", verbose_name=_("合并至")
    )
    heat = models.PositiveIntegerField(_("热度"), default=1)

    objects = NeedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["place_path"], name="need_place_path_like", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["status", "resolution_due"], name="need_status_due"),
            # the workbench: open needs of a subtree by due time
            models.Index(
                fields=["place_path", "resolution_due"],
                opclasses=["varchar_pattern_ops", ""],
                condition=models.Q(status__in=["submitted", "accepted", "whistled"]),
                name="need_open_path_due",
            ),
            models.Index(fields=["district", "created_at"], name="need_district_created"),
            models.Index(fields=["created_at"], name="need_created"),
            GinIndex(fields=["text_search"], opclasses=["gin_trgm_ops"], name="need_text_trgm"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lat__isnull=True, lng__isnull=True)
                | models.Q(lat__gte=-90, lat__lte=90, lng__gte=-180, lng__lte=180),
                name="need_point_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="merged") | models.Q(merged_into__isnull=False),
                name="need_merged_has_target",
            ),
        ]
        verbose_name = _("诉求")
        verbose_name_plural = _("诉求")

    def __str__(self) -> str:
        from linli.people.identity import redact_text

        # masked before it is cut: the audit trail keeps this label, and half a number is a leak
        return f"#{self.pk} {redact_text(self.text)[:30]}"

    @property
    def scope_path(self) -> str:
        return self.place_path

    @classmethod
    def visible_also(cls, actor: Actor, capability: str) -> models.Q | None:
        """Beyond the subtrees where the actor may view needs: what was whistled to a
        department it is a liaison of (inside the area of its grant), and what it reported or
        entered itself (a resident; an API client's account). The kernel's ``visible`` adds
        this; only for reading needs."""
        scope = scope_for(actor)
        if capability != "view_needs" or scope.user_id is None:
            return None
        condition = models.Q(pk__in=[])
        for department_id, area in liaison_areas(actor):
            dispatched = Dispatch.objects.filter(need_id=models.OuterRef("pk"), department_id=department_id)
            condition |= models.Q(place_path__startswith=area) & models.Q(models.Exists(dispatched))
        # as a list of ids rather than EXISTS, so that the place-prefix index still serves staff
        mine = list(NeedReporter.objects.filter(user_id=scope.user_id).values_list("need_id", flat=True)[:5000])
        return condition | models.Q(submitted_by_id=scope.user_id) | models.Q(pk__in=mine)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def to_locate(self) -> bool:
        """Filed at a street (a point no community or grid covers): its staff place it in a
        community or grid by transferring it. Read from the path, without a query."""
        from linli.places.models import PlaceKind, path_len

        return bool(self.place_path) and len(self.place_path) <= path_len(PlaceKind.STREET)


class NeedReporter(models.Model):
    """Someone who raised (or joined, by a merged duplicate) a need: they follow it and rate it.

    ``person`` is set when the reporter is known to the community; ``phone`` is kept (E.164)
    for follow-up by SMS when there is no account.
    """

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="reporters")
    person = models.ForeignKey("people.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(_("姓名"), max_length=60, blank=True)
    phone = models.CharField(_("手机号码"), max_length=20, blank=True)
    joined_at = models.DateTimeField(default=timezone.now)
    original_need_id = models.BigIntegerField(null=True, blank=True, help_text="the duplicate it came from")

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["need", "person"], condition=models.Q(person__isnull=False), name="reporter_person_once"
            ),
            models.UniqueConstraint(
                fields=["need", "user"], condition=models.Q(user__isnull=False), name="reporter_user_once"
            ),
        ]
        verbose_name = _("诉求人")
        verbose_name_plural = _("诉求人")

    def __str__(self) -> str:
        return f"{self.name or self.user_id or self.person_id} → #{self.need_id}"


class PhotoStage(models.TextChoices):
    INTAKE = "intake", _("反映时")
    RESULT = "result", _("办结时")


class NeedPhoto(models.Model):
    """A photo of a need (as reported, or of the result). Stored as JPEG or PNG with EXIF
    (and so the camera's location) stripped."""

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="photos")
    stage = models.CharField(max_length=8, choices=PhotoStage.choices, default=PhotoStage.INTAKE)
    image = models.FileField(upload_to="needs/%Y/%m/")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"photo {self.pk} of #{self.need_id}"


class DispatchStatus(models.TextChoices):
    WHISTLED = "whistled", _("待报到")
    CHECKED_IN = "checked_in", _("已报到")
    RESOLVED = "resolved", _("已办结")
    RETURN_REQUESTED = "return_requested", _("申请退单")
    RETURNED = "returned", _("已退单")


ACTIVE_DISPATCH = (DispatchStatus.WHISTLED, DispatchStatus.CHECKED_IN, DispatchStatus.RETURN_REQUESTED)


class DispatchQuerySet(PlaceScopedQuerySet["Dispatch"]):
    """Dispatches by their need's place; ``Dispatch.visible_also`` adds a liaison's own."""

    path_field = "need__place_path"


class Dispatch(models.Model):
    """A whistle 吹哨 to one department: it must check in 报到 by ``checkin_due`` and resolve by
    ``resolution_due``. The first department whistled is the lead 首接负责."""

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="dispatches")
    department = models.ForeignKey("people.Department", on_delete=models.PROTECT, related_name="dispatches")
    is_lead = models.BooleanField(_("牵头"), default=False)
    status = models.CharField(max_length=20, choices=DispatchStatus.choices, default=DispatchStatus.WHISTLED)
    whistled_at = models.DateTimeField(default=timezone.now)
    whistled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checkin_due = models.DateTimeField(_("报到时限"))
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution_due = models.DateTimeField(_("办结时限"))
    resolved_at = models.DateTimeField(null=True, blank=True)
    result = models.TextField(blank=True)
    return_reason = models.TextField(_("退单理由"), blank=True)
    note = models.TextField(blank=True)

    objects = DispatchQuerySet.as_manager()

    class Meta:
        ordering = ["whistled_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["need", "department"],
                condition=models.Q(status__in=["whistled", "checked_in", "return_requested"]),
                name="dispatch_active_once",
            ),
            models.UniqueConstraint(
                fields=["need"],
                condition=models.Q(is_lead=True) & ~models.Q(status="returned"),
                name="dispatch_one_lead",
            ),
        ]
        indexes = [models.Index(fields=["department", "status"], name="dispatch_department_status")]
        verbose_name = _("吹哨派单")
        verbose_name_plural = _("吹哨派单")

    def __str__(self) -> str:
        return f"#{self.need_id} → {self.department_id} ({self.status})"

    @classmethod
    def visible_also(cls, actor: Actor, capability: str) -> models.Q | None:
        """A liaison sees what was whistled to its department inside the area of its grant."""
        condition = models.Q(pk__in=[])
        for department_id, area in liaison_areas(actor):
            condition |= models.Q(department_id=department_id, need__place_path__startswith=area)
        return condition

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_DISPATCH


class EventKind(models.TextChoices):
    SUBMITTED = "submitted", _("提交")
    ACCEPTED = "accepted", _("受理")
    CATEGORISED = "categorised", _("确认类别")
    WHISTLED = "whistled", _("吹哨")
    CHECKED_IN = "checked_in", _("报到")
    RETURN_REQUESTED = "return_requested", _("申请退单")
    RETURN_APPROVED = "return_approved", _("同意退单")
    RETURN_REJECTED = "return_rejected", _("驳回退单")
    TRANSFERRED = "transferred", _("转办")
    MERGED = "merged", _("合并")
    JOINED = "joined", _("附议")
    RESOLVED = "resolved", _("办结")
    RATED = "rated", _("评价")
    URGENCY = "urgency", _("调整紧急程度")
    REOPENED = "reopened", _("重新办理")
    ESCALATED = "escalated", _("升级")
    REMINDED = "reminded", _("临期提醒")
    OVERDUE = "overdue", _("超期")
    CLOSED = "closed", _("关闭")
    NOTE = "note", _("备注")


class NeedEvent(TimelineEvent):
    """One step in the life of a need: its timeline (written by ``core.timeline.record_event``),
    and the raw facts the three rates are computed from. Append-only (a trigger forbids
    update and delete)."""

    need = models.ForeignKey(Need, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    department = models.ForeignKey(
        "people.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    district = models.ForeignKey("places.Place", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["need", "at"], name="need_event_need_at"),
            models.Index(fields=["kind", "at"], name="need_event_kind_at"),
            models.Index(fields=["place_path"], name="need_event_path_like", opclasses=["varchar_pattern_ops"]),
        ]
        triggers = [pgtrigger.Protect(name="need_event_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]
        verbose_name = _("诉求事件")
        verbose_name_plural = _("诉求事件")

    def __str__(self) -> str:
        return f"#{self.need_id} {self.kind} @ {self.at:%Y-%m-%d %H:%M}"


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASIC = "basic", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


class RatingChannel(models.TextChoices):
    APP = "app", _("手机页面")
    SMS = "sms", _("短信链接")
    PHONE = "phone", _("电话回访")
    DEFAULT = "default", _("默认(未评价)")


class RatingLink(models.Model):
    """The link in a rating SMS (``/r/<token>/``): the reporter rates without signing in.

    The token is 32 random bytes; only its SHA-256 digest is stored, so the table cannot be
    turned back into working links. A link opens one round of one reporter's rating, expires
    after ``RATING_LINK_DAYS`` and is spent once the rating is given.
    """

    digest = models.CharField(max_length=64, unique=True, editable=False)
    reporter = models.ForeignKey(NeedReporter, on_delete=models.CASCADE, related_name="rating_links")
    round = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("评价链接")
        verbose_name_plural = _("评价链接")

    def __str__(self) -> str:
        return f"{self.reporter_id} r{self.round} ({self.digest[:8]}…)"


class Rating(models.Model):
    """A reporter's follow-up answer 回访: was it resolved, and how satisfied are they.
    ``round`` is 1, or 2 after an unsatisfied rating reopened the need."""

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="ratings")
    reporter = models.ForeignKey(NeedReporter, on_delete=models.CASCADE, related_name="ratings")
    round = models.PositiveSmallIntegerField(default=1)
    resolved = models.BooleanField(_("是否解决"))
    satisfaction = models.CharField(_("满意度"), max_length=16, choices=Satisfaction.choices)
    comment = models.TextField(_("意见"), blank=True)
    channel = models.CharField(max_length=8, choices=RatingChannel.choices, default=RatingChannel.APP)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["need", "reporter", "round"], name="rating_once_per_round"),
        ]
        verbose_name = _("回访评价")
        verbose_name_plural = _("回访评价")

    def __str__(self) -> str:
        return f"#{self.need_id} {self.satisfaction}"


class DeadlineKind(models.TextChoices):
    RESPONSE = "response", _("响应")
    CHECKIN = "checkin", _("报到")
    RESOLUTION = "resolution", _("办结")
    RATING = "rating", _("回访")


class DeadlineAction(models.Model):
    """Proof that the worker acted on one deadline (a due-soon reminder or an escalation):
    the unique constraint makes it happen exactly once, even when a worker is killed
    mid-run and another picks the sweep up."""

    class Action(models.TextChoices):
        REMIND = "remind", _("提醒")
        ESCALATE = "escalate", _("升级")

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="deadline_actions")
    dispatch = models.ForeignKey(Dispatch, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    deadline = models.CharField(max_length=12, choices=DeadlineKind.choices)
    action = models.CharField(max_length=10, choices=Action.choices)
    due_at = models.DateTimeField()
    done_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["need", "dispatch", "deadline", "action", "due_at"],
                nulls_distinct=False,
                name="deadline_action_once",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.need_id} {self.action} {self.deadline} {self.due_at:%Y-%m-%d %H:%M}"


class TriageModel(models.Model):
    """A trained version of the category classifier (``linli triage train``). The newest
    active one suggests categories; older versions are kept for comparison."""

    version = models.PositiveIntegerField(unique=True)
    trained_at = models.DateTimeField(default=timezone.now)
    examples = models.PositiveIntegerField(default=0)
    labels = ArrayField(models.CharField(max_length=32), default=list)
    accuracy = models.FloatField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)
    blob = models.BinaryField()
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-version"]
        verbose_name = _("分类模型")
        verbose_name_plural = _("分类模型")

    def __str__(self) -> str:
        return f"triage v{self.version}"


class RateRollup(models.Model):
    """Incremental counts behind the three rates 响应率、解决率、满意率, per day and per place
    node (every ancestor of the need's place, from grid to city) or per department.

    Each need event adds to the rows of its day in the same transaction, so a city-wide rate
    for any period is a sum over a few hundred rows instead of a scan of raw needs.
    """

    day = models.DateField()
    place = models.ForeignKey("places.Place", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey(
        "people.Department", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    received = models.IntegerField(default=0)
    responded = models.IntegerField(default=0)
    responded_on_time = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    followed_up = models.IntegerField(default=0)
    rated_resolved = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)
    basic = models.IntegerField(default=0)
    unsatisfied = models.IntegerField(default=0)
    overdue = models.IntegerField(default=0)

    COUNTERS = (
        "received",
        "responded",
        "responded_on_time",
        "resolved",
        "followed_up",
        "rated_resolved",
        "satisfied",
        "basic",
        "unsatisfied",
        "overdue",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "place", "department"], nulls_distinct=False, name="rate_rollup_once"
            ),
            models.CheckConstraint(
                condition=models.Q(place__isnull=False) | models.Q(department__isnull=False),
                name="rate_rollup_has_owner",
            ),
        ]
        indexes = [
            models.Index(fields=["place", "day"], name="rate_rollup_place_day"),
            models.Index(fields=["department", "day"], name="rate_rollup_department_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} place={self.place_id} dept={self.department_id}"

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.COUNTERS}
