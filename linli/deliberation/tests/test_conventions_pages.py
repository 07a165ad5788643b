"""The pages and API of resident conventions: a resident reads the text in force, signs it once for
the household, comments per article during the period and reads the diff; the secretary drafts,
opens comments, reads them per article, puts the version to a vote and publishes; staff enter a
paper signature; the printable page shows the share that signed. Names stay masked."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from linli.core.access import SYSTEM, Role
from linli.deliberation.models import ArticleComment, ConventionVersion, Signature, VersionStatus
from linli.deliberation.services import conventions as services
from linli.deliberation.tests.test_conventions import ARTICLES, add_member, adopt, close_vote, make_convention
from linli.people.services import household_create
from linli.testing import make_user, sign_in


def page(client: Any, name: str, **kwargs: Any) -> str:
    response = client.get(reverse(f"deliberation:{name}", kwargs=kwargs))
    assert response.status_code == 200, (name, response.status_code)
    return response.content.decode()


@pytest.mark.django_db
def test_the_secretary_drafts_edits_and_opens_comments_through_the_pages(client: Any, world: Any) -> None:
    sign_in(client, world.users["secretary"])
    assert "起草" in page(client, "conventions")
    response = client.post(
        reverse("deliberation:convention_create", kwargs={"code": world.community_a.code}),
        {"title": "常二社区居民公约", "articles": "\n".join(ARTICLES)},
    )
    version = ConventionVersion.objects.get()
    assert response["Location"] == reverse("deliberation:convention_edit", kwargs={"pk": version.pk})
    html = page(client, "convention_edit", pk=version.pk)
    assert ARTICLES[1] in html and "开始征求意见" in html
    client.post(
        reverse("deliberation:convention_article_add", kwargs={"pk": version.pk}),
        {"text": "楼道不堆放杂物。", "number": 1},
    )
    first = version.articles.get(number=1)
    assert first.text == "楼道不堆放杂物。"
    client.post(
        reverse("deliberation:convention_article_edit", kwargs={"pk": first.pk}), {"action": "move", "number": 4}
    )
    client.post(
        reverse("deliberation:convention_article_edit", kwargs={"pk": first.pk}),
        {"text": "楼道不堆放杂物，保持消防通道畅通。"},
    )
    first.refresh_from_db()
    assert (first.number, first.text) == (4, "楼道不堆放杂物，保持消防通道畅通。")
    # an empty text is a message on the page, not a 500
    response = client.post(
        reverse("deliberation:convention_article_edit", kwargs={"pk": first.pk}), {"text": "  "}, follow=True
    )
    assert "请填写内容" in response.content.decode()
    response = client.post(
        reverse("deliberation:convention_comments_open", kwargs={"pk": version.pk}),
        {"until": "2020-01-01T10:00"},
        follow=True,
    )
    assert "截止时间应晚于现在" in response.content.decode()
    until = timezone.localtime(timezone.now() + dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    client.post(reverse("deliberation:convention_comments_open", kwargs={"pk": version.pk}), {"until": until})
    version.refresh_from_db()
    assert version.status == VersionStatus.COMMENTS
    # the editor now sends to the version's page, which no longer offers editing
    response = client.get(reverse("deliberation:convention_edit", kwargs={"pk": version.pk}))
    assert response["Location"] == reverse("deliberation:convention_version", kwargs={"pk": version.pk})


@pytest.mark.django_db
def test_residents_comment_per_article_and_see_names_masked(client: Any, world: Any) -> None:
    convention = make_convention(world)
    version = convention.versions.get()
    services.comments_open(actor=world.users["secretary"], version=version, until=timezone.now() + dt.timedelta(days=7))
    article = version.articles.get(number=2)
    sign_in(client, world.users["resident"])
    html = page(client, "convention", pk=convention.pk)
    assert "正在征求意见" in html
    html = page(client, "convention_version", pk=version.pk)
    assert "对第2条的意见" in html
    # a number written in a comment is masked wherever it is shown (the suite's leak guard)
    client.post(
        reverse("deliberation:convention_comment", kwargs={"pk": article.pk}),
        {"text": "建议写明拴绳长度，电话13912345678"},
    )
    assert ArticleComment.objects.get().author == world.resident_a
    html = page(client, "convention_version", pk=version.pk)
    assert "张**" in html and "张建国" not in html and "建议写明拴绳长度" in html
    # the secretary's summary: counts per article, names masked
    sign_in(client, world.users["secretary"])
    html = page(client, "convention_comments", pk=version.pk)
    assert "共1条意见" in html and "张**" in html and "张建国" not in html
    # after the period: refused with a clear message, and the vote is offered
    ConventionVersion.objects.filter(pk=version.pk).update(comments_until=timezone.now() - dt.timedelta(minutes=1))
    sign_in(client, world.users["resident"])
    response = client.post(
        reverse("deliberation:convention_comment", kwargs={"pk": article.pk}), {"text": "晚到的意见"}, follow=True
    )
    assert "征求意见已于" in response.content.decode()
    assert ArticleComment.objects.count() == 1
    sign_in(client, world.users["secretary"])
    assert "交付表决" in page(client, "convention_version", pk=version.pk)
    client.post(
        reverse("deliberation:convention_vote", kwargs={"pk": version.pk}),
        {"electorate": "households", "rule": "majority"},
    )
    version.refresh_from_db()
    assert version.status == VersionStatus.VOTING and version.vote is not None


@pytest.mark.django_db
def test_a_resident_signs_the_published_text_once_for_the_household(client: Any, world: Any) -> None:
    convention = make_convention(world)
    version = convention.versions.get()
    close_vote(services.version_put_to_vote(actor=world.users["secretary"], version=version), passed=True)
    sign_in(client, world.users["secretary"])
    client.post(reverse("deliberation:convention_publish", kwargs={"pk": version.pk}))
    household_create(actor=SYSTEM, building=world.building_a, code="t-a-g1-b1-102", name="1单元102", floor_area=None)
    sign_in(client, world.users["resident"])
    html = page(client, "convention", pk=convention.pk)
    assert "签署公约" in html and "已签署 0/2 户（0%）" in html and ARTICLES[0] in html
    client.post(reverse("deliberation:convention_sign", kwargs={"pk": version.pk}))
    html = page(client, "convention", pk=convention.pk)
    assert "已签署 1/2 户（50%）" in html and "本户已由张**" in html
    spouse = add_member(world, "spouse_a")
    sign_in(client, spouse)
    response = client.post(reverse("deliberation:convention_sign", kwargs={"pk": version.pk}), follow=True)
    text = response.content.decode()
    assert "本户已由家庭成员张**" in text and "张建国" not in text
    assert Signature.objects.count() == 1
    html = page(client, "convention_print", pk=convention.pk)
    assert "已签署 1/2 户（50%）" in html and ARTICLES[2] in html


@pytest.mark.django_db
def test_staff_see_signatures_per_building_and_enter_paper_ones(client: Any, world: Any) -> None:
    version = adopt(world, make_convention(world).versions.get())
    sign_in(client, world.users["grid_worker"])
    html = page(client, "convention_signatures", pk=version.pk)
    assert "0/1" in html
    html = client.get(
        reverse("deliberation:convention_signatures", kwargs={"pk": version.pk}), {"building": world.building_a.code}
    ).content.decode()
    assert "记录纸质签名" in html and "张**" in html and "张建国" not in html
    client.post(
        reverse("deliberation:convention_sign_paper", kwargs={"pk": version.pk}),
        {"household": world.household_a.pk, "signer": world.resident_a.pk},
    )
    signature = Signature.objects.get()
    assert (signature.channel, signature.recorded_by) == ("paper", world.users["grid_worker"])
    assert "1/1" in page(client, "convention_signatures", pk=version.pk)
    # a household of another community: refused, not a 500
    response = client.post(
        reverse("deliberation:convention_sign_paper", kwargs={"pk": version.pk}),
        {"household": world.household_b.pk, "signer": world.resident_b.pk},
        follow=True,
    )
    assert response.status_code == 200 and "请选择该户" in response.content.decode()


@pytest.mark.django_db
def test_the_diff_page_marks_added_removed_and_changed_text(client: Any, world: Any) -> None:
    secretary = world.users["secretary"]
    convention = make_convention(world)
    adopt(world, convention.versions.get())
    v2 = services.version_create(actor=secretary, convention=convention)
    services.article_change(actor=secretary, article=v2.articles.get(number=2), text="文明养犬，出门拴绳，及时清理。")
    services.article_remove(actor=secretary, article=v2.articles.get(number=3))
    close_vote(services.version_put_to_vote(actor=secretary, version=v2), passed=True)
    sign_in(client, world.users["resident"])
    html = page(client, "convention_diff", pk=convention.pk)
    assert "新增0条，删除1条，修改1条" in html
    assert "<ins>，及时清理</ins>" in html and "<del>邻里和睦，互谅互让。</del>" in html
    html = client.get(
        reverse("deliberation:convention_diff", kwargs={"pk": convention.pk}), {"old": 2, "new": 1}
    ).content.decode()
    assert "新增1条，删除0条，修改1条" in html


@pytest.mark.django_db
def test_residents_see_their_own_communitys_conventions_only(client: Any, world: Any) -> None:
    ours = make_convention(world)
    adopt(world, ours.versions.get())
    theirs = services.convention_create(
        actor=world.users["secretary_b"], place=world.community_b, title="常四社区居民公约", articles=["一条"]
    )
    sign_in(client, world.users["resident"])
    html = page(client, "conventions")
    assert "常二社区居民公约" in html and "常四社区居民公约" not in html
    assert client.get(reverse("deliberation:convention", kwargs={"pk": theirs.pk})).status_code == 404
    # a draft is the secretary's: not listed as a version, and not reachable
    draft = services.version_create(actor=world.users["secretary"], convention=ours)
    assert client.get(reverse("deliberation:convention_version", kwargs={"pk": draft.pk})).status_code == 404


@pytest.mark.django_db
def test_the_list_page_takes_a_bounded_number_of_queries(client: Any, world: Any) -> None:
    sign_in(client, world.users["secretary"])
    make_convention(world)
    client.get(reverse("deliberation:conventions"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("deliberation:conventions"))
    for n in range(5):
        adopt(world, make_convention(world, title=f"公约{n}").versions.get())
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("deliberation:conventions"))
    assert len(many) == len(few)


# --- the API -------------------------------------------------------------------------------------


def checked(response: Any, method: str, path: str, status: int) -> Any:
    """The response's body, once its status and body match the OpenAPI schema."""
    from tests.schema import assert_matches_schema

    assert response.status_code == status, (path, response.status_code, response.content[:300])
    assert_matches_schema(method, path, status, response.json())
    return response.json()


@pytest.mark.django_db
def test_the_api_lists_details_comments_and_signs(world: Any) -> None:
    secretary = world.users["secretary"]
    convention = make_convention(world)
    v1 = adopt(world, convention.versions.get())
    v2 = services.version_create(actor=secretary, convention=convention)
    services.comments_open(actor=secretary, version=v2, until=timezone.now() + dt.timedelta(days=3))
    api = APIClient()
    sign_in(api, world.users["resident"])
    body = checked(api.get("/api/conventions/"), "GET", "/api/conventions/", 200)
    assert [(r["id"], r["current_version"]) for r in body["results"]] == [(convention.pk, 1)]
    path = f"/api/conventions/{convention.pk}/"
    detail = checked(api.get(path), "GET", path, 200)
    assert [(v["number"], v["status"], v["comments_open"]) for v in detail["versions"]] == [
        (1, "adopted", False),
        (2, "comments", True),
    ]
    assert [a["text"] for a in detail["versions"][0]["articles"]] == ARTICLES
    assert detail["versions"][0]["share"] == {"signed": 0, "total": 1, "percent": 0}
    article = v2.articles.get(number=1)
    path = f"/api/conventions/{convention.pk}/comment/"
    made = checked(
        api.post(path, {"article": article.pk, "text": "好，有事打13912345678"}, format="json"), "POST", path, 201
    )
    assert "13912345678" not in made["text"] and "139" in made["text"]
    response = api.post(path, {"article": v1.articles.first().pk, "text": "好"}, format="json")
    assert response.status_code == 400 and "征求意见期" in response.content.decode()
    path = f"/api/conventions/{convention.pk}/sign/"
    assert checked(api.post(path, {}, format="json"), "POST", path, 201)["by_me"] is True
    checked(api.post(path, {}, format="json"), "POST", path, 200)
    spouse = add_member(world, "spouse_a")
    other = APIClient()
    sign_in(other, spouse)
    response = other.post(path, {}, format="json")
    assert response.status_code == 400 and "张**" in response.content.decode()
    outsider = make_user("outsider_b", Role.RESIDENT, world.household_place_b, person=world.resident_b)
    sign_in(other, outsider)
    assert other.get(f"/api/conventions/{convention.pk}/").status_code == 404


@pytest.mark.django_db
def test_the_api_list_takes_a_bounded_number_of_queries(world: Any) -> None:
    api = APIClient()
    sign_in(api, world.users["secretary"])
    make_convention(world)
    api.get("/api/conventions/")
    with CaptureQueriesContext(connection) as few:
        api.get("/api/conventions/")
    for n in range(5):
        adopt(world, make_convention(world, title=f"公约{n}").versions.get())
    with CaptureQueriesContext(connection) as many:
        assert len(api.get("/api/conventions/").json()["results"]) == 6
    assert len(many) == len(few)


@pytest.mark.django_db
def test_the_api_is_in_the_schema(client: Any, world: Any) -> None:
    sign_in(client, world.users["secretary"])
    schema = client.get(reverse("schema"), {"format": "json"}).json()
    assert {
        "/api/conventions/",
        "/api/conventions/{id}/",
        "/api/conventions/{id}/comment/",
        "/api/conventions/{id}/sign/",
    } <= set(schema["paths"])


# --- every link lands ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["resident", "secretary", "grid_worker", "building_leader", "street_official"])
def test_every_link_of_the_conventions_pages_lands(client: Any, world: Any, who: str) -> None:
    """A convention in force (signed, with a draft amendment), another open for comments with a
    comment: every link and GET form from the list page lands, and every POST form's target
    exists (the site's crawl, started from the conventions)."""
    import tests.test_crawl as site_crawl

    secretary = world.users["secretary"]
    convention = make_convention(world)
    version = adopt(world, convention.versions.get())
    services.convention_sign(actor=world.users["resident"], version=version)
    services.version_create(actor=secretary, convention=convention, note="修订")
    other = make_convention(world, title="1栋楼栋公约")
    draft = other.versions.get()
    services.comments_open(actor=secretary, version=draft, until=timezone.now() + dt.timedelta(days=5))
    services.comment_add(actor=world.users["resident"], article=draft.articles.first(), text="同意")
    sign_in(client, world.users[who])
    found = site_crawl.crawl(client, per_kind=3, start=(reverse("deliberation:conventions"),))
    assert not found.failures, found.failures
    assert "deliberation:convention" in found.kinds
    if who == "secretary":
        assert {
            "deliberation:convention_edit",
            "deliberation:convention_comments",
            "deliberation:convention_diff",
        } <= set(found.kinds)
