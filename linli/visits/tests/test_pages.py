"""The coverage and care pages through the Django test client: a carer's households, the
coverage of a place (by child, by carer, by building), a household's visits and carer, care
assignments and handovers, policies, night rounds and opinions heard; scoping (404 for the
other community), notes hidden from street officials, POSTs that refuse bad input with a
message, and query counts that do not grow with the number of households."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from linli.core.access import SYSTEM
from linli.people.services import household_create
from linli.testing import sign_in
from linli.visits import services
from linli.visits.models import CareAssignment, HouseholdCare, NightRound, Opinion, OpinionStatus, Visit, VisitPolicy
from linli.visits.services import visit_log

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)
NOTE = "老人说楼道灯坏了，儿子电话13912345678"


def _as(client: Client, vw: Any, who: str) -> Client:
    # staff accounts of the world have TOTP, so the MFA middleware lets them through
    sign_in(client, vw.users[who])
    return client


def _log(vw: Any, household: Any = None, *, user: str = "central_household", **kw: Any) -> Visit:
    now = timezone.now()
    kw.setdefault("kind", "knock")
    kw.setdefault("visited_at", now - H)
    return visit_log(actor=vw.users[user], household=household or vw.household_a, now=now, **kw)


def _html(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


def _statuses(html: str) -> list[str]:
    return re.findall(r'class="cell [a-z]+" href="/visits/households/\d+/"[^>]*data-status="([a-z_]+)"', html)


# --- my households ---------------------------------------------------------------------------------


def test_a_carer_sees_only_their_households(client: Client, vw: Any) -> None:
    page = _html(_as(client, vw, "central_household").get("/visits/"))
    assert f'href="/visits/households/{vw.household_a.pk}/"' in page
    assert f'href="/visits/households/{vw.household_b.pk}/"' not in page
    assert "从未走访" in page and "独居老人" in page  # never visited, vulnerable: first
    assert f"/visits/log/?household={vw.household_a.pk}" in page
    # the other carer role of the building has no households yet
    leader = _html(_as(Client(), vw, "building_leader").get("/visits/"))
    assert "您还没有包保的住户" in leader and "/visits/households/" not in leader
    # staff go to the coverage of their place; a resident has no visits to make
    staff = _as(Client(), vw, "grid_worker").get("/visits/")
    assert staff.status_code == 302 and staff["Location"] == f"/visits/coverage/{vw.grid_a.code}/"
    assert _as(Client(), vw, "resident").get("/visits/").status_code == 403


def test_home_shows_the_visits_tile_to_those_who_use_it(client: Client, vw: Any) -> None:
    for who, shown in (("central_household", True), ("grid_worker", True), ("street_official", True)):
        assert ('id="visits-link"' in _html(_as(Client(), vw, who).get("/"))) is shown, who
    for who in ("resident", "volunteer"):
        assert 'id="visits-link"' not in _html(_as(Client(), vw, who).get("/")), who
    household = _html(_as(client, vw, "grid_worker").get(f"/households/{vw.household_a.pk}/"))
    assert f'href="/visits/households/{vw.household_a.pk}/"' in household
    leader = _html(_as(Client(), vw, "building_leader").get(f"/households/{vw.household_a.pk}/"))
    assert 'id="household-visits"' not in leader


# --- coverage ------------------------------------------------------------------------------------


def test_coverage_of_a_community_by_grid_carer_and_building(client: Client, vw: Any) -> None:
    second = household_create(actor=SYSTEM, building=vw.building_a, code="t-a-g1-b1-102", name="1单元102")
    _as(client, vw, "community_staff")
    page = _html(client.get(f"/visits/coverage/{vw.community_a.code}/"))
    assert f'data-code="{vw.grid_a.code}"' in page  # the drill-down to the grid
    assert f'href="/visits/coverage/{vw.grid_a.code}/?days=30"' in page
    assert f'data-carer="{vw.carer.pk}"' in page and "未安排包保人" in page  # 102 has no carer
    assert page.index(f"/visits/households/{vw.household_a.pk}/") < page.index(f"/visits/households/{second.pk}/")
    # a visit makes household_a green: it leaves the list of households to visit
    _log(vw)
    page = _html(client.get(f"/visits/coverage/{vw.community_a.code}/"))
    assert f'href="/visits/households/{vw.household_a.pk}/"' not in page.split('id="households"')[1].split("</ul>")[0]
    assert f'href="/visits/households/{second.pk}/"' in page
    ok = _html(client.get(f"/visits/coverage/{vw.community_a.code}/?status=ok"))
    assert f'href="/visits/households/{vw.household_a.pk}/"' in ok.split('id="households"')[1]
    # the building view: one cell per household, coloured by status
    buildings = _html(client.get(f"/visits/coverage/{vw.grid_a.code}/?view=buildings&days=7"))
    assert sorted(_statuses(buildings)) == ["never", "ok"]
    # periods other than 7/30/90, junk lists and pages fall back, never an error
    junk = _html(client.get(f"/visits/coverage/{vw.community_a.code}/?days=-5&status=nope&page=x&view=zzz"))
    assert "近30天覆盖率" in junk
    # the street sees its communities
    street = _html(_as(Client(), vw, "street_official").get(f"/visits/coverage/{vw.street.code}/"))
    assert f'data-code="{vw.community_a.code}"' in street and f'data-code="{vw.community_b.code}"' in street
    # a household place goes to the household page
    to_household = client.get(f"/visits/coverage/{vw.household_place_a.code}/")
    assert to_household.status_code == 302 and to_household["Location"] == f"/visits/households/{vw.household_a.pk}/"


def test_coverage_is_404_outside_the_actors_places(vw: Any) -> None:
    for who in ("grid_worker_b", "secretary_b"):
        client = _as(Client(), vw, who)
        for code in (vw.community_a.code, vw.grid_a.code):
            for page in ("coverage", "care", "nights", "policies", "opinions"):
                assert client.get(f"/visits/{page}/{code}/").status_code == 404, (who, page, code)
    carer = _as(Client(), vw, "central_household")
    assert carer.get(f"/visits/coverage/{vw.grid_a.code}/").status_code == 404
    assert carer.get("/visits/coverage/no-such-place/").status_code == 404


def test_street_official_sees_coverage_but_not_visit_notes(vw: Any) -> None:
    _log(vw, heard=NOTE, tags=["opinion_heard"])
    street = _as(Client(), vw, "street_official")
    assert "1单元101" in _html(street.get(f"/visits/coverage/{vw.community_a.code}/?status=all"))
    page = _html(street.get(f"/visits/households/{vw.household_a.pk}/"))
    assert 'data-status="ok"' in page and "老人说楼道灯坏了" not in page
    assert "独居老人" not in page  # no view_sensitive
    assert street.get(f"/visits/opinions/{vw.community_a.code}/").status_code == 404
    # the grid worker and the carer read the note, its phone number masked (the leak guard checks)
    for who in ("grid_worker", "central_household"):
        page = _html(_as(Client(), vw, who).get(f"/visits/households/{vw.household_a.pk}/"))
        assert "老人说楼道灯坏了" in page and "139****5678" in page, who


# --- one household -----------------------------------------------------------------------------------


def test_household_page_is_for_its_carer_and_the_staff_of_its_place(vw: Any) -> None:
    carer = _as(Client(), vw, "central_household")
    page = _html(carer.get(f"/visits/households/{vw.household_a.pk}/"))
    assert 'data-status="never"' in page and "每7天" in page  # elderly living alone: weekly
    assert 'id="assign-form"' not in page  # a carer does not assign
    assert carer.get(f"/visits/households/{vw.household_b.pk}/").status_code == 404
    for who in ("building_leader", "volunteer", "resident", "grid_worker_b", "secretary_b"):
        assert _as(Client(), vw, who).get(f"/visits/households/{vw.household_a.pk}/").status_code == 404, who
    assert _as(Client(), vw, "grid_worker").get("/visits/households/999999/").status_code == 404


def test_out_by_day_and_assigning_a_carer(client: Client, vw: Any) -> None:
    _as(client, vw, "grid_worker")
    url = f"/visits/households/{vw.household_a.pk}/"
    assert 'id="assign-form"' in _html(client.get(url))
    response = client.post(url + "out-by-day/", {"out_by_day": "1"})
    assert response.status_code == 302 and response["Location"] == url
    assert HouseholdCare.objects.get(household=vw.household_a).out_by_day
    assert "需夜访" in _html(client.get(url))
    leader = vw.users["building_leader"].person
    response = client.post(url + "assign/", {"carer": leader.pk, "reason": "就近"})
    assert response.status_code == 302
    active = CareAssignment.objects.get(household=vw.household_a, ended_at__isnull=True)
    assert active.carer == leader and CareAssignment.objects.filter(household=vw.household_a).count() == 2
    # not a carer of this grid, or junk: a message, nothing changed
    for bad in ({"carer": vw.resident_a.pk}, {"carer": "x"}, {}):
        page = _html(client.post(url + "assign/", bad, follow=True))
        assert "请选择本网格的党员中心户或楼栋长" in page
    assert CareAssignment.objects.get(household=vw.household_a, ended_at__isnull=True).carer == leader
    # a street official sees the household but may not change it; another community: 404
    assert _as(Client(), vw, "street_official").post(url + "out-by-day/", {"out_by_day": "0"}).status_code == 403
    assert _as(Client(), vw, "grid_worker_b").post(url + "assign/", {"carer": leader.pk}).status_code == 404
    # the new carer sees the household but does not manage care; the former one no longer sees it
    assert _as(Client(), vw, "building_leader").post(url + "out-by-day/", {"out_by_day": "0"}).status_code == 403
    assert _as(Client(), vw, "central_household").post(url + "out-by-day/", {"out_by_day": "0"}).status_code == 404
    assert HouseholdCare.objects.get(household=vw.household_a).out_by_day


# --- care assignments ---------------------------------------------------------------------------


def test_care_page_ends_and_hands_over(client: Client, vw: Any) -> None:
    _as(client, vw, "grid_worker")
    second = household_create(actor=SYSTEM, building=vw.building_a, code="t-a-g1-b1-102", name="1单元102")
    services.care_assign(actor=vw.users["grid_worker"], household=second, carer=vw.carer)
    page = _html(client.get(f"/visits/care/{vw.grid_a.code}/"))
    assert f'data-carer="{vw.carer.pk}"' in page and "1单元102" in page and 'id="handover-form"' in page
    leader = vw.users["building_leader"].person
    # bad input: a message, nothing moves
    for bad in ({"carer": "", "to": leader.pk}, {"carer": vw.carer.pk, "to": vw.resident_a.pk}):
        follow = client.post(f"/visits/care/{vw.grid_a.code}/handover/", bad, follow=True)
        assert follow.status_code == 200 and "请选择" in follow.content.decode()
    assert CareAssignment.objects.filter(carer=vw.carer, ended_at__isnull=True).count() == 2
    response = client.post(
        f"/visits/care/{vw.grid_a.code}/handover/", {"carer": vw.carer.pk, "to": leader.pk, "reason": "搬家"}
    )
    assert response.status_code == 302 and response["Location"] == f"/visits/care/{vw.grid_a.code}/"
    assert CareAssignment.objects.filter(carer=leader, ended_at__isnull=True).count() == 2
    assert not CareAssignment.objects.filter(carer=vw.carer, ended_at__isnull=True).exists()
    # end one assignment; the other community cannot even find it
    active = CareAssignment.objects.get(household=second, ended_at__isnull=True)
    assert _as(Client(), vw, "grid_worker_b").post(f"/visits/care/a/{active.pk}/end/").status_code == 404
    response = client.post(f"/visits/care/a/{active.pk}/end/", {"reason": "退出", "next": "//evil.example/"})
    assert response.status_code == 302 and response["Location"] == f"/visits/households/{second.pk}/"
    assert CareAssignment.objects.get(pk=active.pk).ended_at is not None
    # the carer filter; the street official reads the page without the forms
    assert "1单元101" in _html(client.get(f"/visits/care/{vw.grid_a.code}/?carer={leader.pk}"))
    street = _html(_as(Client(), vw, "street_official").get(f"/visits/care/{vw.community_a.code}/"))
    assert "1单元101" in street and 'id="handover-form"' not in street


def test_care_assignments_round_trip_through_a_spreadsheet(client: Client, vw: Any) -> None:
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from openpyxl import load_workbook

    from linli.core.models import AuditEntry

    _as(client, vw, "grid_worker")
    second = household_create(actor=SYSTEM, building=vw.building_a, code="t-a-g1-b1-102", name="1单元102")
    leader = vw.users["building_leader"].person
    exported = client.get(f"/visits/care/{vw.grid_a.code}/export.xlsx")
    assert exported.status_code == 200 and exported["Content-Type"].startswith("application/vnd.openxml")
    rows = list(load_workbook(io.BytesIO(exported.content)).active.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][0] == vw.household_a.place.code
    assert AuditEntry.objects.filter(action="export", place=vw.grid_a).exists()

    def upload(body: str) -> str:
        file = SimpleUploadedFile("care.csv", body.encode(), content_type="text/csv")
        follow = client.post(f"/visits/care/{vw.grid_a.code}/import/", {"file": file}, follow=True)
        assert follow.status_code == 200
        return follow.content.decode()

    # one bad row: its message, and nothing written for the good one either
    page = upload(f"住户编码,包保人编号\n{second.place.code},{leader.pk}\nno-such-household,{leader.pk}\n")
    assert "第 3 行" in page and not CareAssignment.objects.filter(household=second).exists()
    page = upload(f"住户编码,包保人编号\n{second.place.code},{leader.pk}\n{vw.household_a.place.code},{leader.pk}\n")
    assert "已导入" in page
    assert CareAssignment.objects.get(household=second, ended_at__isnull=True).carer == leader
    assert CareAssignment.objects.get(household=vw.household_a, ended_at__isnull=True).carer == leader
    assert "请选择" in _html(client.post(f"/visits/care/{vw.grid_a.code}/import/", follow=True))
    # reading is not managing: the street official exports but may not import
    street = _as(Client(), vw, "street_official")
    assert street.get(f"/visits/care/{vw.community_a.code}/export.xlsx").status_code == 200
    file = SimpleUploadedFile("care.csv", b"x", content_type="text/csv")
    assert street.post(f"/visits/care/{vw.community_a.code}/import/", {"file": file}).status_code == 403


# --- policies ------------------------------------------------------------------------------------


def test_the_secretary_sets_policies_others_read_them(client: Client, vw: Any) -> None:
    _as(client, vw, "secretary")
    page = _html(client.get(f"/visits/policies/{vw.community_a.code}/"))
    assert "沿用默认频次" in page and 'class="policy-form"' in page
    url = f"/visits/policies/{vw.community_a.code}/set/"
    response = client.post(url, {"target": "elderly_alone", "interval_days": "3"})
    assert response.status_code == 302 and response["Location"] == f"/visits/policies/{vw.community_a.code}/"
    assert VisitPolicy.objects.get(community=vw.community_a, target="elderly_alone").interval_days == 3
    for bad, message in (
        ({"target": "elderly_alone", "interval_days": "abc"}, "请输入天数"),
        ({"target": "elderly_alone", "interval_days": "0"}, "间隔须在1到366天之间"),
        ({"target": "aliens", "interval_days": "7"}, "未知的住户类别"),
    ):
        assert message in _html(client.post(url, bad, follow=True))
    assert VisitPolicy.objects.get(community=vw.community_a, target="elderly_alone").interval_days == 3
    # the coverage follows: weekly became every 3 days
    assert "每3天" in _html(client.get(f"/visits/households/{vw.household_a.pk}/"))
    # from a grid: the community's policies; the grid worker reads them but may not change them
    worker = _as(Client(), vw, "grid_worker")
    page = _html(worker.get(f"/visits/policies/{vw.grid_a.code}/"))
    assert "本社区自定的走访频次" in page and 'class="policy-form"' not in page
    grid_url = f"/visits/policies/{vw.grid_a.code}/set/"
    assert worker.post(grid_url, {"target": "everyone", "interval_days": "5"}).status_code == 403
    assert worker.post(url, {"target": "everyone", "interval_days": "5"}).status_code == 404  # not its place
    # above a community: the communities to choose from
    street = _html(_as(Client(), vw, "street_official").get(f"/visits/policies/{vw.street.code}/"))
    assert f'href="/visits/policies/{vw.community_a.code}/"' in street
    assert _as(Client(), vw, "secretary_b").post(url, {"target": "everyone", "interval_days": "5"}).status_code == 404


# --- night rounds --------------------------------------------------------------------------------


def test_scheduling_a_night_round_and_seeing_who_was_met(client: Client, vw: Any) -> None:
    services.household_care_set(actor=vw.users["grid_worker"], household=vw.household_a, out_by_day=True)
    _as(client, vw, "grid_worker")
    page = _html(client.get(f"/visits/nights/{vw.grid_a.code}/"))
    assert f'name="member" value="{vw.carer.pk}"' in page
    url = f"/visits/nights/{vw.grid_a.code}/new/"
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    for bad, message in (
        ({"date": "junk", "start": "19:00", "end": "21:00", "member": vw.carer.pk}, "请填写日期"),
        ({"date": tomorrow, "start": "19:00", "end": "21:00"}, "请选择夜访小组成员"),
        ({"date": tomorrow, "start": "19:00", "end": "21:00", "member": vw.resident_b.pk}, "请选择夜访小组成员"),
    ):
        assert message in _html(client.post(url, bad, follow=True))
    assert not NightRound.objects.exists()
    response = client.post(url, {"date": tomorrow, "start": "19:00", "end": "01:00", "member": vw.carer.pk})
    night = NightRound.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/visits/nights/r/{night.pk}/"
    assert night.ends_at - night.starts_at == 6 * H  # past midnight: the next day
    assert timezone.localtime(night.starts_at).strftime("%H:%M") == "19:00"
    page = _html(client.get(response["Location"]))
    assert f'href="/visits/households/{vw.household_a.pk}/" data-visited="0"' in page
    # a round under way: the night visit logged during it counts for it
    now = timezone.now()
    current = services.night_round_create(
        actor=vw.users["grid_worker"], place=vw.grid_a, starts_at=now - 2 * H, ends_at=now + H, members=[vw.carer]
    )
    _log(vw, kind="night", heard="晚上在家，一切都好")
    for who, notes in (("grid_worker", True), ("street_official", False)):
        page = _html(_as(Client(), vw, who).get(f"/visits/nights/r/{current.pk}/"))
        assert f'href="/visits/households/{vw.household_a.pk}/" data-visited="1"' in page, who
        assert ("晚上在家" in page) is notes, who
    listed = _html(client.get(f"/visits/nights/{vw.grid_a.code}/"))
    assert "已访 1 / 计划 1" in listed and "已访 0 / 计划 1" in listed
    # the other community: not found; a street official may not schedule
    assert _as(Client(), vw, "grid_worker_b").get(f"/visits/nights/r/{current.pk}/").status_code == 404
    assert _as(Client(), vw, "street_official").post(url, {"date": tomorrow}).status_code == 403


# --- opinions heard ------------------------------------------------------------------------------


def test_the_secretary_turns_an_opinion_into_a_topic(client: Client, vw: Any) -> None:
    _log(vw, heard="希望小区多装几盏路灯", tags=["opinion_heard"])
    opinion = Opinion.objects.get()
    _as(client, vw, "secretary")
    page = _html(client.get(f"/visits/opinions/{vw.community_a.code}/"))
    assert "希望小区多装几盏路灯" in page and f'action="/visits/opinions/o/{opinion.pk}/"' in page
    url = f"/visits/opinions/o/{opinion.pk}/"
    assert "未知的状态" in _html(client.post(url, {"status": "maybe"}, follow=True))
    response = client.post(
        url, {"status": "topic", "note": "下次议事会讨论", "next": "/visits/opinions/t-a/?status=open"}
    )
    assert response.status_code == 302 and response["Location"] == "/visits/opinions/t-a/?status=open"
    assert Opinion.objects.get().status == OpinionStatus.TOPIC
    assert "希望小区" not in _html(client.get(f"/visits/opinions/{vw.community_a.code}/?status=open"))
    assert "希望小区" in _html(client.get(f"/visits/opinions/{vw.community_a.code}/?status=topic&page=9"))
    # the grid worker reads but does not decide; other places: not found
    worker = _as(Client(), vw, "grid_worker")
    assert f'action="{url}"' not in _html(worker.get(f"/visits/opinions/{vw.grid_a.code}/"))
    assert worker.post(url, {"status": "closed"}).status_code == 403
    assert _as(Client(), vw, "secretary_b").post(url, {"status": "closed"}).status_code == 404
    assert Opinion.objects.get().status == OpinionStatus.TOPIC


@pytest.mark.parametrize("lang", ["zh-hant", "en"])
def test_pages_render_in_other_languages(client: Client, vw: Any, lang: str) -> None:
    client.cookies["linli_lang"] = lang
    _as(client, vw, "secretary")
    for url in (
        f"/visits/coverage/{vw.community_a.code}/",
        f"/visits/coverage/{vw.community_a.code}/?view=buildings",
        f"/visits/households/{vw.household_a.pk}/",
        f"/visits/care/{vw.community_a.code}/",
        f"/visits/policies/{vw.community_a.code}/",
        f"/visits/nights/{vw.community_a.code}/",
        f"/visits/opinions/{vw.community_a.code}/",
    ):
        assert f'lang="{lang}"' in _html(client.get(url)), url


# --- query counts --------------------------------------------------------------------------------


def _pages(vw: Any) -> list[tuple[str, str]]:
    return [
        ("central_household", "/visits/"),
        ("community_staff", f"/visits/coverage/{vw.community_a.code}/?status=all"),
        ("grid_worker", f"/visits/coverage/{vw.grid_a.code}/?view=buildings"),
        ("street_official", f"/visits/coverage/{vw.street.code}/"),
        ("grid_worker", f"/visits/care/{vw.grid_a.code}/"),
        ("grid_worker", f"/visits/households/{vw.household_a.pk}/"),
        ("grid_worker", f"/visits/nights/{vw.grid_a.code}/"),
        ("grid_worker", f"/visits/nights/r/{vw.night.pk}/"),
        ("secretary", f"/visits/opinions/{vw.community_a.code}/"),
        ("secretary", f"/visits/policies/{vw.community_a.code}/"),
    ]


def _counts(vw: Any) -> dict[str, int]:
    found = {}
    for who, url in _pages(vw):
        client = _as(Client(), vw, who)
        client.get(url)  # warm the session and the caches
        with CaptureQueriesContext(connection) as ctx:
            _html(client.get(url))
        found[url] = len(ctx.captured_queries)
    return found


def _add(vw: Any, n: int, start: int) -> None:
    """``n`` more households in building A, each with the carer, a visit, an opinion heard and
    a place on the night round."""
    now = timezone.now()
    for i in range(start, start + n):
        household = household_create(actor=SYSTEM, building=vw.building_a, code=f"t-a-g1-b1-{i}", name=f"2单元{i}")
        services.care_assign(actor=vw.users["grid_worker"], household=household, carer=vw.carer)
        services.household_care_set(actor=vw.users["grid_worker"], household=household, out_by_day=True)
        vw.night.households.add(household)
        visit_log(
            actor=vw.users["central_household"],
            household=household,
            kind="night",
            visited_at=now - H,
            heard=f"第{i}户反映楼道堆物",
            tags=["opinion_heard"],
            now=now,
        )


def test_list_pages_do_not_grow_with_the_number_of_households(vw: Any) -> None:
    now = timezone.now()
    vw.night = services.night_round_create(
        actor=vw.users["grid_worker"], place=vw.grid_a, starts_at=now - 3 * H, ends_at=now + H, members=[vw.carer]
    )
    _add(vw, 1, 200)
    one = _counts(vw)
    _add(vw, 19, 300)
    twenty = _counts(vw)
    assert twenty == one, {url: (one[url], twenty[url]) for url in one if one[url] != twenty[url]}
    assert max(one.values()) <= 25, one
