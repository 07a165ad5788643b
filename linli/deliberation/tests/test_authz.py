"""Authorisation cases of deliberation, one class per part."""

from linli.deliberation.tests.test_authz_meetings import TestAuthzMeetings  # noqa: F401
