"""Who reaches the pages and API of resident conventions (the cases of ``linli.testing.authz``).

In each community the secretary has a convention whose first version is adopted and published
and whose second version is a draft (created once per world, through the services)."""

from __future__ import annotations

from typing import Any

import pytest

from linli.deliberation.capabilities import DelibCap
from linli.deliberation.models import Convention, VersionStatus
from linli.places.models import PlaceKind, path_len
from linli.testing.authz import AuthzCases, Scoped, granted_paths

COMMUNITY = path_len(PlaceKind.COMMUNITY)


def conventions_of(world: Any) -> dict[str, dict[str, Any]]:
    from linli.deliberation.services import conventions as services
    from linli.deliberation.tests.test_conventions import adopt, make_convention

    if not hasattr(world, "conventions_made"):
        made = {}
        for tag in ("a", "b"):
            secretary = world.users[f"secretary_{tag}" if tag == "b" else "secretary"]
            convention = services.convention_create(
                actor=secretary,
                place=world.places[f"community_{tag}"],
                title=f"居民公约{tag}",
                articles=["爱护环境。", "文明养犬。"],
            )
            version = adopt(world, convention.versions.get(), by=secretary)
            draft = services.version_create(actor=secretary, convention=convention)
            made[tag] = {"convention": convention, "version": version, "draft": draft}
        # a convention of a building, read by the residents of its community too
        make_convention(world, title="1栋楼栋公约")
        world.conventions_made = made
    return world.conventions_made


def _expected_conventions(user: Any) -> set[int]:
    """Under the places where the user holds VIEW, or under the community of one of them; one
    still in drafting only for those who hold RUN over it."""
    paths = granted_paths(user, DelibCap.VIEW)
    prefixes = {p[:COMMUNITY] if len(p) >= COMMUNITY else p for p in paths}
    runs = granted_paths(user, DelibCap.RUN)
    return {
        c.pk
        for c in Convention.objects.all()
        if any(c.place_path.startswith(p) for p in prefixes)
        and (c.versions.exclude(status=VersionStatus.DRAFT).exists() or any(c.place_path.startswith(p) for p in runs))
    }


@pytest.mark.django_db
class TestConventionsAuthz(AuthzCases):
    public = {
        "deliberation:conventions": "the conventions the reader may read (selector-scoped)",
        "convention-list": "scoped by the selector (compared below); a POST creates at the place its body names "
        "(test_conventions_api: a resident refused, another community's staff 404)",
    }
    # the order matters for the right-role case, which runs them in turn on one world: the
    # draft is put to a vote, then refused its discard, after every page that reads it
    scoped = {
        "deliberation:convention_create": Scoped("GET", "place", wrong="volunteer", right="secretary"),
        "deliberation:convention": Scoped("GET", "convention", wrong="mediator", right="resident"),
        "deliberation:convention_diff": Scoped("GET", "convention", wrong="mediator", right="resident"),
        "deliberation:convention_print": Scoped("GET", "convention", wrong="mediator", right="resident"),
        "deliberation:convention_version": Scoped("GET", "version", wrong="mediator", right="resident"),
        "deliberation:convention_edit": Scoped("GET", "draft", wrong="grid_worker", right="secretary"),
        "deliberation:convention_comments": Scoped("GET", "version", wrong="resident", right="secretary"),
        "deliberation:convention_signatures": Scoped("GET", "version", wrong="resident", right="grid_worker"),
        "convention-detail": Scoped("GET", "convention", wrong="mediator", right="resident"),
        "deliberation:convention_version_create": Scoped("POST", "convention", wrong="grid_worker", right="secretary"),
        "deliberation:convention_article_add": Scoped("POST", "draft", wrong="grid_worker", right="secretary"),
        "deliberation:convention_article_edit": Scoped("POST", "draft_article", wrong="grid_worker", right="secretary"),
        "deliberation:convention_comments_open": Scoped("POST", "draft", wrong="grid_worker", right="secretary"),
        "deliberation:convention_comment": Scoped("POST", "article", wrong="mediator", right="resident"),
        "deliberation:convention_publish": Scoped("POST", "version", wrong="grid_worker", right="secretary"),
        "deliberation:convention_sign": Scoped("POST", "version", wrong="mediator", right="resident"),
        "deliberation:convention_sign_paper": Scoped("POST", "version", wrong="resident", right="grid_worker"),
        "convention-comment": Scoped("POST", "convention", wrong="mediator", right="resident"),
        "convention-sign": Scoped("POST", "convention", wrong="mediator", right="resident"),
        "convention-versions": Scoped("POST", "convention", wrong="grid_worker", right="secretary"),
        "convention-articles": Scoped("POST", "convention", wrong="grid_worker", right="secretary"),
        "convention-article": Scoped("POST", "convention_article", wrong="grid_worker", right="secretary"),
        "convention-comments-open": Scoped("POST", "convention", wrong="grid_worker", right="secretary"),
        "convention-publish": Scoped("POST", "convention", wrong="grid_worker", right="secretary"),
        "convention-paper-signature": Scoped("POST", "convention", wrong="resident", right="grid_worker"),
        "convention-vote": Scoped("POST", "convention", wrong="grid_worker", right="secretary"),
        "deliberation:convention_vote": Scoped("POST", "draft", wrong="grid_worker", right="secretary"),
        "deliberation:convention_discard": Scoped("POST", "draft", wrong="grid_worker", right="secretary"),
    }
    lists = {"/api/conventions/": _expected_conventions}

    def objects(self, world: Any, tag: str) -> dict[str, dict[str, Any]]:
        made = conventions_of(world)[tag]
        return {
            **super().objects(world, tag),
            "convention": {"pk": made["convention"].pk},
            "version": {"pk": made["version"].pk},
            "draft": {"pk": made["draft"].pk},
            "draft_article": {"pk": made["draft"].articles.first().pk},
            "article": {"pk": made["version"].articles.first().pk},
            "convention_article": {"pk": made["convention"].pk, "article_id": made["draft"].articles.first().pk},
        }
