from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest


def paginate(request: HttpRequest, items: Any, per_page: int = 30) -> Page:
    """A page of ``items`` from ``?page=``; out-of-range or junk page numbers give the
    nearest valid page rather than an error."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))
