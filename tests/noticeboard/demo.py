"""The notice board's demo seed: one notice in each community of the demo."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from linli.core.access import SYSTEM, under
from linli.core.data import read_data
from linli.places.models import Place, PlaceKind
from tests.noticeboard.models import Notice
from tests.noticeboard.services import notice_post

DATA = read_data("tests.noticeboard", "demo")


def _communities(paths: list[str]) -> QuerySet[Place]:
    return Place.objects.filter(under(paths, "path"), kind=PlaceKind.COMMUNITY).order_by("path")


def steps(paths: list[str]) -> int:
    return 1


def load(*, paths: list[str], step: Callable[[str], None]) -> None:
    step(_("公告栏"))
    for community in _communities(paths):
        notice_post(actor=SYSTEM, place=community, title=DATA["title"], body=DATA["body"])


def labels() -> list[tuple[str, str]]:
    return [("notices", _("公告"))]


def counts(paths: list[str]) -> dict[str, int]:
    return {"notices": Notice.objects.filter(under(paths)).count()}


def purge(paths: list[str]) -> list[QuerySet[Any]]:
    return [Notice.objects.filter(under(paths))]
