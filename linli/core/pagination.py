from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest


def paginate(request: HttpRequest, items: Any, per_page: int = 30) -> Page:
    """A page of ``items`` from ``?page=``; out-of-range or junk page numbers give the
    nearest valid page rather than an error."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


class LazyRows:
    """Rows fetched one page at a time (``fetch(limit, offset)``), their count known beforehand
    (from a summary): the paginator never loads the whole list."""

    def __init__(self, total: int, fetch: Callable[[int, int], list[Any]]) -> None:
        self.total = total
        self.fetch = fetch

    def count(self) -> int:
        return self.total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, key: slice) -> list[Any]:
        start = key.start or 0
        stop = min(key.stop if key.stop is not None else self.total, self.total)
        return self.fetch(stop - start, start) if stop > start else []
