"""The doorstep page through the Django test client: picking the household, logging a visit
with a need and a photo, refusals shown on the page (never a 500), a double tap, the htmx
household search, and the query count of the page."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from linli.core.access import SYSTEM
from linli.needs.models import Channel, Need
from linli.people.services import household_create
from linli.testing import sign_in
from linli.visits.models import Visit, VisitKind
from linli.visits.services import care_assign, visit_log

pytestmark = pytest.mark.django_db

URL = "/visits/log/"


def signed_in(vw: Any, who: str) -> Client:
    # staff accounts of the world have TOTP, so the MFA middleware lets them through
    client = Client()
    sign_in(client, vw.users[who])
    return client


def client_key(html: str) -> str:
    return re.search(r'name="client_key" value="([0-9a-f]{32})"', html).group(1)  # type: ignore[union-attr]


def form(vw: Any, **extra: Any) -> dict[str, Any]:
    return {"household": vw.household_a.pk, "kind": "knock", **extra}


def test_the_carer_sees_its_households_and_their_members_masked(vw: Any) -> None:
    carer = signed_in(vw, "central_household")
    response = carer.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'name="household" value="{vw.household_a.pk}" checked' in html  # the only one: picked already
    assert f'value="{vw.household_b.pk}"' not in html
    assert "张** · 户主" in html and "张建国" not in html
    assert "visits-offline.js" in html and 'data-api="/api/visits/"' in html
    assert carer.get(URL, {"household": vw.household_a.pk}).status_code == 200
    # a household of another community: a message, not an error page, and it is not offered
    other = carer.get(URL, {"household": vw.household_b.pk})
    assert other.status_code == 200 and "找不到该住户" in other.content.decode()
    assert carer.get(URL, {"household": "junk"}).status_code == 200
    # the grid worker may unmask there, so sees the name
    assert "张建国 · 户主" in signed_in(vw, "grid_worker").get(URL).content.decode()


def test_roles_that_do_not_visit_get_a_403(vw: Any) -> None:
    for who in ("resident", "volunteer", "department_liaison"):
        assert signed_in(vw, who).get(URL).status_code == 403, who
        assert signed_in(vw, who).get("/visits/log/households/").status_code == 403, who
    assert Client().get(URL).status_code == 302  # to sign in


def test_the_carer_logs_a_visit_that_raises_a_need(vw: Any) -> None:
    carer = signed_in(vw, "central_household")
    key = client_key(carer.get(URL).content.decode())
    data = form(
        vw,
        kind="night",
        met_person=vw.resident_a.pk,
        heard="老人说楼道灯坏了好几天",
        needs_help="on",
        tags=["policy_explained", "opinion_heard"],
        policy_topic="医保缴费",
        raise_need="on",
        need_text="楼道灯坏了，老人晚上下楼不方便",
        visited_at="",
        client_key=key,
    )
    response = carer.post(URL, data)
    assert response.status_code == 302 and response["Location"] == URL
    visit = Visit.objects.get()
    assert visit.kind == VisitKind.NIGHT and visit.met_person == vw.resident_a and visit.needs_help
    assert visit.tags == ["policy_explained", "opinion_heard"] and visit.policy_topic == "医保缴费"
    assert visit.client_key == key
    need = Need.objects.get()
    assert visit.need == need and need.channel == Channel.VISIT and need.urgency == "urgent"
    page = carer.get(URL).content.decode()
    assert "已登记走访" in page and f"诉求编号 {need.pk}" in page and 'id="recent-visits"' in page
    # a double tap sends the same form again: the same visit
    assert carer.post(URL, data).status_code == 302
    assert Visit.objects.count() == 1 and Need.objects.count() == 1


def test_a_photo_is_kept(vw: Any) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buffer, format="JPEG")
    photo = SimpleUploadedFile("door.jpg", buffer.getvalue(), content_type="image/jpeg")
    response = signed_in(vw, "central_household").post(URL, form(vw, photo=photo))
    assert response.status_code == 302
    assert Visit.objects.get().photo.name.endswith(".jpg")
    bad = SimpleUploadedFile("door.jpg", b"not an image", content_type="image/jpeg")
    response = signed_in(vw, "central_household").post(URL, form(vw, kind="care", photo=bad), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "Not an image we can read" in response.content.decode()
    assert Visit.objects.count() == 1


def test_a_visit_outside_the_assignment_is_refused_on_the_page(vw: Any) -> None:
    leader = signed_in(vw, "building_leader")
    response = leader.post(URL, form(vw, heard="敲门"))
    html = response.content.decode()
    assert response.status_code == 403
    assert "该住户不在您的包保范围内" in html
    english = leader.post(URL, form(vw, heard="敲门"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "This household is not assigned to you" in english
    assert "敲门" in html  # what was typed is kept on the page
    gone = signed_in(vw, "grid_worker_b").post(URL, form(vw))
    assert gone.status_code == 404 and "找不到该住户" in gone.content.decode()
    assert not Visit.objects.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"household": ""}, "请选择住户"),
        ({"kind": "party"}, "请检查填写的内容"),
        ({"visited_at": "2099-01-01T10:00:00+08:00"}, "A visit cannot be in the future"),
        ({"visited_at": "not a time"}, "The visit time is not a valid time"),
        ({"not_at_home": "on", "refused": "on"}, "Choose either not at home or refused"),
        ({"raise_need": "on", "need_text": ""}, "Write down the need to raise"),
        ({"met_person": "999999"}, "This person is not a member of the household"),
        ({"tags": ["opinion_heard"]}, "Write down the opinion you heard"),
    ],
)
def test_bad_input_is_a_400_with_the_message(vw: Any, extra: dict[str, Any], message: str) -> None:
    language = "en" if message.isascii() else "zh-hans"
    response = signed_in(vw, "central_household").post(URL, form(vw, **extra), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Visit.objects.exists()


def test_the_same_kind_twice_in_half_an_hour_is_refused(vw: Any) -> None:
    carer = signed_in(vw, "central_household")
    assert carer.post(URL, form(vw)).status_code == 302
    again = carer.post(URL, form(vw), HTTP_ACCEPT_LANGUAGE="en")
    assert again.status_code == 400 and "already logged within 30 minutes" in again.content.decode()
    assert Visit.objects.count() == 1


def test_the_phone_clock_is_kept(vw: Any) -> None:
    from django.utils import timezone

    at = timezone.localtime().replace(microsecond=0) - timezone.timedelta(hours=5)
    assert signed_in(vw, "central_household").post(URL, form(vw, visited_at=at.isoformat())).status_code == 302
    assert Visit.objects.get().visited_at == at


def test_household_search(vw: Any) -> None:
    worker = signed_in(vw, "grid_worker")
    hit = worker.get("/visits/log/households/", {"q": "1栋"}, HTTP_HX_REQUEST="true")
    html = hit.content.decode()
    assert hit.status_code == 200 and f'value="{vw.household_a.pk}"' in html
    assert 'id="visit-met-person" hx-swap-oob="true"' in html  # the members follow the list
    miss = worker.get("/visits/log/households/", {"q": "99栋"}).content.decode()
    assert "没有找到符合的住户" in miss and 'name="household"' not in miss
    # without JavaScript the same search runs on the page
    assert "没有找到符合的住户" in worker.get(URL, {"q": "99栋"}).content.decode()
    room = worker.get(URL, {"q": "101"}).content.decode()
    assert f'value="{vw.household_a.pk}"' in room


def test_page_queries_do_not_grow_with_households_and_visits(vw: Any) -> None:
    worker = signed_in(vw, "grid_worker")

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert worker.get(URL).status_code == 200
        return len(ctx.captured_queries)

    visit_log(actor=vw.users["grid_worker"], household=vw.household_a, kind=VisitKind.KNOCK)
    few = queries()
    for n in range(2, 8):
        household = household_create(
            actor=SYSTEM, building=vw.building_a, code=f"t-a-g1-b1-{n}01", name=f"{n}单元101", floor_area=None
        )
        care_assign(actor=vw.users["grid_worker"], household=household, carer=vw.carer)
        visit_log(actor=vw.users["grid_worker"], household=household, kind=VisitKind.CARE)
    assert queries() == few


def queue_messages(html: str) -> dict[str, str]:
    """What the offline queue says, as the page hands it to the script."""
    found = re.search(r'<script id="visit-queue-messages" type="application/json">(.*?)</script>', html)
    assert found is not None
    return dict(json.loads(found.group(1)))


def test_a_logged_visit_is_confirmed_clearly_and_listed_at_once(vw: Any) -> None:
    """The confirmation is a success message (not faint grey text) in the reader's language,
    the same words whether the plain form or the offline queue sent the visit, and my latest
    visits list it: on the page the form returns to, and in the partial the queue swaps in."""
    carer = signed_in(vw, "central_household")
    page = carer.get(URL).content.decode()
    assert 'id="recent-visits-block" hx-get="/visits/log/recent/" hx-trigger="visit-logged from:body"' in page
    assert 'id="recent-visits"' not in page  # nothing logged yet, but the block is there to be swapped
    assert 'id="visit-sent" class="card message success" role="status"' in page
    assert queue_messages(page)["sent"] == "已登记走访：%(household)s"
    assert queue_messages(page)["sent_need"] == "；诉求编号 %(pk)s"

    response = carer.post(URL, form(vw, heard="老人在家，身体还好"), follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<div class="card message success" role="status">已登记走访：[^<]*1单元101</div>', html)
    recent = html[html.index('id="recent-visits"') :]
    assert "1单元101" in recent and "日常敲门" in recent

    partial = carer.get("/visits/log/recent/", HTTP_HX_REQUEST="true").content.decode()
    assert partial.startswith("<section") or partial.lstrip().startswith("<section")
    assert partial.count("<li>") == 1 and "1单元101" in partial
    assert signed_in(vw, "resident").get("/visits/log/recent/").status_code == 403

    english = carer.post(URL, form(vw, kind="care"), HTTP_ACCEPT_LANGUAGE="en", follow=True).content.decode()
    assert re.search(r'class="card message success" role="status">Visit logged: ', english)
    assert (
        queue_messages(carer.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode())["sent"]
        == "Visit logged: %(household)s"
    )
    refused = signed_in(vw, "building_leader").post(URL, form(vw, heard="敲门"), follow=True).content.decode()
    assert 'class="card message error" role="alert"' in refused
