"""REST API for needs: intake (retry-safe with ``Idempotency-Key``), triage without writing,
the life of a need as actions, the departments' dispatches, the catalogue and the rates.

Every read goes through ``needs.selectors`` (the actor's scope); every write through one
service. Need texts go out with phone and identity numbers masked (``redact_text``), and
reporters only as masked names.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import authentication, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from linli.accounts.api_keys import ApiKeyAuthentication
from linli.core.access import Actor
from linli.core.api import IDEMPOTENCY_KEY, TextUnmaskIn, idempotent, rate_limited
from linli.needs import selectors, services, workflow
from linli.needs.models import (
    Category,
    Channel,
    Dispatch,
    DispatchStatus,
    Need,
    NeedEvent,
    RatingChannel,
    Satisfaction,
    Status,
    Urgency,
)
from linli.needs.photos import PhotoUpload
from linli.people.identity import mask_name, redact_text
from linli.people.models import Department
from linli.people.services import text_unmask
from linli.places.models import Place
from linli.places.selectors import place_list


def _unknown_place(code: str, field: str) -> serializers.ValidationError:
    return serializers.ValidationError({field: [_("地点编码「%(code)s」不存在") % {"code": code}]})


def _place_by_code(code: str | None, field: str = "place") -> Place | None:
    """A city named by code (the catalogue is public)."""
    if not code:
        return None
    place = Place.objects.filter(code=str(code)).first()
    if place is None:
        raise _unknown_place(str(code), field)
    return place


def _intake_place(actor: Actor, code: str | None) -> Place | None:
    """A place to report at or triage for; one outside the actor's reach is as unknown as one
    that does not exist."""
    if not code:
        return None
    place = selectors.intake_place(actor, code)
    if place is None:
        raise _unknown_place(str(code), "place")
    return place


def _visible_place(actor: Actor, code: str | None, field: str = "place") -> Place | None:
    """A place the actor may see (a list's filter, a transfer's target), else unknown."""
    if not code:
        return None
    place = place_list(actor=actor).filter(code=str(code)[:64]).first()
    if place is None:
        raise _unknown_place(str(code), field)
    return place


class CategoryOut(serializers.ModelSerializer[Category]):
    label = serializers.SerializerMethodField()  # type: ignore[assignment]

    class Meta:
        model = Category
        fields = [
            "code",
            "label",
            "name",
            "name_hant",
            "name_en",
            "level",
            "department_kind",
            "response_limit",
            "response_unit",
            "checkin_limit",
            "checkin_unit",
            "resolution_limit",
            "resolution_unit",
        ]

    def get_label(self, category: Category) -> str:
        return category.label()


class DispatchOut(serializers.ModelSerializer[Dispatch]):
    department = serializers.CharField(source="department.code")
    department_name = serializers.CharField(source="department.name")
    need = serializers.IntegerField(source="need_id")

    class Meta:
        model = Dispatch
        fields = [
            "id",
            "need",
            "department",
            "department_name",
            "is_lead",
            "status",
            "whistled_at",
            "checkin_due",
            "checked_in_at",
            "resolution_due",
            "resolved_at",
            "result",
            "return_reason",
        ]


class NeedOut(serializers.ModelSerializer[Need]):
    """A need as the API shows it: text masked, and at its building for readers who may not
    see the household (a department's liaison)."""

    text = serializers.SerializerMethodField()
    category = serializers.SerializerMethodField()
    place = serializers.SerializerMethodField()
    place_name = serializers.SerializerMethodField()
    grid = serializers.SerializerMethodField()

    class Meta:
        model = Need
        fields = [
            "id",
            "token",
            "text",
            "category",
            "category_confirmed",
            "place",
            "place_name",
            "grid",
            "lat",
            "lng",
            "channel",
            "urgency",
            "status",
            "level",
            "heat",
            "response_due",
            "resolution_due",
            "accepted_at",
            "resolved_at",
            "closed_at",
            "created_at",
            "merged_into",
        ]

    def get_text(self, need: Need) -> str:
        return redact_text(need.text)

    def _shown(self, need: Need) -> Place:
        shown = self.context.setdefault("shown", {})
        if need.pk not in shown:
            shown.update(selectors.shown_places(self.context["request"].user, [need]))
        place: Place = shown[need.pk]
        return place

    def get_place(self, need: Need) -> str:
        return self._shown(need).code

    def get_place_name(self, need: Need) -> str:
        return self._shown(need).name

    def get_category(self, need: Need) -> str | None:
        return need.category.code if need.category else None

    def get_grid(self, need: Need) -> str | None:
        return need.grid.code if need.grid else None


class EventOut(serializers.ModelSerializer[NeedEvent]):
    department = serializers.SerializerMethodField()
    note = serializers.SerializerMethodField()
    actor_name = serializers.SerializerMethodField(
        help_text="who took the step, as the reader understands it: 我, 居民 张*, 网格员 李*, 系统"
    )

    class Meta:
        model = NeedEvent
        fields = ["at", "kind", "actor_name", "department", "from_status", "to_status", "note"]

    def get_department(self, event: NeedEvent) -> str | None:
        return event.department.name if event.department else None

    def get_actor_name(self, event: NeedEvent) -> str:
        return str(getattr(event, "actor_label", ""))

    def get_note(self, event: NeedEvent) -> str:
        return redact_text(event.note)


class NeedDetailOut(NeedOut):
    dispatches = DispatchOut(many=True, read_only=True)
    reporters = serializers.SerializerMethodField()
    result = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()

    class Meta(NeedOut.Meta):
        fields = [*NeedOut.Meta.fields, "result", "dispatches", "reporters", "actions"]

    def get_actions(self, need: Need) -> list[str]:
        """The verbs (``needs.workflow``) the reader may take on the need now, each an action
        of this API (``phone-rate`` is ``rate`` with a reporter)."""
        request = self.context.get("request")
        if request is None:
            return []
        return sorted(workflow.verbs_for(request.user, need))

    def get_reporters(self, need: Need) -> list[str]:
        return [mask_name(r.name) for r in need.reporters.all()]

    def get_result(self, need: Need) -> str:
        return redact_text(need.result)


class NeedIn(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=2000, allow_blank=True)
    place = serializers.CharField(required=False, allow_blank=True, allow_null=True, help_text="place code")
    lat = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)
    long = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)
    category = serializers.CharField(required=False, allow_blank=True, allow_null=True, help_text="category code")
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False, default=Urgency.NORMAL)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, default=Channel.API)
    address_string = serializers.CharField(max_length=200, required=False, allow_blank=True)
    photos = serializers.ListField(child=serializers.FileField(), required=False, max_length=6)


class TriageIn(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=2000)
    place = serializers.CharField(required=False, allow_blank=True, allow_null=True, help_text="place code")
    lat = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)
    long = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True)


TriageOut = inline_serializer(
    "TriageOut",
    {
        "categories": inline_serializer(
            "TriageCategory", {"code": serializers.CharField(), "score": serializers.FloatField()}, many=True
        ),
        "grid": serializers.CharField(allow_null=True),
        "duplicates": inline_serializer(
            "TriageDuplicate", {"id": serializers.IntegerField(), "score": serializers.FloatField()}, many=True
        ),
    },
)


class TriageView(APIView):
    """Suggest categories, locate the grid and find duplicate candidates, writing nothing.
    Accepts a signed-in session or the ``api_key`` of a registered client."""

    authentication_classes = [ApiKeyAuthentication, authentication.SessionAuthentication]
    permission_classes = [permissions.IsAuthenticated]
    throttle_classes = [rate_limited("triage")]

    @extend_schema(
        request=TriageIn,
        responses={200: TriageOut},
        parameters=[OpenApiParameter("api_key", str, required=False, description="a registered client's key")],
    )
    def post(self, request: Request) -> Response:
        from linli.needs import triage

        data = TriageIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        place = _intake_place(request.user, values.get("place"))
        lat, lng = values.get("lat"), values.get("long")
        if (lat is None) != (lng is None):
            raise serializers.ValidationError({"lat": [_("lat 和 long 须同时给出")]})
        located = triage.locate(place=place, lat=lat, lng=lng)
        grid = located.grid if located else None
        duplicates = triage.find_duplicates(values["text"], place=place or grid, lat=lat, lng=lng)
        visible = set(
            selectors.need_list(actor=request.user)
            .filter(pk__in=[pk for pk, _rest in duplicates])
            .values_list("pk", flat=True)
        )
        return Response(
            {
                "categories": [
                    {"code": code, "score": round(score, 4)}
                    for code, score in triage.suggest_categories(values["text"])
                ],
                "grid": grid.code if grid else None,
                "duplicates": [{"id": pk, "score": round(score, 4)} for pk, score in duplicates if pk in visible],
            }
        )


class TextIn(serializers.Serializer[Any]):
    result = serializers.CharField(max_length=4000, allow_blank=True)


class WhistleIn(serializers.Serializer[Any]):
    departments = serializers.ListField(child=serializers.CharField(), min_length=1, help_text="department codes")
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class CategoryIn(serializers.Serializer[Any]):
    category = serializers.CharField()


class UrgencyIn(serializers.Serializer[Any]):
    urgency = serializers.ChoiceField(choices=Urgency.choices)


class TransferIn(serializers.Serializer[Any]):
    place = serializers.CharField(help_text="place code")
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class MergeIn(serializers.Serializer[Any]):
    into = serializers.IntegerField(help_text="the need this one duplicates")


class RateIn(serializers.Serializer[Any]):
    resolved = serializers.BooleanField()
    satisfaction = serializers.ChoiceField(choices=Satisfaction.choices)
    comment = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    reporter = serializers.IntegerField(required=False, help_text="staff recording a phone follow-up")


class ReasonIn(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=1000, allow_blank=True)


class DecideIn(serializers.Serializer[Any]):
    approve = serializers.BooleanField()
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


def _valid(serializer_class: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


def _uploads(files: list[Any]) -> list[PhotoUpload]:
    return [PhotoUpload(name=f.name or "photo", content=f.read()) for f in files]


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("status", str, description="submitted, accepted, whistled, resolved, closed, merged"),
            OpenApiParameter("category", str, description="category code"),
            OpenApiParameter("place", str, description="within this place's subtree (a place code)"),
            OpenApiParameter("overdue", bool, description="open and past the resolution deadline"),
            OpenApiParameter("mine", bool, description="needs I reported"),
            OpenApiParameter("q", str, description="text or number; simplified/traditional-insensitive"),
        ]
    )
)
class NeedViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[Need]):
    serializer_class = NeedOut
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Need]:
        params = self.request.query_params
        status_value = params.get("status") or None
        if status_value and status_value not in Status.values:
            raise serializers.ValidationError(
                {"status": [_("未知状态「%(status_value)s」") % {"status_value": status_value}]}
            )
        return selectors.need_list(
            actor=self.request.user,
            status=status_value,
            category=params.get("category") or None,
            place=_visible_place(self.request.user, params.get("place")),
            overdue=params.get("overdue") in ("1", "true"),
            mine=params.get("mine") in ("1", "true"),
            q=params.get("q") or None,
        ).order_by("-created_at", "-id")

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        return NeedDetailOut if self.action == "retrieve" else NeedOut

    def get_throttles(self) -> list[Any]:
        return [rate_limited("need_intake")()] if self.action == "create" else []

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset())) or []
        context = {**self.get_serializer_context(), "shown": selectors.shown_places(request.user, list(page))}
        return self.get_paginated_response(NeedOut(page, many=True, context=context).data)

    @extend_schema(
        request=TextUnmaskIn,
        responses={
            200: inline_serializer("NeedUnmasked", {"text": serializers.CharField(), "result": serializers.CharField()})
        },
    )
    @action(detail=True, methods=["post"])
    def unmask(self, request: Request, pk: str) -> Response:
        """The need's original text and result, with the numbers typed into them, for staff
        who may unmask at its place and give a reason (audited)."""
        need = selectors.access_need(request.user, pk)
        values = _valid(TextUnmaskIn, request)
        texts = text_unmask(
            actor=request.user,
            target=need,
            place=need.place,
            texts={"text": need.text, "result": need.result},
            reason=values["reason"],
        )
        response = Response(texts)
        response.linli_unmasked = True  # type: ignore[attr-defined]
        return response

    def get_object(self) -> Need:
        need = selectors.access_need(self.request.user, self.kwargs["pk"])
        return selectors.need_detail_prefetch(Need.objects.filter(pk=need.pk)).select_related(
            "category", "place", "grid"
        )[0]

    def _detail(self, need: Need | int, code: int = 200) -> Response:
        pk = need.pk if isinstance(need, Need) else need
        fresh = selectors.need_detail_prefetch(Need.objects.filter(pk=pk)).select_related("category", "place", "grid")[
            0
        ]
        return Response(NeedDetailOut(fresh, context={"request": self.request}).data, status=code)

    @extend_schema(request=NeedIn, responses={201: NeedDetailOut}, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        values = _valid(NeedIn, request)
        need = services.need_create(
            actor=request.user,
            text=values["text"],
            place=_intake_place(request.user, values.get("place")),
            lat=values.get("lat"),
            lng=values.get("long"),
            address_string=values.get("address_string", ""),
            category_code=values.get("category") or None,
            channel=values["channel"],
            urgency=values["urgency"],
            photos=_uploads(values.get("photos") or []),
        )
        return self._detail(need, status.HTTP_201_CREATED)

    @extend_schema(responses={200: EventOut(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def timeline(self, request: Request, pk: str) -> Response:
        need = selectors.access_need(request.user, pk)
        return Response(EventOut(selectors.need_timeline_for(need=need, reader=request.user), many=True).data)

    @extend_schema(request=None, responses={200: NeedDetailOut})
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str) -> Response:
        need = selectors.access_need(request.user, pk)
        return self._detail(services.need_accept(actor=request.user, need=need))

    @extend_schema(request=CategoryIn, responses={200: NeedDetailOut})
    @action(detail=True, methods=["post"])
    def categorise(self, request: Request, pk: str) -> Response:
        need = selectors.access_need(request.user, pk)
        values = _valid(CategoryIn, request)
        return self._detail(services.need_categorise(actor=request.user, need=need, category_code=values["category"]))

    @extend_schema(request=UrgencyIn, responses={200: NeedDetailOut})
    @action(detail=True, methods=["post"])
    def urgency(self, request: Request, pk: str) -> Response:
        """Change the urgency; the running deadlines are recomputed from the catalogue's limits."""
        need = selectors.access_need(request.user, pk)
        values = _valid(UrgencyIn, request)
        return self._detail(services.need_set_urgency(actor=request.user, need=need, urgency=values["urgency"]))

    @extend_schema(request=WhistleIn, responses={200: NeedDetailOut})
    @action(detail=True, methods=["post"])
    def whistle(self, request: Request, pk: str) -> Response:
        need = selectors.access_need(request.user, pk)
        values = _valid(WhistleIn, request)
        codes = list(dict.fromkeys(values["departments"]))
        departments = list(Department.objects.select_related("place").filter(code__in=codes))
        missing = set(codes) - {d.code for d in departments}
        if missing:
            raise serializers.ValidationError(
                {"departments": [_("部门编码不存在: %(missing)s") % {"missing": ", ".join(sorted(missing))}]}
            )
        departments.sort(key=lambda d: codes.index(d.code))
        services.need_whistle(actor=request.user, need=need, departments=departments, note=values["note"])
        return self._detail(need)

    @extend_schema(request=TextIn, responses={200: NeedDetailOut})
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str) -> Response:
        need = selectors.access_need(request.user, pk)
        values = _valid(TextIn, request)
        return self._detail(services.need_resolve(actor=request.user, need=need, result=values["result"]))

    @extend_schema(request=TransferIn, responses={200: NeedDetailOut})
    @action(detail=True, methods=["post"])
    def transfer(self, request: Request, pk: str) -> Response:
        need = selectors.access_need(request.user, pk)
        values = _valid(TransferIn, request)
        place = _visible_place(request.user, values["place"])
        assert place is not None
        return self._detail(services.need_transfer(actor=request.user, need=need, place=place, note=values["note"]))

    @extend_schema(request=MergeIn, responses={200: NeedDetailOut})
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk: str) -> Response:
        need = selectors.access_need(request.user, pk)
        values = _valid(MergeIn, request)
        target = selectors.access_need(request.user, values["into"])
        return self._detail(services.need_merge(actor=request.user, duplicate=need, into=target))

    @extend_schema(request=RateIn, responses={200: NeedDetailOut})
    @action(detail=True, methods=["post"])
    def rate(self, request: Request, pk: str) -> Response:
        need = selectors.access_need(request.user, pk)
        values = _valid(RateIn, request)
        services.need_rate(
            actor=request.user,
            need=need,
            reporter=values.get("reporter"),
            resolved=values["resolved"],
            satisfaction=values["satisfaction"],
            comment=values["comment"],
            channel=RatingChannel.PHONE if values.get("reporter") else RatingChannel.APP,
        )
        return self._detail(need)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("status", str, description="whistled, checked_in, resolved, return_requested, returned"),
            OpenApiParameter("active", bool, description="only those still to be worked on"),
        ]
    )
)
class DispatchViewSet(viewsets.ReadOnlyModelViewSet[Dispatch]):
    """What has been whistled to my department: check in, resolve, or ask to return it."""

    serializer_class = DispatchOut

    def get_queryset(self) -> QuerySet[Dispatch]:
        params = self.request.query_params
        status_value = params.get("status") or None
        if status_value and status_value not in DispatchStatus.values:
            raise serializers.ValidationError(
                {"status": [_("未知状态「%(status_value)s」") % {"status_value": status_value}]}
            )
        return selectors.dispatch_list(
            actor=self.request.user, status=status_value, active=params.get("active") in ("1", "true")
        )

    def get_object(self) -> Dispatch:
        return selectors.access_dispatch(self.request.user, self.kwargs["pk"])

    def _out(self, dispatch: Dispatch) -> Response:
        return Response(DispatchOut(selectors.access_dispatch(self.request.user, dispatch.pk)).data)

    @extend_schema(request=None, responses={200: DispatchOut})
    @action(detail=True, methods=["post"])
    def checkin(self, request: Request, pk: str) -> Response:
        dispatch = self.get_object()
        return self._out(services.dispatch_checkin(actor=request.user, dispatch=dispatch))

    @extend_schema(request=TextIn, responses={200: DispatchOut})
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str) -> Response:
        dispatch = self.get_object()
        values = _valid(TextIn, request)
        return self._out(services.dispatch_resolve(actor=request.user, dispatch=dispatch, result=values["result"]))

    @extend_schema(request=ReasonIn, responses={200: DispatchOut}, operation_id="dispatches_return")
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request: Request, pk: str) -> Response:
        dispatch = self.get_object()
        values = _valid(ReasonIn, request)
        return self._out(services.dispatch_return(actor=request.user, dispatch=dispatch, reason=values["reason"]))

    @extend_schema(request=DecideIn, responses={200: DispatchOut})
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str) -> Response:
        dispatch = self.get_object()
        values = _valid(DecideIn, request)
        return self._out(
            services.dispatch_return_decide(
                actor=request.user, dispatch=dispatch, approve=values["approve"], note=values["note"]
            )
        )


class CategoryViewSet(viewsets.ReadOnlyModelViewSet[Category]):
    """The dispatch catalogue 派单目录 (the default catalogue, or a city's with ``city``)."""

    serializer_class = CategoryOut
    lookup_field = "code"
    pagination_class = None

    def get_queryset(self) -> QuerySet[Category]:
        return selectors.category_list(city=_place_by_code(self.request.query_params.get("city"), "city"))

    def get_object(self) -> Category:
        from django.http import Http404

        found = self.get_queryset().filter(code=self.kwargs["code"]).first()
        if found is None:
            raise Http404("category not found")
        return found
