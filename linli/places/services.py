"""Writes to the place tree: create nodes, import a whole tree from XLSX/CSV, export it.

An import is all or nothing: every row is validated first, errors are reported per row with
the file's line numbers in Chinese and English, and nothing is written when any row is bad.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils.translation import gettext as _

from linli.core.access import Actor, require, scope_for
from linli.core.audit import audit_export, audit_import, audit_record
from linli.core.models import AuditEntry
from linli.core.sheets import ImportFailed, ImportResult, RowError, Sheet, choice_value, read_rows, xlsx_bytes
from linli.core.text import looks_gbk_damaged, normalize
from linli.places.capabilities import PlaceCap
from linli.places.models import KIND_LEVEL, Place, PlaceKind, code_validator, office_phone_validator

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
COLUMNS = ["code", "parent_code", "name", "kind", "lat", "lng", "boundary", "office_phone"]
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
    "办公电话": "office_phone",
    "office_phone": "office_phone",
}
REQUIRED = ("code", "parent_code", "name", "kind")
#: The export's header: the import reads it back.
EXPORT_HEADER = ["编码", "上级编码", "名称", "类型", "纬度", "经度", "边界", "办公电话"]


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
        created: list[Place] = Place.objects.bulk_create(self._new, batch_size=batch_size)
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
            raise ValidationError(_("边界不是有效的 JSON")) from exc
    from shapely.geometry import shape

    if not isinstance(value, dict) or value.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValidationError(_("边界应为 GeoJSON 多边形"))
    try:
        geom = shape(value)
    except Exception as exc:
        raise ValidationError(_("边界坐标无效")) from exc
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValidationError(_("边界坐标应为经纬度 (WGS-84)"))
    if not geom.is_valid:
        raise ValidationError(_("边界多边形自相交或不闭合"))
    return value


@transaction.atomic
def place_create(
    *,
    actor: Actor,
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
        errors.append(_("编码 %(code)s 已存在") % {"code": code})
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
        errors.append(_("编码 %(code)s 为系统保留") % {"code": code})
    if not name.strip():
        errors.append(_("名称不能为空"))
    elif len(name) > 120:
        errors.append(_("名称过长(最多120字)"))
    elif looks_gbk_damaged(name):
        errors.append(_("名称疑似乱码(编码错误)"))
    if kind not in KIND_LEVEL:
        errors.append(_("未知的类型 %(kind)s") % {"kind": repr(kind)})
    elif parent_kind is None:
        if KIND_LEVEL[kind] != 0:
            errors.append(_("只有“市”可以没有上级"))
    elif parent_kind not in KIND_LEVEL:
        pass  # the parent's own row reports its bad kind
    elif KIND_LEVEL[kind] != KIND_LEVEL[parent_kind] + 1:
        errors.append(
            _("“%(kind)s”不能直接放在“%(parent_kind)s”之下")
            % {"kind": PlaceKind(kind).label, "parent_kind": PlaceKind(parent_kind).label}
        )
    return errors


# --- import --------------------------------------------------------------------------------


def _decimal(value: str, low: int, high: int, label: str, errors: list[str]) -> Decimal | None:
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        errors.append(_("%(value)s不是数字") % {"value": label})
        return None
    if not low <= number <= high:
        errors.append(_("%(value)s超出范围") % {"value": label})
        return None
    return number.quantize(Decimal("0.000001"))


def place_import(
    *, actor: Actor, data: bytes, filename: str, progress: Callable[..., None] | None = None
) -> ImportResult:
    """Import (or update) places from a file. All rows are checked before anything is written.
    ``progress(done, total, phase)`` hears of the reading and the writing."""
    rows = list(read_rows(data, filename, aliases=HEADER_ALIASES, required=REQUIRED, progress=progress))
    if not rows:
        raise ImportFailed([RowError(0, [_("文件中没有数据行")])])
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    kinds: dict[str, str] = {}
    parsed: list[tuple[int, dict[str, Any]]] = []
    for line, row in rows:
        msgs: list[str] = []
        code = row.get("code", "")
        kind = choice_value(PlaceKind, row.get("kind", "")) or row.get("kind", "")
        if code in seen:
            msgs.append(_("编码 %(code)s 与第%(code2)s行重复") % {"code": code, "code2": seen[code]})
        seen.setdefault(code, line)
        kinds[code] = kind
        lat = _decimal(row.get("lat", ""), -90, 90, _("纬度"), msgs)
        lng = _decimal(row.get("lng", ""), -180, 180, _("经度"), msgs)
        if (lat is None) != (lng is None) and not msgs:
            msgs.append(_("纬度和经度要同时填写"))
        try:
            boundary = validate_boundary(row.get("boundary") or None)
        except ValidationError as exc:
            msgs.extend(exc.messages)
            boundary = None
        item: dict[str, Any] = {
            "code": code,
            "parent_code": row.get("parent_code", ""),
            "name": row.get("name", ""),
            "kind": kind,
            "lat": lat,
            "lng": lng,
            "boundary": boundary,
        }
        if "office_phone" in row:  # an optional column: a file without it leaves the phones as they are
            item["office_phone"] = " ".join((row["office_phone"] or "").split())
            if item["office_phone"]:
                try:
                    office_phone_validator(item["office_phone"])
                except ValidationError as exc:
                    msgs.extend(str(m) for m in exc.messages)
        parsed.append((line, item))
        if msgs:
            errors.append(RowError(line, msgs))

    parent_codes = {p["parent_code"] for _key, p in parsed if p["parent_code"]}
    codes = {p["code"] for _key, p in parsed}
    existing = {p.code: p for p in Place.objects.filter(code__in=parent_codes | codes)}
    scope = scope_for(actor)  # the system's scope is everything
    # places outside the actor's reach are not named as existing: a parent there reads as
    # unknown, and a code there only as taken (codes are unique across the whole tree)
    hidden: set[str] = set()
    if not scope.everything:
        hidden = {code for code, p in existing.items() if not scope.allows(PlaceCap.MANAGE_PLACES, p.path)}

    for line, item in parsed:
        msgs = []
        parent_code = item["parent_code"]
        if item["code"] in hidden:
            errors.append(RowError(line, [_("编码 %(code)s 已被占用，请换一个") % {"code": item["code"]}]))
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
                msgs.append(_("上级编码 %(parent_code)s 不存在或不在您的管辖范围内") % {"parent_code": parent_code})
        else:
            parent_kind = None
        if not msgs:
            msgs.extend(_check_node(code=item["code"], name=item["name"], kind=item["kind"], parent_kind=parent_kind))
        current = existing.get(item["code"])
        if current is not None and not msgs:
            current_parent = current.path[: -Place.steplen]
            wanted = existing.get(parent_code)
            if (wanted.path if wanted else "") != current_parent or current.kind != item["kind"]:
                msgs.append(_("编码 %(code)s 已在别处存在，不能移动") % {"code": item["code"]})
        if not scope.everything and not msgs:
            if current is not None:  # an update: the node itself must be in scope
                if not scope.allows(PlaceCap.MANAGE_PLACES, current.path):
                    msgs.append(_("该地点不在您的管辖范围内"))
            elif not parent_code:
                msgs.append(_("只有系统管理员可以导入顶级地点"))
            elif parent_code in existing and not scope.allows(PlaceCap.MANAGE_PLACES, existing[parent_code].path):
                msgs.append(_("上级地点不在您的管辖范围内"))
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
                fields = {k: item[k] for k in ("name", "lat", "lng", "boundary", "office_phone") if k in item}
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
                raise ImportFailed([RowError(line, [_("上级关系成环")]) for line, _rest in pending])
            pending = [p for p in pending if p not in progressed]
        builder.save()
        anchor_place = min(nodes.values(), key=lambda p: p.depth, default=None)
        if anchor_place is not None and anchor_place.pk:
            audit_import(
                actor=actor,
                target=anchor_place,
                place=anchor_place,
                what="places",
                filename=filename,
                created=result.created,
                updated=result.updated,
            )
    return result


def place_import_counts(
    *, actor: Actor, data: bytes, filename: str, params: dict[str, Any], progress: Callable[..., None]
) -> dict[str, int]:
    """``place_import`` as a registered importer (``core.imports``)."""
    result = place_import(actor=actor, data=data, filename=filename, progress=progress)
    return {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}


# --- export --------------------------------------------------------------------------------


def place_export_xlsx(*, actor: Actor, root: Place) -> bytes:
    """The subtree under ``root`` as an XLSX in the import format (so it round-trips); audited."""
    require(actor, PlaceCap.VIEW_PLACES, root)
    codes: dict[str, str] = {}
    if root.depth > 1:
        parent = Place.objects.filter(path=root.path[: -Place.steplen]).only("code").first()
        if parent:
            codes[parent.path] = parent.code
    rows = []
    for place in Place.objects.filter(path__startswith=root.path).order_by("path").iterator(chunk_size=2000):
        codes[place.path] = place.code
        rows.append(
            [
                place.code,
                codes.get(place.path[: -Place.steplen], ""),
                place.name,
                place.kind,
                float(place.lat) if place.lat is not None else None,
                float(place.lng) if place.lng is not None else None,
                json.dumps(place.boundary, ensure_ascii=False) if place.boundary else None,
                place.office_phone or None,
            ]
        )
    data = xlsx_bytes(Sheet("places", EXPORT_HEADER, rows))
    audit_export(actor=actor, target=root, place=root, what="places", rows=len(rows))
    return data
