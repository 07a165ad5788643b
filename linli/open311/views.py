"""The GeoReport v2 endpoints over the needs services and selectors.

Thin as every view here: parse the Open311 parameters (a 400 in the spec's error format for
anything malformed), ask ``needs.selectors`` for what the client's account may see or call
``need_create`` once, and render. The client acts as the user its ``api_key`` was registered
for, so its memberships decide where it may post and which requests it may read. Reading
needs no key, as the spec has it: without one a client gets the public projection of the
needs of public categories (no disputes, no personal help): the building, not the flat or
the exact point; the description with names and phone and identity numbers masked; never
the reporter. A key adds what its account may see (numbers masked, names as written).

Errors are always ``[{"code": …, "description": …}]`` (``<errors><error>`` in XML), the
description in the reader's language (``Accept-Language``, else zh-Hans): 400 bad input, 401 no ``api_key`` to post, 403 a bad ``api_key`` or a place outside the
client's reach, 404 unknown, 409 a clash, 422 an ``Idempotency-Key`` reused for another
request. A bad request never becomes a 500.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from drf_spectacular.openapi import AutoSchema
from rest_framework import exceptions
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from linli.accounts.api_keys import ApiKeyAuthentication
from linli.core.api import idempotent, rate_limited, throttled_message
from linli.core.errors import Conflict
from linli.core.geo import gcj02_to_wgs84
from linli.needs.models import (
    OPEN_STATUSES,
    Category,
    Channel,
    Dispatch,
    DispatchStatus,
    Level,
    Need,
    Status,
    Urgency,
)
from linli.needs.selectors import category_list, intake_place, need_list, public_need_list
from linli.needs.services import Reporter, intake_check, need_create
from linli.open311.renderers import ERRORS, SERVICE_REQUESTS, Open311JSONRenderer, Open311XMLRenderer, XmlShape, to_xml
from linli.people.identity import redact_for_public, redact_text
from linli.places.models import Place, PlaceKind, joined_names, path_len
from linli.workdays.models import LimitUnit

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
#: When this endpoint's behaviour last changed (discovery's ``changeset``).
CHANGESET = "2026-03-01T00:00:00+08:00"
#: Without dates, ``GET requests`` covers the last 90 days; it never returns more than 1000 rows.
DEFAULT_WINDOW = dt.timedelta(days=90)
MAX_ROWS = 1000
CLOSED_STATUSES = (Status.RESOLVED, Status.CLOSED, Status.MERGED)
FORMATS = ["application/json", "text/xml"]

_STATUS_NOTES = {
    Status.SUBMITTED: _("待受理"),
    Status.ACCEPTED: _("办理中"),
    Status.RESOLVED: _("已办结，待回访"),
    Status.CLOSED: _("已办结"),
}
#: Need fields named in service errors, as the Open311 parameter that carried them.
_FIELDS = {
    "text": "description",
    "category": "service_code",
    "place": "address_id",
    "lat": "lat/long",
    "lng": "lat/long",
    "urgency": "attribute[urgency]",
    "address_string": "address_string",
}
_COMMUNITY_DEPTH = path_len(PlaceKind.COMMUNITY)
_BUILDING_DEPTH = path_len(PlaceKind.BUILDING)
_ID = re.compile(r"^\d{1,18}$")
_SPACED_OFFSET = re.compile(r"^(.*\d)\s(\d{2}:?\d{2})$")  # a "+08:00" whose "+" became a space


class Open311Error(Exception):
    """An error to answer in the spec's format, with one or more descriptions."""

    def __init__(self, status: int, descriptions: Any) -> None:
        self.status = status
        one = isinstance(descriptions, str | Promise)
        self.descriptions: list[Any] = [descriptions] if one else list(descriptions)
        super().__init__("; ".join(str(d) for d in self.descriptions))


def error_body(status: int, descriptions: Iterable[Any]) -> list[dict[str, Any]]:
    """Open311's errors in the reader's language (``Accept-Language``, else zh-Hans). A message
    may echo what the client sent: any phone or identity number in it is masked."""
    return [{"code": status, "description": redact_text(str(d))} for d in descriptions]


def _flatten(detail: Any, prefix: str = "") -> list[str]:
    if isinstance(detail, Mapping):
        out: list[str] = []
        for key, value in detail.items():
            field = "" if key in ("detail", "non_field_errors", "__all__") else _FIELDS.get(str(key), str(key))
            out += _flatten(value, field)
        return out
    if isinstance(detail, list | tuple):
        return [m for item in detail for m in _flatten(item, prefix)]
    return [f"{prefix}: {detail}" if prefix else str(detail)]


_API_MESSAGES: dict[type[exceptions.APIException], Any] = {
    exceptions.ParseError: _("请求体格式错误"),
    exceptions.UnsupportedMediaType: _("不支持的请求体格式，请用表单或 JSON"),
    exceptions.MethodNotAllowed: _("不支持该请求方法"),
    exceptions.NotAcceptable: _("不支持该格式，请用 .json 或 .xml"),
    exceptions.Throttled: _("请求过于频繁，请稍后再试"),
}


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """Every error in the spec's format; anything else (a bug) is left to become a 500."""
    headers: dict[str, str] = {}
    if isinstance(exc, Open311Error):
        status, messages = exc.status, exc.descriptions
    elif isinstance(exc, ValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        status, messages = 400, _flatten(detail)
    elif isinstance(exc, Conflict):
        status, messages = 409, [str(exc)]
    elif isinstance(exc, IntegrityError):
        status, messages = 409, [_("与已有记录冲突")]
    elif isinstance(exc, Http404 | exceptions.NotFound):
        status, messages = 404, [_("未找到")]
    elif isinstance(exc, exceptions.NotAuthenticated):
        status, messages = 401, [_("缺少 api_key")]
        if auth_header := getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = str(auth_header)
    elif isinstance(exc, exceptions.AuthenticationFailed):
        status, messages = 403, [_("api_key 无效或已停用")]
    elif isinstance(exc, PermissionDenied | exceptions.PermissionDenied):
        text = str(getattr(exc, "detail", "") or exc)
        status, messages = 403, [text if " / " in text else _("没有权限")]
    elif isinstance(exc, exceptions.ValidationError):
        status, messages = 400, _flatten(exc.detail)
    elif isinstance(exc, exceptions.Throttled):
        wait = max(1, int(getattr(exc, "wait", None) or 1))
        status, messages = 429, [throttled_message(wait)]
        headers["Retry-After"] = str(wait)
    elif isinstance(exc, exceptions.APIException):
        status = exc.status_code
        messages = [_API_MESSAGES.get(type(exc), _("请求有误"))]
    else:
        return None
    response = Response(error_body(status, messages or [_("请求有误")]), status=status, headers=headers)
    response.xml_shape = ERRORS  # type: ignore[attr-defined]
    return response


class _NotInSchema(AutoSchema):
    """Open311 is specified elsewhere (the GeoReport v2 wiki); it stays out of our OpenAPI."""

    def is_excluded(self) -> bool:
        return True


class Open311View(APIView):
    """Base of the endpoints: ``api_key`` authentication only (no session, so no CSRF), the
    two formats, and errors in the spec's format."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [AllowAny]
    renderer_classes = [Open311JSONRenderer, Open311XMLRenderer]
    schema = _NotInSchema()
    xml_shape: XmlShape = SERVICE_REQUESTS

    def get_exception_handler(self) -> Any:
        return exception_handler

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(response, Response):
            if response.status_code >= 400:
                data = response.data
                if not (isinstance(data, list) and all(isinstance(e, dict) and "code" in e for e in data)):
                    response.data = error_body(response.status_code, _flatten(data))
                response.xml_shape = ERRORS  # type: ignore[attr-defined]
            elif getattr(response, "xml_shape", None) is None:
                response.xml_shape = self.xml_shape  # type: ignore[attr-defined]
        return super().finalize_response(request, response, *args, **kwargs)


# --- input -----------------------------------------------------------------------------------


def _param(data: Any, name: str, *, max_length: int = 4000) -> str:
    """One parameter as text ("" when absent); anything that is not text is a 400."""
    value = data.get(name) if hasattr(data, "get") else None
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise Open311Error(400, _("%(name)s 应为文本") % {"name": name})
    text = str(value).strip()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise Open311Error(400, _("%(name)s 含有无效字符") % {"name": name}) from None
    if "\x00" in text:
        raise Open311Error(400, _("%(name)s 含有无效字符") % {"name": name})
    if len(text) > max_length:
        raise Open311Error(400, _("%(name)s 过长") % {"name": name})
    return text


def _attribute(data: Any, code: str) -> str:
    """``attribute[code]`` of a form, or ``{"attribute": {"code": …}}`` of a JSON body."""
    value = _param(data, f"attribute[{code}]")
    nested = data.get("attribute") if hasattr(data, "get") else None
    if not value and isinstance(nested, Mapping):
        value = _param(nested, code)
    return value


def _degrees(value: str, name: str, limit: int) -> float:
    try:
        number = float(value)
    except ValueError:
        raise Open311Error(400, _("%(name)s 应为数字") % {"name": name}) from None
    if not math.isfinite(number) or abs(number) > limit:
        raise Open311Error(400, _("%(name)s 超出范围") % {"name": name})
    return number


def _point(data: Any) -> tuple[float | None, float | None]:
    """``lat``/``long`` in WGS-84, converted from GCJ-02 when ``coordinates=gcj02`` (the datum
    of AMap, Tencent maps and WeChat's location picker)."""
    lat, lng = _param(data, "lat", max_length=40), _param(data, "long", max_length=40)
    datum = _param(data, "coordinates", max_length=10).lower() or "wgs84"
    if datum not in ("wgs84", "gcj02"):
        raise Open311Error(400, _("coordinates 只能是 wgs84 或 gcj02"))
    if not lat and not lng:
        return None, None
    if not (lat and lng):
        raise Open311Error(400, _("lat 和 long 须同时提供"))
    la, lo = _degrees(lat, "lat", 90), _degrees(lng, "long", 180)
    if datum == "gcj02":
        la, lo = gcj02_to_wgs84(la, lo)
    return round(la, 6), round(lo, 6)


def _reporter(data: Any) -> Reporter:
    """The resident behind the request, kept for follow-up (never shown through Open311).
    Always given, so the client's own account is not recorded as the reporter."""
    first, last = _param(data, "first_name", max_length=60), _param(data, "last_name", max_length=60)
    # a Chinese name is written family name first
    name = last + first if re.search(r"[\u3400-\u9fff]", first + last) else " ".join(p for p in (first, last) if p)
    _param(data, "email", max_length=254)  # accepted; Linli follows up by SMS only
    return Reporter(name=name[:60], phone=_param(data, "phone", max_length=30))


def _city(code: str) -> Place | None:
    """``jurisdiction_id`` is a city's place code; unknown is a 404."""
    if not code:
        return None
    city = Place.objects.filter(code=code, kind=PlaceKind.CITY).first()
    if city is None:
        raise Open311Error(404, _("未知的 jurisdiction_id"))
    return city


def _when(data: Any, name: str) -> dt.datetime | None:
    raw = _param(data, name, max_length=40)
    if not raw:
        return None
    raw = _SPACED_OFFSET.sub(r"\1+\2", raw) if "T" in raw else raw
    try:
        parsed = parse_datetime(raw)
        if parsed is None and (day := parse_date(raw)) is not None:
            parsed = dt.datetime.combine(day, dt.time.min)
    except ValueError:
        parsed = None
    if parsed is None or not 1900 <= parsed.year <= 9000:
        raise Open311Error(400, _("%(name)s 应为 ISO-8601 时间") % {"name": name})
    return parsed.replace(tzinfo=timezone.get_default_timezone()) if timezone.is_naive(parsed) else parsed


# --- output ----------------------------------------------------------------------------------


def _iso(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _public_path(path: str) -> str:
    """A need at a household is shown at its building: the home is the reporter's data."""
    return path[:_BUILDING_DEPTH]


def _places_along(needs: Sequence[Need]) -> dict[str, Place]:
    """Every ancestor of the needs' places, by path, in one query."""
    steps = {
        need.place_path[:i] for need in needs for i in range(Place.steplen, len(need.place_path) + 1, Place.steplen)
    }
    if not steps:
        return {}
    return {p.path: p for p in Place.objects.filter(path__in=steps).only("path", "code", "name", "kind", "lat", "lng")}


def _with_dispatch(qs: QuerySet[Need]) -> QuerySet[Need]:
    """The lead department's name and the number of departments whistled, as subqueries (the
    query count does not grow with the rows)."""
    current = Dispatch.objects.filter(need_id=OuterRef("pk")).exclude(status=DispatchStatus.RETURNED)
    lead = current.filter(is_lead=True).order_by("whistled_at").values("department__name")[:1]
    count = current.order_by().values("need_id").annotate(n=Count("id")).values("n")
    return qs.annotate(
        lead_department=Subquery(lead),
        departments_whistled=Coalesce(Subquery(count, output_field=IntegerField()), 0),
    )


def _status_notes(need: Any) -> str:
    if need.status == Status.WHISTLED:
        n = need.departments_whistled
        return _("已吹哨 %(n)s 个部门") % {"n": n}
    if need.status == Status.MERGED:
        return _("已合并至 #%(merged_into_id)s") % {"merged_into_id": need.merged_into_id}
    return _STATUS_NOTES.get(need.status, need.status)


def _readable(request: Request, place: Place | None = None) -> QuerySet[Need]:
    """The needs the reader may see: with an ``api_key``, what its account may; without one,
    the public projection (``_request_row(public=True)``) of the needs of public categories."""
    if request.user.is_authenticated:
        return need_list(actor=request.user, place=place)
    return public_need_list(place=place)


def _request_row(need: Any, places: Mapping[str, Place], *, public: bool = False) -> dict[str, Any]:
    path = _public_path(need.place_path)
    chain = [places[path[:i]] for i in range(Place.steplen, len(path) + 1, Place.steplen) if path[:i] in places]
    shown = places.get(path)
    address = joined_names([p.name for p in chain if p.kind != PlaceKind.GRID])
    if need.address_string and not public:  # the resident's own words: a floor, a flat, a name
        address = f"{address}（{redact_text(need.address_string)}）"
    community = places.get(need.place_path[:_COMMUNITY_DEPTH])
    community_name = community.name if community else ""
    agency = need.lead_department or joined_names([community_name, need.grid.name if need.grid else ""])
    # the public sees the building's point, never the exact one a phone sent from a doorway
    exact = not public and need.lat is not None and need.lng is not None
    lat = need.lat if exact else (shown.lat if shown else None)
    lng = need.lng if exact else (shown.lng if shown else None)
    category = need.category
    return {
        "service_request_id": str(need.pk),
        "status": "open" if need.status in OPEN_STATUSES else "closed",
        "status_notes": _status_notes(need),
        "service_name": category.label() if category else "",
        "service_code": category.code if category else "",
        "description": redact_for_public(need.text) if public else redact_text(need.text),
        "agency_responsible": agency,
        "service_notice": _("由%(level)s办理")
        % {"level": Level(need.level).label if need.level in Level.values else need.level},
        "requested_datetime": _iso(need.created_at),
        "updated_datetime": _iso(need.updated_at),
        "expected_datetime": _iso(need.resolution_due),
        "address": address,
        "address_id": shown.code if shown else "",
        "zipcode": "",
        "lat": float(lat) if lat is not None else None,
        "long": float(lng) if lng is not None else None,
        "media_url": "",
    }


def _rows(qs: QuerySet[Need], request: Request) -> list[dict[str, Any]]:
    needs = list(_with_dispatch(qs)[:MAX_ROWS])
    places = _places_along(needs)
    public = not request.user.is_authenticated
    return [_request_row(need, places, public=public) for need in needs]


def _limit_text(name: str, limit: int, unit: str) -> str:
    values = {"name": name, "limit": limit}
    if unit == LimitUnit.HOURS:
        return ngettext("%(name)s：%(limit)s 小时内办结", "%(name)s：%(limit)s 小时内办结", limit) % values
    return ngettext("%(name)s：%(limit)s 个工作日内办结", "%(name)s：%(limit)s 个工作日内办结", limit) % values


def _service(category: Category) -> dict[str, Any]:
    label = category.label()
    limit = category.resolution_limit
    return {
        "service_code": category.code,
        "service_name": label,
        "description": _limit_text(label, limit, category.resolution_unit),
        "metadata": True,
        "type": "realtime",
        "keywords": ",".join(category.keywords),
        "group": str(category.get_level_display()),
    }


def _attributes() -> list[dict[str, Any]]:
    return [
        {
            "variable": True,
            "code": "urgency",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": "normal / urgent / emergency",
            "order": 1,
            "description": _("紧急程度"),
            "values": [{"key": key, "name": str(label)} for key, label in Urgency.choices],
        },
        {
            "variable": True,
            "code": "floor",
            "datatype": "string",
            "required": False,
            "datatype_description": _("楼层，如 3"),
            "order": 2,
            "description": _("楼层"),
        },
    ]


# --- endpoints -------------------------------------------------------------------------------


class DiscoveryView(Open311View):
    xml_shape = ("discovery", None)

    def get(self, request: Request, format: str | None = None) -> Response:
        here = request.build_absolute_uri(reverse("open311:discovery", kwargs={"format": "json"}))
        base = here[: -len("discovery.json")]
        return Response(
            {
                "changeset": CHANGESET,
                "contact": getattr(settings, "DEFAULT_FROM_EMAIL", ""),
                "key_service": _("接口密钥由系统管理员登记发放"),
                "notes": (
                    _(
                        "查询诉求无需 api_key：返回公开类别的诉求（不含纠纷、个人求助），地址到楼栋，描述中的人名、电话和身份证号已打码，不含诉求人信息；带 api_key 时返回密钥所属账号可见范围内的诉求。提交诉求需要 api_key。坐标为 WGS-84，提交时可用 coordinates=gcj02 传高德/腾讯坐标。"
                    )
                ),
                "endpoints": [
                    {
                        "specification": SPECIFICATION,
                        "url": base,
                        "changeset": CHANGESET,
                        "type": "production",
                        "formats": FORMATS,
                    }
                ],
            }
        )


class ServiceListView(Open311View):
    xml_shape = ("services", "service")

    def get(self, request: Request, format: str | None = None) -> Response:
        city = _city(_param(request.query_params, "jurisdiction_id", max_length=64))
        return Response([_service(c) for c in category_list(city=city)])


class ServiceDefinitionView(Open311View):
    xml_shape = ("service_definition", None)

    def get(self, request: Request, service_code: str, format: str | None = None) -> Response:
        city = _city(_param(request.query_params, "jurisdiction_id", max_length=64))
        category = category_list(city=city).filter(code=service_code).first()
        if category is None:
            raise Open311Error(404, _("未知的 service_code"))
        return Response({"service_code": category.code, "attributes": _attributes()})


class _ReadWithoutKey:
    """GET is public (GeoReport v2: clients read without a key), writing needs a key."""

    request: Any

    def get_permissions(self) -> list[Any]:
        return [AllowAny()] if self.request.method in ("GET", "HEAD", "OPTIONS") else [IsAuthenticated()]


class RequestListView(_ReadWithoutKey, Open311View):
    def get_throttles(self) -> list[Any]:
        # a client posting needs is limited per key and per address (settings.LINLI_RATE_LIMITS)
        return [rate_limited("need_intake")()] if self.request.method == "POST" else []

    def get(self, request: Request, format: str | None = None) -> Response:
        params = request.query_params
        city = _city(_param(params, "jurisdiction_id", max_length=64))
        ids_raw = _param(params, "service_request_id", max_length=20000)
        qs = _readable(request, city)
        if ids_raw:  # the spec: ids override every other filter
            ids = [part.strip() for part in ids_raw.split(",") if part.strip()]
            if len(ids) > MAX_ROWS or not all(_ID.match(i) for i in ids):
                raise Open311Error(400, _("service_request_id 应为逗号分隔的编号"))
            return Response(_rows(qs.filter(pk__in=[int(i) for i in ids]), request))
        statuses: list[str] = []
        for word in _param(params, "status", max_length=40).lower().split(","):
            if word.strip() == "open":
                statuses += OPEN_STATUSES
            elif word.strip() == "closed":
                statuses += CLOSED_STATUSES
            elif word.strip():
                raise Open311Error(400, _("status 只能是 open 或 closed"))
        if statuses:
            qs = qs.filter(status__in=statuses)
        service_code = _param(params, "service_code", max_length=64)
        if service_code:
            qs = qs.filter(category__code=service_code)
        start, end = _when(params, "start_date"), _when(params, "end_date")
        if start and end and end < start:
            raise Open311Error(400, _("end_date 早于 start_date"))
        if start is None:
            start = (end or timezone.now()) - DEFAULT_WINDOW
        qs = qs.filter(created_at__gte=start)
        if end is not None:
            qs = qs.filter(created_at__lte=end)
        return Response(_rows(qs, request))

    @idempotent
    def post(self, request: Request, format: str | None = None) -> Response:
        data = request.data
        if not hasattr(data, "get"):
            raise Open311Error(400, _("请求体应为表单或 JSON 对象"))
        service_code = _param(data, "service_code", max_length=64)
        description = _param(data, "description")
        address_id = _param(data, "address_id", max_length=64)
        address_string = _param(data, "address_string", max_length=200)
        lat, lng = _point(data)
        missing = []
        if not service_code:
            missing.append(_("缺少 service_code"))
        if not description:
            missing.append(_("缺少 description"))
        if lat is None and not address_id and not address_string:
            missing.append(_("缺少位置：lat/long、address_string 或 address_id"))
        if missing:
            raise Open311Error(400, missing)
        if (
            not category_list().filter(code=service_code).exists()
            and not Category.objects.filter(code=service_code, active=True).exists()
        ):
            raise Open311Error(400, _("未知的 service_code"))
        urgency = _attribute(data, "urgency").lower() or Urgency.NORMAL
        if urgency not in Urgency.values:
            raise Open311Error(400, _("attribute[urgency] 只能是 normal、urgent 或 emergency"))
        floor = _attribute(data, "floor")
        if len(floor) > 20:
            raise Open311Error(400, _("attribute[floor] 过长"))
        if floor:
            address_string = f"{address_string} {floor}层".strip()
        _param(data, "media_url", max_length=2000)  # accepted; photos come through the app
        reporter = _reporter(data)
        intake_check(text=description, phone=reporter.phone, lat=lat, lng=lng)
        # the place last, once everything else is valid: the answer about a place outside the
        # client's reach is then the same as about a place that does not exist
        place = None
        if address_id:
            place = intake_place(request.user, address_id)
            if place is None:
                raise Open311Error(400, _("未知的 address_id"))
        need = need_create(
            actor=request.user,
            text=description,
            place=place,
            lat=lat,
            lng=lng,
            address_string=address_string,
            category_code=service_code,
            channel=Channel.API,
            urgency=urgency,
            reporter=reporter,
            api_client=request.auth,
        )
        due = _iso(need.resolution_due)
        return Response(
            [
                {
                    "service_request_id": str(need.pk),
                    "token": str(need.token),
                    "service_notice": (
                        _("已收到，位置待街道工作人员确认，办结时限 %(due)s")
                        if need.to_locate
                        else _("已收到，办结时限 %(due)s")
                    )
                    % {"due": due},
                    "account_id": None,
                }
            ],
            status=201,
        )


class RequestDetailView(_ReadWithoutKey, Open311View):
    def get(self, request: Request, service_request_id: str, format: str | None = None) -> Response:
        if not _ID.match(service_request_id):
            raise Open311Error(404, _("未找到该诉求"))
        rows = _rows(_readable(request).filter(pk=int(service_request_id)), request)
        if not rows:
            raise Open311Error(404, _("未找到该诉求"))
        return Response(rows)


class TokenView(_ReadWithoutKey, Open311View):
    def get(self, request: Request, token: str, format: str | None = None) -> Response:
        try:
            key = uuid.UUID(token)
        except ValueError:
            raise Open311Error(404, _("未找到该 token")) from None
        need = _readable(request).filter(token=key).first()
        if need is None:
            raise Open311Error(404, _("未找到该 token"))
        return Response([{"service_request_id": str(need.pk), "token": str(need.token)}])


def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Any other path under the endpoint: a 404 in the spec's format."""
    body = error_body(404, [_("未知的接口")])
    if request.path.endswith(".xml"):
        return HttpResponse(to_xml(body, ERRORS), status=404, content_type="text/xml; charset=utf-8")
    return JsonResponse(body, status=404, safe=False, json_dumps_params={"ensure_ascii": False})
