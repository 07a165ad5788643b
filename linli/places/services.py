"""Writes to the place tree: create nodes, import a whole tree from XLSX/CSV, export it.

An import is all or nothing: every row is validated first, errors are reported per row with
the file's line numbers in Chinese and English, and nothing is written when any row is bad.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max

from linli.core.access import is_system, require, scope_for
from linli.core.audit import audit_record
from linli.core.models import AuditEntry
from linli.core.sheets import SheetRefused, check_sheet, safe_cell, too_many_rows, unguard_cell
from linli.core.text import looks_gbk_damaged, normalize
from linli.places.capabilities import PlaceCap
from linli.places.models import KIND_LEVEL, Place, PlaceKind, code_validator

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
COLUMNS = ["code", "parent_code", "name", "kind", "lat", "lng", "boundary"]
HEADER_ALIASES = {
    "编码": "code",
    "code": "code",
    "上级编码": "parent_code",
    "parent_code": "parent_code",
    "parent": "parent_code",
    "名称": "name",
    "name": "name",
    "类型": "kind",
    "kind": "kind",
    "纬度": "lat",
    "lat": "lat",
    "latitude": "lat",
    "经度": "lng",
    "lng": "lng",
    "long": "lng",
    "longitude": "lng",
    "边界": "boundary",
    "boundary": "boundary",
}
KIND_ALIASES = {label: value for value, label in PlaceKind.choices} | {v: v for v in PlaceKind.values}


class TreeBuilder:
    """Adds many nodes in one go: paths computed in memory, one ``bulk_create``, and one
    ``numchild`` update per existing parent. Much faster than treebeard's per-node API."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}
        self._new: list[Place] = []
        self._by_path: dict[str, Place] = {}
        self._existing_growth: dict[int, int] = {}

    def _next_index(self, parent: Place | None) -> int:
        key = parent.path if parent else ""
        if key not in self._next:
            if parent is None:
                last = Place.objects.filter(depth=1).aggregate(m=Max("path"))["m"]
            elif parent.pk is None:
                last = None
            else:
                last = Place.objects.filter(path__startswith=parent.path, depth=parent.depth + 1).aggregate(
                    m=Max("path")
                )["m"]
            self._next[key] = int(last[-Place.steplen :], 36) + 1 if last else 1
        index = self._next[key]
        self._next[key] = index + 1
        return index

    def add(self, parent: Place | None, **fields: Any) -> Place:
        index = self._next_index(parent)
        step = _base36(index).rjust(Place.steplen, "0")
        node = Place(
            path=(parent.path if parent else "") + step,
            depth=(parent.depth if parent else 0) + 1,
            numchild=0,
            **fields,
        )
        node.name_search = normalize(node.name)
        if parent is not None:
            if parent.pk is None:
                parent.numchild += 1
            else:
                self._existing_growth[parent.pk] = self._existing_growth.get(parent.pk, 0) + 1
        self._new.append(node)
        return node

    def save(self, batch_size: int = 2000) -> list[Place]:
        created = Place.objects.bulk_create(self._new, batch_size=batch_size)
        for pk, grown in self._existing_growth.items():
            Place.objects.filter(pk=pk).update(numchild=F("numchild") + grown)
        self._new, self._existing_growth = [], {}
        return created


def _base36(number: int) -> str:
    digits = ""
    while number:
        number, rem = divmod(number, 36)
        digits = ALPHABET[rem] + digits
    return digits or "0"


def validate_boundary(value: Any) -> dict[str, Any] | None:
    """A GeoJSON Polygon or MultiPolygon in WGS-84 degrees, valid as a shape."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ValidationError("边界不是有效的 JSON / The boundary is not valid JSON") from exc
    from shapely.geometry import shape

    if not isinstance(value, dict) or value.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValidationError("边界应为 GeoJSON 多边形 / The boundary must be a GeoJSON Polygon or MultiPolygon")
    try:
        geom = shape(value)
    except Exception as exc:
        raise ValidationError("边界坐标无效 / The boundary's coordinates are not valid") from exc
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValidationError("边界坐标应为经纬度 (WGS-84) / Boundary coordinates must be WGS-84 degrees")
    if not geom.is_valid:
        raise ValidationError("边界多边形自相交或不闭合 / The boundary polygon is self-intersecting or open")
    return value


@transaction.atomic
def place_create(
    *,
    actor: Any,
    parent: Place | None,
    code: str,
    name: str,
    kind: str,
    lat: Decimal | None = None,
    lng: Decimal | None = None,
    boundary: Any = None,
) -> Place:
    """Create one node under ``parent`` (or a root). The actor needs ``manage_places`` there."""
    require(actor, PlaceCap.MANAGE_PLACES, parent)
    errors = _check_node(code=code, name=name, kind=kind, parent_kind=parent.kind if parent else None)
    if Place.objects.filter(code=code).exists():
        errors.append(f"编码 {code} 已存在 / Code {code} already exists")
    if errors:
        raise ValidationError(errors)
    builder = TreeBuilder()
    if parent is not None:
        parent = Place.objects.select_for_update().get(pk=parent.pk)
    node = builder.add(
        parent, code=code, name=name.strip(), kind=kind, lat=lat, lng=lng, boundary=validate_boundary(boundary)
    )
    builder.save()
    audit_record(actor=actor, action=AuditEntry.Action.CREATE, target=node, place=node)
    return node


#: Codes that would collide with page URLs under /places/.
RESERVED_CODES = frozenset({"import", "export", "new", "search"})


def _check_node(*, code: str, name: str, kind: str, parent_kind: str | None) -> list[str]:
    errors: list[str] = []
    try:
        code_validator(code)
    except ValidationError as exc:
        errors.extend(str(m) for m in exc.messages)
    if code.lower() in RESERVED_CODES:
        errors.append(f"编码 {code} 为系统保留 / The code {code} is reserved")
    if not name.strip():
        errors.append("名称不能为空 / The name is empty")
    elif len(name) > 120:
        errors.append("名称过长(最多120字) / The name is longer than 120 characters")
    elif looks_gbk_damaged(name):
        errors.append("名称疑似乱码(编码错误) / The name looks garbled (wrong text encoding)")
    if kind not in KIND_LEVEL:
        errors.append(f"未知的类型 {kind!r} / Unknown kind {kind!r}")
    elif parent_kind is None:
        if KIND_LEVEL[kind] != 0:
            errors.append("只有“市”可以没有上级 / Only a city may have no parent")
    elif parent_kind not in KIND_LEVEL:
        pass  # the parent's own row reports its bad kind
    elif KIND_LEVEL[kind] != KIND_LEVEL[parent_kind] + 1:
        errors.append(
            f"“{PlaceKind(kind).label}”不能直接放在“{PlaceKind(parent_kind).label}”之下 / "
            f"A {kind} cannot sit directly under a {parent_kind}"
        )
    return errors


# --- import --------------------------------------------------------------------------------


@dataclass
class RowError:
    line: int
    messages: list[str]

    def __str__(self) -> str:
        return f"第{self.line}行 / line {self.line}: " + "; ".join(self.messages)


@dataclass
class LineError(RowError):
    """A row's errors as one bilingual line: ``第3行: 中文；中文 / Row 3: English; English``.

    Each message is written ``中文 / English``; the halves are gathered on their side.
    """

    messages: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        halves = [m.split(" / ", 1) if " / " in m else [m, m] for m in self.messages]
        zh = "；".join(h[0] for h in halves)
        en = "; ".join(h[1] for h in halves)
        if self.line == 0:
            return f"{zh} / {en}"
        return f"第{self.line}行: {zh} / Row {self.line}: {en}"


def import_failed(line: int, message: str) -> ImportFailed:
    return ImportFailed([LineError(line, [message])])


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


class ImportFailed(ValidationError):
    """Raised with every row error; nothing was written."""

    def __init__(self, errors: list[RowError]) -> None:
        self.row_errors = errors
        super().__init__([str(e) for e in errors])


def read_rows(
    data: bytes,
    filename: str,
    *,
    aliases: dict[str, str] | None = None,
    required: Iterable[str] = ("code", "parent_code", "name", "kind"),
    max_rows: int | None = None,
    progress: Callable[..., None] | None = None,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of an XLSX or CSV file as dicts keyed by the canonical column names (``aliases``
    maps header cells to them; the place tree's columns by default), with the file's own line
    numbers (the header is line 1). Other ledgers (calendar, catalogue) read through it too."""
    aliases = HEADER_ALIASES if aliases is None else aliases
    limit = settings.IMPORT_MAX_ROWS if max_rows is None else max_rows
    try:
        check_sheet(data, filename)  # a spreadsheet bomb is refused before it is parsed
    except SheetRefused as exc:
        raise ImportFailed([RowError(0, [str(exc)])]) from exc
    lower = filename.lower()
    if lower.endswith(".xlsx"):
        rows = _xlsx_rows(data)
    elif lower.endswith(".csv"):
        rows = _csv_rows(data)
    else:
        raise ImportFailed([RowError(0, ["只支持 .xlsx 或 .csv 文件 / Only .xlsx or .csv files can be imported"])])
    header: list[str] | None = None
    for line, raw in enumerate(rows, start=1):
        if line > limit + 1:  # the header, then at most ``limit`` rows
            raise ImportFailed([RowError(0, [str(too_many_rows(limit))])])
        if progress is not None and line % 1000 == 0:
            progress(line, 0, "reading")
        cells = ["" if c is None else unguard_cell(str(c).strip()) for c in raw]
        if header is None:
            header = [aliases.get(c.strip().lower(), aliases.get(c.strip(), "")) for c in cells]
            missing = set(required) - set(header)
            if missing:
                raise ImportFailed([RowError(1, ["缺少列 / missing columns: " + ", ".join(sorted(missing))])])
            continue
        if not any(cells):
            continue
        yield line, {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header) if name}


def _csv_rows(data: bytes) -> Iterable[list[Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise ImportFailed(
                [
                    RowError(
                        0,
                        ["无法识别文件编码，请另存为 UTF-8 / The file's encoding is not recognised: save it as UTF-8"],
                    )
                ]
            ) from exc
    return csv.reader(io.StringIO(text))


def _xlsx_rows(data: bytes) -> Iterable[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise ImportFailed([RowError(0, ["不是有效的 Excel 文件 / Not a valid .xlsx file"])]) from exc
    return (list(row) for row in workbook.worksheets[0].iter_rows(values_only=True))


def _decimal(value: str, low: int, high: int, label: str, errors: list[str]) -> Decimal | None:
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        errors.append(f"{label}不是数字 / {label} is not a number")
        return None
    if not low <= number <= high:
        errors.append(f"{label}超出范围 / {label} is out of range")
        return None
    return number.quantize(Decimal("0.000001"))


def place_import(
    *, actor: Any, data: bytes, filename: str, progress: Callable[..., None] | None = None
) -> ImportResult:
    """Import (or update) places from a file. All rows are checked before anything is written.
    ``progress(done, total, phase)`` hears of the reading and the writing."""
    rows = list(read_rows(data, filename, progress=progress))
    if not rows:
        raise ImportFailed([RowError(0, ["文件中没有数据行 / The file has no data rows"])])
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    kinds: dict[str, str] = {}
    parsed: list[tuple[int, dict[str, Any]]] = []
    for line, row in rows:
        msgs: list[str] = []
        code = row.get("code", "")
        kind = KIND_ALIASES.get(row.get("kind", ""), row.get("kind", ""))
        if code in seen:
            msgs.append(f"编码 {code} 与第{seen[code]}行重复 / code {code} repeats line {seen[code]}")
        seen.setdefault(code, line)
        kinds[code] = kind
        lat = _decimal(row.get("lat", ""), -90, 90, "纬度 latitude", msgs)
        lng = _decimal(row.get("lng", ""), -180, 180, "经度 longitude", msgs)
        if (lat is None) != (lng is None) and not msgs:
            msgs.append("纬度和经度要同时填写 / Give both latitude and longitude, or neither")
        try:
            boundary = validate_boundary(row.get("boundary") or None)
        except ValidationError as exc:
            msgs.extend(exc.messages)
            boundary = None
        parsed.append(
            (
                line,
                {
                    "code": code,
                    "parent_code": row.get("parent_code", ""),
                    "name": row.get("name", ""),
                    "kind": kind,
                    "lat": lat,
                    "lng": lng,
                    "boundary": boundary,
                },
            )
        )
        if msgs:
            errors.append(RowError(line, msgs))

    parent_codes = {p["parent_code"] for _, p in parsed if p["parent_code"]}
    codes = {p["code"] for _, p in parsed}
    existing = {p.code: p for p in Place.objects.filter(code__in=parent_codes | codes)}
    scope = scope_for(actor) if not is_system(actor) else None
    # places outside the actor's reach are not named as existing: a parent there reads as
    # unknown, and a code there only as taken (codes are unique across the whole tree)
    hidden: set[str] = set()
    if scope is not None and not scope.everything:
        hidden = {code for code, p in existing.items() if not scope.allows(PlaceCap.MANAGE_PLACES, p.path)}

    for line, item in parsed:
        msgs = []
        parent_code = item["parent_code"]
        if item["code"] in hidden:
            errors.append(
                RowError(
                    line, [f"编码 {item['code']} 已被占用，请换一个 / the code {item['code']} is taken: choose another"]
                )
            )
            continue
        current = existing.get(item["code"])
        own_parent = (
            current is not None
            and parent_code in existing
            and existing[parent_code].path == current.path[: -Place.steplen]
        )
        if parent_code:
            if parent_code in kinds:
                parent_kind: str | None = kinds[parent_code]
            elif parent_code in existing and (
                parent_code not in hidden or own_parent
            ):  # an export names its root's parent
                parent_kind = existing[parent_code].kind
            else:
                parent_kind = None
                msgs.append(
                    f"上级编码 {parent_code} 不存在或不在您的管辖范围内 / parent code {parent_code} does not exist "
                    "or is outside your scope"
                )
        else:
            parent_kind = None
        if not msgs:
            msgs.extend(_check_node(code=item["code"], name=item["name"], kind=item["kind"], parent_kind=parent_kind))
        current = existing.get(item["code"])
        if current is not None and not msgs:
            current_parent = current.path[: -Place.steplen]
            wanted = existing.get(parent_code)
            if (wanted.path if wanted else "") != current_parent or current.kind != item["kind"]:
                msgs.append(
                    f"编码 {item['code']} 已在别处存在，不能移动 / code {item['code']} exists elsewhere: "
                    "places cannot be moved by import"
                )
        if scope is not None and not scope.everything and not msgs:
            if current is not None:  # an update: the node itself must be in scope
                if not scope.allows(PlaceCap.MANAGE_PLACES, current.path):
                    msgs.append("该地点不在您的管辖范围内 / this place is outside your scope")
            elif not parent_code:
                msgs.append("只有系统管理员可以导入顶级地点 / only system admins may import top-level places")
            elif parent_code in existing and not scope.allows(PlaceCap.MANAGE_PLACES, existing[parent_code].path):
                msgs.append("上级地点不在您的管辖范围内 / the parent place is outside your scope")
        if msgs:
            errors.append(RowError(line, msgs))
    if errors:
        errors.sort(key=lambda e: e.line)
        raise ImportFailed(errors)

    result = ImportResult()
    with transaction.atomic():
        builder = TreeBuilder()
        nodes: dict[str, Place] = dict(existing)
        pending = list(parsed)
        total = len(pending)
        done = 0
        while pending:
            progressed = []
            for line, item in pending:
                parent = nodes.get(item["parent_code"]) if item["parent_code"] else None
                if item["parent_code"] and parent is None:
                    continue
                progressed.append((line, item))
                current = existing.get(item["code"])
                fields = {k: item[k] for k in ("name", "lat", "lng", "boundary")}
                if current is not None:
                    if any(getattr(current, k) != v for k, v in fields.items()):
                        for k, v in fields.items():
                            setattr(current, k, v)
                        current.save()
                        result.updated += 1
                    else:
                        result.unchanged += 1
                else:
                    nodes[item["code"]] = builder.add(parent, code=item["code"], kind=item["kind"], **fields)
                    result.created += 1
                done += 1
                if progress:
                    progress(done, total, "writing")
            if not progressed:  # a cycle in the parent codes
                raise ImportFailed(
                    [RowError(line, ["上级关系成环 / the parent codes form a cycle"]) for line, _ in pending]
                )
            pending = [p for p in pending if p not in progressed]
        builder.save()
        anchor_place = min(nodes.values(), key=lambda p: p.depth, default=None)
        if anchor_place is not None and anchor_place.pk:
            audit_record(
                actor=actor,
                action=AuditEntry.Action.IMPORT,
                target=anchor_place,
                place=anchor_place,
                reason=filename,
                changes={"created": result.created, "updated": result.updated},
            )
    return result


def place_import_counts(
    *, actor: Any, data: bytes, filename: str, params: dict[str, Any], progress: Callable[..., None]
) -> dict[str, int]:
    """``place_import`` as a registered importer (``core.imports``)."""
    result = place_import(actor=actor, data=data, filename=filename, progress=progress)
    return {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}


# --- export --------------------------------------------------------------------------------


def place_export_xlsx(*, actor: Any, root: Place) -> bytes:
    """The subtree under ``root`` as an XLSX in the import format (so it round-trips)."""
    from openpyxl import Workbook

    require(actor, PlaceCap.VIEW_PLACES, root)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("places")
    sheet.append(["编码", "上级编码", "名称", "类型", "纬度", "经度", "边界"])
    codes: dict[str, str] = {}
    if root.depth > 1:
        parent = Place.objects.filter(path=root.path[: -Place.steplen]).only("code").first()
        if parent:
            codes[parent.path] = parent.code
    for place in Place.objects.filter(path__startswith=root.path).order_by("path").iterator(chunk_size=2000):
        codes[place.path] = place.code
        parent_code = codes.get(place.path[: -Place.steplen], "")
        sheet.append(
            [
                safe_cell(place.code),
                safe_cell(parent_code),
                safe_cell(place.name),
                place.kind,
                float(place.lat) if place.lat is not None else None,
                float(place.lng) if place.lng is not None else None,
                json.dumps(place.boundary, ensure_ascii=False) if place.boundary else None,
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
