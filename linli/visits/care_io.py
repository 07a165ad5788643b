"""Care assignments (包保) from and to XLSX: the ledger a community keeps of who looks after whom.

The import reads an XLSX or CSV with a column 住户编码 (the household's place code) and either
包保人手机 (the carer's mobile number, any usual spelling) or 包保人编号 (the carer's person
id; it wins when both are given, so that an export with masked numbers imports again). It is
all or nothing: every row is checked first, each bad row is reported as
``第3行: 中文 / Row 3: English``, and nothing is written while any row is bad. The rows are
then applied through ``services.care_assign`` (which keeps the previous carer as history) in one
transaction, with one IMPORT audit entry.

The export lists the current assignments in the actor's scope, in the import's columns; the
carer's name and number are masked unless the actor may unmask at the carer's place.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core.access import Actor, is_system, scope_for
from linli.core.audit import audit_export, audit_import
from linli.core.sheets import ImportFailed, ImportResult, RowError, Sheet, read_rows, xlsx_bytes
from linli.people.capabilities import PeopleCap
from linli.people.identity import mask_name, mask_phone, normalize_phone
from linli.people.models import Household, Membership, Person
from linli.people.selectors import person_list
from linli.people.services import export_unmask
from linli.places.models import Place, PlaceKind
from linli.visits.balance import covers
from linli.visits.capabilities import CARER_ROLES, VisitCap
from linli.visits.models import CareAssignment
from linli.visits.selectors import assignment_list
from linli.visits.services import care_assign

HEADER_ALIASES = {
    "住户编码": "household",
    "户编码": "household",
    "household": "household",
    "household_code": "household",
    "包保人手机": "carer_phone",
    "包保人手机号": "carer_phone",
    "carer_phone": "carer_phone",
    "包保人编号": "carer_id",
    "carer_id": "carer_id",
}
EXPORT_HEADER = ["住户编码", "住户", "楼栋/院落", "包保人编号", "包保人", "包保人手机", "开始日期"]


def _anchor(paths: list[str]) -> Place | None:
    """The lowest place above all ``paths`` (where the import's audit entry is filed)."""
    if not paths:
        return None
    low, high = min(paths), max(paths)
    common = 0
    while common < min(len(low), len(high)) and low[common] == high[common]:
        common += 1
    prefix = low[: common - common % Place.steplen]
    return Place.objects.filter(path=prefix).first() if prefix else None


def care_import(
    *,
    actor: Actor,
    data: bytes,
    filename: str,
    place: Place | None = None,
    now: dt.datetime | None = None,
    progress: Callable[..., None] | None = None,
) -> ImportResult:
    """Assign carers from a file; see the module docstring. ``result.created`` counts
    households that had no carer, ``updated`` reassigned ones, ``unchanged`` rows naming the
    current carer already. With ``place`` (the care page's), every household must lie in it."""
    rows = list(read_rows(data, filename, aliases=HEADER_ALIASES, required=("household",), progress=progress))
    if not rows:
        raise ImportFailed([RowError(0, [_("文件中没有数据行")])])
    if not ({"carer_phone", "carer_id"} & set(rows[0][1])):
        raise ImportFailed([RowError(1, [_("缺少“包保人手机”或“包保人编号”列")])])
    now = now or timezone.now()
    scope = scope_for(actor)  # the system's scope is everything
    problems: dict[int, list[str]] = defaultdict(list)

    codes = {row.get("household", "") for _key, row in rows}
    households = {
        h.place.code: h
        for h in Household.objects.filter(place__code__in=codes, place__kind=PlaceKind.HOUSEHOLD).select_related(
            "place"
        )
    }
    phones: dict[int, str] = {}
    ids: dict[int, int] = {}
    for line, row in rows:
        raw_id = row.get("carer_id", "").strip()
        raw_phone = row.get("carer_phone", "").strip()
        if raw_id:
            number = _whole_number(raw_id)
            if number is None:
                problems[line].append(_("包保人编号“%(raw_id)s”不是数字") % {"raw_id": raw_id})
            else:
                ids[line] = number
        elif raw_phone:
            try:
                phones[line] = normalize_phone(raw_phone)
            except ValidationError:
                problems[line].append(_("包保人手机“%(raw_phone)s”格式不正确") % {"raw_phone": raw_phone})
        else:
            problems[line].append(_("请填写包保人手机或包保人编号"))

    # carers are looked up among the people the actor may see: a file must not be a way to
    # learn who holds an id or a phone number elsewhere
    people = Person.objects.all() if is_system(actor) else person_list(actor=actor)
    by_id = {p.pk: p for p in people.filter(pk__in=set(ids.values()))}
    by_phone: dict[str, list[Person]] = defaultdict(list)
    for person in people.filter(phone__in=set(phones.values())).order_by("pk"):
        by_phone[person.phone].append(person)
    candidates = set(by_id) | {p.pk for found in by_phone.values() for p in found}
    role_paths: dict[int, list[str]] = defaultdict(list)
    for person_id, path in Membership.objects.filter(
        person_id__in=candidates, role__in=CARER_ROLES, ended_at__isnull=True
    ).values_list("person_id", "place__path"):
        role_paths[person_id].append(path)

    seen: dict[str, int] = {}
    plan: list[tuple[Household, Person]] = []
    for line, row in rows:
        messages = problems[line]
        code = row.get("household", "").strip()
        household = households.get(code)
        if not code:
            messages.append(_("请填写住户编码"))
        elif household is None:
            messages.append(_("住户“%(code)s”不存在") % {"code": code})
        elif not scope.allows(VisitCap.MANAGE_CARE, household.place.path):
            messages.append(_("住户“%(code)s”不在您的管辖范围内") % {"code": code})
        elif place is not None and not household.place.path.startswith(place.path):
            messages.append(_("住户“%(code)s”不在%(name)s") % {"code": code, "name": place.name})
        if code in seen:
            messages.append(_("住户“%(code)s”与第%(code2)s行重复") % {"code": code, "code2": seen[code]})
        seen.setdefault(code, line)
        carer = _find_carer(line, ids, phones, by_id, by_phone, role_paths, household, messages)
        if carer is not None and household is not None and not covers(role_paths[carer.pk], household.place.path):
            messages.append(_("%(name)s不是该网格的党员中心户或楼栋长") % {"name": carer.name})
        if not messages and household is not None and carer is not None:
            plan.append((household, carer))
    errors = [RowError(line, messages) for line, messages in sorted(problems.items()) if messages]
    if errors:
        raise ImportFailed(list(errors))

    result = ImportResult()
    current = dict(
        CareAssignment.objects.filter(household__in=[h for h, _rest in plan], ended_at__isnull=True).values_list(
            "household_id", "carer_id"
        )
    )
    with transaction.atomic():
        for done, (household, carer) in enumerate(plan, start=1):
            if progress is not None:
                progress(done, len(plan), "writing")
            before = current.get(household.pk)
            if before == carer.pk:
                result.unchanged += 1
                continue
            care_assign(actor=actor, household=household, carer=carer, now=now, reason=_("导入"))
            if before is None:
                result.created += 1
            else:
                result.updated += 1
        anchor = _anchor([h.place.path for h, _rest in plan])
        if anchor is not None:
            audit_import(
                actor=actor,
                target=anchor,
                place=anchor,
                what="care_assignments",
                filename=filename,
                rows=len(plan),
                created=result.created,
                updated=result.updated,
                unchanged=result.unchanged,
            )
    return result


def care_import_counts(
    *, actor: Actor, data: bytes, filename: str, params: dict[str, Any], progress: Callable[..., None]
) -> dict[str, int]:
    """``care_import`` into the place named by ``params["place"]``, as a registered importer."""
    place = Place.objects.get(code=params["place"])
    result = care_import(actor=actor, data=data, filename=filename, place=place, progress=progress)
    return {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}


def _whole_number(value: str) -> int | None:
    """A cell's whole number: ``12``, or ``12.0`` as a spreadsheet may write it."""
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number.is_integer() and number > 0 else None


def _find_carer(
    line: int,
    ids: dict[int, int],
    phones: dict[int, str],
    by_id: dict[int, Person],
    by_phone: dict[str, list[Person]],
    role_paths: dict[int, list[str]],
    household: Household | None,
    messages: list[str],
) -> Person | None:
    if line in ids:
        carer = by_id.get(ids[line])
        if carer is None:
            messages.append(_("没有编号为%(line)s的人员") % {"line": ids[line]})
        return carer
    if line not in phones:
        return None
    masked = mask_phone(phones[line])
    found = by_phone.get(phones[line], [])
    if household is not None:
        # a number shared in a family: the one among them who may care for this household
        found = [p for p in found if covers(role_paths[p.pk], household.place.path)] or found
    if not found:
        messages.append(_("没有手机号为%(masked)s的人员") % {"masked": masked})
        return None
    if len(found) > 1:
        messages.append(_("手机号%(masked)s对应多人，请填写包保人编号") % {"masked": masked})
        return None
    return found[0]


def care_export(*, actor: Actor, place: Place, full: bool = False, reason: str = "") -> bytes:
    """The current care assignments under ``place`` that the actor may see, as an XLSX in the
    import's columns. Carer names and phone numbers are masked; ``full`` gives them in clear
    to an actor with ``unmask`` at the place who gives a ``reason`` (audited with it)."""
    reason = export_unmask(actor=actor, place=place, full=full, reason=reason)
    scope = scope_for(actor)
    if is_system(actor):
        qs = _all_assignments(place)
    elif (
        scope.reaches(VisitCap.VIEW_COVERAGE, place.path)  # the place or part of it
        or scope.roles() & CARER_ROLES  # a carer: its own households
    ):
        qs = assignment_list(actor=actor, place=place)
    else:
        raise PermissionDenied(_("此地点不在您的管辖范围内"))
    rows = list(qs.select_related("household__place", "carer__place"))
    buildings = {
        p.path: p.name
        for p in Place.objects.filter(path__in={a.household.place.path[: -Place.steplen] for a in rows}).only(
            "path", "name"
        )
    }
    masked = 0
    cells = []
    for a in rows:
        clear = full and (is_system(actor) or scope.allows(PeopleCap.UNMASK, a.carer.place.path))
        masked += not clear
        cells.append(
            [
                a.household.place.code,
                a.household.place.name,
                buildings.get(a.household.place.path[: -Place.steplen], ""),
                a.carer_id,
                a.carer.name if clear else mask_name(a.carer.name),
                a.carer.phone if clear else mask_phone(a.carer.phone),
                timezone.localtime(a.started_at).date().isoformat(),
            ]
        )
    data = xlsx_bytes(Sheet(_("包保关系"), EXPORT_HEADER, cells))
    audit_export(
        actor=actor,
        target=place,
        place=place,
        what="care_assignments",
        rows=len(rows),
        full=full,
        reason=reason,
        masked_rows=masked,
    )
    return data


def _all_assignments(place: Place) -> Any:
    return CareAssignment.objects.filter(place_path__startswith=place.path, ended_at__isnull=True).order_by(
        "place_path", "-started_at", "-id"
    )
