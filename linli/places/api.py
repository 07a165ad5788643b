"""REST API for the place tree (read-only; imports go through the import page/command)."""

from __future__ import annotations

from typing import Any

from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Left, Length
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from linli.places.models import Place, PlaceKind
from linli.places.selectors import access_place, place_list, with_counts


@extend_schema_field({"type": ["object", "null"], "description": "GeoJSON Polygon or MultiPolygon, WGS-84"})
class GeoJSONField(serializers.JSONField):
    pass


class PlaceOut(serializers.ModelSerializer[Place]):
    boundary = GeoJSONField(read_only=True, allow_null=True)
    parent_code = serializers.CharField(read_only=True, allow_null=True)
    household_count = serializers.IntegerField(read_only=True)
    people_count = serializers.IntegerField(read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Place
        fields = [
            "code",
            "name",
            "kind",
            "kind_label",
            "depth",
            "parent_code",
            "lat",
            "lng",
            "boundary",
            "numchild",
            "household_count",
            "people_count",
        ]


def with_parent_code(qs: QuerySet[Place]) -> QuerySet[Place]:
    parent = Place.objects.filter(path=Left(OuterRef("path"), Length(OuterRef("path")) - Place.steplen))
    return qs.annotate(parent_code=Subquery(parent.values("code")[:1]))


class PlaceViewSet(viewsets.ReadOnlyModelViewSet[Place]):
    """Places the caller may see. ``?parent=CODE`` lists a node's children."""

    serializer_class = PlaceOut
    lookup_field = "code"
    lookup_value_regex = "[A-Za-z0-9._-]+"

    def get_queryset(self) -> QuerySet[Place]:
        params = self.request.query_params
        parent = access_place(self.request.user, params["parent"]) if params.get("parent") else None
        kind = params.get("kind") or None
        if kind and kind not in PlaceKind.values:
            from rest_framework.exceptions import ValidationError

            raise ValidationError({"kind": [_("未知的类型：%(kind)s") % {"kind": kind}]})
        qs = place_list(actor=self.request.user, parent=parent, kind=kind, q=params.get("q") or None)
        return with_parent_code(with_counts(qs)).order_by(F("path"))

    def get_object(self) -> Place:
        place = access_place(self.request.user, self.kwargs["code"])
        return with_parent_code(with_counts(Place.objects.filter(pk=place.pk))).get()

    @extend_schema(
        parameters=[
            OpenApiParameter("parent", str, description="a parent place code"),
            OpenApiParameter("kind", str, enum=PlaceKind.values),
            OpenApiParameter("q", str, description="name contains (simplified/traditional-insensitive)"),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)
