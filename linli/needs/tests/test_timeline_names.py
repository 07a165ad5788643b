"""Who took each step of a need: timelines name who acted as the reader understands it: 我,
居民 张*, 网格员 用*…, and 系统 for the worker's sweeps only; no full name, no account name, no
"system"."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from linli.needs.deadlines import deadlines_sweep
from linli.needs.services import Reporter, need_resolve
from linli.needs.tests.helpers import rating_path as _link
from linli.needs.tests.helpers import reported as _need
from linli.needs.tests.helpers import resolved as _resolved
from linli.testing import sign_in

pytestmark = pytest.mark.django_db


# --- 3. who acted -------------------------------------------------------------------------------


def _actors(html: str) -> dict[str, list[str]]:
    """Each step of the timeline with who took it: {kind label: [actor, …]}."""
    timeline = html[html.index('id="timeline"') :]
    found: dict[str, list[str]] = {}
    for kind, actor in re.findall(
        r"<li><strong>([^<]+)</strong>.*?<span class=\"actor\">([^<]*)</span>", timeline, re.S
    ):
        found.setdefault(kind, []).append(actor)
    return found


def test_timelines_name_the_role_and_masked_name_of_who_acted(nw: Any, client: Client) -> None:
    need = _resolved(nw)
    Client().post(_link(need), {"resolved": "0", "satisfaction": "unsatisfied"})  # by SMS link
    deadlines_sweep(now=timezone.now() + dt.timedelta(days=30))  # the worker: overdue, escalated

    sign_in(client, nw.users["resident"])
    html = client.get(f"/needs/{need.pk}/").content.decode()
    actors = _actors(html)
    worker = "网格员 用" + "*" * (len("用户grid_worker") - 1)
    assert actors["提交"] == ["我"] and actors["受理"] == [worker] and actors["办结"] == [worker]
    assert actors["评价"] == ["我"]  # the resident's own rating by SMS link
    assert actors["超期"] == ["系统"] and actors["升级"] == ["系统"]
    assert "system" not in html and "grid_worker<" not in html and "用户grid_worker" not in html

    sign_in(client, nw.users["grid_worker"])
    html = client.get(f"/needs/{need.pk}/").content.decode()
    actors = _actors(html)
    assert actors["提交"] == ["居民 张**"] and actors["评价"] == ["居民 张**"] and actors["受理"] == ["我"]
    assert "张建国" not in html  # nothing beside the mask rebuilds the name
    # the API says the same
    api = client.get(f"/api/needs/{need.pk}/timeline/").json()
    assert [e["actor_name"] for e in api if e["kind"] in ("submitted", "accepted", "overdue")] == [
        "居民 张**",
        "我",
        "系统",
    ]


def test_a_reporter_known_by_phone_only_who_rates_by_link_is_named_as_a_resident(nw: Any, client: Client) -> None:
    need = _need(nw, actor=nw.users["grid_worker"], reporter=Reporter(name="王小明", phone="13912340000"))
    need_resolve(actor=nw.users["grid_worker"], need=need, result="已更换灯泡")
    Client().post(_link(need), {"resolved": "1", "satisfaction": "satisfied"})
    sign_in(client, nw.users["secretary"])
    actors = _actors(client.get(f"/needs/{need.pk}/").content.decode())
    assert actors["评价"] == ["居民 王**"]
    assert actors["提交"] == ["网格员 用" + "*" * (len("用户grid_worker") - 1)]
    assert actors["关闭"] == ["系统"]  # closed by the system once everyone answered


def test_a_departments_job_card_names_who_acted_too(nw: Any, client: Client) -> None:
    from linli.needs.services import need_whistle

    need = _need(nw)
    [dispatch] = need_whistle(actor=nw.users["grid_worker"], need=need, departments=[nw.department])
    sign_in(client, nw.users["department_liaison"])
    html = client.get(f"/needs/dispatches/{dispatch.pk}/").content.decode()
    worker = "网格员 用" + "*" * (len("用户grid_worker") - 1)
    assert re.findall(r'<span class="actor">([^<]*)</span>', html) == [worker]
    assert "用户grid_worker" not in html
