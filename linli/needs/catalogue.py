"""The dispatch catalogue 派单目录: the default categories of needs, and its XLSX/CSV import
and export.

Each category says who handles it by default (the grid, the community, or a department of a
kind) and its time limits, following Beijing's 12345 接诉即办: emergencies such as a gas leak
are answered within 2 hours, water, power, gas and heating within 24 hours, ordinary needs are
resolved within 7 working days and complex ones within 15. The keywords and examples, written
as residents write, train the triage classifier, so the categories are kept distinguishable.
The default catalogue is data: ``needs/data/catalogue.toml``.

A category with ``city`` null is the default for cities that have not defined that code.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from linli.core.audit import audit_record
from linli.core.data import read_data
from linli.core.models import AuditEntry
from linli.needs.models import Category, HandlingLevel, LimitUnit
from linli.needs.workdays import check_city, read_table, require_system_admin
from linli.people.models import DepartmentKind
from linli.places.models import Place
from linli.places.services import ImportFailed, ImportResult, LineError, RowError, import_failed


@dataclass(frozen=True)
class Entry:
    """One line of the default catalogue; ``limits`` are (response, check-in, resolution),
    each (amount, unit)."""

    code: str
    name: str
    name_hant: str
    name_en: str
    level: str
    department_kind: str
    limits: tuple[tuple[int, str], tuple[int, str], tuple[int, str]]
    keywords: tuple[str, ...]
    examples: tuple[str, ...]

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
        }


def _limits(value: str | list[list[Any]], sets: dict[str, list[list[Any]]]) -> tuple[tuple[int, str], ...]:
    return tuple((int(amount), str(unit)) for amount, unit in (sets[value] if isinstance(value, str) else value))


def _default_catalogue() -> tuple[Entry, ...]:
    """The default catalogue, from ``needs/data/catalogue.toml``."""
    data = read_data("linli.needs", "catalogue")
    entries = []
    for row in data["category"]:
        limits = _limits(row["limits"], data["limits"])
        if len(limits) != 3 or any(unit not in LimitUnit.values for _, unit in limits):
            raise ValueError(f"catalogue.toml: bad limits for {row['code']}")
        entries.append(
            Entry(
                code=row["code"],
                name=row["name"],
                name_hant=row["name_hant"],
                name_en=row["name_en"],
                level=HandlingLevel(row["level"]),
                department_kind=row["department_kind"],
                limits=(limits[0], limits[1], limits[2]),
                keywords=tuple(row["keywords"]),
                examples=tuple(row["examples"]),
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
CATALOGUE_ALIASES = {c: c for c in COLUMNS} | {
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
}
LEVEL_ALIASES = {v: v for v in HandlingLevel.values} | {str(label): v for v, label in HandlingLevel.choices}
KIND_ALIASES = {v: v for v in DepartmentKind.values} | {str(label): v for v, label in DepartmentKind.choices}
UNIT_ALIASES = (
    {v: v for v in LimitUnit.values} | {str(label): v for v, label in LimitUnit.choices} | {"天": LimitUnit.WORKDAYS}
)
KEYWORD_SPLIT = re.compile(r"[、,，;；]")
EXAMPLE_SPLIT = re.compile(r"[\r\n｜|]+")
SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,32}$")
MAX_LIMIT = 365
LIMITS = (("response", "响应时限"), ("checkin", "报到时限"), ("resolution", "办结时限"))


def _parse_row(row: dict[str, str], msgs: list[str]) -> dict[str, Any]:
    code = row.get("code", "")
    if not SLUG.match(code):
        msgs.append(
            f"编码“{code}”无效(字母、数字、-、_，最多32位) / invalid code {code!r} (letters, digits, - and _, at most 32)"
        )
    item: dict[str, Any] = {"code": code}
    for column, limit, zh in (("name", 60, "名称"), ("name_hant", 60, "繁体名称"), ("name_en", 80, "英文名称")):
        value = row.get(column, "")
        if len(value) > limit:
            msgs.append(f"{zh}过长(最多{limit}字) / {column} is longer than {limit} characters")
        item[column] = value
    if not item["name"]:
        msgs.append("名称不能为空 / the name is empty")
    level = LEVEL_ALIASES.get(row.get("level", "").lower(), LEVEL_ALIASES.get(row.get("level", "")))
    if level is None:
        msgs.append(f"办理层级“{row.get('level', '')}”无效 / invalid level {row.get('level', '')!r}")
    item["level"] = level
    raw_kind = row.get("department_kind", "")
    kind = KIND_ALIASES.get(raw_kind.lower(), KIND_ALIASES.get(raw_kind)) if raw_kind else ""
    if kind is None:
        msgs.append(f"部门类别“{raw_kind}”无效 / invalid department kind {raw_kind!r}")
    elif level == HandlingLevel.DEPARTMENT and not kind:
        msgs.append("部门办理的类别要填部门类别 / a category handled by a department needs a department kind")
    item["department_kind"] = kind or ""
    for prefix, zh in LIMITS:
        raw = row.get(f"{prefix}_limit", "")
        amount = _int(raw)
        if amount is None or not 1 <= amount <= MAX_LIMIT:
            msgs.append(
                f"{zh}“{raw}”应为 1 到 {MAX_LIMIT} 的整数 / {prefix}_limit {raw!r} must be a whole number from 1 to {MAX_LIMIT}"
            )
        item[f"{prefix}_limit"] = amount
        raw_unit = row.get(f"{prefix}_unit", "")
        unit = UNIT_ALIASES.get(raw_unit.lower(), UNIT_ALIASES.get(raw_unit))
        if unit is None:
            msgs.append(
                f"{zh}单位“{raw_unit}”无效，应为 工作日 或 小时 / {prefix}_unit {raw_unit!r} must be workdays or hours"
            )
        item[f"{prefix}_unit"] = unit
    keywords = [k.strip() for k in KEYWORD_SPLIT.split(row.get("keywords", "")) if k.strip()]
    long = [k for k in keywords if len(k) > 30]
    if long:
        msgs.append(f"关键词过长(最多30字): {long[0]} / keyword longer than 30 characters: {long[0]}")
    item["keywords"] = keywords
    item["examples"] = [e.strip() for e in EXAMPLE_SPLIT.split(row.get("examples", "")) if e.strip()]
    return item


def _int(value: str) -> int | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def catalogue_import(*, actor: Any, data: bytes, filename: str, city: Place | None = None) -> ImportResult:
    """Create or update categories (of ``city``, or the defaults) from an XLSX or CSV file in
    the export's format. Codes not in the file are left as they are. Every row is checked
    first; with any bad row nothing is written (``ImportFailed`` with each row's errors).
    System administrators only (``actor=SYSTEM`` is the system).
    """
    require_system_admin(actor, "导入派单目录", "import the dispatch catalogue")
    check_city(city)
    rows = list(read_table(data, filename, aliases=CATALOGUE_ALIASES, required=COLUMNS))
    if not rows:
        raise import_failed(0, "文件中没有数据行 / The file has no data rows")
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    parsed: list[dict[str, Any]] = []
    for line, row in rows:
        msgs: list[str] = []
        item = _parse_row(row, msgs)
        code = item["code"]
        if code in seen:
            msgs.append(f"编码 {code} 与第{seen[code]}行重复 / code {code} repeats row {seen[code]}")
        seen.setdefault(code, line)
        if msgs:
            errors.append(LineError(line, msgs))
        else:
            parsed.append(item)
    if errors:
        raise ImportFailed(errors)
    return _catalogue_write(actor=actor, filename=filename, city=city, items=parsed)


@transaction.atomic
def _catalogue_write(*, actor: Any, filename: str, city: Place | None, items: list[dict[str, Any]]) -> ImportResult:
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
            raise ImportFailed([LineError(0, [f"{item['code']}: {m}" for m in exc.messages])]) from exc
        current.save()
        anchor = anchor or current
    assert anchor is not None
    audit_record(
        actor=actor,
        action=AuditEntry.Action.IMPORT,
        target=anchor,
        place=city,
        reason=filename,
        changes={"created": result.created, "updated": result.updated},
    )
    return result


def catalogue_export_xlsx(*, actor: Any, city: Place | None = None) -> bytes:
    """The catalogue (of ``city``, or the defaults) as an XLSX in the import format, so it
    round-trips. System administrators only."""
    from openpyxl import Workbook

    require_system_admin(actor, "导出派单目录", "export the dispatch catalogue")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("catalogue")
    sheet.append(COLUMNS)
    for category in Category.objects.filter(city=city).order_by("code"):
        sheet.append(
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
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
