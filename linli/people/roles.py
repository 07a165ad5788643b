"""Roles (held through a Membership at a place) and what each role may do there.

The table is data, not scattered ``if`` statements: selectors ask ``roles_for(action)`` and
restrict querysets to the subtrees where the actor holds one of those roles.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    RESIDENT = "resident", _("居民")
    BUILDING_LEADER = "building_leader", _("楼栋长")
    CENTRAL_HOUSEHOLD = "central_household", _("党员中心户")
    VOLUNTEER = "volunteer", _("志愿者")
    GRID_WORKER = "grid_worker", _("网格员")
    MEDIATOR = "mediator", _("调解员")
    LIAISON = "department_liaison", _("部门联络人")
    COMMUNITY_STAFF = "community_staff", _("社区工作人员")
    SECRETARY = "secretary", _("社区书记")
    STREET_OFFICIAL = "street_official", _("街道干部")
    DISTRICT_OFFICIAL = "district_official", _("区级干部")
    ADMIN = "system_admin", _("系统管理员")


class Action(models.TextChoices):
    VIEW_PLACES = "view_places", _("浏览地点")
    MANAGE_PLACES = "manage_places", _("管理地点")
    VIEW_PEOPLE = "view_people", _("查看居民(脱敏)")
    EDIT_PEOPLE = "edit_people", _("编辑居民")
    VIEW_SENSITIVE = "view_sensitive", _("查看困难标记")
    UNMASK = "unmask", _("查看完整号码")
    MANAGE_MEMBERSHIPS = "manage_memberships", _("管理角色")
    VIEW_MEMBERSHIPS = "view_memberships", _("查看角色")
    VIEW_AUDIT = "view_audit", _("查看审计")
    SUBMIT_NEED = "submit_need", _("反映诉求")
    VIEW_NEEDS = "view_needs", _("查看诉求")
    HANDLE_NEEDS = "handle_needs", _("办理诉求")
    DECIDE_RETURNS = "decide_returns", _("审批退单")
    VIEW_RATES = "view_rates", _("查看三率")
    WORK_DISPATCHES = "work_dispatches", _("部门报到办理")
    MANAGE_CATALOGUE = "manage_catalogue", _("管理派单目录")
    LOG_VISITS = "log_visits", _("登记走访")
    VIEW_VISITS = "view_visits", _("查看走访记录")
    VIEW_COVERAGE = "view_coverage", _("查看走访覆盖率")
    MANAGE_CARE = "manage_care", _("安排包保")
    MANAGE_VISIT_POLICY = "manage_visit_policy", _("设置走访频次")


R, A = Role, Action
_ALL = set(Action)

#: What each role may do inside the subtree of the place it holds the role at.
CAPABILITIES: dict[str, set[str]] = {
    R.RESIDENT: {A.VIEW_PLACES, A.VIEW_PEOPLE, A.SUBMIT_NEED},
    R.VOLUNTEER: {A.VIEW_PLACES, A.SUBMIT_NEED},
    R.MEDIATOR: {A.VIEW_PLACES},
    # a liaison works the needs whistled to its own department (selectors add that condition)
    R.LIAISON: {A.VIEW_PLACES, A.WORK_DISPATCHES},
    # carers log visits only to the households assigned to them (the visits services add that),
    # and see the sensitive flags of those households only (``permissions.sees_sensitive``)
    R.BUILDING_LEADER: {A.VIEW_PLACES, A.VIEW_PEOPLE, A.SUBMIT_NEED, A.LOG_VISITS},
    R.CENTRAL_HOUSEHOLD: {A.VIEW_PLACES, A.VIEW_PEOPLE, A.SUBMIT_NEED, A.LOG_VISITS},
    R.GRID_WORKER: {
        A.LOG_VISITS,
        A.VIEW_VISITS,
        A.VIEW_COVERAGE,
        A.MANAGE_CARE,
        A.VIEW_PLACES,
        A.VIEW_PEOPLE,
        A.EDIT_PEOPLE,
        A.VIEW_SENSITIVE,
        A.UNMASK,
        A.VIEW_MEMBERSHIPS,
        A.SUBMIT_NEED,
        A.VIEW_NEEDS,
        A.HANDLE_NEEDS,
    },
    R.COMMUNITY_STAFF: {
        A.LOG_VISITS,
        A.VIEW_VISITS,
        A.VIEW_COVERAGE,
        A.MANAGE_CARE,
        A.SUBMIT_NEED,
        A.VIEW_NEEDS,
        A.HANDLE_NEEDS,
        A.DECIDE_RETURNS,
        A.VIEW_RATES,
        A.VIEW_PLACES,
        A.VIEW_PEOPLE,
        A.EDIT_PEOPLE,
        A.VIEW_SENSITIVE,
        A.UNMASK,
        A.VIEW_MEMBERSHIPS,
    },
    R.SECRETARY: {
        A.LOG_VISITS,
        A.VIEW_VISITS,
        A.VIEW_COVERAGE,
        A.MANAGE_CARE,
        A.MANAGE_VISIT_POLICY,
        A.SUBMIT_NEED,
        A.VIEW_NEEDS,
        A.HANDLE_NEEDS,
        A.DECIDE_RETURNS,
        A.VIEW_RATES,
        A.VIEW_PLACES,
        A.VIEW_PEOPLE,
        A.EDIT_PEOPLE,
        A.VIEW_SENSITIVE,
        A.UNMASK,
        A.VIEW_MEMBERSHIPS,
        A.MANAGE_MEMBERSHIPS,
        A.VIEW_AUDIT,
    },
    R.STREET_OFFICIAL: {
        A.VIEW_COVERAGE,
        A.SUBMIT_NEED,
        A.VIEW_NEEDS,
        A.HANDLE_NEEDS,
        A.DECIDE_RETURNS,
        A.VIEW_RATES,
        A.VIEW_PLACES,
        A.MANAGE_PLACES,
        A.VIEW_PEOPLE,
        A.VIEW_MEMBERSHIPS,
        A.MANAGE_MEMBERSHIPS,
    },
    R.DISTRICT_OFFICIAL: {
        A.VIEW_COVERAGE,
        A.SUBMIT_NEED,
        A.VIEW_NEEDS,
        A.HANDLE_NEEDS,
        A.DECIDE_RETURNS,
        A.VIEW_RATES,
        A.VIEW_PLACES,
        A.MANAGE_PLACES,
        A.VIEW_PEOPLE,
        A.VIEW_MEMBERSHIPS,
        A.MANAGE_MEMBERSHIPS,
    },
    R.ADMIN: set(_ALL),
}

#: A granter may only grant roles ranked below its own (an admin may grant any).
RANK: dict[str, int] = {
    R.RESIDENT: 0,
    R.VOLUNTEER: 1,
    R.BUILDING_LEADER: 1,
    R.CENTRAL_HOUSEHOLD: 1,
    R.MEDIATOR: 2,
    R.GRID_WORKER: 2,
    R.LIAISON: 2,
    R.COMMUNITY_STAFF: 3,
    R.SECRETARY: 4,
    R.STREET_OFFICIAL: 5,
    R.DISTRICT_OFFICIAL: 6,
    R.ADMIN: 9,
}

#: Roles that must sign in with a password and a TOTP second factor.
STAFF_ROLES: frozenset[str] = frozenset(
    {
        R.GRID_WORKER,
        R.MEDIATOR,
        R.LIAISON,
        R.COMMUNITY_STAFF,
        R.SECRETARY,
        R.STREET_OFFICIAL,
        R.DISTRICT_OFFICIAL,
        R.ADMIN,
    }
)


#: Roles that see other households' data without being staff (carers, 包保): they sign in with
#: something they hold, an SMS code to their phone (or a TOTP code), never a password alone.
POSSESSION_ROLES: frozenset[str] = frozenset({R.BUILDING_LEADER, R.CENTRAL_HOUSEHOLD})


def roles_for(action: str) -> set[str]:
    return {role for role, caps in CAPABILITIES.items() if action in caps}
