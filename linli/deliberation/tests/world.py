"""Deliberation at work in the test world, for the site-wide crawl and the phone layout test:
in community A a proposal gathering supports and a topic on the list, the meetings of
``meetings_world`` (one under way with the resident invited, a past one with an overdue
decision), a closed vote with its result and, newest of all (the first a crawl of one page of each kind
opens), an open one with a paper sheet keyed once, and
a convention whose first version is adopted, published and signed, with a second version in
draft and a third convention open for comments."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from linli.core.access import SYSTEM
from linli.deliberation.models import Channel
from linli.deliberation.services import conventions, topics
from linli.deliberation.services.votes import paper_key, vote_close, vote_create, vote_enter, vote_open
from linli.deliberation.tests.meetings_world import meetings_at_work

ARTICLES = ["爱护公共环境，垃圾分类投放。", "文明养犬，出门拴绳。", "邻里和睦，互谅互让。"]


def deliberation_at_work(world: Any) -> None:
    meetings_at_work(world)
    secretary, community = world.users["secretary"], world.community_a
    topics.topic_propose(actor=world.users["resident"], place=community, title="小区东门加装电动车充电桩")
    topics.topic_propose(actor=secretary, place=community, title="活动室周末开放时间")

    closed = vote_open(actor=secretary, vote=vote_create(actor=secretary, place=community, title="活动室周末开放"))
    for elector in closed.electors.select_related("person"):
        vote_enter(
            actor=SYSTEM, vote=closed, elector=elector, choices=["yes"], channel=Channel.DOOR, collector=elector.person
        )
    vote_close(actor=secretary, vote=closed)

    convention = conventions.convention_create(
        actor=secretary, place=community, title="常二社区居民公约", articles=ARTICLES
    )
    first = convention.versions.get()
    vote = vote_open(actor=secretary, vote=conventions.version_put_to_vote(actor=secretary, version=first))
    for elector in vote.electors.select_related("person"):
        vote_enter(
            actor=SYSTEM, vote=vote, elector=elector, choices=["yes"], channel=Channel.DOOR, collector=elector.person
        )
    vote_close(actor=secretary, vote=vote)
    first.refresh_from_db()
    conventions.version_publish(actor=secretary, version=first)
    conventions.convention_sign(actor=world.users["resident"], version=first)
    conventions.version_create(actor=secretary, convention=convention, note="增加文明停车一条")

    talk = conventions.convention_create(
        actor=secretary, place=community, title="常二社区文明养犬公约", articles=ARTICLES[1:]
    )
    conventions.comments_open(
        actor=secretary, version=talk.versions.get(), until=timezone.now() + dt.timedelta(days=14)
    )

    open_vote = vote_open(actor=secretary, vote=vote_create(actor=secretary, place=community, title="东门加装充电桩"))
    paper_key(actor=secretary, vote=open_vote, sheet="001", choices=["yes"], elector=open_vote.electors.first())
