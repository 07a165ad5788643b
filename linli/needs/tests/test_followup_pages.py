"""What a resident reads after rating, and the words of needs explained.

- The rating link's page says what happens next: closed; or reopened, who handles it now and
  by when; or waiting for the other reporters. Never 当前不需要评价 after a rating.
- The lists of needs show 请评价 for a need waiting for the reader's rating, linking to it.
- 办理层级, 超期, 升级 and the other words of needs are explained where residents read them.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from linli.needs.deadlines import deadlines_sweep
from linli.needs.models import Level, Need, Status
from linli.needs.services import Reporter, need_merge, need_resolve
from linli.needs.tests.helpers import page_text as _text
from linli.needs.tests.helpers import rating_path as _link
from linli.needs.tests.helpers import reported as _need
from linli.needs.tests.helpers import resolved as _resolved
from linli.testing import sign_in

pytestmark = pytest.mark.django_db


# --- 1. after the rating --------------------------------------------------------------------------


def test_an_unsatisfied_rating_by_link_says_the_need_is_reopened_who_handles_it_and_by_when(nw: Any) -> None:
    need = _resolved(nw)
    link = _link(need)
    response = Client().post(link, {"resolved": "0", "satisfaction": "unsatisfied", "comment": "还是不亮"})
    need.refresh_from_db()
    assert need.status == Status.ACCEPTED and need.reopen_count == 1
    page = _text(response.content.decode())
    assert response.status_code == 200
    assert "当前不需要评价" not in page
    assert "评价为不满意，诉求已重新办理" in page
    assert "现在由网格（第一网格）负责办理" in page
    due = timezone.localtime(need.resolution_due).strftime("%Y-%m-%d %H:%M")
    assert f"最迟 {due} 前办好" in page and "办好后我们会发短信请您再评价一次" in page
    # the resident signed in reads the same on the need's page
    resident = Client()
    sign_in(resident, nw.users["resident"])
    detail = _text(resident.get(f"/needs/{need.pk}/").content.decode())
    assert "诉求已重新办理" in detail and "第一网格" in detail and due in detail

    # resolved again and still unsatisfied: the street takes it over
    need_resolve(actor=nw.users["grid_worker"], need=need, result="又换了一次")
    again = Client().post(_link(need), {"resolved": "0", "satisfaction": "unsatisfied"})
    need.refresh_from_db()
    assert need.level == Level.STREET
    page = _text(again.content.decode())
    assert "评价仍为不满意，诉求已交给上一级重新办理" in page and "现在由街道（汉兴街道）负责办理" in page


def test_a_satisfied_rating_says_it_is_closed_and_one_of_two_says_the_others_are_awaited(nw: Any) -> None:
    need = _resolved(nw)
    page = _text(Client().post(_link(need), {"resolved": "1", "satisfaction": "satisfied"}).content.decode())
    assert "诉求已办结，谢谢您的评价" in page
    # two reporters: the first answer waits for the second
    first = _need(nw, text="3栋楼下路灯不亮")
    other = _need(
        nw,
        text="3栋楼下的路灯坏了",
        actor=nw.users["grid_worker"],
        reporter=Reporter(name="王小明", phone="13912340000"),
    )
    need_merge(actor=nw.users["grid_worker"], duplicate=other, into=first)
    need_resolve(actor=nw.users["grid_worker"], need=first, result="修好了")
    resident_reporter = first.reporters.get(user=nw.users["resident"])
    page = _text(
        Client().post(_link(first, resident_reporter), {"resolved": "1", "satisfaction": "basic"}).content.decode()
    )
    assert "还有其他反映人没有评价" in page
    # a link to a need closed meanwhile says so, and offers no form
    wang = first.reporters.get(name="王小明")
    link = _link(first, wang)
    Need.objects.filter(pk=first.pk).update(status=Status.CLOSED)
    closed = Client().get(link).content.decode()
    assert "该诉求已办结，不再需要评价" in closed and 'id="rate-form"' not in closed


def test_the_lists_of_needs_show_please_rate_for_the_readers_own_resolved_need(client: Client, nw: Any) -> None:
    waiting = _resolved(nw)
    open_need = _need(nw, text="小区门口积水")
    sign_in(client, nw.users["resident"])
    html = client.get("/needs/mine/").content.decode()
    items = {int(pk): item for pk, item in re.findall(r'<li><a href="/needs/(\d+)/[^"]*">(.*?)</li>', html, re.S)}
    assert "请评价" in items[waiting.pk] and "请评价" not in items[open_need.pk]
    assert f'href="/needs/{waiting.pk}/#rate-form"' in html and f'href="/needs/{open_need.pk}/"' in html
    assert 'id="rate-form"' in client.get(f"/needs/{waiting.pk}/").content.decode()  # where the link goes
    client.post(f"/needs/{waiting.pk}/rate/", {"resolved": "1", "satisfaction": "satisfied"})
    assert "请评价" not in client.get("/needs/mine/").content.decode()
    # staff see no 请评价 on needs they did not report
    staff = Client()
    sign_in(staff, nw.users["grid_worker"])
    other = _resolved(nw, text="楼道灯坏了")
    assert other.status == Status.RESOLVED
    queue = staff.get("/needs/queue/?status=resolved").content.decode()
    assert f"#{other.pk}" in queue and "请评价" not in queue


# --- 4. the words a resident reads ----------------------------------------------------------------


def test_the_words_of_needs_are_explained_where_residents_read_them(nw: Any, client: Client) -> None:
    need = _need(nw, now=timezone.now() - dt.timedelta(days=30))
    sign_in(client, nw.users["resident"])
    # overdue: beside the badge, what it means
    html = client.get(f"/needs/{need.pk}/").content.decode()
    assert re.search(r'class="badge overdue"[^>]*>超期', html)
    assert 'id="overdue-help"' in html and "超期：已经过了办理时限还没办好" in _text(html)
    deadlines_sweep()  # the worker: escalated to the community, with a fresh deadline
    need.refresh_from_db()
    assert need.level == Level.COMMUNITY
    html = client.get(f"/needs/{need.pk}/").content.decode()
    page = _text(html)
    # beside the level: what a level is
    assert re.search(r'<details class="term" id="term-level"><summary><span class="badge">办理层级：社区', html)
    assert "办理层级是现在由哪一级负责：网格 → 社区 → 街道 → 区" in page
    # on the overdue and escalation steps: what they meant for this need
    assert "已过响应时限还没办好，会提醒负责人并交给上一级" in page
    assert "交给上一级（社区）办理：超过响应时限" in page
    # and a short glossary of the rest
    glossary = _text(html[html.index('id="terms"') :])
    for word in ("办理层级", "超期", "升级", "吹哨", "报到", "待回访"):
        assert word in glossary, word
    mine = client.get("/needs/mine/").content.decode()
    assert "办理层级：社区" in mine and 'id="terms"' in mine
