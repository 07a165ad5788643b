from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.core.access import PlaceScoped, PlaceScopedQuerySet, scope_for


class Notice(PlaceScoped):
    """A notice posted at a place (a community, a building), seen by those who may see that place."""

    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("标题"), max_length=80)
    body = models.TextField(_("内容"), max_length=2000)
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    posted_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    expired = models.BooleanField(default=False)

    objects = PlaceScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-posted_at", "-id"]
        indexes = [models.Index(fields=["place_path"])]

    @classmethod
    def visible_also(cls, actor: Any, capability: str) -> Q | None:
        """A notice is read below the place it was posted at: a grid worker or a resident sees
        their community's notices (the places above each of their grants)."""
        from linli.places.models import Place

        above = {
            path[:end]
            for path in scope_for(actor).paths(capability)
            for end in range(Place.steplen, len(path), Place.steplen)
        }
        return Q(place_path__in=above) if above else None
