"""What the needs' page tests share: a need reported by the resident, one resolved by the grid
worker, the rating link of a reporter, and a page's words without its markup."""

from __future__ import annotations

import re
from typing import Any

from linli.needs.models import Need
from linli.needs.rating_links import rating_link_create
from linli.needs.services import need_accept, need_create, need_resolve


def reported(nw: Any, text: str = "楼下路灯不亮了，晚上很黑", **kwargs: Any) -> Need:
    kwargs.setdefault("place", nw.household_place_a)
    return need_create(actor=kwargs.pop("actor", nw.users["resident"]), text=text, **kwargs)


def resolved(nw: Any, **kwargs: Any) -> Need:
    need = reported(nw, **kwargs)
    need_accept(actor=nw.users["grid_worker"], need=need)
    need_resolve(actor=nw.users["grid_worker"], need=need, result="已更换灯泡")
    need.refresh_from_db()
    return need


def rating_path(need: Need, reporter: Any = None) -> str:
    reporter = reporter or need.reporters.get()
    return f"/r/{rating_link_create(reporter=reporter, round_=need.reopen_count + 1)}/"


def page_text(html: str) -> str:
    """The page's words, without its markup."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
