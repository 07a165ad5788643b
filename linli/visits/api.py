"""REST API for visits: the phone's offline queue sends its visits here, retry-safe with a client
key (``client_key`` in the body or the ``Idempotency-Key`` header), and staff read the visit
records and the coverage of their places.

Every read goes through ``visits.selectors`` (the actor's scope); every write through
``services.visit_log``. Visit notes go out with phone and identity numbers masked
(``redact_text``), and the member met as a masked name unless the reader may unmask.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from linli.core.access import scope_for
from linli.core.api import Pagination, TextUnmaskIn
from linli.people.capabilities import PeopleCap
from linli.people.identity import mask_name, redact_text
from linli.people.services import text_unmask
from linli.places.models import Place
from linli.places.selectors import access_place
from linli.visits import selectors, services
from linli.visits.models import Visit, VisitKind, VisitTag
from linli.visits.views.log import household_for, visit_from

CLIENT_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="the phone's client key for this visit (or ``client_key`` in the body): "
    "sending the same visit again returns it (200) instead of logging a second one",
)


class VisitOut(serializers.ModelSerializer[Visit]):
    household_name = serializers.CharField(source="household.place.name")
    place = serializers.CharField(source="household.place.code")
    visitor_name = serializers.CharField(source="visitor.name")
    met_person_name = serializers.SerializerMethodField()
    met_other = serializers.SerializerMethodField()
    heard = serializers.SerializerMethodField()
    tags = serializers.ListField(child=serializers.ChoiceField(choices=VisitTag.choices))
    has_photo = serializers.SerializerMethodField()

    class Meta:
        model = Visit
        fields = [
            "id",
            "household",
            "household_name",
            "place",
            "visitor_name",
            "kind",
            "visited_at",
            "recorded_at",
            "met_person_name",
            "met_other",
            "heard",
            "tags",
            "policy_topic",
            "needs_help",
            "not_at_home",
            "refused",
            "has_photo",
            "need",
            "night_round",
            "client_key",
        ]

    def get_met_person_name(self, visit: Visit) -> str | None:
        if visit.met_person is None:
            return None
        request = self.context.get("request")
        if request is not None and scope_for(request.user).allows(PeopleCap.UNMASK, visit.place_path):
            return visit.met_person.name
        return mask_name(visit.met_person.name)

    def get_met_other(self, visit: Visit) -> str:
        return redact_text(visit.met_other)

    def get_heard(self, visit: Visit) -> str:
        return redact_text(visit.heard)

    def get_has_photo(self, visit: Visit) -> bool:
        return bool(visit.photo)


class RaiseNeedIn(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=2000)
    category = serializers.CharField(required=False, allow_blank=True, allow_null=True, help_text="category code")
    urgent = serializers.BooleanField(required=False, default=False)


class VisitIn(serializers.Serializer[Any]):
    household = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=VisitKind.choices)
    visited_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="when the visit happened (the phone's clock); now if left out"
    )
    met_person = serializers.IntegerField(required=False, allow_null=True, help_text="a member of the household")
    met_other = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    heard = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    tags = serializers.ListField(child=serializers.ChoiceField(choices=VisitTag.choices), required=False, default=list)
    policy_topic = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    needs_help = serializers.BooleanField(required=False, default=False)
    not_at_home = serializers.BooleanField(required=False, default=False)
    refused = serializers.BooleanField(required=False, default=False)
    raise_need = RaiseNeedIn(required=False, allow_null=True)
    client_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("place", str, description="within this place's subtree (a place code)"),
            OpenApiParameter("household", int, description="visits to this household"),
            OpenApiParameter("kind", str, enum=VisitKind.values, description="kind of visit"),
            OpenApiParameter("tag", str, enum=VisitTag.values, description="visits carrying this tag"),
        ]
    )
)
class VisitViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[Visit]):
    """Visits to households (走访记录): those the actor may read, and logging one."""

    serializer_class = VisitOut
    pagination_class = Pagination
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Visit]:
        params = self.request.query_params
        kind, tag = params.get("kind") or None, params.get("tag") or None
        if kind and kind not in VisitKind.values:
            raise serializers.ValidationError({"kind": [_("未知的走访类型「%(kind)s」") % {"kind": kind}]})
        if tag and tag not in VisitTag.values:
            raise serializers.ValidationError({"tag": [_("未知的标记「%(tag)s」") % {"tag": tag}]})
        place = access_place(self.request.user, params["place"]) if params.get("place") else None
        household = household_for(self.request.user, params["household"]) if params.get("household") else None
        return selectors.visit_list(actor=self.request.user, place=place, household=household, kind=kind, tag=tag)

    def get_object(self) -> Visit:
        return selectors.access_visit(self.request.user, self.kwargs["pk"])

    @extend_schema(
        request=VisitIn,
        responses={200: VisitOut, 201: VisitOut},
        parameters=[CLIENT_KEY],
        description="Log a visit. 201 for a new visit; 200 with the same body when the client key was "
        "already used (the phone sent it again).",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = VisitIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        key = (values.get("client_key") or request.headers.get("Idempotency-Key", "")).strip()
        if key:  # a resend: the visit already logged, even if the household was reassigned since
            done = (
                selectors.visit_list(actor=request.user).filter(recorded_by_id=request.user.pk, client_key=key).first()
            )
            if done is not None:
                return Response(VisitOut(done, context={"request": request}).data, status=status.HTTP_200_OK)
        need = values.get("raise_need")
        visit = visit_from(
            request.user,
            values,
            raise_need=services.RaiseNeed(
                text=need["text"], category_code=need.get("category") or None, urgent=need.get("urgent", False)
            )
            if need
            else None,
            client_key=key,
        )
        fresh = selectors.visit_list(actor=request.user).filter(pk=visit.pk).first() or visit
        code = status.HTTP_200_OK if getattr(visit, "replayed", False) else status.HTTP_201_CREATED
        return Response(VisitOut(fresh, context={"request": request}).data, status=code)

    @extend_schema(
        request=TextUnmaskIn,
        responses={
            200: inline_serializer(
                "VisitUnmasked", {"heard": serializers.CharField(), "met_other": serializers.CharField()}
            )
        },
    )
    @action(detail=True, methods=["post"])
    def unmask(self, request: Request, pk: str) -> Response:
        """The visit's notes as written, with the numbers in them, for staff who may unmask at
        the household and give a reason (audited)."""
        visit = self.get_object()
        data = TextUnmaskIn(data=request.data)
        data.is_valid(raise_exception=True)
        texts = text_unmask(
            actor=request.user,
            target=visit,
            place=visit.household.place,
            texts={"heard": visit.heard, "met_other": visit.met_other},
            reason=data.validated_data["reason"],
        )
        response = Response(texts)
        response.linli_unmasked = True  # type: ignore[attr-defined]
        return response


class CoverageOut(serializers.Serializer[Any]):
    key = serializers.CharField(help_text="the child place's path, the carer's id, or empty for the total")
    place = serializers.CharField(allow_null=True, help_text="the child place's code (by=child)")
    place_name = serializers.CharField(allow_null=True)
    carer_name = serializers.CharField(allow_blank=True)
    households = serializers.IntegerField()
    never = serializers.IntegerField()
    overdue = serializers.IntegerField()
    due_soon = serializers.IntegerField()
    ok = serializers.IntegerField()
    vulnerable = serializers.IntegerField()
    vulnerable_overdue = serializers.IntegerField()
    visited_in_period = serializers.IntegerField()
    on_time_rate = serializers.FloatField(allow_null=True)
    period_rate = serializers.FloatField(allow_null=True)


class CoverageView(APIView):
    """Visit coverage of the places the actor may see (a carer: its own households), grouped by
    the children of ``place``, by carer, or as one total."""

    @extend_schema(
        parameters=[
            OpenApiParameter("place", str, description="a place code; the actor's whole scope if left out"),
            OpenApiParameter("by", str, enum=["child", "carer", "total"], description="grouping (child by default)"),
            OpenApiParameter("period_days", int, description="the period of the coverage rate (30 by default)"),
        ],
        responses={200: CoverageOut(many=True)},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        by = params.get("by") or "child"
        if by not in ("child", "carer", "total"):
            raise serializers.ValidationError({"by": [_("只能是 child、carer 或 total")]})
        try:
            period = int(params.get("period_days") or 30)
        except ValueError:
            period = 0
        if not 1 <= period <= 366:
            raise serializers.ValidationError({"period_days": [_("须在1到366天之间")]})
        place: Place | None = access_place(request.user, params["place"]) if params.get("place") else None
        rows = selectors.coverage_summary(actor=request.user, place=place, by=by, period_days=period)
        return Response(
            [
                {
                    "key": r.key,
                    "place": r.place.code if r.place else None,
                    "place_name": r.place.name if r.place else None,
                    "carer_name": r.carer_name,
                    "households": r.households,
                    "never": r.never,
                    "overdue": r.overdue,
                    "due_soon": r.due_soon,
                    "ok": r.ok,
                    "vulnerable": r.vulnerable,
                    "vulnerable_overdue": r.vulnerable_overdue,
                    "visited_in_period": r.visited_in_period,
                    "on_time_rate": r.on_time_rate,
                    "period_rate": r.period_rate,
                }
                for r in rows
            ]
        )
