"""What can be done with the place tree, and which roles may (``core.access``)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.access import Role


class PlaceCap(models.TextChoices):
    VIEW_PLACES = "view_places", _("浏览地点")
    MANAGE_PLACES = "manage_places", _("管理地点")


GRANTS = {
    Role.RESIDENT: {PlaceCap.VIEW_PLACES},
    Role.VOLUNTEER: {PlaceCap.VIEW_PLACES},
    Role.MEDIATOR: {PlaceCap.VIEW_PLACES},
    Role.LIAISON: {PlaceCap.VIEW_PLACES},
    Role.BUILDING_LEADER: {PlaceCap.VIEW_PLACES},
    Role.CENTRAL_HOUSEHOLD: {PlaceCap.VIEW_PLACES},
    Role.GRID_WORKER: {PlaceCap.VIEW_PLACES},
    Role.COMMUNITY_STAFF: {PlaceCap.VIEW_PLACES},
    Role.SECRETARY: {PlaceCap.VIEW_PLACES},
    Role.STREET_OFFICIAL: {PlaceCap.VIEW_PLACES, PlaceCap.MANAGE_PLACES},
    Role.DISTRICT_OFFICIAL: {PlaceCap.VIEW_PLACES, PlaceCap.MANAGE_PLACES},
}
