"""What can be done with visits and care assignments, and which roles may."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.access import Role


class VisitCap(models.TextChoices):
    LOG_VISITS = "log_visits", _("登记走访")
    VIEW_VISITS = "view_visits", _("查看走访记录")
    VIEW_COVERAGE = "view_coverage", _("查看走访覆盖率")
    MANAGE_CARE = "manage_care", _("安排包保")
    MANAGE_VISIT_POLICY = "manage_visit_policy", _("设置走访频次")


C = VisitCap
_KEEPERS = {C.LOG_VISITS, C.VIEW_VISITS, C.VIEW_COVERAGE, C.MANAGE_CARE}
GRANTS = {
    # carers log visits only to the households assigned to them (the services add that)
    Role.BUILDING_LEADER: {C.LOG_VISITS},
    Role.CENTRAL_HOUSEHOLD: {C.LOG_VISITS},
    Role.GRID_WORKER: _KEEPERS,
    Role.COMMUNITY_STAFF: _KEEPERS,
    Role.SECRETARY: _KEEPERS | {C.MANAGE_VISIT_POLICY},
    Role.STREET_OFFICIAL: {C.VIEW_COVERAGE},
    Role.DISTRICT_OFFICIAL: {C.VIEW_COVERAGE},
}

#: The roles that care for households (包保): a central household and a building leader.
CARER_ROLES = frozenset({Role.CENTRAL_HOUSEHOLD, Role.BUILDING_LEADER})
