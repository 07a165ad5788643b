"""Residents, households, departments and the roles people hold at places."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core import crypto
from linli.core.access import Actor, PlaceScopedQuerySet, Role
from linli.core.models import TimeStampedModel
from linli.people.identity import mask_id_number, mask_phone

if TYPE_CHECKING:
    pass


class ScopedQuerySet(PlaceScopedQuerySet):
    """People, households, memberships and departments name their place by a foreign key."""

    path_field = "place__path"


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class DocumentKind(models.TextChoices):
    RESIDENT_ID = "resident_id", _("居民身份证")
    PASSPORT = "passport", _("护照")
    HK_MACAO = "hk_macao_permit", _("港澳居民居住证/通行证")
    TAIWAN = "taiwan_permit", _("台湾居民居住证/通行证")


class Vulnerability(models.TextChoices):
    ELDERLY_ALONE = "elderly_alone", _("独居老人")
    ELDERLY = "elderly", _("高龄老人")
    DISABLED = "disabled", _("残疾人")
    SERIOUSLY_ILL = "seriously_ill", _("重病患者")
    LEFT_BEHIND_CHILD = "left_behind_child", _("留守儿童")
    LOW_INCOME = "low_income", _("低保/低收入")
    EMPTY_NEST = "empty_nest", _("空巢老人")


class PartyKind(models.TextChoices):
    NONE = "", _("非党员")
    DIRECT = "direct", _("直管党员")
    RESIDENCE = "residence", _("居住地党员")
    PAIRED_UNIT = "paired_unit", _("结对共建单位党员")


@pghistory.track()
class Person(TimeStampedModel):
    """A person known to the community: a resident, a volunteer, a staff member, a liaison.

    ``place`` is where the person is registered (their household's node, or the place they
    work at) and decides who may see them. Identity numbers are stored encrypted with a
    keyed digest for duplicate checks and a masked copy for display; phone numbers are
    stored in E.164 and shown masked unless someone with the right role unmasks them.
    """

    name = models.CharField(_("姓名"), max_length=60)
    name_search = models.CharField(max_length=120, editable=False, default="")
    name_pinyin = models.CharField(max_length=240, editable=False, default="")
    phone = models.CharField(_("手机号码"), max_length=20, blank=True, db_index=True)
    document_kind = models.CharField(
        _("证件类型"), max_length=20, choices=DocumentKind.choices, default=DocumentKind.RESIDENT_ID
    )
    id_number_encrypted = models.TextField(blank=True, editable=False)
    id_number_digest = models.CharField(max_length=64, blank=True, editable=False)
    id_number_masked = models.CharField(_("证件号码"), max_length=24, blank=True, editable=False)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices, blank=True)
    vulnerabilities = ArrayField(
        models.CharField(max_length=32, choices=Vulnerability.choices),
        default=list,
        blank=True,
        verbose_name=_("困难标记"),
    )
    party_kind = models.CharField(_("党员类别"), max_length=16, choices=PartyKind.choices, blank=True, default="")
    party_unit = models.CharField(_("结对共建单位"), max_length=120, blank=True)
    is_veteran = models.BooleanField(_("退役军人"), default=False)
    is_volunteer = models.BooleanField(_("志愿者"), default=False)
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="people", verbose_name=_("所在地"))
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="person"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            GinIndex(fields=["name_search"], opclasses=["gin_trgm_ops"], name="person_name_trgm"),
            GinIndex(fields=["vulnerabilities"], name="person_vulnerabilities"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_digest"], condition=~models.Q(id_number_digest=""), name="person_unique_id_number"
            ),
            models.CheckConstraint(
                condition=models.Q(party_kind="paired_unit") | models.Q(party_unit=""),
                name="person_party_unit_only_for_paired",
            ),
        ]
        verbose_name = _("居民")
        verbose_name_plural = _("居民")

    def __str__(self) -> str:
        return self.name

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    @classmethod
    def visible_also(cls, actor: Actor, capability: str) -> models.Q | None:
        """Everyone sees their own record."""
        return models.Q(user_id=actor.pk) if capability == "view_people" else None

    @property
    def birth_year(self) -> int | None:
        """The birth year: what is shown beside a masked identity number (the full date is
        digits 7–14 of the number itself, so it is shown only by unmasking)."""
        return self.birth_date.year if self.birth_date else None

    @property
    def age(self) -> int | None:
        if not self.birth_date:
            return None
        from django.utils import timezone

        today = timezone.localdate()
        born = self.birth_date
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    @property
    def vulnerability_labels(self) -> list[str]:
        return [str(Vulnerability(v).label) for v in self.vulnerabilities if v in Vulnerability.values]

    @property
    def is_party_member(self) -> bool:
        return bool(self.party_kind)

    def id_number(self) -> str:
        """The clear identity number. Call only from the unmask service, which logs it."""
        return crypto.decrypt(self.id_number_encrypted) if self.id_number_encrypted else ""

    def set_id_number(self, number: str) -> None:
        self.id_number_encrypted = crypto.encrypt(number) if number else ""
        self.id_number_digest = crypto.digest(number) if number else ""
        self.id_number_masked = mask_id_number(number)


class Tenure(models.TextChoices):
    OWNER = "owner", _("业主")
    TENANT = "tenant", _("租户")
    RESIDENT = "resident", _("常住")


@pghistory.track()
class Household(TimeStampedModel):
    """A household 户: the people living in one flat or courtyard home.

    It is a leaf node of the place tree (``place``, of kind household, under a building or
    courtyard). ``floor_area`` is kept because owners' votes under Civil Code art. 278 count
    floor area as well as heads.
    """

    place = models.OneToOneField("places.Place", on_delete=models.PROTECT, related_name="household")
    tenure = models.CharField(_("居住性质"), max_length=16, choices=Tenure.choices, default=Tenure.OWNER)
    floor_area = models.DecimalField(_("建筑面积(㎡)"), max_digits=8, decimal_places=2, null=True, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["place__path"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(floor_area__isnull=True) | models.Q(floor_area__gt=0), name="household_area_positive"
            )
        ]
        verbose_name = _("户")
        verbose_name_plural = _("户")

    def __str__(self) -> str:
        return self.place.name


class Relation(models.TextChoices):
    HEAD = "head", _("户主")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    GRANDCHILD = "grandchild", _("孙子女")
    SIBLING = "sibling", _("兄弟姐妹")
    OTHER = "other", _("其他")


class HouseholdMemberQuerySet(PlaceScopedQuerySet):
    path_field = "household__place__path"


@pghistory.track()
class HouseholdMember(TimeStampedModel):
    """A person's membership of a household, with their relation to the head (户主)."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="household_links")
    relation = models.CharField(_("与户主关系"), max_length=16, choices=Relation.choices)

    objects = HouseholdMemberQuerySet.as_manager()

    class Meta:
        ordering = ["household", "id"]
        constraints = [
            models.UniqueConstraint(fields=["household", "person"], name="household_member_once"),
            models.UniqueConstraint(
                fields=["household"], condition=models.Q(relation="head"), name="household_one_head"
            ),
        ]
        verbose_name = _("家庭成员")
        verbose_name_plural = _("家庭成员")

    def __str__(self) -> str:
        return f"{self.person} ({self.get_relation_display()})"


class DepartmentKind(models.TextChoices):
    WATER = "water", _("供水")
    POWER = "power", _("供电")
    GAS = "gas", _("燃气")
    TELECOM = "telecom", _("通信")
    HOUSING = "housing", _("房管")
    PROPERTY = "property", _("物业公司")
    CITY_MANAGEMENT = "city_management", _("城管")
    POLICE = "police", _("公安")
    COURT = "court", _("法院")
    MARKET = "market_supervision", _("市场监管")
    CIVIL_AFFAIRS = "civil_affairs", _("民政")
    OTHER = "other", _("其他")


class DepartmentQuerySet(ScopedQuerySet):
    pass


@pghistory.track()
class Department(TimeStampedModel):
    """A city or district department (or a utility or property company) that answers whistles.

    Its liaisons are people holding the department-liaison role with this department.
    """

    code = models.CharField(_("编码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=120)
    kind = models.CharField(_("类别"), max_length=32, choices=DepartmentKind.choices)
    place = models.ForeignKey(
        "places.Place", on_delete=models.PROTECT, related_name="departments", verbose_name=_("服务范围")
    )

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        ordering = ["place__path", "code"]
        verbose_name = _("部门")
        verbose_name_plural = _("部门")

    def __str__(self) -> str:
        return self.name


@pghistory.track()
class Membership(TimeStampedModel):
    """A role a person holds at a place node: e.g. grid worker of grid 3, secretary of 常二社区.

    The role applies to the node's whole subtree. A person may hold several. Department
    liaisons name their department. Ending a membership keeps the row (``ended_at``).
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="memberships")
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="liaisons")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["place__path", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "place", "role"],
                condition=models.Q(ended_at__isnull=True),
                name="membership_active_once",
            ),
            models.CheckConstraint(
                condition=models.Q(role="department_liaison", department__isnull=False)
                | (~models.Q(role="department_liaison") & models.Q(department__isnull=True)),
                name="membership_department_iff_liaison",
            ),
        ]
        indexes = [
            models.Index(fields=["person"], condition=models.Q(ended_at__isnull=True), name="membership_active_person")
        ]
        verbose_name = _("角色任职")
        verbose_name_plural = _("角色任职")

    def __str__(self) -> str:
        return f"{self.person} · {self.get_role_display()} @ {self.place}"
