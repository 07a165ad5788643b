"""Domain errors raised by services, and the answer every layer gives for a refused request:
the site's own page in the reader's language, JSON under the API, Open311's format there."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET  # builds documents only; nothing is parsed

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _


class Conflict(Exception):
    """The write lost a race or clashes with the current state (HTTP 409)."""


def _errors_xml(errors: list[dict[str, Any]]) -> bytes:
    root = ET.Element("errors")
    for error in errors:
        item = ET.SubElement(root, "error")
        for name, value in error.items():
            ET.SubElement(item, name).text = str(value)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode").encode("utf-8")


def _titles() -> dict[int, str]:
    return {
        400: _("请求有误"),
        401: _("请先登录"),
        403: _("没有权限"),
        404: _("找不到该页面"),
        429: _("操作太频繁"),
        503: _("服务暂时不可用"),
        507: _("存储空间已满"),
    }


def error_response(request: HttpRequest, status: int, message: Any, *, retry_after: int | None = None) -> HttpResponse:
    """An error answer shaped for whoever asked: Open311's ``[{code, description}]`` under
    ``/open311/``, ``{"detail": …}`` under ``/api/``, else
    the site's page in large type, each in the reader's language (``Accept-Language``, else
    zh-Hans). ``message`` may be lazy (``gettext_lazy``)."""
    path = request.path
    response: HttpResponse
    if path.startswith("/open311/"):
        body: Any = [{"code": status, "description": str(message)}]
        if path.endswith(".xml"):
            response = HttpResponse(_errors_xml(body), status=status, content_type="text/xml; charset=utf-8")
        else:
            response = JsonResponse(body, status=status, safe=False, json_dumps_params={"ensure_ascii": False})
    elif path.startswith("/api/"):
        response = JsonResponse({"detail": str(message)}, status=status, json_dumps_params={"ensure_ascii": False})
    else:
        context = {
            "title": _titles().get(status, _("出错了")),
            "message": message,
            "retry_after": retry_after,
            "request": request,
        }
        response = HttpResponse(render_to_string("core/error.html", context, request=request), status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response
