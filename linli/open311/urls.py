"""Routes of ``/open311/v2/`` (the lead includes them with the ``open311`` namespace). Every
endpoint answers ``.json`` or ``.xml``; without a suffix it answers JSON (or XML if the
``Accept`` header asks for it)."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path, re_path, register_converter

from linli.open311 import views


class FormatConverter:
    regex = "json|xml"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class IdConverter:
    """An id, a token or a service code: never empty and never starting with a dot, so that
    ``services/.xml`` is an unknown endpoint answered in XML, not the id ``.xml``."""

    regex = r"[^/.][^/]*"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(FormatConverter, "open311_format")
register_converter(IdConverter, "open311_id")

app_name = "open311"


def _both(route: str, view: Any, name: str) -> list[URLPattern]:
    """The suffixed route first, so that ``requests/12.json`` never reads as id ``12.json``."""
    return [path(f"{route}.<open311_format:format>", view, name=name), path(route, view, name=name)]


urlpatterns = [
    *_both("discovery", views.DiscoveryView.as_view(), "discovery"),
    *_both("services", views.ServiceListView.as_view(), "services"),
    *_both("services/<open311_id:service_code>", views.ServiceDefinitionView.as_view(), "service"),
    *_both("requests", views.RequestListView.as_view(), "requests"),
    *_both("requests/<open311_id:service_request_id>", views.RequestDetailView.as_view(), "request"),
    *_both("tokens/<open311_id:token>", views.TokenView.as_view(), "token"),
    re_path(r"^.*$", views.not_found),
]
