"""What can be done with people, memberships and the audit trail, and which roles may."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.access import Role


class PeopleCap(models.TextChoices):
    VIEW_PEOPLE = "view_people", _("查看居民(脱敏)")
    EDIT_PEOPLE = "edit_people", _("编辑居民")
    VIEW_SENSITIVE = "view_sensitive", _("查看困难标记")
    UNMASK = "unmask", _("查看完整号码")
    MANAGE_MEMBERSHIPS = "manage_memberships", _("管理角色")
    VIEW_MEMBERSHIPS = "view_memberships", _("查看角色")
    VIEW_AUDIT = "view_audit", _("查看审计")


C = PeopleCap
_STAFF = {C.VIEW_PEOPLE, C.EDIT_PEOPLE, C.VIEW_SENSITIVE, C.UNMASK, C.VIEW_MEMBERSHIPS}
GRANTS = {
    Role.RESIDENT: {C.VIEW_PEOPLE},
    # carers see the sensitive flags of their own households only (the visits app adds those)
    Role.BUILDING_LEADER: {C.VIEW_PEOPLE},
    Role.CENTRAL_HOUSEHOLD: {C.VIEW_PEOPLE},
    Role.GRID_WORKER: _STAFF,
    Role.COMMUNITY_STAFF: _STAFF,
    Role.SECRETARY: _STAFF | {C.MANAGE_MEMBERSHIPS, C.VIEW_AUDIT},
    Role.STREET_OFFICIAL: {C.VIEW_PEOPLE, C.VIEW_MEMBERSHIPS, C.MANAGE_MEMBERSHIPS},
    Role.DISTRICT_OFFICIAL: {C.VIEW_PEOPLE, C.VIEW_MEMBERSHIPS, C.MANAGE_MEMBERSHIPS},
}
