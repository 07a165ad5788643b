"""Writes about people: persons, households, memberships, and unmasking personal data.

Every service is keyword-only, runs in one transaction, checks the actor's scope for the
place it writes at, validates with ``full_clean`` and writes an audit entry. ``actor=SYSTEM``
means the system itself (the command line, the demo loader).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from linli.core import ratelimit
from linli.core.access import (
    RANK,
    SYSTEM,
    Actor,
    Role,
    capabilities_of,
    capability_label,
    forget_scope,
    is_system,
    require,
    scope_for,
    user_of,
)
from linli.core.audit import audit_record, record_regardless
from linli.core.models import AuditEntry
from linli.core.text import looks_gbk_damaged, normalize, pinyin_key
from linli.people.capabilities import PeopleCap
from linli.people.identity import (
    birth_date_from_id,
    normalize_phone,
    sex_from_id,
    validate_other_document,
    validate_resident_id,
)
from linli.people.models import (
    DocumentKind,
    Household,
    HouseholdMember,
    Membership,
    PartyKind,
    Person,
    Relation,
    Vulnerability,
)
from linli.places.models import KIND_LEVEL, Place, PlaceKind

UNMASKABLE_FIELDS = ("phone", "id_number")
PERSON_FIELDS = (
    "name",
    "phone",
    "document_kind",
    "id_number",
    "birth_date",
    "sex",
    "vulnerabilities",
    "party_kind",
    "party_unit",
    "is_veteran",
    "is_volunteer",
)


def _apply_person_fields(person: Person, data: dict[str, Any]) -> list[str]:
    """Validate and set person fields; return the names of the fields that changed."""
    errors: dict[str, list[str]] = {}
    changed: list[str] = []

    def err(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if "name" in data:
        name = (data["name"] or "").strip()
        if not name:
            err("name", _("姓名不能为空"))
        elif looks_gbk_damaged(name):
            err("name", _("姓名疑似乱码(编码错误)"))
        if name != person.name:
            person.name = name
            changed.append("name")
    if "phone" in data:
        phone = ""
        if data["phone"]:
            try:
                phone = normalize_phone(data["phone"])
            except ValidationError as exc:
                err("phone", exc.messages[0])
        if phone != person.phone:
            person.phone = phone
            changed.append("phone")
    kind = data.get("document_kind") or person.document_kind
    if kind not in DocumentKind.values:
        err("document_kind", _("未知的证件类型"))
    elif kind != person.document_kind:
        person.document_kind = kind
        changed.append("document_kind")
    if "id_number" in data:
        raw = data["id_number"] or ""
        number = ""
        if raw:
            try:
                number = validate_resident_id(raw) if kind == DocumentKind.RESIDENT_ID else validate_other_document(raw)
            except ValidationError as exc:
                err("id_number", exc.messages[0])
        if number and kind == DocumentKind.RESIDENT_ID and "id_number" not in errors:
            born = birth_date_from_id(number)
            if data.get("birth_date") and data["birth_date"] != born:
                err("birth_date", _("出生日期与身份证号不符"))
            if data.get("sex") and data["sex"] != sex_from_id(number):
                err("sex", _("性别与身份证号不符"))
            data = {**data, "birth_date": born, "sex": sex_from_id(number)}
        if "id_number" not in errors:
            from linli.core import crypto

            # whether the number is already registered is checked once everything else is
            # valid (``_guard_id_number``): an answer here would be an oracle
            if (crypto.digest(number) if number else "") != person.id_number_digest:
                person.set_id_number(number)
                changed.append("id_number")
    if "birth_date" in data and data["birth_date"] != person.birth_date:
        born = data["birth_date"]
        if born is not None and (born > timezone.localdate() or born < dt.date(1880, 1, 1)):
            err("birth_date", _("出生日期不合理"))
        person.birth_date = born
        changed.append("birth_date")
    if "sex" in data and (data["sex"] or "") != person.sex:
        person.sex = data["sex"] or ""
        changed.append("sex")
    if "vulnerabilities" in data:
        flags = sorted(set(data["vulnerabilities"] or []))
        unknown = set(flags) - set(Vulnerability.values)
        if unknown:
            err("vulnerabilities", _("未知的困难标记") + ", ".join(sorted(unknown)))
        if flags != sorted(person.vulnerabilities):
            person.vulnerabilities = flags
            changed.append("vulnerabilities")
    if "party_kind" in data or "party_unit" in data:
        party_kind = data.get("party_kind", person.party_kind) or ""
        party_unit = (data.get("party_unit", person.party_unit) or "").strip()
        if party_kind not in PartyKind.values:
            err("party_kind", _("未知的党员类别"))
        if party_kind == PartyKind.PAIRED_UNIT and not party_unit:
            err("party_unit", _("结对共建单位党员需填写单位"))
        if party_kind != PartyKind.PAIRED_UNIT:
            party_unit = ""
        if (party_kind, party_unit) != (person.party_kind, person.party_unit):
            person.party_kind, person.party_unit = party_kind, party_unit
            changed.append("party_kind")
    for flag in ("is_veteran", "is_volunteer"):
        if flag in data and bool(data[flag]) != getattr(person, flag):
            setattr(person, flag, bool(data[flag]))
            changed.append(flag)
    if errors:
        raise ValidationError(errors)
    person.name_search = normalize(person.name)
    person.name_pinyin = pinyin_key(person.name)
    return changed


#: ``full_clean`` leaves the identity number's uniqueness to ``_guard_id_number``
_CLEAN_EXCLUDE = ["user", "place", "id_number_digest"]


def _guard_id_number(actor: Actor, person: Person) -> None:
    """Refuse an identity number registered to someone else, once every other field of the
    write is valid. Whether a number is registered anywhere is itself personal data (a masked
    number and a birth year leave some thirty candidates to try), so each entry by a person
    counts against ``id_number_entry_user`` and a clash is audited at the place of the person
    who holds the number, where its secretary sees it; both stay written when the write's
    transaction rolls back (``record_regardless``)."""
    if not person.id_number_digest:
        return
    if not is_system(actor):
        who = getattr(actor, "pk", "")
        if not ratelimit.check("id_number_entry_user", who).allowed:
            raise ValidationError({"id_number": [_("证件号码录入太频繁，请稍后再试。")]})
        # counted even when the write is refused or its transaction rolls back
        record_regardless(lambda: ratelimit.hit("id_number_entry_user", who))
    holder = (
        Person.objects.filter(id_number_digest=person.id_number_digest)
        .exclude(pk=person.pk)
        .select_related("place")
        .first()
    )
    if holder is None:
        return
    record_regardless(
        lambda: audit_record(
            actor=actor,
            action=AuditEntry.Action.CONFLICT,
            target=holder,
            place=holder.place,
            field="id_number",
            changes={"entered_at": person.place.code},
        )
    )
    raise ValidationError({"id_number": [_("该证件号码已登记")]})


def person_create(
    *, actor: Actor, place: Place, household: Household | None = None, relation: str = Relation.OTHER, **data: Any
) -> Person:
    """Register a person at ``place`` (a household's node, or where they work).

    With ``household`` the person is also added to it with ``relation`` to the head. Every
    field is checked before the identity number's uniqueness (``_guard_id_number``); the write
    is one transaction.
    """
    unknown = set(data) - set(PERSON_FIELDS)
    if unknown:
        raise ValidationError({f: [_("未知字段")] for f in sorted(unknown)})
    if household is not None:
        place = household.place
    require(actor, PeopleCap.EDIT_PEOPLE, place)
    person = Person(place=place)
    _apply_person_fields(person, {"name": data.pop("name", ""), **data})
    person.full_clean(exclude=_CLEAN_EXCLUDE)
    _guard_id_number(actor, person)
    with transaction.atomic():
        person.save()
        if household is not None:
            _add_member(household, person, relation)
        audit_record(
            actor=actor,
            action=AuditEntry.Action.CREATE,
            target=person,
            place=place,
            changes={"fields": sorted(k for k, v in data.items() if v not in ("", None, [], False))},
        )
    return person


def person_update(*, actor: Actor, person: Person, reason: str = "", **data: Any) -> Person:
    """Change a person's fields: every field is checked first (on a copy), then the identity
    number's uniqueness (``_guard_id_number``), then the row is locked and written in one
    transaction."""
    unknown = set(data) - set(PERSON_FIELDS)
    if unknown:
        raise ValidationError({f: [_("未知字段")] for f in sorted(unknown)})
    draft = Person.objects.select_related("place").get(pk=person.pk)
    require(actor, PeopleCap.EDIT_PEOPLE, draft.place)
    if "id_number" in _apply_person_fields(draft, dict(data)):
        draft.full_clean(exclude=_CLEAN_EXCLUDE)
        _guard_id_number(actor, draft)
    with transaction.atomic():
        return _person_write(actor=actor, person=person, reason=reason, data=data)


def _person_write(*, actor: Actor, person: Person, reason: str, data: dict[str, Any]) -> Person:
    person = Person.objects.select_for_update().select_related("place").get(pk=person.pk)
    changed = _apply_person_fields(person, data)
    if changed:
        person.full_clean(exclude=_CLEAN_EXCLUDE)
        person.save()
        # field names only: the audit trail must not become a second copy of the data
        audit_record(
            actor=actor,
            action=AuditEntry.Action.UPDATE,
            target=person,
            place=person.place,
            reason=reason,
            changes={"fields": changed},
        )
    return person


def _add_member(household: Household, person: Person, relation: str) -> HouseholdMember:
    if relation not in Relation.values:
        raise ValidationError({"relation": [_("未知的关系")]})
    if relation == Relation.HEAD and household.members.filter(relation=Relation.HEAD).exists():
        raise ValidationError({"relation": [_("该户已有户主")]})
    if household.members.filter(person=person).exists():
        raise ValidationError({"person": [_("已是该户成员")]})
    return HouseholdMember.objects.create(household=household, person=person, relation=relation)


@transaction.atomic
def household_add_member(*, actor: Actor, household: Household, person: Person, relation: str) -> HouseholdMember:
    require(actor, PeopleCap.EDIT_PEOPLE, household.place)
    require(actor, PeopleCap.EDIT_PEOPLE, person.place)
    member = _add_member(household, person, relation)
    audit_record(
        actor=actor,
        action=AuditEntry.Action.UPDATE,
        target=household,
        place=household.place,
        changes={"added_member": person.pk, "relation": relation},
    )
    return member


@transaction.atomic
def household_create(
    *,
    actor: Actor,
    building: Place,
    code: str,
    name: str,
    tenure: str = "owner",
    floor_area: Decimal | None = None,
    note: str = "",
) -> Household:
    """Create a household: a household node under a building or courtyard, and its record."""
    from linli.places.services import place_create

    require(actor, PeopleCap.EDIT_PEOPLE, building)
    if building.kind not in (PlaceKind.BUILDING, PlaceKind.COURTYARD):
        raise ValidationError({"building": [_("户只能建在楼栋或院落下")]})
    node = place_create(actor=SYSTEM, parent=building, code=code, name=name, kind=PlaceKind.HOUSEHOLD)
    household = Household(place=node, tenure=tenure, floor_area=floor_area, note=note)
    household.full_clean()
    household.save()
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, target=household, place=node)
    return household


def _require_outranks(actor: Actor, role: str, place: Place) -> None:
    """Granting or revoking ``role`` at ``place`` needs ``manage_memberships`` there and a
    role of the actor's own ranked above it (admins excepted)."""
    require(actor, PeopleCap.MANAGE_MEMBERSHIPS, place)
    scope = scope_for(actor)
    if not is_system(actor) and not scope.everything and RANK[role] >= scope.rank_at(place.path):
        raise PermissionDenied(_("不能授予或撤销与自己同级或更高的角色"))


def _require_may_grant(actor: Actor, role: str, place: Place, person: Person) -> None:
    """A grant may only hand out what the granter itself may do at that place, and never to
    the granter: otherwise a street official could make itself community staff and unmask."""
    _require_outranks(actor, role, place)
    if is_system(actor):
        return
    scope = scope_for(actor)
    if (person.user_id is not None and person.user_id == getattr(actor, "pk", None)) or person.pk == scope.person_id:
        raise PermissionDenied(_("不能给自己授予角色，请由上级或系统管理员授予。"))
    if scope.everything:
        return
    missing = capabilities_of(role) - scope.capabilities_at(place.path)
    if missing:
        names = gettext("、").join(capability_label(a) for a in sorted(missing))
        raise PermissionDenied(_("该角色有您在此处没有的权限（%(names)s），不能由您授予。") % {"names": names})


@transaction.atomic
def membership_grant(
    *, actor: Actor, person: Person, place: Place, role: str, department: Any = None, reason: str = ""
) -> Membership:
    """Give ``person`` a role at ``place``. The granter needs ``manage_memberships`` there and
    may only grant roles ranked below its own. Granting a role already held returns it."""
    if role not in Role.values:
        raise ValidationError({"role": [_("未知的角色")]})
    _require_may_grant(actor, role, place, person)
    reason = (reason or "").strip()
    unmasks = PeopleCap.UNMASK in capabilities_of(role)
    if unmasks and not is_system(actor) and len(reason) < 2:
        raise ValidationError(
            {"reason": [_("该角色可以查看完整的手机号和证件号，授予时须写明理由（将记入审计，社区书记可见）。")]}
        )
    if role == Role.RESIDENT and place.kind != PlaceKind.HOUSEHOLD:
        raise ValidationError({"place": [_("居民角色应授予在户上")]})
    if role in (Role.GRID_WORKER,) and KIND_LEVEL[place.kind] > KIND_LEVEL[PlaceKind.GRID]:
        raise ValidationError({"place": [_("网格员应授予在网格或更高层级")]})
    if (role == Role.LIAISON) != (department is not None):
        raise ValidationError({"department": [_("部门联络人需要且只有部门联络人需要部门")]})
    existing: Membership | None = Membership.objects.filter(
        person=person, place=place, role=role, ended_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    membership = Membership(
        person=person,
        place=place,
        role=role,
        department=department,
        granted_by=user_of(actor),
    )
    membership.full_clean()
    membership.save()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.GRANT,
        target=membership,
        place=place,
        reason=reason,
        changes={"person": person.pk, "role": role, "unmask": unmasks},
    )
    if person.user is not None:
        forget_scope(person.user)
    return membership


@transaction.atomic
def membership_revoke(*, actor: Actor, membership: Membership, reason: str = "") -> Membership:
    membership = Membership.objects.select_for_update().select_related("place").get(pk=membership.pk)
    _require_outranks(actor, membership.role, membership.place)
    if membership.ended_at is None:
        membership.ended_at = timezone.now()
        membership.save(update_fields=["ended_at", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditEntry.Action.REVOKE,
            target=membership,
            place=membership.place,
            reason=reason,
            changes={"person": membership.person_id, "role": membership.role},
        )
    return membership


def unmask_reason(reason: str) -> str:
    """The reason given for seeing personal data in full: two to 500 characters."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": [_("请填写查看理由")]})
    if len(reason) > 500:
        raise ValidationError({"reason": [_("理由过长")]})
    return reason


@transaction.atomic
def person_unmask(*, actor: Actor, person: Person, field: str, reason: str) -> str:
    """Return the full phone or identity number, and log who saw it, where and why.

    Requires the ``unmask`` capability at the person's place and a reason of at least two
    characters. Every call writes an audit entry, even for the same person twice.
    """
    if field not in UNMASKABLE_FIELDS:
        raise ValidationError({"field": [_("只能查看手机号码或证件号码")]})
    reason = unmask_reason(reason)
    require(actor, PeopleCap.UNMASK, person.place)
    value = person.phone if field == "phone" else person.id_number()
    audit_record(
        actor=actor, action=AuditEntry.Action.UNMASK, target=person, place=person.place, field=field, reason=reason
    )
    return value


@transaction.atomic
def text_unmask(*, actor: Actor, target: Any, place: Place, texts: dict[str, str], reason: str) -> dict[str, str]:
    """The original free text of ``target`` (a need, a visit) with the phone and identity
    numbers a resident typed into it, for an actor with ``unmask`` at ``place`` who gives a
    reason; audited each time, like unmasking a person's number."""
    reason = unmask_reason(reason)
    require(actor, PeopleCap.UNMASK, place)
    audit_record(
        actor=actor, action=AuditEntry.Action.UNMASK, target=target, place=place, field=",".join(texts), reason=reason
    )
    return texts


def export_unmask(*, actor: Actor, place: Place, full: bool, reason: str) -> str:
    """An export with personal data is masked; a full one needs ``unmask`` at ``place`` (or
    part of it) and a reason, which is returned for the export's audit entry ("" for a masked
    export)."""
    if not full:
        return ""
    reason = unmask_reason(reason)
    scope = scope_for(actor)
    # the place itself or part of it (a grid worker exporting its grid of a community's list);
    # each row is then shown in full only where the actor may unmask it
    if not scope.reaches(PeopleCap.UNMASK, place.path):
        raise PermissionDenied(_("您的角色不能导出完整号码。"))
    return reason
