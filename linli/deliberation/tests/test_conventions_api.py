"""The secretary's actions on resident conventions in the API: drafting, editing articles,
opening comments, putting to a vote, publishing and entering a paper signature. Each works for
the secretary, is refused for a resident (403) and another community's staff (404), answers bad
input with a 400 that says why, and matches the OpenAPI schema."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from linli.deliberation.models import Convention, ConventionVersion, SignatureChannel, VersionStatus
from linli.deliberation.tests.test_conventions import close_vote
from linli.testing import sign_in
from tests.schema import assert_matches_schema

pytestmark = pytest.mark.django_db


def api(user: Any) -> APIClient:
    client = APIClient()
    sign_in(client, user)
    return client


def _post(client: APIClient, url: str, body: dict[str, Any] | None = None, **headers: Any) -> Any:
    return client.post(url, body or {}, format="json", **headers)


@pytest.fixture
def cw(world: Any) -> Any:
    world.sec = api(world.users["secretary"])
    world.res = api(world.users["resident"])
    world.other = api(world.users["secretary_b"])
    return world


def _create(w: Any, **extra: Any) -> Any:
    headers = {k: extra.pop(k) for k in list(extra) if k.startswith("HTTP_")}
    body = {"place": w.community_a.code, "title": "常二社区居民公约", "articles": ["爱护环境。", "文明养犬。"]}
    return _post(w.sec, "/api/conventions/", {**body, **extra}, **headers)


def test_the_secretary_drafts_edits_puts_to_a_vote_publishes_and_enters_paper(cw: Any) -> None:
    response = _create(cw)
    assert response.status_code == 201, response.json()
    assert_matches_schema("POST", "/api/conventions/", 201, response.json())
    convention = Convention.objects.get(pk=response.json()["id"])
    base = f"/api/conventions/{convention.pk}"
    [version] = response.json()["versions"]
    assert (version["status"], [a["text"] for a in version["articles"]]) == ("draft", ["爱护环境。", "文明养犬。"])

    response = _post(cw.sec, f"{base}/articles/", {"text": "邻里和睦。", "number": 1})
    assert response.status_code == 201, response.json()
    assert_matches_schema("POST", f"{base}/articles/", 201, response.json())
    added = response.json()["id"]
    url = f"{base}/articles/{added}/"
    response = _post(cw.sec, url, {"action": "save", "text": "邻里和睦，互相帮助。"})
    assert response.status_code == 200, response.json()
    assert_matches_schema("POST", url, 200, response.json())
    response = _post(cw.sec, url, {"action": "move", "number": 3})
    assert [a["text"] for a in sorted(response.json()["articles"], key=lambda a: a["number"])] == [
        "爱护环境。",
        "文明养犬。",
        "邻里和睦，互相帮助。",
    ]
    response = _post(cw.sec, url, {"action": "remove"})
    assert response.status_code == 200 and len(response.json()["articles"]) == 2

    until = timezone.now() + dt.timedelta(days=3)
    response = _post(cw.sec, f"{base}/comments-open/", {"until": until.isoformat()})
    assert response.status_code == 200, response.json()
    assert_matches_schema("POST", f"{base}/comments-open/", 200, response.json())
    assert response.json()["comments_open"] is True
    refused = _post(cw.sec, f"{base}/vote/", {})
    assert refused.status_code == 400 and "征求意见尚未截止" in str(refused.json())
    # the comment period ends
    ConventionVersion.objects.filter(convention=convention).update(comments_until=timezone.now())

    response = _post(cw.sec, f"{base}/vote/", {"electorate": "households", "rule": "majority"})
    assert response.status_code == 200, response.json()
    assert_matches_schema("POST", f"{base}/vote/", 200, response.json())
    assert response.json()["status"] == VersionStatus.VOTING
    version_obj = convention.versions.get()
    assert version_obj.vote is not None
    close_vote(version_obj.vote, passed=True)

    response = _post(cw.sec, f"{base}/publish/")
    assert response.status_code == 200, response.json()
    assert_matches_schema("POST", f"{base}/publish/", 200, response.json())
    assert response.json()["published_at"] is not None

    body = {"household": cw.household_a.pk, "signer": cw.resident_a.pk}
    response = _post(cw.sec, f"{base}/paper-signature/", body, HTTP_IDEMPOTENCY_KEY="paper-1")
    assert response.status_code == 201, response.json()
    assert_matches_schema("POST", f"{base}/paper-signature/", 201, response.json())
    assert response.json()["signed_via"] == SignatureChannel.PAPER
    again = _post(cw.sec, f"{base}/paper-signature/", body, HTTP_IDEMPOTENCY_KEY="paper-1")
    assert again.json() == response.json()

    response = _post(cw.sec, f"{base}/versions/", {"note": "修订"})
    assert response.status_code == 201, response.json()
    assert_matches_schema("POST", f"{base}/versions/", 201, response.json())
    assert (response.json()["number"], response.json()["status"]) == (2, "draft")


def test_a_resident_and_another_communitys_staff_are_refused(cw: Any) -> None:
    convention = Convention.objects.get(pk=_create(cw).json()["id"])
    article = convention.versions.get().articles.first()
    assert article is not None
    base = f"/api/conventions/{convention.pk}"
    body = {"place": cw.community_a.code, "title": "x", "articles": ["y"]}
    assert _post(cw.res, "/api/conventions/", body).status_code == 404
    assert _post(cw.other, "/api/conventions/", body).status_code == 404
    for url, payload in [
        (f"{base}/versions/", {}),
        (f"{base}/articles/", {"text": "新条"}),
        (f"{base}/articles/{article.pk}/", {"action": "remove"}),
        (f"{base}/comments-open/", {"until": (timezone.now() + dt.timedelta(days=1)).isoformat()}),
        (f"{base}/vote/", {}),
        (f"{base}/publish/", {}),
        (f"{base}/paper-signature/", {"household": cw.household_a.pk, "signer": cw.resident_a.pk}),
    ]:
        # a draft is not readable by the resident nor by the other community: 404
        assert _post(cw.res, url, payload).status_code == 404, url
        assert _post(cw.other, url, payload).status_code == 404, url
    assert convention.versions.get().articles.count() == 2


def test_bad_input_is_a_400_with_a_message(cw: Any) -> None:
    response = _create(cw, articles=[])
    assert response.status_code == 400 and "请至少写一条" in str(response.json())
    response = _post(cw.sec, "/api/conventions/", {"title": "x", "articles": ["y"]})
    assert response.status_code == 400 and "请选择地点" in str(response.json())
    convention = Convention.objects.get(pk=_create(cw).json()["id"])
    base = f"/api/conventions/{convention.pk}"
    article = convention.versions.get().articles.first()
    assert article is not None
    response = _post(cw.sec, f"{base}/articles/", {"text": "新条", "number": 9})
    assert response.status_code == 400 and "条号应在1到3之间" in str(response.json())
    response = _post(cw.sec, f"{base}/articles/{article.pk}/", {"action": "move"})
    assert response.status_code == 400 and "请选择条号" in str(response.json())
    response = _post(cw.sec, f"{base}/comments-open/", {"until": (timezone.now() - dt.timedelta(days=1)).isoformat()})
    assert response.status_code == 400 and "截止时间应晚于现在" in str(response.json())
    response = _post(cw.sec, f"{base}/publish/")
    assert response.status_code == 400 and "只有表决通过的版本可以公布" in str(response.json())
    response = _post(cw.sec, f"{base}/versions/", {})
    assert response.status_code == 400 and "还是草稿" in str(response.json())
    response = _post(cw.sec, f"{base}/paper-signature/", {"household": cw.household_a.pk, "signer": cw.resident_a.pk})
    assert response.status_code == 400 and "只有已公布的现行公约可以签署" in str(response.json())


def test_a_resident_reading_a_published_convention_may_not_edit_it(cw: Any) -> None:
    from linli.deliberation.tests.test_conventions import adopt

    convention = Convention.objects.get(pk=_create(cw).json()["id"])
    adopt(cw, convention.versions.get())
    base = f"/api/conventions/{convention.pk}"
    assert _post(cw.res, f"{base}/versions/", {}).status_code == 403
    assert _post(cw.res, f"{base}/publish/").status_code == 403
    body = {"household": cw.household_a.pk, "signer": cw.resident_a.pk}
    assert _post(cw.res, f"{base}/paper-signature/", body).status_code == 403
    assert _post(cw.other, f"{base}/versions/", {}).status_code == 404


def test_a_retried_create_with_the_same_key_writes_once(cw: Any) -> None:
    first = _create(cw, HTTP_IDEMPOTENCY_KEY="conv-1")
    again = _create(cw, HTTP_IDEMPOTENCY_KEY="conv-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Convention.objects.filter(title="常二社区居民公约").count() == 1
