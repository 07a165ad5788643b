"""Open311 authenticates its clients by API key and scopes by the client's account
(``linli/open311/tests``): no place-scoped case of the site's sign-in applies."""

from __future__ import annotations

from linli.testing.authz import AuthzCases


class TestAuthz(AuthzCases):
    open_prefixes = {"open311:": "API keys; scoped by the client's account (linli/open311/tests)"}
