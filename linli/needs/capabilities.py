"""What can be done with needs and dispatches, and which roles may."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.access import Role


class NeedCap(models.TextChoices):
    SUBMIT_NEED = "submit_need", _("反映诉求")
    VIEW_NEEDS = "view_needs", _("查看诉求")
    HANDLE_NEEDS = "handle_needs", _("办理诉求")
    DECIDE_RETURNS = "decide_returns", _("审批退单")
    VIEW_RATES = "view_rates", _("查看三率")
    WORK_DISPATCHES = "work_dispatches", _("部门报到办理")
    MANAGE_CATALOGUE = "manage_catalogue", _("管理派单目录")


C = NeedCap
_HANDLERS = {C.SUBMIT_NEED, C.VIEW_NEEDS, C.HANDLE_NEEDS}
GRANTS = {
    Role.RESIDENT: {C.SUBMIT_NEED},
    Role.VOLUNTEER: {C.SUBMIT_NEED},
    Role.BUILDING_LEADER: {C.SUBMIT_NEED},
    Role.CENTRAL_HOUSEHOLD: {C.SUBMIT_NEED},
    # a liaison works the needs whistled to its own department (the selectors add that)
    Role.LIAISON: {C.WORK_DISPATCHES},
    Role.GRID_WORKER: _HANDLERS,
    Role.COMMUNITY_STAFF: _HANDLERS | {C.DECIDE_RETURNS, C.VIEW_RATES},
    Role.SECRETARY: _HANDLERS | {C.DECIDE_RETURNS, C.VIEW_RATES},
    Role.STREET_OFFICIAL: _HANDLERS | {C.DECIDE_RETURNS, C.VIEW_RATES},
    Role.DISTRICT_OFFICIAL: _HANDLERS | {C.DECIDE_RETURNS, C.VIEW_RATES},
}
