"""The needs pages through the Django test client: the report form (and its QR entry), the
grid and community workbench, whistling, the departments' dispatch page, returns, my needs,
rating, scoping, masking and query counts."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import segno
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from linli.core.models import IdempotencyRecord
from linli.needs.models import Channel, Dispatch, DispatchStatus, Need, NeedEvent, Status, Urgency
from linli.needs.services import dispatch_return, need_accept, need_create, need_resolve, need_whistle
from linli.needs.tests.helpers import reported as _need
from linli.testing import sign_in

pytestmark = pytest.mark.django_db

GARBLED = "楼下的路灯坏了好几天，晚上出门很不方便。".encode().decode("gbk", errors="replace")


def _as(client: Client, nw: Any, who: str) -> Client:
    # staff accounts of the world have TOTP, so the MFA middleware lets them through
    sign_in(client, nw.users[who])
    return client


def _listed(html: str) -> set[int]:
    """The needs a queue page shows (its bulk checkboxes)."""
    return {int(pk) for pk in re.findall(r'name="need" value="(\d+)"', html)}


# --- reporting ---------------------------------------------------------------------------------------


def test_resident_reports_a_need_from_the_form(client: Client, nw: Any) -> None:
    _as(client, nw, "resident")
    form = client.get("/needs/new/")
    html = form.content.decode()
    assert form.status_code == 200 and nw.household_place_a.name in html
    assert 'name="category" value="lighting"' in html
    submission = re.search(r'name="submission" value="([0-9a-f]{32})"', html).group(1)  # type: ignore[union-attr]
    data = {"text": "3栋楼下路灯坏了", "category": "lighting", "urgency": "urgent", "submission": submission}
    response = client.post("/needs/new/", data)
    need = Need.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/needs/{need.pk}/"
    assert need.category.code == "lighting" and not need.category_confirmed  # a resident's choice is a hint
    assert need.urgency == Urgency.URGENT and need.place == nw.household_place_a
    assert need.channel == Channel.RESIDENT and need.reporters.get().user == nw.users["resident"]
    detail = client.get(response["Location"])
    assert detail.status_code == 200 and "3栋楼下路灯坏了" in detail.content.decode()
    # the same form sent again (a double tap, a retry): the same need, not a second one
    again = client.post("/needs/new/", data)
    assert again.status_code == 302 and again["Location"] == f"/needs/{need.pk}/"
    assert Need.objects.count() == 1 and NeedEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "该字段是必填项"), ("   ", "该字段是必填项"), (GARBLED, "内容疑似乱码")],
)
def test_bad_input_is_a_400_with_the_message_and_writes_nothing(
    client: Client, nw: Any, text: str, message: str
) -> None:
    _as(client, nw, "resident")
    before = Need.objects.count(), NeedEvent.objects.count(), IdempotencyRecord.objects.count()
    response = client.post("/needs/new/", {"text": text, "urgency": "normal", "submission": "k1"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert (Need.objects.count(), NeedEvent.objects.count(), IdempotencyRecord.objects.count()) == before
    # an unknown urgency is refused by the form as well
    bad = client.post("/needs/new/", {"text": "路灯坏了", "urgency": "whenever", "submission": "k2"})
    assert bad.status_code == 400 and Need.objects.count() == before[0]


def test_building_qr_opens_the_form_at_that_building(client: Client, nw: Any) -> None:
    _as(client, nw, "grid_worker")
    code = nw.building_a.code
    page = client.get(f"/places/{code}/qr/")
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html
    url = f"http://testserver/needs/new/?place={code}&via=qr"
    assert url.replace("&", "&amp;") in html
    svg = client.get(f"/places/{code}/qr/?format=svg")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    body = svg.content.decode()
    assert body.startswith("<svg") and body.rstrip().endswith("</svg>")
    # the SVG is exactly the QR code of that URL
    assert body == segno.make(url, error="m").svg_inline(scale=8, dark="#1d2327", title=nw.building_a.name)
    pdf = client.get(f"/places/{code}/qr/?format=pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and b"%%EOF" in pdf.content[-64:]
    # the URL opens the form with the building filled in; a resident reports from it
    resident = _as(Client(), nw, "resident")
    form = resident.get(url.removeprefix("http://testserver"))
    assert form.status_code == 200
    assert _chosen_place(form.content.decode()) == nw.building_a.code
    response = resident.post(url.removeprefix("http://testserver"), {"text": "楼道灯不亮", "urgency": "normal"})
    need = Need.objects.get()
    assert response.status_code == 302 and need.place == nw.building_a and need.channel == Channel.QR
    # a place that is not a building, courtyard, grid or community has no QR code
    assert client.get(f"/places/{nw.household_place_a.code}/qr/").status_code == 404
    assert client.get("/places/no-such-place/qr/").status_code == 404


def _chosen_place(html: str) -> str | None:
    """The code of the place preselected in the report form's picker."""
    picker = re.search(r'<select name="place" id="need-place".*?</select>', html, re.S)
    assert picker, "the report form has a place picker"
    chosen = re.findall(r'<option value="([^"]+)"[^>]*\bselected\b', picker.group(0))
    return chosen[0] if chosen else None


# --- the workbench ----------------------------------------------------------------------------------------


def test_queue_filters_and_bulk_accept(client: Client, nw: Any) -> None:
    lamp = _need(nw)
    water = _need(nw, text="家里停水了，水管爆了漏水", category_code="water", actor=nw.users["grid_worker"])
    old = _need(nw, text="小区路灯坏了晚上很黑", now=timezone.now() - dt.timedelta(days=30))
    need_accept(actor=nw.users["grid_worker"], need=old)
    other = _need(nw, text="路灯不亮", place=nw.household_place_b, actor=nw.users["grid_worker_b"])
    _as(client, nw, "grid_worker")
    assert _listed(client.get("/needs/queue/").content.decode()) == {lamp.pk, water.pk, old.pk}
    assert _listed(client.get("/needs/queue/?status=submitted").content.decode()) == {lamp.pk, water.pk}
    assert _listed(client.get("/needs/queue/?status=accepted").content.decode()) == {old.pk}
    assert _listed(client.get("/needs/queue/?category=water").content.decode()) == {water.pk}
    assert _listed(client.get("/needs/queue/?due=overdue").content.decode()) == {old.pk}
    # junk filters are ignored (every status), never an error; an unknown category has nothing
    junk = client.get("/needs/queue/?status=nonsense&due=junk&grid=nowhere&page=x")
    assert junk.status_code == 200 and _listed(junk.content.decode()) == {lamp.pk, water.pk, old.pk}
    assert _listed(client.get("/needs/queue/?category=none").content.decode()) == set()
    # bulk accept: the ones in my scope are accepted; another community's is not even touched
    response = client.post("/needs/queue/?status=submitted", {"bulk": "accept", "need": [lamp.pk, water.pk, other.pk]})
    assert response.status_code == 302 and response["Location"] == "/needs/queue/?status=submitted"
    assert set(Need.objects.filter(status=Status.ACCEPTED).values_list("pk", flat=True)) == {lamp.pk, water.pk, old.pk}
    assert Need.objects.get(pk=other.pk).status == Status.SUBMITTED
    # accepting again fails politely on the page, never a 500
    follow = client.post("/needs/queue/", {"bulk": "accept", "need": [lamp.pk]}, follow=True)
    assert follow.status_code == 200 and "已被受理" in follow.content.decode()


def test_whistle_from_the_detail_page(client: Client, nw: Any) -> None:
    need = _need(nw, text="家里停水了")
    _as(client, nw, "grid_worker")
    page = client.get(f"/needs/{need.pk}/").content.decode()
    assert 'id="whistle"' in page and f'name="department" value="{nw.department.pk}"' in page
    response = client.post(f"/needs/{need.pk}/whistle/", {"department": [nw.department.pk], "note": "请尽快"})
    assert response.status_code == 302 and response["Location"] == f"/needs/{need.pk}/"
    need.refresh_from_db()
    dispatch = need.dispatches.get()
    assert need.status == Status.WHISTLED and dispatch.department == nw.department and dispatch.is_lead
    # whistling nobody is refused with a message, not an error page
    refused = client.post(f"/needs/{need.pk}/whistle/", {}, follow=True)
    assert refused.status_code == 200 and "请选择至少一个部门" in refused.content.decode()
    assert need.dispatches.count() == 1


def test_liaison_checks_in_and_resolves_on_the_dispatch_page(client: Client, nw: Any) -> None:
    need = _need(nw, text="家里停水了")
    [dispatch] = need_whistle(actor=nw.users["grid_worker"], need=need, departments=[nw.department])
    _as(client, nw, "department_liaison")
    page = client.get("/needs/dispatches/").content.decode()
    assert f"/needs/dispatches/{dispatch.pk}/checkin/" in page
    response = client.post(f"/needs/dispatches/{dispatch.pk}/checkin/")
    assert response.status_code == 302 and response["Location"] == "/needs/dispatches/"
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.CHECKED_IN and dispatch.checked_in_by == nw.users["department_liaison"]
    client.post(f"/needs/dispatches/{dispatch.pk}/resolve/", {"result": "已抢修管道，恢复供水"})
    dispatch.refresh_from_db()
    need.refresh_from_db()
    assert dispatch.status == DispatchStatus.RESOLVED
    assert need.status == Status.RESOLVED and need.result == "已抢修管道，恢复供水"
    assert f"/needs/dispatches/{dispatch.pk}/checkin/" not in client.get("/needs/dispatches/").content.decode()
    # the liaison may open the need it worked on
    assert client.get(f"/needs/{need.pk}/").status_code == 200


def test_secretary_approves_a_return(client: Client, nw: Any) -> None:
    need = _need(nw, text="家里停水了")
    [dispatch] = need_whistle(actor=nw.users["grid_worker"], need=need, departments=[nw.department])
    dispatch_return(actor=nw.users["department_liaison"], dispatch=dispatch, reason="不属于本部门管辖范围")
    _as(client, nw, "secretary")
    # the returns waiting for a decision are listed, each linking to its need
    returns = client.get("/needs/dispatches/?show=returns").content.decode()
    assert f'href="/needs/{need.pk}/"' in returns and "申请退单" in returns
    detail = client.get(f"/needs/{need.pk}/").content.decode()
    assert "不属于本部门管辖范围" in detail and f"/needs/dispatches/{dispatch.pk}/approve/" in detail
    response = client.post(f"/needs/dispatches/{dispatch.pk}/approve/", {"next": f"/needs/{need.pk}/"})
    assert response.status_code == 302 and response["Location"] == f"/needs/{need.pk}/"
    dispatch.refresh_from_db()
    need.refresh_from_db()
    assert dispatch.status == DispatchStatus.RETURNED and need.status == Status.ACCEPTED
    # an outside "next" is not followed
    again = client.post(f"/needs/dispatches/{dispatch.pk}/approve/", {"next": "//evil.example/"})
    assert again["Location"] == "/needs/dispatches/"


# --- residents ---------------------------------------------------------------------------------------------


def test_my_needs_lists_only_mine(client: Client, nw: Any) -> None:
    mine = _need(nw)
    not_mine = _need(nw, text="小区路灯坏了", actor=nw.users["grid_worker"])  # entered by staff for nobody
    _as(client, nw, "resident")
    html = client.get("/needs/mine/").content.decode()
    assert f"/needs/{mine.pk}/" in html and f"/needs/{not_mine.pk}/" not in html
    assert _as(Client(), nw, "volunteer").get("/needs/mine/").status_code == 200  # empty, not an error


def test_resident_rates_from_the_detail_page(client: Client, nw: Any) -> None:
    need = _need(nw)
    _as(client, nw, "resident")
    assert 'id="rate-form"' not in client.get(f"/needs/{need.pk}/").content.decode()  # not resolved yet
    need_resolve(actor=nw.users["grid_worker"], need=need, result="已更换灯泡")
    assert 'id="rate-form"' in client.get(f"/needs/{need.pk}/").content.decode()
    response = client.post(f"/needs/{need.pk}/rate/", {"resolved": "1", "satisfaction": "basic", "comment": "还行"})
    assert response.status_code == 302
    need.refresh_from_db()
    assert need.status == Status.CLOSED and need.ratings.get().satisfaction == "basic"
    assert 'id="rate-form"' not in client.get(f"/needs/{need.pk}/").content.decode()
    # a second rating is refused with a message
    again = client.post(f"/needs/{need.pk}/rate/", {"resolved": "1", "satisfaction": "satisfied"}, follow=True)
    assert again.status_code == 200 and need.ratings.count() == 1


def test_resident_cannot_open_another_communitys_need(client: Client, nw: Any) -> None:
    other = _need(nw, text="路灯不亮", place=nw.household_place_b, actor=nw.users["grid_worker_b"])
    _as(client, nw, "resident")
    assert client.get(f"/needs/{other.pk}/").status_code == 404
    assert client.post(f"/needs/{other.pk}/rate/", {"resolved": "1", "satisfaction": "satisfied"}).status_code == 404
    assert client.get("/needs/999999/").status_code == 404
    # nor work the workbench
    assert client.get("/needs/queue/").status_code == 403


def test_a_phone_number_typed_into_a_need_is_masked_on_every_page(client: Client, nw: Any) -> None:
    text = "楼下路灯不亮了，请打13912345678联系我"
    need = _need(nw, text=text)
    [dispatch] = need_whistle(actor=nw.users["grid_worker"], need=need, departments=[nw.department])
    pages = {
        "resident": [f"/needs/{need.pk}/", "/needs/mine/"],
        "grid_worker": [f"/needs/{need.pk}/", "/needs/queue/", "/needs/queue/?q=路灯"],
        "department_liaison": ["/needs/dispatches/", f"/needs/{need.pk}/"],
    }
    for who, urls in pages.items():
        c = _as(Client(), nw, who)
        for url in urls:
            html = c.get(url).content.decode()
            assert "13912345678" not in html, (who, url)
            assert "139****5678" in html, (who, url)
    # the resolution result and the rating link page too
    from linli.needs.rating_links import rating_link_create
    from linli.needs.services import dispatch_resolve

    dispatch_resolve(actor=nw.users["department_liaison"], dispatch=dispatch, result="已修好，回电13912345678确认")
    token = rating_link_create(reporter=need.reporters.get(), round_=1)
    link = client.get(f"/r/{token}/").content.decode()
    assert "13912345678" not in link and "139****5678" in link
    # the stored text keeps the number for the staff who need it
    assert Need.objects.get(pk=need.pk).text == text


# --- query counts --------------------------------------------------------------------------------------------


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_pages_do_not_grow_with_the_number_of_needs(nw: Any) -> None:
    worker = _as(Client(), nw, "grid_worker")
    resident = _as(Client(), nw, "resident")

    def add(n: int) -> None:
        for i in range(n):
            need = _need(nw, text=f"{i}号楼下路灯不亮了", category_code="lighting")
            if i % 3 == 1:
                need_whistle(actor=nw.users["grid_worker"], need=need, departments=[nw.department])
            elif i % 3 == 2:
                need_resolve(actor=nw.users["grid_worker"], need=need, result="已修好")

    add(2)
    few = {url: _queries(c, url) for c, url in ((worker, "/needs/queue/?status="), (resident, "/needs/mine/"))}
    add(12)
    many = {url: _queries(c, url) for c, url in ((worker, "/needs/queue/?status="), (resident, "/needs/mine/"))}
    assert Need.objects.count() == 14
    assert many == few
    liaison = _as(Client(), nw, "department_liaison")
    before = _queries(liaison, "/needs/dispatches/?show=all")
    add(3)
    assert _queries(liaison, "/needs/dispatches/?show=all") == before
    assert Dispatch.objects.count() >= 5


def test_secretary_decides_a_return_from_the_dispatch_list(nw: Any, client: Any) -> None:
    from linli.needs.models import DispatchStatus
    from linli.needs.services import dispatch_return, need_create, need_whistle

    need = need_create(actor=nw.users["resident"], text="家里停水了", place=nw.household_place_a)
    [dispatch] = need_whistle(actor=nw.users["grid_worker"], need=need, departments=[nw.department])
    dispatch_return(actor=nw.users["department_liaison"], dispatch=dispatch, reason="属于小区内部管网")
    sign_in(client, nw.users["secretary"])
    page = client.get("/needs/dispatches/?show=returns")
    assert page.status_code == 200 and "属于小区内部管网" in page.content.decode()
    assert f"/needs/dispatches/{dispatch.pk}/approve/" in page.content.decode()
    client.post(f"/needs/dispatches/{dispatch.pk}/approve/", {"next": "/needs/dispatches/?show=returns"})
    dispatch.refresh_from_db()
    assert dispatch.status == DispatchStatus.RETURNED


def test_a_residents_own_choice_of_category_is_not_called_a_system_suggestion(client: Client, nw: Any) -> None:
    chosen = need_create(
        actor=nw.users["resident"], text="楼下路灯不亮", place=nw.household_place_a, category_code="lighting"
    )
    guessed = need_create(actor=nw.users["resident"], text="楼下路灯不亮了好几天", place=nw.household_place_a)
    _as(client, nw, "resident")
    page = client.get(f"/needs/{chosen.pk}/").content.decode()
    assert "居民选择，待工作人员确认" in page and "系统建议" not in page
    other = client.get(f"/needs/{guessed.pk}/").content.decode()
    assert "系统建议" in other and "居民选择" not in other
