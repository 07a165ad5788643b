"""Who reaches the notice board (the kernel's authorisation cases, ``linli.testing.authz``)."""

from __future__ import annotations

from typing import Any

import pytest

from linli.core.access import SYSTEM
from linli.testing.authz import AuthzCases, Scoped, granted_paths, in_scope
from tests.noticeboard.capabilities import NoticeCap
from tests.noticeboard.models import Notice
from tests.noticeboard.services import notice_post


def notices_of(world: Any) -> dict[str, Notice]:
    if not hasattr(world, "notices"):
        world.notices = {
            tag: notice_post(actor=SYSTEM, place=world.places[f"community_{tag}"], title="停水通知", body="周二停水")
            for tag in ("a", "b")
        }
    return world.notices


@pytest.mark.django_db
class TestAuthz(AuthzCases):
    public = {
        "noticeboard:index": "the notices the reader may see, by the selector",
        "notice-list": "scoped by the selector (compared below)",
    }
    scoped = {
        "noticeboard:detail": Scoped("GET", "notice", wrong="outsider"),
        "noticeboard:post": Scoped("POST", "community", wrong="grid_worker", right="secretary"),
        "notice-detail": Scoped("GET", "notice", wrong="outsider"),
    }
    lists = {
        # a notice is read at its place and below it
        "/api/notices/": lambda user: {
            n.pk
            for n in Notice.objects.all()
            if in_scope(n.place_path, user, NoticeCap.VIEW_NOTICES)
            or any(p.startswith(n.place_path) for p in granted_paths(user, NoticeCap.VIEW_NOTICES))
        }
    }

    def objects(self, world: Any, tag: str) -> dict[str, dict[str, Any]]:
        return {
            **super().objects(world, tag),
            "notice": {"pk": notices_of(world)[tag].pk},
            "community": {"code": world.places[f"community_{tag}"].code},
        }
