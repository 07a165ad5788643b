"""Dispatch 吹哨报到 as the department's liaison, the grid worker and the secretary meet it: the
liaison's job card (where to go, whom to call, the photos and the note, and nothing of another
department), the check-in buttons only for those who may check in, the departments of the bulk
whistle, the transfer picker and the suggested department of the whistle form."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from linli.core.access import SYSTEM
from linli.core.photos import PhotoUpload
from linli.needs.models import Dispatch, DispatchStatus, Need, NeedEvent, Status
from linli.needs.services import (
    dispatch_checkin,
    dispatch_return,
    dispatch_return_decide,
    need_accept,
    need_create,
    need_whistle,
)
from linli.people.models import Department, DepartmentKind
from linli.places.models import PlaceKind
from linli.places.services import place_create
from linli.testing import png_bytes, sign_in

pytestmark = pytest.mark.django_db

OFFICE = "027-8552 3100"


def _as(nw: Any, who: str) -> Client:
    client = Client()
    sign_in(client, nw.users[who])
    return client


def _need(nw: Any, text: str = "家里停水了，水管爆了漏水", **kwargs: Any) -> Need:
    kwargs.setdefault("place", nw.household_place_a)
    return need_create(actor=kwargs.pop("actor", nw.users["resident"]), text=text, **kwargs)


def _departments(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'name="department" value="(\d+)"', html)]


def _checked(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'name="department" value="(\d+)" checked', html)]


def _options(html: str) -> list[str]:
    select = re.search(r'<select id="transfer-place".*?</select>', html, re.S)
    assert select is not None
    return [code for code in re.findall(r'<option value="([^"]*)"', select.group(0)) if code]


# --- the liaison's job card -------------------------------------------------------------------------


def test_the_liaisons_job_card_says_where_to_go_and_whom_to_call(nw: Any) -> None:
    nw.community_a.office_phone = OFFICE
    nw.community_a.save(update_fields=["office_phone"])
    need = _need(
        nw,
        text="家里停水两天了，急，请打13912345678联系我",
        photos=[PhotoUpload("leak.png", png_bytes(16, "blue"))],
    )
    [water] = need_whistle(
        actor=nw.users["grid_worker"], need=need, departments=[nw.department], note="1栋东侧总阀，请带检修工具"
    )
    [power] = need_whistle(actor=nw.users["secretary"], need=need, departments=[nw.power], note="顺便查一下电表箱")
    liaison = _as(nw, "department_liaison")

    # the list shows the water company's dispatch only, and it opens the job card
    listed = liaison.get("/needs/dispatches/?show=all").content.decode()
    assert f'href="/needs/dispatches/{water.pk}/"' in listed
    assert f"/needs/dispatches/{power.pk}/" not in listed and nw.power.name not in listed

    page = liaison.get(f"/needs/dispatches/{water.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    address = re.search(r'id="job-address">([^<]*)<', html)
    assert address is not None and address.group(1) == "汉兴街道常二社区1栋"
    assert 'id="job-street">汉兴街道<' in html and 'id="job-community">常二社区<' in html
    assert 'id="job-spot">1栋<' in html
    # the community office's phone, to call (place data, shown as it is)
    assert f'href="tel:02785523100">{OFFICE}</a>' in html
    # the note of this whistle, the photo, the job's text with the resident's number masked
    assert "1栋东侧总阀，请带检修工具" in html
    [photo] = need.photos.all()
    assert f'src="/needs/{need.pk}/photos/{photo.pk}/"' in html
    assert liaison.get(f"/needs/{need.pk}/photos/{photo.pk}/").status_code == 200
    assert "139****5678" in html and "13912345678" not in html
    # never the flat, the reporter, nor what the other department was told or did
    assert nw.household_place_a.name not in html and "张建国" not in html and "138****8000" not in html
    assert nw.power.name not in html and "顺便查一下电表箱" not in html
    # the steps of this dispatch only: its whistle, and its check-in with a button
    events = NeedEvent.objects.filter(need=need, data__dispatch=water.pk)
    assert html.count("<li><strong>") == events.count() == 1
    assert f'action="/needs/dispatches/{water.pk}/checkin/"' in html
    assert 'id="need-link"' not in html and "查看原文(含号码)" not in html  # no unmasking for a department

    # another department's job card does not exist for it, nor a made-up one
    assert liaison.get(f"/needs/dispatches/{power.pk}/").status_code == 404
    assert liaison.get("/needs/dispatches/999999/").status_code == 404

    # checking in from the card comes back to the card
    response = liaison.post(
        f"/needs/dispatches/{water.pk}/checkin/", {"next": f"/needs/dispatches/{water.pk}/"}, follow=True
    )
    assert response.redirect_chain[-1][0] == f"/needs/dispatches/{water.pk}/"
    assert 'id="dispatch-status">已报到<' in response.content.decode()


def test_a_community_without_an_office_phone_says_so(nw: Any) -> None:
    need = _need(nw)
    [water] = need_whistle(actor=nw.users["grid_worker"], need=need, departments=[nw.department])
    html = _as(nw, "department_liaison").get(f"/needs/dispatches/{water.pk}/").content.decode()
    assert "未登记，请联系吹哨人" in html and 'href="tel:' not in html


def test_the_community_staff_reads_the_same_card_without_the_departments_buttons(nw: Any) -> None:
    need = _need(nw)
    [water] = need_whistle(actor=nw.users["grid_worker"], need=need, departments=[nw.department])
    html = _as(nw, "secretary").get(f"/needs/dispatches/{water.pk}/").content.decode()
    assert "/checkin/" not in html and 'id="need-link"' in html and "查看原文(含号码)" in html
    # another community's secretary does not see it at all
    assert _as(nw, "secretary_b").get(f"/needs/dispatches/{water.pk}/").status_code == 404


# --- check-in buttons -------------------------------------------------------------------------------


def test_only_the_departments_liaison_is_offered_the_check_in(nw: Any) -> None:
    need = _need(nw)
    [water] = need_whistle(actor=nw.users["grid_worker"], need=need, departments=[nw.department])
    checkin = f'action="/needs/dispatches/{water.pk}/checkin/"'
    for who in ("grid_worker", "secretary", "community_staff", "street_official"):
        client = _as(nw, who)
        for url in ("/needs/dispatches/", "/needs/dispatches/?show=checkin", f"/needs/dispatches/{water.pk}/"):
            page = client.get(url)
            assert page.status_code == 200 and checkin not in page.content.decode(), (who, url)
        # and the step itself is refused
        assert client.post(f"/needs/dispatches/{water.pk}/checkin/").status_code == 403, who
    liaison = _as(nw, "department_liaison")
    for url in ("/needs/dispatches/", "/needs/dispatches/?show=checkin", f"/needs/dispatches/{water.pk}/"):
        assert checkin in liaison.get(url).content.decode(), url
    assert Dispatch.objects.get(pk=water.pk).status == DispatchStatus.WHISTLED


# --- the workbench's bulk whistle ---------------------------------------------------------------------


def test_the_bulk_whistle_lists_the_departments_of_the_workers_places(nw: Any) -> None:
    # a department of community B only: not offered in community A
    local = Department.objects.create(
        code="t-b-property", name="常四物业", kind=DepartmentKind.PROPERTY, place=nw.community_b
    )
    city = {nw.department.pk, nw.power.pk}
    for who in ("grid_worker", "secretary", "community_staff", "street_official"):
        offered = set(_departments(_as(nw, who).get("/needs/queue/").content.decode()))
        expected = city | ({local.pk} if who == "street_official" else set())
        assert offered == expected, who
    assert set(_departments(_as(nw, "secretary_b").get("/needs/queue/").content.decode())) == city | {local.pk}

    # and the grid worker whistles two needs at once with it
    first, second = _need(nw), _need(nw, text="楼下水管也漏水")
    response = _as(nw, "grid_worker").post(
        "/needs/queue/", {"bulk": "whistle", "need": [first.pk, second.pk], "department": [nw.department.pk]}
    )
    assert response.status_code == 302
    assert set(Dispatch.objects.values_list("need_id", "department_id")) == {
        (first.pk, nw.department.pk),
        (second.pk, nw.department.pk),
    }


# --- transfer -----------------------------------------------------------------------------------------


def test_the_transfer_picker_offers_only_the_places_in_scope(nw: Any) -> None:
    building_2 = place_create(actor=SYSTEM, parent=nw.grid_a, code="t-a-g1-b2", name="2栋", kind=PlaceKind.BUILDING)
    grid_2 = place_create(actor=SYSTEM, parent=nw.community_a, code="t-a-g2", name="第二网格", kind=PlaceKind.GRID)
    need = _need(nw, text="楼道灯不亮了")
    need_accept(actor=nw.users["grid_worker"], need=need)
    a_places = {nw.community_a.code, nw.grid_a.code, nw.building_a.code, building_2.code, grid_2.code}
    b_places = {nw.community_b.code, nw.grid_b.code}

    grid_worker = _as(nw, "grid_worker")
    html = grid_worker.get(f"/needs/{need.pk}/").content.decode()
    assert set(_options(html)) == {nw.grid_a.code, nw.building_a.code, building_2.code}
    assert "常二社区2栋" in html  # named with its community
    assert set(_options(_as(nw, "secretary").get(f"/needs/{need.pk}/").content.decode())) == a_places
    assert set(_options(_as(nw, "street_official").get(f"/needs/{need.pk}/").content.decode())) == a_places | b_places

    # a place outside the picker is refused with a clear 400, whether it exists or not
    secretary = _as(nw, "secretary")
    for code in (nw.grid_b.code, "no-such-place", nw.household_place_b.code, nw.street.code, ""):
        refused = secretary.post(f"/needs/{need.pk}/transfer/", {"place": code, "note": "转给对面"})
        assert refused.status_code == 400, code
        assert "转办地点不在可选范围内，请从列表中选择。" in refused.content.decode()
    refused = grid_worker.post(f"/needs/{need.pk}/transfer/", {"place": grid_2.code})
    assert refused.status_code == 400  # the second grid is not the grid worker's
    need.refresh_from_db()
    assert need.place == nw.household_place_a

    # one of the picker moves the need there
    response = grid_worker.post(f"/needs/{need.pk}/transfer/", {"place": building_2.code, "note": "在2栋"})
    assert response.status_code == 302
    need.refresh_from_db()
    assert need.place == building_2 and need.events.filter(kind="transferred").count() == 1


# --- the suggested department -------------------------------------------------------------------------


def test_the_whistle_form_suggests_the_catalogues_department(nw: Any) -> None:
    need = _need(nw, category_code="water", actor=nw.users["grid_worker"])
    html = _as(nw, "grid_worker").get(f"/needs/{need.pk}/").content.decode()
    assert _checked(html) == [nw.department.pk]
    assert _departments(html)[0] == nw.department.pk  # first in the list
    assert re.search(rf'value="{nw.department.pk}" checked> {nw.department.name} <span [^>]*>建议：派单目录<', html)
    assert html.count("建议：") == 1  # the power company is not suggested for water


def test_the_whistle_form_suggests_where_the_community_sent_the_category_before(nw: Any) -> None:
    # lamps (the catalogue names no department) went to the power company twice in community A,
    # once to the water company, which returned it (not a suggestion)
    for _i in range(2):
        earlier = _need(nw, text="楼下路灯不亮了", category_code="lighting", actor=nw.users["grid_worker"])
        need_whistle(actor=nw.users["grid_worker"], need=earlier, departments=[nw.power])
    returned = _need(nw, text="路灯坏了", category_code="lighting", actor=nw.users["grid_worker"])
    [wrong] = need_whistle(actor=nw.users["grid_worker"], need=returned, departments=[nw.department])
    dispatch_return(actor=nw.users["department_liaison"], dispatch=wrong, reason="不属于供水范围")
    dispatch_return_decide(actor=nw.users["secretary"], dispatch=wrong, approve=True)

    need = _need(nw, text="小区路灯坏了晚上很黑", category_code="lighting", actor=nw.users["grid_worker"])
    html = _as(nw, "grid_worker").get(f"/needs/{need.pk}/").content.decode()
    assert _checked(html) == [nw.power.pk]
    assert re.search(rf'value="{nw.power.pk}" checked> {nw.power.name} <span [^>]*>建议：本社区同类常派<', html)
    assert html.count("建议：") == 1

    # community B has no such history: nothing is ticked for its lamps
    other = _need(
        nw, text="路灯不亮", place=nw.household_place_b, category_code="lighting", actor=nw.users["grid_worker_b"]
    )
    html = _as(nw, "grid_worker_b").get(f"/needs/{other.pk}/").content.decode()
    assert _checked(html) == [] and "建议：" not in html

    # once the power company works on the need, it is marked but no longer ticked
    need_whistle(actor=nw.users["grid_worker"], need=need, departments=[nw.power])
    html = _as(nw, "grid_worker").get(f"/needs/{need.pk}/").content.decode()
    assert _checked(html) == [] and "建议：本社区同类常派" in html


# --- the dispatch lists' filters -------------------------------------------------------------------------


def test_the_dispatch_lists_to_check_in_and_overdue(nw: Any) -> None:
    long_ago = timezone.now() - dt.timedelta(days=20)
    late = _need(nw, text="水管漏水很久了", now=long_ago)
    [late_dispatch] = need_whistle(actor=nw.users["grid_worker"], need=late, departments=[nw.department], now=long_ago)
    fresh = _need(nw, text="家里停水了")
    [fresh_dispatch] = need_whistle(actor=nw.users["grid_worker"], need=fresh, departments=[nw.department])
    worked = _need(nw, text="水压太低", now=long_ago)
    [worked_dispatch] = need_whistle(
        actor=nw.users["grid_worker"], need=worked, departments=[nw.department], now=long_ago
    )
    dispatch_checkin(actor=nw.users["department_liaison"], dispatch=worked_dispatch, now=long_ago)
    liaison = _as(nw, "department_liaison")

    def listed(show: str) -> set[int]:
        html = liaison.get(f"/needs/dispatches/?show={show}").content.decode()
        return {int(pk) for pk in re.findall(r'href="/needs/dispatches/(\d+)/" class="job-link"', html)}

    assert listed("checkin") == {late_dispatch.pk, fresh_dispatch.pk}
    assert listed("overdue") == {late_dispatch.pk, worked_dispatch.pk}
    assert listed("active") == listed("all") == {late_dispatch.pk, fresh_dispatch.pk, worked_dispatch.pk}
    assert listed("nonsense") == listed("active")  # junk is the default list, not an error
    assert Need.objects.filter(status=Status.WHISTLED).count() == 3
