"""Who reaches the topics' pages and API (the cases of ``linli.testing.authz``)."""

from __future__ import annotations

from typing import Any

import pytest

from linli.core.access import SYSTEM
from linli.deliberation.access import COMMUNITY_PATH_LEN
from linli.deliberation.capabilities import DelibCap
from linli.deliberation.models import Topic
from linli.deliberation.selectors.topics import PUBLIC_STATUSES
from linli.people.models import Person
from linli.testing.authz import AuthzCases, Scoped, granted_paths


def topics_of(world: Any) -> dict[str, dict[str, Any]]:
    """In each community: a proposal gathering supports, and an opinion heard marked 拟作议题
    (created once per world, through the services)."""
    from linli.deliberation.services.topics import topic_propose
    from linli.visits.services import opinion_decide, visit_log

    if not hasattr(world, "topics_made"):
        made = {}
        for tag, staff, secretary in (("a", "grid_worker", "secretary"), ("b", "grid_worker_b", "secretary_b")):
            proposer = world.users["volunteer"] if tag == "a" else SYSTEM
            topic = topic_propose(actor=proposer, place=world.places[f"community_{tag}"], title="小区东门加装充电桩")
            visit = visit_log(
                actor=world.users[staff],
                household=world.households[f"household_{tag}"],
                kind="knock",
                heard="希望加装电梯",
                tags=["opinion_heard"],
            )
            opinion = opinion_decide(actor=world.users[secretary], opinion=visit.opinion, status="topic")
            made[tag] = {"topic": topic, "opinion": opinion}
        world.topics_made = made
    return world.topics_made


def _expected_topics(user: Any) -> set[int]:
    """The topics under the communities where the user may read deliberation, public ones, or
    where it runs deliberation, or its own proposals (a second statement of the rule)."""
    readable = {
        p[:COMMUNITY_PATH_LEN] if len(p) > COMMUNITY_PATH_LEN else p for p in granted_paths(user, DelibCap.VIEW)
    }
    running = granted_paths(user, DelibCap.RUN)
    person = Person.objects.filter(user=user).first()
    return {
        t.pk
        for t in Topic.objects.all()
        if any(t.place_path.startswith(p) for p in readable)
        and (
            t.status in PUBLIC_STATUSES
            or any(t.place_path.startswith(p) for p in running)
            or (person is not None and t.proposer_id == person.pk)
        )
    }


@pytest.mark.django_db
class TestAuthzTopics(AuthzCases):
    public = {
        "deliberation:topics": "the reader's own proposals and supports, and their communities' topics (selectors)",
        "deliberation:topic_propose": "a proposal where the reader takes part (the service checks the place)",
        "topic-list": "scoped by the selector (compared below)",
    }
    scoped = {
        "deliberation:topic": Scoped("GET", "topic", wrong="outsider", right="resident"),
        "deliberation:topic_support": Scoped("POST", "topic", wrong="street_official", right="resident"),
        "topic-detail": Scoped("GET", "topic", wrong="outsider", right="resident"),
        "topic-support": Scoped("POST", "topic", wrong="street_official", right="resident"),
        # the secretary's last: a topic declined is no longer the resident's to read
        "deliberation:topic_accept": Scoped("POST", "topic", wrong="grid_worker", right="secretary"),
        "deliberation:topic_decline": Scoped("POST", "topic", wrong="grid_worker", right="secretary"),
        "topic-accept": Scoped("POST", "topic", wrong="grid_worker", right="secretary"),
        "topic-decline": Scoped("POST", "topic", wrong="grid_worker", right="secretary"),
        "deliberation:topic_from_opinion": Scoped("POST", "opinion", wrong="grid_worker", right="secretary"),
        "deliberation:topic_board": Scoped("GET", "community", wrong="grid_worker", right="secretary"),
        "deliberation:topic_rules": Scoped("GET", "community", wrong="grid_worker", right="secretary"),
        "deliberation:topic_rules_set": Scoped("POST", "community", wrong="grid_worker", right="secretary"),
    }
    lists = {"/api/topics/": _expected_topics}

    def objects(self, world: Any, tag: str) -> dict[str, dict[str, Any]]:
        made = topics_of(world)[tag]
        return {
            **super().objects(world, tag),
            "topic": {"pk": made["topic"].pk},
            "opinion": {"pk": made["opinion"].pk},
            "community": {"code": world.places[f"community_{tag}"].code},
        }

    def populate(self, world: Any) -> None:
        """Beyond the proposals: a topic at a building, an offer of recurring needs (read only by
        who runs deliberation) and a declined proposal (and by its proposer)."""
        from linli.deliberation.services.topics import offer_recurring_topics, topic_decline, topic_propose
        from linli.needs.services import need_create
        from linli.needs.tests.conftest import make_categories

        topics_of(world)
        make_categories()
        topic_propose(actor=world.users["resident"], place=world.places["building_a"], title="楼道堆物清理议一议")
        for _ in range(3):
            need_create(actor=SYSTEM, text="下水道堵了", place=world.places["building_a"], category_code="water")
        assert offer_recurring_topics() == 1
        declined = topic_propose(actor=world.users["volunteer"], place=world.places["grid_a"], title="篮球场夜间开放")
        topic_decline(actor=world.users["secretary"], topic=declined, reason="噪音扰民")
