"""The dispatch catalogue 派单目录: the default categories of needs, and its XLSX/CSV import
and export.

Each category says who handles it by default (the grid, the community, or a department of a
kind) and its time limits, following Beijing's 12345 接诉即办: emergencies such as a gas leak
are answered within 2 hours, water, power, gas and heating within 24 hours, ordinary needs are
resolved within 7 working days and complex ones within 15; a 紧急 or 特急 need has the shorter
limits the catalogue gives for its urgency. The keywords and examples, written as residents
write, train the triage classifier, so the categories are kept distinguishable. A category
may name the safety advice a resident sees at once when a need's text holds one of its
emergency words (a gas smell, a fire, a person in danger). The default catalogue is data:
``needs/data/catalogue.toml``.

A category with ``city`` null is the default for cities that have not defined that code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.core.access import Actor, require_admin
from linli.core.audit import audit_export, audit_import
from linli.core.data import read_data
from linli.core.sheets import (
    ImportFailed,
    ImportResult,
    RowError,
    Sheet,
    choice_value,
    import_failed,
    read_rows,
    xlsx_bytes,
)
from linli.needs.models import URGENCY_LIMIT_KEYS, Category, EmergencyKind, HandlingLevel
from linli.people.models import DepartmentKind
from linli.places.models import Place
from linli.places.selectors import check_city
from linli.workdays.models import LimitUnit

Limits = tuple[tuple[int, str], tuple[int, str], tuple[int, str]]


@dataclass(frozen=True)
class Entry:
    """One line of the default catalogue; ``limits`` are (response, check-in, resolution),
    each (amount, unit), and ``urgency_limits`` the same for 紧急 (``urgent``) and 特急
    (``emergency``)."""

    code: str
    name: str
    name_hant: str
    name_en: str
    level: str
    department_kind: str
    limits: Limits
    keywords: tuple[str, ...]
    examples: tuple[str, ...]
    public: bool = True  # seen through Open311 without a key (disputes, personal help: not)
    urgency_limits: tuple[tuple[str, Limits], ...] = ()
    emergency: str = ""
    emergency_words: tuple[str, ...] = ()
    emergency_phone: str = ""

    def fields(self) -> dict[str, Any]:
        (response, response_unit), (checkin, checkin_unit), (resolution, resolution_unit) = self.limits
        return {
            "name": self.name,
            "name_hant": self.name_hant,
            "name_en": self.name_en,
            "level": self.level,
            "department_kind": self.department_kind,
            "response_limit": response,
            "response_unit": response_unit,
            "checkin_limit": checkin,
            "checkin_unit": checkin_unit,
            "resolution_limit": resolution,
            "resolution_unit": resolution_unit,
            "keywords": list(self.keywords),
            "examples": list(self.examples),
            "active": True,
            "public": self.public,
            "urgency_limits": {key: [list(pair) for pair in limits] for key, limits in self.urgency_limits},
            "emergency": self.emergency,
            "emergency_words": list(self.emergency_words),
            "emergency_phone": self.emergency_phone,
        }


def _limits(value: str | list[list[Any]], sets: dict[str, list[list[Any]]], what: str) -> Limits:
    limits = tuple((int(amount), str(unit)) for amount, unit in (sets[value] if isinstance(value, str) else value))
    if len(limits) != 3 or any(unit not in LimitUnit.values for _key, unit in limits):
        raise ValueError(f"catalogue.toml: bad limits for {what}")
    return (limits[0], limits[1], limits[2])


_DATA = read_data("linli.needs", "catalogue")

#: The limits of a 紧急 (``urgent``) and a 特急 (``emergency``) need when its category gives
#: none of its own (``[urgency]`` of the catalogue): (response, check-in, resolution).
URGENCY_DEFAULTS: dict[str, Limits] = {
    key: _limits(_DATA["urgency"][key], _DATA["limits"], f"[urgency] {key}") for key in URGENCY_LIMIT_KEYS
}


def _default_catalogue() -> tuple[Entry, ...]:
    """The default catalogue, from ``needs/data/catalogue.toml``."""
    data = _DATA
    entries = []
    for row in data["category"]:
        limits = _limits(row["limits"], data["limits"], row["code"])
        urgency = tuple(
            (key, _limits(row.get(f"{key}_limits", data["urgency"][key]), data["limits"], f"{row['code']} {key}"))
            for key in URGENCY_LIMIT_KEYS
        )
        emergency = str(row.get("emergency", ""))
        if emergency and emergency not in EmergencyKind.values:
            raise ValueError(f"catalogue.toml: unknown emergency {emergency!r} for {row['code']}")
        entries.append(
            Entry(
                code=row["code"],
                name=row["name"],
                name_hant=row["name_hant"],
                name_en=row["name_en"],
                level=HandlingLevel(row["level"]),
                department_kind=row["department_kind"],
                limits=limits,
                keywords=tuple(row["keywords"]),
                examples=tuple(row["examples"]),
                public=bool(row.get("public", True)),
                urgency_limits=urgency,
                emergency=emergency,
                emergency_words=tuple(row.get("emergency_words", ())),
                emergency_phone=str(row.get("emergency_phone", "")),
            )
        )
    return tuple(entries)


DEFAULT_CATALOGUE: tuple[Entry, ...] = _default_catalogue()


@transaction.atomic
def catalogue_load_defaults(*, city: Place | None = None) -> int:
    """Create or reset the default categories (for ``city``, or the national defaults).
    Returns the number of rows created or changed; running it again writes nothing."""
    check_city(city)
    existing = {c.code: c for c in Category.objects.filter(city=city, code__in=[e.code for e in DEFAULT_CATALOGUE])}
    written = 0
    for entry in DEFAULT_CATALOGUE:
        wanted = entry.fields()
        current = existing.get(entry.code)
        if current is None:
            category = Category(city=city, code=entry.code, **wanted)
            category.full_clean()
            category.save()
            written += 1
        elif any(getattr(current, k) != v for k, v in wanted.items()):
            for k, v in wanted.items():
                setattr(current, k, v)
            current.full_clean()
            current.save()
            written += 1
    return written


# --- import and export ----------------------------------------------------------------------------

COLUMNS = [
    "code",
    "name",
    "name_hant",
    "name_en",
    "level",
    "department_kind",
    "response_limit",
    "response_unit",
    "checkin_limit",
    "checkin_unit",
    "resolution_limit",
    "resolution_unit",
    "keywords",
    "examples",
]
#: Columns a file may leave out (an export made before they existed): what they hold is then
#: left as it is. An empty urgency cell means the default catalogue's limits for that urgency.
OPTIONAL_COLUMNS = ["urgent_limits", "emergency_limits", "emergency", "emergency_words", "emergency_phone"]
CATALOGUE_ALIASES = {c: c for c in [*COLUMNS, *OPTIONAL_COLUMNS]} | {
    "编码": "code",
    "名称": "name",
    "繁体名称": "name_hant",
    "名称(繁体)": "name_hant",
    "英文名称": "name_en",
    "名称(英文)": "name_en",
    "默认办理层级": "level",
    "办理层级": "level",
    "部门类别": "department_kind",
    "默认承办部门类别": "department_kind",
    "响应时限": "response_limit",
    "响应时限单位": "response_unit",
    "报到时限": "checkin_limit",
    "部门报到时限": "checkin_limit",
    "报到时限单位": "checkin_unit",
    "办结时限": "resolution_limit",
    "办结时限单位": "resolution_unit",
    "关键词": "keywords",
    "示例": "examples",
    "紧急时限": "urgent_limits",
    "特急时限": "emergency_limits",
    "紧急情况提示": "emergency",
    "紧急情况关键词": "emergency_words",
    "抢修电话": "emergency_phone",
}
#: a unit as offices also write it
UNIT_EXTRA = {"天": LimitUnit.WORKDAYS.value}
KEYWORD_SPLIT = re.compile(r"[、,，;；]")
EXAMPLE_SPLIT = re.compile(r"[\r\n｜|]+")
LIMIT_SPLIT = re.compile(r"[/／;；]")
LIMIT_PART = re.compile(r"^\s*(\d+)\s*(\S.*?)\s*$")
PHONE = re.compile(r"^[0-9+\- ]{0,40}$")
SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,32}$")
MAX_LIMIT = 365
LIMITS = (
    ("response", gettext_lazy("响应时限")),
    ("checkin", gettext_lazy("报到时限")),
    ("resolution", gettext_lazy("办结时限")),
)
URGENCY_COLUMNS = (
    ("urgent", "urgent_limits", gettext_lazy("紧急时限")),
    ("emergency", "emergency_limits", gettext_lazy("特急时限")),
)
NAMES = (
    ("name", 60, gettext_lazy("名称")),
    ("name_hant", 60, gettext_lazy("繁体名称")),
    ("name_en", 80, gettext_lazy("英文名称")),
)


def _parse_row(row: dict[str, str], msgs: list[str]) -> dict[str, Any]:
    code = row.get("code", "")
    if not SLUG.match(code):
        msgs.append(_("编码“%(code)s”无效(字母、数字、-、_，最多32位)") % {"code": code})
    item: dict[str, Any] = {"code": code}
    for column, limit, label in NAMES:
        value = row.get(column, "")
        if len(value) > limit:
            msgs.append(_("%(column)s过长(最多%(limit)s字)") % {"column": label, "limit": limit})
        item[column] = value
    if not item["name"]:
        msgs.append(_("名称不能为空"))
    level = choice_value(HandlingLevel, row.get("level", ""))
    if level is None:
        msgs.append(_("办理层级“%(level)s”无效") % {"level": row.get("level", "")})
    item["level"] = level
    raw_kind = row.get("department_kind", "")
    kind = choice_value(DepartmentKind, raw_kind) if raw_kind else ""
    if kind is None:
        msgs.append(_("部门类别“%(raw_kind)s”无效") % {"raw_kind": raw_kind})
    elif level == HandlingLevel.DEPARTMENT and not kind:
        msgs.append(_("部门办理的类别要填部门类别"))
    item["department_kind"] = kind or ""
    for prefix, label in LIMITS:
        raw = row.get(f"{prefix}_limit", "")
        amount = _int(raw)
        if amount is None or not 1 <= amount <= MAX_LIMIT:
            msgs.append(
                _("%(column)s“%(raw)s”应为 1 到 %(max)s 的整数") % {"column": label, "raw": raw, "max": MAX_LIMIT}
            )
        item[f"{prefix}_limit"] = amount
        raw_unit = row.get(f"{prefix}_unit", "")
        unit = choice_value(LimitUnit, raw_unit, extra=UNIT_EXTRA)
        if unit is None:
            msgs.append(
                _("%(column)s单位“%(raw_unit)s”无效，应为 工作日 或 小时") % {"column": label, "raw_unit": raw_unit}
            )
        item[f"{prefix}_unit"] = unit
    keywords = [k.strip() for k in KEYWORD_SPLIT.split(row.get("keywords", "")) if k.strip()]
    long = [k for k in keywords if len(k) > 30]
    if long:
        msgs.append(_("关键词过长(最多30字): %(long)s") % {"long": long[0]})
    item["keywords"] = keywords
    item["examples"] = [e.strip() for e in EXAMPLE_SPLIT.split(row.get("examples", "")) if e.strip()]
    _parse_optional(row, item, msgs)
    return item


def _parse_optional(row: dict[str, str], item: dict[str, Any], msgs: list[str]) -> None:
    """The optional columns that the file has (``OPTIONAL_COLUMNS``) into ``item``."""
    if any(column in row for _key, column, _label in URGENCY_COLUMNS):
        urgency: dict[str, list[list[Any]]] = {}
        for key, column, label in URGENCY_COLUMNS:
            raw = row.get(column, "").strip()
            if not raw:
                continue
            limits = _urgency_limits(raw)
            if limits is None:
                msgs.append(
                    _("%(column)s“%(raw)s”应为三项：响应/报到/办结，如 4小时/4小时/3工作日")
                    % {"column": label, "raw": raw}
                )
            else:
                urgency[key] = limits
        item["urgency_limits"] = urgency
    if "emergency" in row:
        raw = row["emergency"].strip()
        emergency = choice_value(EmergencyKind, raw) if raw else ""
        if emergency is None:
            msgs.append(_("紧急情况提示“%(raw)s”无效，应为 燃气泄漏、火情 或 人身危险") % {"raw": raw})
        item["emergency"] = emergency or ""
    if "emergency_words" in row:
        words = [w.strip() for w in KEYWORD_SPLIT.split(row["emergency_words"]) if w.strip()]
        if any(len(w) > 30 for w in words):
            msgs.append(_("关键词过长(最多30字): %(long)s") % {"long": next(w for w in words if len(w) > 30)})
        item["emergency_words"] = words
    if "emergency_phone" in row:
        phone = row["emergency_phone"].strip()
        if not PHONE.match(phone):
            msgs.append(_("抢修电话“%(raw)s”无效") % {"raw": phone[:40]})
        item["emergency_phone"] = phone


def _urgency_limits(raw: str) -> list[list[Any]] | None:
    """``4小时/4小时/3工作日`` (or ``4 hours / 4 hours / 3 workdays``) as limits, else None."""
    parts = [LIMIT_PART.match(p) for p in LIMIT_SPLIT.split(raw)]
    if len(parts) != 3:
        return None
    limits: list[list[Any]] = []
    for match in parts:
        if match is None:
            return None
        amount, unit = int(match.group(1)), choice_value(LimitUnit, match.group(2), extra=UNIT_EXTRA)
        if unit is None or not 1 <= amount <= MAX_LIMIT:
            return None
        limits.append([amount, unit])
    return limits


def urgency_limits_text(limits: list[list[Any]] | None) -> str:
    """Limits as a cell of the catalogue file (``4 hours / 4 hours / 3 workdays``)."""
    return " / ".join(f"{amount} {unit}" for amount, unit in limits or [])


def _int(value: str) -> int | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def catalogue_import(*, actor: Actor, data: bytes, filename: str, city: Place | None = None) -> ImportResult:
    """Create or update categories (of ``city``, or the defaults) from an XLSX or CSV file in
    the export's format. Codes not in the file are left as they are. Every row is checked
    first; with any bad row nothing is written (``ImportFailed`` with each row's errors).
    System administrators only (``actor=SYSTEM`` is the system).
    """
    require_admin(actor, _("只有系统管理员可以导入派单目录。"))
    check_city(city)
    rows = list(read_rows(data, filename, aliases=CATALOGUE_ALIASES, required=COLUMNS))
    if not rows:
        raise import_failed(0, _("文件中没有数据行"))
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    parsed: list[dict[str, Any]] = []
    for line, row in rows:
        msgs: list[str] = []
        item = _parse_row(row, msgs)
        code = item["code"]
        if code in seen:
            msgs.append(_("编码 %(code)s 与第%(code2)s行重复") % {"code": code, "code2": seen[code]})
        seen.setdefault(code, line)
        if msgs:
            errors.append(RowError(line, msgs))
        else:
            parsed.append(item)
    if errors:
        raise ImportFailed(errors)
    return _catalogue_write(actor=actor, filename=filename, city=city, items=parsed)


@transaction.atomic
def _catalogue_write(*, actor: Actor, filename: str, city: Place | None, items: list[dict[str, Any]]) -> ImportResult:
    existing = {c.code: c for c in Category.objects.select_for_update().filter(city=city)}
    result = ImportResult()
    anchor: Category | None = None
    for item in items:
        fields = {k: v for k, v in item.items() if k != "code"}
        current = existing.get(item["code"])
        if current is None:
            current = Category(city=city, code=item["code"], **fields)
            result.created += 1
        elif any(getattr(current, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(current, k, v)
            result.updated += 1
        else:
            result.unchanged += 1
            anchor = anchor or current
            continue
        try:
            current.full_clean()
        except ValidationError as exc:  # the row checks above should make this unreachable
            raise ImportFailed([RowError(0, [f"{item['code']}: {m}" for m in exc.messages])]) from exc
        current.save()
        anchor = anchor or current
    assert anchor is not None
    audit_import(
        actor=actor,
        target=anchor,
        place=city,
        what="catalogue",
        filename=filename,
        created=result.created,
        updated=result.updated,
    )
    return result


def catalogue_export_xlsx(*, actor: Actor, city: Place | None = None) -> bytes:
    """The catalogue (of ``city``, or the defaults) as an XLSX in the import format, so it
    round-trips. System administrators only; audited."""
    require_admin(actor, _("只有系统管理员可以导出派单目录。"))
    categories = list(Category.objects.filter(city=city).order_by("code"))
    rows = [
        [
            category.code,
            category.name,
            category.name_hant,
            category.name_en,
            category.level,
            category.department_kind,
            category.response_limit,
            category.response_unit,
            category.checkin_limit,
            category.checkin_unit,
            category.resolution_limit,
            category.resolution_unit,
            "、".join(category.keywords),
            "\n".join(category.examples),
            urgency_limits_text(category.urgency_limits.get("urgent")),
            urgency_limits_text(category.urgency_limits.get("emergency")),
            category.emergency,
            "、".join(category.emergency_words),
            category.emergency_phone,
        ]
        for category in categories
    ]
    data = xlsx_bytes(Sheet("catalogue", [*COLUMNS, *OPTIONAL_COLUMNS], rows))
    target = city or (categories[0] if categories else None)
    if target is not None:
        audit_export(actor=actor, target=target, place=city, what="catalogue", rows=len(rows))
    return data
