"""A gas smell, a fire or a person in danger: the reporter is shown what to do at once and the
numbers to call, on the report form as they type and on the need's page once it is sent."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from linli.needs.catalogue import catalogue_load_defaults
from linli.needs.emergency import emergency_for
from linli.needs.models import Category, Need, Urgency
from linli.needs.selectors import category_list
from linli.needs.services import need_create, need_resolve
from linli.testing import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(nw: Any) -> Any:
    catalogue_load_defaults()
    return nw


def _advice(html: str) -> str | None:
    found = re.search(r'data-emergency="(\w+)"', html)
    return found.group(1) if found else None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("楼道里一股很浓的煤气味，不知道谁家漏气了", "gas"),
        ("樓道裡一股很濃的煤氣味", "gas"),  # as typed in traditional characters
        ("楼下厨房着火了，好多烟", "fire"),
        ("配电房冒烟，有股焦糊味", "fire"),
        ("隔壁老人晕倒在楼梯上，喊不醒", "danger"),
        ("有人在楼下拿刀吓唬人", "danger"),
        ("厨房燃气灶打不着火", None),  # a gas need, but nobody is in danger
        ("小区门口那几盏路灯坏了", None),
    ],
)
def test_the_catalogue_says_which_texts_are_emergencies(catalogue: Any, text: str, kind: str | None) -> None:
    found = emergency_for(text, category_list())
    assert (found.advice.kind if found else None) == kind


def test_a_special_urgency_need_of_a_category_with_advice_gets_it_without_the_words(catalogue: Any) -> None:
    gas = Category.objects.get(code="gas", city=None)
    assert emergency_for("燃气表不走字", [], category=gas) is None
    assert emergency_for("燃气表不走字", [], category=gas, urgency=Urgency.EMERGENCY).advice.kind == "gas"


def test_the_reporter_sees_the_advice_and_the_numbers_on_the_need_page(client: Client, catalogue: Any) -> None:
    sign_in(client, catalogue.users["resident"])
    response = client.post(
        "/needs/new/", {"text": "楼道里一股很浓的煤气味，快来人看看", "urgency": "emergency", "submission": "s1"}
    )
    need = Need.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert _advice(page) == "gas" and page.index('id="emergency-advice"') < page.index('id="need-text"')
    assert "不要开关电灯和电器" in page and 'href="tel:119"' in page
    assert "燃气公司24小时抢修电话印在燃气表" in page  # the default catalogue has no repair line
    # a city's catalogue that gives the repair line shows it as a number to call
    Category.objects.filter(code="gas").update(emergency_phone="95598")
    assert 'href="tel:95598"' in client.get(f"/needs/{need.pk}/").content.decode()
    # staff handling it are not told to leave the building
    sign_in(client, catalogue.users["grid_worker"])
    assert _advice(client.get(f"/needs/{need.pk}/").content.decode()) is None
    # once it is resolved, the advice is gone
    need_resolve(actor=catalogue.users["grid_worker"], need=need, result="燃气公司已关阀检修")
    sign_in(client, catalogue.users["resident"])
    assert _advice(client.get(f"/needs/{need.pk}/").content.decode()) is None


def test_the_report_form_shows_the_advice_as_the_text_is_typed(client: Client, catalogue: Any) -> None:
    sign_in(client, catalogue.users["resident"])
    form = client.get("/needs/new/").content.decode()
    assert 'id="emergency-advice"' in form and 'hx-get="/needs/new/emergency/"' in form
    assert 'hx-include="#need-text"' in form
    fire = client.get("/needs/new/emergency/", {"text": "楼下厨房着火了"}, HTTP_HX_REQUEST="true")
    html = fire.content.decode()
    assert fire.status_code == 200 and _advice(html) == "fire"
    assert 'href="tel:119"' in html and 'href="tel:120"' in html and "不要乘电梯" in html
    assert 'hx-get="/needs/new/emergency/"' in html  # the swapped-in element keeps following the text
    calm = client.get("/needs/new/emergency/", {"text": "路灯坏了"}).content.decode()
    assert _advice(calm) is None and 'id="emergency-advice"' in calm
    assert client.get("/needs/new/emergency/", {"text": "x" * 5000}).status_code == 200
    client.logout()
    assert client.get("/needs/new/emergency/", {"text": "着火了"}).status_code == 302


def test_an_ordinary_need_shows_no_advice(client: Client, catalogue: Any) -> None:
    need = need_create(
        actor=catalogue.users["resident"], text="小区门口那几盏路灯坏了", place=catalogue.household_place_a
    )
    sign_in(client, catalogue.users["resident"])
    assert _advice(client.get(f"/needs/{need.pk}/").content.decode()) is None
