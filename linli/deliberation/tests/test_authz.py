"""Who reaches deliberation's pages and API: each part declares its cases in its own module
(``test_authz_<part>.py``); this module gathers them for the site-wide check
(``linli.testing.authz.case_classes``) under names pytest does not collect a second time."""

from linli.deliberation.tests.test_authz_votes import TestAuthzVotes as VotesCases

__all__ = ["VotesCases"]
