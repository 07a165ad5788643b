"""Authorisation test cases that each app subclasses with its own URLs and objects (NetBox's
``ViewTestCases``).

An app's ``tests/test_authz.py`` declares a ``TestAuthz(AuthzCases)`` class:

- ``public``: its URL names that need a signed-in user but no place scope, and ``open``
  those open to anyone, each with the reason;
- ``scoped``: its place-scoped URL names, each with the method, the kind of object that fills
  the URL and the user of community A whose role lacks the capability;
- ``objects(world, tag)``: the kwargs of each kind of object in community ``tag`` (``a`` or
  ``b`` of :func:`linli.testing.build_world`), created through the app's services;
- ``lists``: its API lists, each with the rows an actor should get, computed a second time
  from the memberships and the capability table (not through the selectors).

The class then runs, for each of its URLs: anonymous is turned away; staff of community A
asking for B's objects get 404 (no existence leak); a role without the capability is
refused; the right role gets through (the positive control); and every list returns exactly
the rows in scope for every kind of actor. ``tests/test_authz.py`` fails while a URL of the
site belongs to no app's cases.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from linli.core.access import CAPABILITIES


@dataclass(frozen=True)
class Scoped:
    """A URL that reads or changes something at a place."""

    method: str  # "GET" or "POST"
    obj: str  # the kind of object whose kwargs fill the URL (a key of ``objects``)
    wrong: str  # a user of community A whose role lacks the capability; "outsider": a resident of B
    right: str = "grid_worker"  # a user of community A who reaches A's object


#: Every kind of actor of the test world, for the lists.
ACTORS = (
    "grid_worker",
    "community_staff",
    "secretary",
    "secretary_b",
    "grid_worker_b",
    "street_official",
    "district_official",
    "department_liaison",
    "building_leader",
    "central_household",
    "resident",
    "volunteer",
    "mediator",
)

# --- the URL conf ---------------------------------------------------------------------------------------------


def _iter_named(resolver: URLResolver, namespace: str = "") -> list[tuple[str, URLPattern]]:
    found: list[tuple[str, URLPattern]] = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found.extend(_iter_named(entry, ns))
        elif isinstance(entry, URLPattern) and entry.name:
            found.append((namespace + entry.name, entry))
    return found


def kwarg_names(pattern: URLPattern) -> set[str]:
    return set(pattern.pattern.regex.groupindex)


@functools.cache
def all_urls() -> dict[str, URLPattern]:
    """Every named URL of the site (the API's ``.json`` format variants left out)."""
    return {
        name: p
        for name, p in _iter_named(get_resolver())
        if not name.endswith("-format") and "format" not in kwarg_names(p)
    }


def case_classes() -> list[type[AuthzCases]]:
    """The ``AuthzCases`` of every installed app (``<app>.tests.test_authz``)."""
    found: list[type[AuthzCases]] = []
    for config in apps.get_app_configs():
        module_name = f"{config.name}.tests.test_authz"
        try:
            if importlib.util.find_spec(module_name) is None:
                continue
        except ModuleNotFoundError:
            continue
        module = importlib.import_module(module_name)
        found.extend(
            value
            for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, AuthzCases) and value is not AuthzCases
        )
    return found


# --- the cases ------------------------------------------------------------------------------------------------


def _is_api(name: str) -> bool:
    return "-" in name and ":" not in name


def _call(client: Any, method: str, url: str) -> Any:
    if method == "POST":
        return client.post(url, {"field": "phone", "reason": "测试理由"})
    return client.get(url)


def _under(path: str, prefixes: list[str]) -> bool:
    return any(path.startswith(p) for p in prefixes)


def granted_paths(user: Any, capability: str) -> list[str]:
    """The place paths at which ``user`` holds ``capability``, read from the memberships and the
    capability table (a second statement of the rules, independent of the kernel's Scope)."""
    from linli.people.models import Membership

    grants = Membership.objects.filter(person__user=user, ended_at__isnull=True).values_list("role", "place__path")
    return [path for role, path in grants if capability in CAPABILITIES[role]]


def in_scope(path: str, user: Any, capability: str) -> bool:
    return _under(path, granted_paths(user, capability))


class AuthzCases:
    """Subclass as ``TestAuthz`` in an app's ``tests/test_authz.py`` (see the module's doc)."""

    #: URL names that need a signed-in user but no place scope (lists scoped by their
    #: selectors, one's own pages), each with the reason
    public: ClassVar[dict[str, str]] = {}
    #: URL names open to anyone (sign-in pages, health, a link that carries its own token)
    open: ClassVar[dict[str, str]] = {}
    #: URL name prefixes open to anyone or authenticated otherwise (a namespace with API keys)
    open_prefixes: ClassVar[dict[str, str]] = {}
    scoped: ClassVar[dict[str, Scoped]] = {}
    #: API list path -> the ids (or codes) the signed-in user should get over all pages
    lists: ClassVar[dict[str, Callable[[Any], set[Any]]]] = {}
    #: API lists whose rows belong to no place (a catalogue) or that are not rows
    unscoped_lists: ClassVar[dict[str, str]] = {}
    #: the field that identifies a row of a list, when it is not ``id``
    list_keys: ClassVar[dict[str, str]] = {}

    def objects(self, world: Any, tag: str) -> dict[str, dict[str, Any]]:
        """The kwargs of each kind of object in community ``tag``; the base gives the world's."""
        return {
            "building": {"code": world.places[f"building_{tag}"].code},
            "place": {"code": world.places[f"grid_{tag}"].code},
            "person": {"pk": world.people[f"resident_{tag}"].pk},
            "household": {"pk": world.households[f"household_{tag}"].pk},
        }

    def populate(self, world: Any) -> None:
        """Rows the lists should show or hide, beyond the world's (created once per test)."""
        self.objects(world, "a")
        self.objects(world, "b")

    # --- helpers ----------------------------------------------------------------------------------------------

    def _url(self, name: str, objects: dict[str, dict[str, Any]]) -> str:
        pattern = all_urls()[name]
        values = objects[self.scoped[name].obj]
        return reverse(name, kwargs={k: values.get(k, values.get("pk")) for k in kwarg_names(pattern)})

    def _scoped(self) -> list[str]:
        missing = sorted(set(self.scoped) - set(all_urls()))
        assert not missing, f"{type(self).__module__}: no such URL: {missing}"
        return list(self.scoped)

    # --- the tests --------------------------------------------------------------------------------------------

    def test_anonymous_is_turned_away(self, client: Any, world: Any) -> None:
        objects = self.objects(world, "b")
        for name in self._scoped():
            response = _call(client, self.scoped[name].method, self._url(name, objects))
            self._assert_turned_away(name, response)
        for name in self.public:
            if name in all_urls() and not kwarg_names(all_urls()[name]):
                self._assert_turned_away(name, client.get(reverse(name)))

    @staticmethod
    def _assert_turned_away(name: str, response: Any) -> None:
        if _is_api(name):
            assert response.status_code in (401, 403), (name, response.status_code)
        else:
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], (
                name,
                response.status_code,
            )

    def test_other_place_gets_404(self, client: Any, world: Any) -> None:
        """Staff of community A asking for community B's objects: not found."""
        from linli.testing import sign_in

        objects = self.objects(world, "b")
        for actor in ("grid_worker", "secretary", "community_staff"):
            sign_in(client, world.users[actor])
            for name in self._scoped():
                response = _call(client, self.scoped[name].method, self._url(name, objects))
                assert response.status_code == 404, (actor, name, response.status_code)

    def test_wrong_role_is_refused(self, client: Any, world: Any) -> None:
        """A role without the capability, at the same place: 403 or 404, never the data."""
        from linli.core.access import Role
        from linli.testing import make_user, sign_in

        outsider = make_user("outsider", Role.RESIDENT, world.places["household_place_b"])
        objects = self.objects(world, "a")
        for name in self._scoped():
            case = self.scoped[name]
            sign_in(client, outsider if case.wrong == "outsider" else world.users[case.wrong])
            response = _call(client, case.method, self._url(name, objects))
            assert response.status_code in (403, 404), (name, case.wrong, response.status_code)

    def test_right_role_gets_through(self, client: Any, world: Any) -> None:
        """The positive control: the right role of community A reaches A's objects."""
        from linli.testing import sign_in

        objects = self.objects(world, "a")
        for name in self._scoped():
            case = self.scoped[name]
            sign_in(client, world.users[case.right])
            response = _call(client, case.method, self._url(name, objects))
            if case.method == "GET":
                assert response.status_code == 200, (name, response.status_code)
            else:
                # through the door: done, or refused on content or state, never on authorisation
                # (the test's body is not what every action wants)
                assert response.status_code in (200, 201, 302, 400, 409), (name, response.status_code)
                if response.status_code == 302:
                    assert "/accounts/" not in response["Location"], (name, response["Location"])

    def test_lists_return_exactly_the_rows_in_scope(self, world: Any) -> None:
        """Each actor gets exactly the rows in its scope, compared by id over every page."""
        from rest_framework.test import APIClient

        from linli.testing import sign_in

        if not self.lists:
            return
        self.populate(world)
        seen = dict.fromkeys(self.lists, 0)
        for actor in ACTORS:
            user = world.users[actor]
            client = APIClient()
            sign_in(client, user)
            for url, expected in self.lists.items():
                got = self._all_ids(client, url)
                want = expected(user)
                if got is None:  # refused outright: only when there is nothing in scope to show
                    assert not want, (actor, url, sorted(want))
                    continue
                assert got == want, (actor, url, "extra", sorted(got - want), "missing", sorted(want - got))
                seen[url] += len(got)
        # the positive control: no list was compared as two empty sets for everyone
        assert all(seen.values()), seen

    def _all_ids(self, client: Any, url: str) -> set[Any] | None:
        key = self.list_keys.get(url, "id")
        found: set[Any] = set()
        page: str | None = f"{url}?page_size=200"
        while page:
            response = client.get(page)
            if response.status_code in (403, 404):
                return None
            assert response.status_code == 200, (url, response.status_code, response.content[:300])
            body = response.json()
            found |= {row[key] for row in body["results"]}
            page = body.get("next")
        return found
