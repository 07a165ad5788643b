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
        405: _("不能这样打开"),
        429: _("操作太频繁"),
        503: _("服务暂时不可用"),
        507: _("存储空间已满"),
    }


def error_response(
    request: HttpRequest, status: int, message: Any, *, retry_after: int | None = None, title: Any = None
) -> HttpResponse:
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
            "title": title or _titles().get(status, _("出错了")),
            "message": message,
            "retry_after": retry_after,
            "request": request,
            "back": back_url(request),
        }
        response = HttpResponse(render_to_string("core/error.html", context, request=request), status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


# --- the site's error pages (handler400/403/404, the CSRF failure view, bare 405s) -----------------


def back_url(request: HttpRequest) -> str:
    """Where the reader came from, if it was a page of this site (never another site's)."""
    from django.utils.http import url_has_allowed_host_and_scheme

    referer = request.META.get("HTTP_REFERER", "")
    if not referer or referer.split("#")[0] == request.build_absolute_uri().split("#")[0]:
        return ""
    if url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return referer
    return ""


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 400, _("这个请求无法处理：可能是链接不完整或表单已过期。请返回后重试。"))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403 with the refusal's own reason when the code gave one (they are translated), else
    a general one."""
    reason = exception.args[0] if exception is not None and exception.args else None
    if not isinstance(reason, str) or not reason.strip():
        reason = _("您没有打开这个页面的权限。如果工作需要，请联系社区工作人员。")
    return error_response(request, 403, reason)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # the exception's text is for the log (it may be Django's, in English): the reader gets ours
    return error_response(request, 404, _("找不到这个页面：链接可能有误，或者内容已被删除，或者您无权查看。"))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_response(
        request, 403, _("页面已过期，没有保存。请返回，刷新页面后再提交一次。"), title=_("页面已过期")
    )


def method_not_allowed(request: HttpRequest) -> HttpResponse:
    return error_response(request, 405, _("这个页面不能这样打开。请从页面上的按钮或链接进入。"))
