from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.access import STAFF_ROLES, Role


class NoticeCap(models.TextChoices):
    VIEW_NOTICES = "noticeboard.view", _("查看公告")
    POST_NOTICES = "noticeboard.post", _("发布公告")


GRANTS = {
    Role.RESIDENT: {NoticeCap.VIEW_NOTICES},
    **{role: {NoticeCap.VIEW_NOTICES} for role in STAFF_ROLES},
    Role.SECRETARY: {NoticeCap.VIEW_NOTICES, NoticeCap.POST_NOTICES},
    Role.COMMUNITY_STAFF: {NoticeCap.VIEW_NOTICES, NoticeCap.POST_NOTICES},
}
