"""What can be done in deliberation, and which roles may.

Residents read and take part where they live: the deliberation of their community is theirs
(``access.community_also`` widens a resident's household grant to its community for reading).
Voting needs no capability: being on a vote's frozen register is what entitles one to vote.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.access import Role


class DelibCap(models.TextChoices):
    VIEW = "view_deliberation", _("查看议事")
    PROPOSE = "propose_topics", _("提议与附议")
    RUN = "run_deliberation", _("组织议事")
    CHECK_IN = "check_in_attendees", _("会场签到与收票")
    COUNT = "count_ballots", _("录入纸质票")
    OVERSEE = "oversee_decisions", _("督办议定事项")


C = DelibCap
_TAKE_PART = {C.VIEW, C.PROPOSE}
_STAFF = {C.VIEW, C.PROPOSE, C.RUN, C.CHECK_IN, C.COUNT}
GRANTS = {
    Role.RESIDENT: _TAKE_PART,
    Role.VOLUNTEER: _TAKE_PART,
    Role.BUILDING_LEADER: _TAKE_PART | {C.CHECK_IN},
    Role.CENTRAL_HOUSEHOLD: _TAKE_PART | {C.CHECK_IN},
    Role.GRID_WORKER: {C.VIEW, C.PROPOSE, C.CHECK_IN, C.COUNT},
    Role.COMMUNITY_STAFF: _STAFF,
    Role.SECRETARY: _STAFF,
    Role.STREET_OFFICIAL: {C.VIEW, C.OVERSEE},
    Role.DISTRICT_OFFICIAL: {C.VIEW, C.OVERSEE},
}
