"""Every URL of the site has an authorisation case: each app's ``tests/test_authz.py``
declares its URLs as public, open or place-scoped (``linli.testing.authz``), and runs the
anonymous, other-place, wrong-role and right-role cases and its lists' ids. A URL that no app
declares fails here, as does an API list that no app compares by id.
"""

from __future__ import annotations

from collections import Counter

from django.urls import reverse

from linli.testing.authz import AuthzCases, all_urls, case_classes, kwarg_names

# The pages of the site itself (``linli.config.urls``): open, or for any signed-in user.
SITE_OPEN = {
    "healthz": "the health check",
    "set_language": "the language switch",
    "javascript_catalog": "the translations of the scripts",
    "large_type": "the large-type switch",
    "schema": "the API's description",
    "api_docs": "the API's documentation",
    "api-root": "the API's index",
}
SITE_PUBLIC = {
    "home": "one's own tiles",
    "import_job": "a large import's progress: only the person who sent the file (tests/test_imports.py)",
}
SITE_OPEN_PREFIXES = ("account_", "mfa_", "admin:", "usersessions")


class TestAuthz(AuthzCases):
    """The site's own pages (the config's URLs): no place-scoped case."""

    public = SITE_PUBLIC
    open = SITE_OPEN
    open_prefixes = dict.fromkeys(SITE_OPEN_PREFIXES, "sign-in and the admin (tests/security)")


def _declared() -> Counter[str]:
    names: Counter[str] = Counter()
    for case in [*case_classes(), TestAuthz]:
        names.update([*case.public, *case.open, *case.scoped])
    return names


def _prefixes() -> tuple[str, ...]:
    return tuple(p for case in [*case_classes(), TestAuthz] for p in case.open_prefixes)


def test_every_url_is_classified() -> None:
    declared = _declared()
    unclassified = sorted(name for name in all_urls() if name not in declared and not name.startswith(_prefixes()))
    assert not unclassified, f"declare these URLs in their app's tests/test_authz.py: {unclassified}"


def test_no_url_is_declared_twice_or_missing() -> None:
    declared = _declared()
    assert not [n for n, count in declared.items() if count > 1]
    assert not sorted(set(declared) - set(all_urls()))


def test_every_api_list_is_covered() -> None:
    lists = {reverse(name) for name, p in all_urls().items() if name.endswith("-list") and not kwarg_names(p)}
    compared = {url for case in case_classes() for url in [*case.lists, *case.unscoped_lists]}
    assert lists <= compared, sorted(lists - compared)


def test_every_app_declares_its_cases() -> None:
    """The positive control of the discovery: the apps' cases are found."""
    found = {case.__module__ for case in case_classes()}
    assert {f"linli.{app}.tests.test_authz" for app in ("places", "people", "needs", "visits", "open311")} <= found
    assert all(issubclass(case, AuthzCases) for case in case_classes())
