"""Who reaches the votes' pages and API (the cases of ``linli.testing.authz``). The app's
``tests/test_authz.py`` gathers this class with the other parts'."""

from __future__ import annotations

from typing import Any

import pytest

from linli.core.access import SYSTEM
from linli.core.photos import PhotoUpload
from linli.deliberation.capabilities import DelibCap
from linli.deliberation.models import Elector, Vote, VoteStatus
from linli.places.models import PlaceKind, path_len
from linli.testing import png_bytes
from linli.testing.authz import AuthzCases, Scoped, granted_paths

COMMUNITY = path_len(PlaceKind.COMMUNITY)


def votes_of(world: Any) -> dict[str, dict[str, Any]]:
    """In each community: an open named vote with a recorded proxy, and a closed one (created once
    per world, through the services)."""
    from linli.deliberation.services.votes import proxy_record, vote_close, vote_create, vote_open

    if not hasattr(world, "votes_made"):
        made = {}
        for tag, holder in (("a", "volunteer"), ("b", "secretary_b")):
            community = world.places[f"community_{tag}"]
            running = vote_open(actor=SYSTEM, vote=vote_create(actor=SYSTEM, place=community, title="加装电梯"))
            line = Elector.objects.get(vote=running, household=world.households[f"household_{tag}"])
            proxy = proxy_record(
                actor=SYSTEM,
                vote=running,
                elector=line,
                holder=world.users[holder].person,
                scan=PhotoUpload("w.png", png_bytes()),
            )
            closed = vote_open(actor=SYSTEM, vote=vote_create(actor=SYSTEM, place=community, title="空地改花园"))
            vote_close(actor=SYSTEM, vote=closed)
            made[tag] = {"vote": running, "closed": closed, "proxy": proxy, "community": community}
        world.votes_made = made
    return world.votes_made


def _expected_votes(user: Any) -> set[int]:
    """Votes under the places where the user reads deliberation, or in the communities of those
    places (a resident's household grant reaches its community); drafts only where it runs
    deliberation."""
    paths = granted_paths(user, DelibCap.VIEW)
    reach = set(paths) | {p[:COMMUNITY] for p in paths if len(p) >= COMMUNITY}
    running = granted_paths(user, DelibCap.RUN)
    return {
        v.pk
        for v in Vote.objects.all()
        if any(v.place_path.startswith(p) for p in reach)
        and (v.status != VoteStatus.DRAFT or any(v.place_path.startswith(p) for p in running))
    }


@pytest.mark.django_db
class TestAuthzVotes(AuthzCases):
    public = {
        "vote-list": "scoped by the selector (compared below); a POST creates at the place its body names "
        "(test_votes_api: a resident 403, another community's staff 404)"
    }
    scoped = {
        "deliberation:votes": Scoped("GET", "community", wrong="mediator"),
        "deliberation:vote_new": Scoped("POST", "community", wrong="grid_worker", right="secretary"),
        "deliberation:vote": Scoped("GET", "vote", wrong="mediator"),
        "deliberation:vote_cast": Scoped("POST", "vote", wrong="outsider", right="resident"),
        "deliberation:vote_notice": Scoped("GET", "closed", wrong="mediator"),
        "deliberation:vote_register_json": Scoped("GET", "closed", wrong="mediator"),
        "deliberation:vote_open": Scoped("POST", "vote", wrong="grid_worker", right="secretary"),
        "deliberation:vote_close": Scoped("POST", "vote", wrong="grid_worker", right="secretary"),
        "deliberation:vote_cancel": Scoped("POST", "vote", wrong="grid_worker", right="secretary"),
        "deliberation:vote_paper": Scoped("GET", "vote", wrong="building_leader"),
        "deliberation:vote_entry": Scoped("GET", "vote", wrong="volunteer"),
        "deliberation:vote_proxy": Scoped("POST", "vote", wrong="volunteer"),
        "deliberation:vote_proxy_scan": Scoped("GET", "proxy", wrong="volunteer"),
        "vote-detail": Scoped("GET", "vote", wrong="mediator"),
        "vote-cast": Scoped("POST", "vote", wrong="outsider", right="resident"),
        "vote-cancel": Scoped("POST", "vote", wrong="grid_worker", right="secretary"),
        "vote-results": Scoped("GET", "vote", wrong="mediator"),
        "vote-open": Scoped("POST", "vote", wrong="grid_worker", right="secretary"),
        "vote-close": Scoped("POST", "vote", wrong="grid_worker", right="secretary"),
        "vote-paper": Scoped("POST", "vote", wrong="building_leader"),
        "vote-enter": Scoped("POST", "vote", wrong="volunteer"),
        "vote-hand-out": Scoped("POST", "vote", wrong="volunteer"),
    }
    lists = {"/api/votes/": _expected_votes}

    def objects(self, world: Any, tag: str) -> dict[str, dict[str, Any]]:
        made = votes_of(world)[tag]
        return {
            **super().objects(world, tag),
            "community": {"code": made["community"].code},
            "vote": {"pk": made["vote"].pk},
            "closed": {"pk": made["closed"].pk},
            "proxy": {"pk": made["proxy"].pk},
        }

    def populate(self, world: Any) -> None:
        """The votes, and a draft in each community (its organisers see it, its residents not)."""
        from linli.deliberation.services.votes import vote_create

        votes_of(world)
        for tag in ("a", "b"):
            vote_create(actor=SYSTEM, place=world.places[f"community_{tag}"], title="草拟中")
