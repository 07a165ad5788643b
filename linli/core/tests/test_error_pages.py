"""Every refused page is the site's own: its layout and large type, the reader's language,
what happened, and the way back (the page one came from, if it was ours, and home)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from linli.testing import sign_in

pytestmark = pytest.mark.django_db


def _page(response: Any) -> str:
    text = response.content.decode()
    assert '<meta name="viewport"' in text and 'href="/"' in text, text[:500]
    assert "Not Found" not in text and "Forbidden" not in text and "Method Not Allowed" not in text
    return text


def _title(text: str) -> str:
    found = re.search(r"<h1>(.*?)</h1>", text, re.S)
    assert found, text[:500]
    return found.group(1).strip()


def test_a_missing_page_is_the_sites_own_in_the_readers_language(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert _title(_page(response)) == "找不到该页面"
    english = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 404 and _title(_page(english)) == "Page not found"
    # Open311 and the API keep their own formats
    [error] = client.get("/open311/v2/services/no-such-service.json").json()
    assert error["code"] in (401, 404) and error["description"]
    assert client.get("/api/no-such-thing/").status_code == 404


def test_a_refusal_says_why_and_leads_back_where_one_came_from(client: Client, nw: Any) -> None:
    sign_in(client, nw.users["resident"])
    response = client.get("/needs/queue/", HTTP_REFERER="http://testserver/needs/mine/")
    assert response.status_code == 403
    text = _page(response)
    assert _title(text) == "没有权限" and "您的角色没有诉求工作台" in text
    assert re.search(r'<a [^>]*href="http://testserver/needs/mine/"[^>]*id="error-back"', text)
    # another site's address is never offered as the way back
    elsewhere = client.get("/needs/queue/", HTTP_REFERER="https://evil.example/phish")
    assert "evil.example" not in elsewhere.content.decode() and 'id="error-back"' not in elsewhere.content.decode()


def test_a_page_opened_the_wrong_way_is_a_page_not_a_blank(client: Client, nw: Any) -> None:
    sign_in(client, nw.users["resident"])
    response = client.get("/needs/1/accept/")  # the steps of a need are buttons (POST)
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert _title(_page(response)) == "不能这样打开"


def test_an_expired_form_says_so(nw: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    sign_in(client, nw.users["resident"])
    response = client.post("/needs/new/", {"text": "楼道灯坏了"})
    assert response.status_code == 403
    text = _page(response)
    assert _title(text) == "页面已过期" and "刷新页面后再提交" in text and "CSRF verification" not in text
