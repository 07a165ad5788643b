"""Resident conventions: drafting versions, the diff between them, the comment period, adoption
through the vote hook, the frozen text (services and database), amendments, and signatures by
households with the share that signed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from linli.core.access import SYSTEM, Role
from linli.deliberation import hooks
from linli.deliberation.models import (
    ArticleComment,
    Channel,
    Convention,
    ConventionArticle,
    ConventionVersion,
    Signature,
    SignatureChannel,
    VersionStatus,
    Vote,
    VoteStatus,
)
from linli.deliberation.selectors import conventions as selectors
from linli.deliberation.services import conventions as services
from linli.deliberation.services.votes import vote_close, vote_enter, vote_open
from linli.people.models import Relation
from linli.people.services import household_create, person_create
from linli.testing import make_user

ARTICLES = ["爱护公共环境，垃圾分类投放。", "文明养犬，出门拴绳。", "邻里和睦，互谅互让。"]


def make_convention(world: Any, articles: list[str] | None = None, title: str = "常二社区居民公约") -> Convention:
    return services.convention_create(
        actor=world.users["secretary"], place=world.community_a, title=title, articles=articles or ARTICLES
    )


def first_version(convention: Convention) -> ConventionVersion:
    return convention.versions.get(number=1)


def close_vote(vote: Vote, *, passed: bool) -> None:
    """Carry a convention's vote through the votes' services: open it, collect every elector's
    ballot door to door (all agree, or all disagree), and close it, which calls the hook."""
    if vote.status == VoteStatus.DRAFT:
        vote = vote_open(actor=SYSTEM, vote=vote)
    choice = "yes" if passed else "no"
    for elector in vote.electors.select_related("person"):
        vote_enter(
            actor=SYSTEM, vote=vote, elector=elector, choices=[choice], channel=Channel.DOOR, collector=elector.person
        )
    vote_close(actor=SYSTEM, vote=vote)


def adopt(world: Any, version: ConventionVersion, *, publish: bool = True, by: Any = None) -> ConventionVersion:
    """Put ``version`` to a vote that passes, and publish it."""
    secretary = by or world.users["secretary"]
    vote = services.version_put_to_vote(actor=secretary, version=version)
    close_vote(vote, passed=True)
    version.refresh_from_db()
    if publish:
        version = services.version_publish(actor=secretary, version=version)
    return version


def texts(version: ConventionVersion) -> list[str]:
    return list(version.articles.order_by("number").values_list("text", flat=True))


def add_member(world: Any, username: str, *, relation: str = Relation.SPOUSE, birth: dt.date | None = None) -> Any:
    household = world.household_a
    person = person_create(
        actor=SYSTEM, place=household.place, household=household, relation=relation, name="王丽华", birth_date=birth
    )
    return make_user(username, Role.RESIDENT, household.place, person=person)


# --- drafting ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_convention_starts_with_a_draft_of_numbered_articles(world: Any) -> None:
    convention = make_convention(world, ["  第一条文字 ", "", "第二条文字"])
    version = first_version(convention)
    assert version.status == VersionStatus.DRAFT
    assert list(version.articles.values_list("number", "text")) == [(1, "第一条文字"), (2, "第二条文字")]


@pytest.mark.django_db
def test_drafting_needs_the_secretary_at_the_place(world: Any) -> None:
    for who in ("resident", "grid_worker", "secretary_b"):
        with pytest.raises(PermissionDenied):
            services.convention_create(actor=world.users[who], place=world.community_a, title="公约", articles=["一条"])
    with pytest.raises(ValidationError):
        services.convention_create(actor=world.users["secretary"], place=world.community_a, title="公约", articles=[])


@pytest.mark.django_db
def test_a_draft_is_edited_added_changed_removed_and_renumbered(world: Any) -> None:
    secretary = world.users["secretary"]
    version = first_version(make_convention(world))
    added = services.article_add(actor=secretary, version=version, text="新增：楼道不堆放杂物。", number=2)
    assert added.number == 2
    assert texts(version) == [ARTICLES[0], "新增：楼道不堆放杂物。", ARTICLES[1], ARTICLES[2]]
    last = version.articles.get(number=4)
    services.article_change(actor=secretary, article=last, text="邻里和睦，守望相助。")
    services.article_move(actor=secretary, article=version.articles.get(number=4), number=1)
    assert texts(version) == ["邻里和睦，守望相助。", ARTICLES[0], "新增：楼道不堆放杂物。", ARTICLES[1]]
    services.article_remove(actor=secretary, article=version.articles.get(number=2))
    assert list(version.articles.values_list("number", flat=True)) == [1, 2, 3]
    assert texts(version) == ["邻里和睦，守望相助。", "新增：楼道不堆放杂物。", ARTICLES[1]]
    with pytest.raises(ValidationError):
        services.article_move(actor=secretary, article=version.articles.get(number=1), number=9)
    with pytest.raises(PermissionDenied):
        services.article_change(actor=world.users["resident"], article=version.articles.get(number=1), text="改")


@pytest.mark.django_db
def test_a_new_version_copies_the_latest_one(world: Any) -> None:
    secretary = world.users["secretary"]
    convention = make_convention(world)
    v1 = first_version(convention)
    with pytest.raises(ValidationError, match="草稿"):
        services.version_create(actor=secretary, convention=convention)
    adopt(world, v1)
    v2 = services.version_create(actor=secretary, convention=convention, note="增加养犬条款")
    assert (v2.number, v2.status, v2.based_on_id) == (2, VersionStatus.DRAFT, v1.pk)
    assert texts(v2) == ARTICLES
    assert set(v2.articles.values_list("key", flat=True)) == set(v1.articles.values_list("key", flat=True))


# --- the diff ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_diff_shows_added_removed_and_changed_articles(world: Any) -> None:
    secretary = world.users["secretary"]
    convention = make_convention(world)
    v1 = first_version(convention)
    adopt(world, v1)
    v2 = services.version_create(actor=secretary, convention=convention)
    services.article_change(
        actor=secretary, article=v2.articles.get(number=2), text="文明养犬，出门拴绳，及时清理粪便。"
    )
    services.article_remove(actor=secretary, article=v2.articles.get(number=1))
    services.article_add(actor=secretary, version=v2, text="共同维护电动车充电安全。")
    rows = selectors.version_diff(v1, v2)
    assert [(r.kind, r.old_number, r.new_number) for r in rows] == [
        ("removed", 1, None),
        ("changed", 2, 1),
        ("same", 3, 2),
        ("added", None, 3),
    ]
    assert selectors.diff_counts(rows) == {"added": 1, "removed": 1, "changed": 1, "same": 1}
    changed = rows[1]
    assert changed.moved
    assert [(p.kind, p.text) for p in changed.pieces] == [
        ("equal", "文明养犬，出门拴绳"),
        ("insert", "，及时清理粪便"),
        ("equal", "。"),
    ]
    # and backwards: what was added is removed
    assert [r.kind for r in selectors.version_diff(v2, v1)] == ["added", "changed", "same", "removed"]


def test_a_changed_article_is_diffed_by_characters_and_numbers_stay_whole() -> None:
    pieces = selectors.text_diff("晚上10点后不得喧哗", "晚上22点后不得大声喧哗")
    assert [(p.kind, p.text) for p in pieces] == [
        ("equal", "晚上"),
        ("delete", "10"),
        ("insert", "22"),
        ("equal", "点后不得"),
        ("insert", "大声"),
        ("equal", "喧哗"),
    ]
    assert "".join(p.text for p in pieces if p.kind != "insert") == "晚上10点后不得喧哗"
    assert "".join(p.text for p in pieces if p.kind != "delete") == "晚上22点后不得大声喧哗"


# --- the comment period --------------------------------------------------------------------------


@pytest.mark.django_db
def test_residents_comment_per_article_only_during_the_period(world: Any) -> None:
    secretary, resident = world.users["secretary"], world.users["resident"]
    now = timezone.now()
    version = first_version(make_convention(world))
    article = version.articles.get(number=2)
    with pytest.raises(ValidationError, match="不在征求意见期"):
        services.comment_add(actor=resident, article=article, text="建议写明拴绳长度", now=now)
    with pytest.raises(ValidationError):
        services.comments_open(actor=secretary, version=version, until=now - dt.timedelta(hours=1), now=now)
    services.comments_open(actor=secretary, version=version, until=now + dt.timedelta(days=7), now=now)
    comment = services.comment_add(actor=resident, article=article, text="建议写明拴绳长度", now=now)
    assert comment.author == world.resident_a
    assert selectors.comment_counts(version) == {article.pk: 1}
    with pytest.raises(ValidationError, match="截止"):
        services.comment_add(actor=resident, article=article, text="晚了", now=now + dt.timedelta(days=8))
    assert ArticleComment.objects.count() == 1
    # the text is fixed while residents comment on it
    with pytest.raises(ValidationError, match="新版本"):
        services.article_change(actor=secretary, article=article, text="改")


@pytest.mark.django_db
def test_another_community_cannot_comment(world: Any) -> None:
    now = timezone.now()
    version = first_version(make_convention(world))
    services.comments_open(actor=world.users["secretary"], version=version, until=now + dt.timedelta(days=7), now=now)
    outsider = make_user("outsider_b", Role.RESIDENT, world.household_place_b, person=world.resident_b)
    with pytest.raises(PermissionDenied):
        services.comment_add(actor=outsider, article=version.articles.first(), text="意见", now=now)


# --- adoption ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_passed_vote_adopts_the_version_and_supersedes_the_previous_one(world: Any) -> None:
    secretary = world.users["secretary"]
    now = timezone.now()
    convention = make_convention(world)
    v1 = first_version(convention)
    services.comments_open(actor=secretary, version=v1, until=now + dt.timedelta(days=3), now=now)
    with pytest.raises(ValidationError, match="尚未截止"):
        services.version_put_to_vote(actor=secretary, version=v1, now=now)
    vote = services.version_put_to_vote(actor=secretary, version=v1, now=now + dt.timedelta(days=4))
    v1.refresh_from_db()
    assert (v1.status, v1.vote_id, vote.place_id, vote.status) == (
        VersionStatus.VOTING,
        vote.pk,
        world.community_a.pk,
        VoteStatus.DRAFT,
    )
    assert "常二社区居民公约" in vote.title
    close_vote(vote, passed=True)
    v1.refresh_from_db()
    assert v1.status == VersionStatus.ADOPTED and v1.adopted_at is not None
    v2 = services.version_create(actor=secretary, convention=convention)
    vote2 = services.version_put_to_vote(actor=secretary, version=v2)
    close_vote(vote2, passed=True)
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v2.status) == (VersionStatus.SUPERSEDED, VersionStatus.ADOPTED)
    assert selectors.current_version(Convention.objects.get(pk=convention.pk)) == v2


@pytest.mark.django_db
def test_a_failed_vote_rejects_the_version_and_keeps_the_adopted_one(world: Any) -> None:
    secretary = world.users["secretary"]
    convention = make_convention(world)
    v1 = adopt(world, first_version(convention))
    v2 = services.version_create(actor=secretary, convention=convention)
    close_vote(services.version_put_to_vote(actor=secretary, version=v2), passed=False)
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v2.status) == (VersionStatus.ADOPTED, VersionStatus.REJECTED)
    # a revision after a failed vote starts from the rejected text by default, or from another
    v3 = services.version_create(actor=secretary, convention=convention, base=v1)
    assert (v3.number, v3.based_on_id) == (3, v1.pk)


@pytest.mark.django_db
def test_a_vote_on_something_else_changes_no_version(world: Any) -> None:
    from linli.deliberation.services.votes import vote_create

    version = first_version(make_convention(world))
    other = vote_create(actor=world.users["secretary"], place=world.community_a, title="加装电梯")
    close_vote(other, passed=True)
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT


# --- the frozen text -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_adopted_text_is_refused_by_the_services(world: Any) -> None:
    secretary = world.users["secretary"]
    version = adopt(world, first_version(make_convention(world)))
    article = version.articles.get(number=1)
    for attempt in (
        lambda: services.article_change(actor=secretary, article=article, text="改"),
        lambda: services.article_remove(actor=secretary, article=article),
        lambda: services.article_add(actor=secretary, version=version, text="加"),
        lambda: services.article_move(actor=secretary, article=article, number=2),
    ):
        with pytest.raises(ValidationError, match="新版本"):
            attempt()
    assert texts(version) == ARTICLES


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["voting", "adopted"])
def test_a_frozen_text_is_refused_by_the_database(world: Any, status: str) -> None:
    version = first_version(make_convention(world))
    vote = services.version_put_to_vote(actor=world.users["secretary"], version=version)
    if status == "adopted":
        close_vote(vote, passed=True)
    version.refresh_from_db()
    assert version.status == status
    article = version.articles.get(number=1)
    writes = (
        lambda: ConventionArticle.objects.filter(pk=article.pk).update(text="偷改"),
        lambda: ConventionArticle.objects.filter(pk=article.pk).delete(),
        lambda: ConventionArticle.objects.create(version=version, number=9, text="偷加"),
        lambda: ConventionArticle.objects.filter(pk=article.pk).update(
            version=first_version(make_convention(world, title="另一份"))
        ),
    )
    for write in writes:
        with pytest.raises(DatabaseError, match="frozen"), transaction.atomic():
            write()
    assert texts(version) == ARTICLES
    # nor can the version be taken back to a draft
    with pytest.raises(DatabaseError, match="cannot go"), transaction.atomic():
        ConventionVersion.objects.filter(pk=version.pk).update(status="draft")


@pytest.mark.django_db
def test_an_article_cannot_be_moved_into_a_frozen_version(world: Any) -> None:
    adopted = adopt(world, first_version(make_convention(world)))
    draft = first_version(make_convention(world, title="楼栋公约"))
    with pytest.raises(DatabaseError, match="frozen"), transaction.atomic():
        ConventionArticle.objects.filter(version=draft, number=1).update(version=adopted, number=50)


@pytest.mark.django_db
def test_an_amendment_starts_a_new_draft_and_leaves_the_adopted_text(world: Any) -> None:
    secretary = world.users["secretary"]
    convention = make_convention(world)
    v1 = adopt(world, first_version(convention))
    v2 = services.version_create(actor=secretary, convention=convention, note="修订")
    services.article_change(actor=secretary, article=v2.articles.get(number=1), text="垃圾分类，定时定点投放。")
    assert texts(v1) == ARTICLES
    assert texts(v2)[0] == "垃圾分类，定时定点投放。"
    v1.refresh_from_db()
    assert v1.status == VersionStatus.ADOPTED


@pytest.mark.django_db
def test_a_draft_other_than_the_first_may_be_discarded(world: Any) -> None:
    secretary = world.users["secretary"]
    convention = make_convention(world)
    with pytest.raises(ValidationError):
        services.version_discard(actor=secretary, version=first_version(convention))
    adopt(world, first_version(convention))
    v2 = services.version_create(actor=secretary, convention=convention)
    services.version_discard(actor=secretary, version=v2)
    assert list(convention.versions.values_list("number", flat=True)) == [1]


# --- signatures ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_a_published_adopted_version_is_signed(world: Any) -> None:
    version = first_version(make_convention(world))
    with pytest.raises(ValidationError, match="已公布"):
        services.convention_sign(actor=world.users["resident"], version=version)
    adopted = adopt(world, version, publish=False)
    with pytest.raises(ValidationError, match="已公布"):
        services.convention_sign(actor=world.users["resident"], version=adopted)
    with pytest.raises(ValidationError):
        services.version_publish(
            actor=world.users["secretary"], version=first_version(make_convention(world, title="二"))
        )


@pytest.mark.django_db
def test_a_household_signs_once_whichever_member_signs(world: Any) -> None:
    version = adopt(world, first_version(make_convention(world)))
    resident = world.users["resident"]
    signature = services.convention_sign(actor=resident, version=version)
    assert (signature.household, signature.signed_by, signature.channel) == (
        world.household_a,
        world.resident_a,
        SignatureChannel.ONLINE,
    )
    assert services.convention_sign(actor=resident, version=version) == signature  # idempotent
    spouse = add_member(world, "spouse_a")
    with pytest.raises(ValidationError) as refused:
        services.convention_sign(actor=spouse, version=version)
    message = " ".join(refused.value.messages)
    assert "张**" in message and "张建国" not in message
    assert Signature.objects.filter(version=version).count() == 1


@pytest.mark.django_db
def test_a_minor_does_not_sign_for_the_household(world: Any) -> None:
    version = adopt(world, first_version(make_convention(world)))
    child = add_member(
        world, "child_a", relation=Relation.CHILD, birth=timezone.localdate() - dt.timedelta(days=365 * 12)
    )
    with pytest.raises(ValidationError, match="十八"):
        services.convention_sign(actor=child, version=version)


@pytest.mark.django_db
def test_a_household_outside_the_place_cannot_sign(world: Any) -> None:
    version = adopt(world, first_version(make_convention(world)))
    outsider = make_user("outsider_b", Role.RESIDENT, world.household_place_b, person=world.resident_b)
    with pytest.raises(ValidationError, match="范围"):
        services.convention_sign(actor=outsider, version=version)
    with pytest.raises(ValidationError, match="范围"):  # staff without a household there
        services.convention_sign(actor=world.users["secretary_b"], version=version)


@pytest.mark.django_db
def test_staff_record_a_paper_signature_and_the_share_counts_it(world: Any) -> None:
    version = adopt(world, first_version(make_convention(world)))
    for n in (102, 201, 202):
        household_create(
            actor=SYSTEM, building=world.building_a, code=f"t-a-g1-b1-{n}", name=f"1单元{n}", floor_area=None
        )
    assert selectors.signature_share(version) == selectors.Share(signed=0, total=4)
    services.convention_sign(actor=world.users["resident"], version=version)
    signature = services.signature_record_paper(
        actor=world.users["building_leader"], version=version, household=world.household_a, signer=world.resident_a
    )
    assert signature.channel == SignatureChannel.ONLINE  # already signed online: the same signature
    other = household_create(
        actor=SYSTEM, building=world.building_a, code="t-a-g1-b1-301", name="1单元301", floor_area=None
    )
    head = person_create(actor=SYSTEM, place=other.place, household=other, relation=Relation.HEAD, name="刘大爷")
    paper = services.signature_record_paper(
        actor=world.users["grid_worker"], version=version, household=other, signer=head
    )
    assert (paper.channel, paper.recorded_by) == (SignatureChannel.PAPER, world.users["grid_worker"])
    share = selectors.signature_share(version)
    assert (share.signed, share.total, share.percent, share.fraction) == (2, 5, 40, "2/5")
    [building] = selectors.signatures_by_building(version)
    assert (building.place, building.share) == (world.building_a, share)
    with pytest.raises(ValidationError, match="成员"):
        services.signature_record_paper(
            actor=world.users["grid_worker"], version=version, household=other, signer=world.resident_a
        )
    with pytest.raises(PermissionDenied):
        services.signature_record_paper(actor=world.users["resident"], version=version, household=other, signer=head)


def test_the_share_is_integer_and_never_above_a_hundred() -> None:
    assert selectors.Share(signed=2, total=3).percent == 66
    assert selectors.Share(signed=1, total=3).percent == 33
    assert selectors.Share(signed=5, total=4).percent == 100
    assert selectors.Share(signed=0, total=0).percent == 0


# --- reading -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_residents_read_their_own_communitys_conventions_and_not_drafts(world: Any) -> None:
    ours = make_convention(world)
    theirs = services.convention_create(
        actor=world.users["secretary_b"], place=world.community_b, title="常四社区居民公约", articles=["一条"]
    )
    resident = world.users["resident"]
    # in drafting: the secretary's work, not yet the residents'
    assert list(selectors.convention_list(actor=resident)) == []
    assert list(selectors.convention_list(actor=world.users["secretary"])) == [ours]
    services.comments_open(
        actor=world.users["secretary"], version=first_version(ours), until=timezone.now() + dt.timedelta(days=1)
    )
    services.comments_open(
        actor=world.users["secretary_b"], version=first_version(theirs), until=timezone.now() + dt.timedelta(days=1)
    )
    assert list(selectors.convention_list(actor=resident)) == [ours]
    assert set(selectors.convention_list(actor=world.users["street_official"])) == {ours, theirs}
    amended = make_convention(world, title="楼栋公约")
    draft = first_version(amended)
    assert selectors.visible_versions(resident, amended) == []
    with pytest.raises(Exception, match="not found"):
        selectors.access_version(resident, draft.pk)
    assert selectors.access_version(world.users["secretary"], draft.pk) == draft
    with pytest.raises(Exception, match="not found"):
        selectors.access_convention(resident, amended.pk)
    adopt(world, draft)
    assert selectors.access_version(resident, draft.pk) == draft
    with pytest.raises(Exception, match="not found"):
        selectors.access_convention(resident, theirs.pk)
    outsider = make_user("outsider_b", Role.RESIDENT, world.household_place_b, person=world.resident_b)
    assert list(selectors.convention_list(actor=outsider)) == [theirs]


def test_a_rewritten_clause_reads_as_one_change_but_punctuation_anchors() -> None:
    pieces = selectors.text_diff("不要乱扔垃圾的行为，邻里和睦。", "杜绝高空抛物的陋习，邻里和睦。")
    assert [(p.kind, p.text) for p in pieces] == [
        ("delete", "不要乱扔垃圾的行为"),
        ("insert", "杜绝高空抛物的陋习"),
        ("equal", "，邻里和睦。"),
    ]
    pieces = selectors.text_diff("邻里和睦，互谅互让。", "邻里团结，守望相助。")
    assert [p.kind for p in pieces] == ["equal", "delete", "insert", "equal", "delete", "insert", "equal"]


@pytest.mark.django_db
def test_a_version_whose_vote_was_cancelled_is_put_to_a_vote_again(world: Any) -> None:
    secretary = world.users["secretary"]
    version = first_version(make_convention(world))
    vote = services.version_put_to_vote(actor=secretary, version=version)
    with pytest.raises(ValidationError, match="表决中"):
        services.version_put_to_vote(actor=secretary, version=version)
    Vote.objects.filter(pk=vote.pk).update(status=VoteStatus.CANCELLED)
    again = services.version_put_to_vote(actor=secretary, version=version)
    version.refresh_from_db()
    assert (version.status, version.vote_id) == (VersionStatus.VOTING, again.pk) and again.pk != vote.pk
    hooks.vote_closed(Vote.objects.get(pk=vote.pk))  # the cancelled vote decides nothing
    version.refresh_from_db()
    assert version.status == VersionStatus.VOTING
