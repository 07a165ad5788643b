"""URLs for the outage tests: views that lose the database in the middle of a request."""

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def lost(request: HttpRequest) -> HttpResponse:
    raise OperationalError("the database system is shutting down")


urlpatterns = [
    path("open311/v2/lost.json", lost),
    path("api/lost/", lost),
    path("lost/", lost),
    path("", include("linli.config.urls")),
]
