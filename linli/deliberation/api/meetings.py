"""REST API of meetings and decisions: the meetings the actor may read (their community's and
those they are invited to), the invitee's reply, check-in with the door code's token, and the
decisions the actor may read. Reads go through ``selectors.meetings``, writes through
``services.meetings``; owners' names go out masked unless the reader may see the people."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from linli.core.access import scope_for
from linli.core.api import Pagination
from linli.deliberation.models import Decision, DecisionStatus, Meeting, Rsvp
from linli.deliberation.selectors import meetings as sel
from linli.deliberation.services import meetings as services
from linli.people.capabilities import PeopleCap
from linli.people.identity import mask_name, redact_text
from linli.places.selectors import access_place


class AgendaOut(serializers.Serializer[Any]):
    title = serializers.CharField()
    topic = serializers.IntegerField(allow_null=True, source="topic_id")


class MeetingOut(serializers.ModelSerializer[Meeting]):
    place = serializers.CharField(source="place.code")
    place_name = serializers.CharField(source="place.name")
    agenda = AgendaOut(many=True, read_only=True)
    my_rsvp = serializers.SerializerMethodField(help_text="the reader's reply, or null when not invited")
    minutes = serializers.SerializerMethodField(help_text="the minutes once published (null before)")

    class Meta:
        model = Meeting
        fields = [
            "id",
            "kind",
            "title",
            "place",
            "place_name",
            "starts_at",
            "ends_at",
            "venue",
            "quorum",
            "status",
            "open_to_place",
            "agenda",
            "my_rsvp",
            "minutes",
            "minutes_published_at",
        ]

    def get_my_rsvp(self, meeting: Meeting) -> str | None:
        mine: dict[int, str] = self.context.get("rsvps", {})
        return mine.get(meeting.pk)

    def get_minutes(self, meeting: Meeting) -> str | None:
        return redact_text(meeting.minutes) if meeting.minutes_published_at else None


class DecisionOut(serializers.ModelSerializer[Decision]):
    meeting_title = serializers.CharField(source="meeting.title")
    owner_name = serializers.SerializerMethodField()
    text = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Decision
        fields = [
            "id",
            "meeting",
            "meeting_title",
            "topic",
            "text",
            "owner_name",
            "due",
            "status",
            "done_at",
            "progress",
            "need",
            "vote",
        ]

    def get_owner_name(self, decision: Decision) -> str:
        request = self.context.get("request")
        if request is not None and scope_for(request.user).allows(PeopleCap.VIEW_PEOPLE, decision.place_path):
            return decision.owner.name
        return mask_name(decision.owner.name)

    def get_text(self, decision: Decision) -> str:
        return redact_text(decision.text)

    def get_progress(self, decision: Decision) -> str:
        return redact_text(decision.progress)


class RsvpIn(serializers.Serializer[Any]):
    rsvp = serializers.ChoiceField(choices=[Rsvp.YES, Rsvp.NO, Rsvp.MAYBE])


class CheckinIn(serializers.Serializer[Any]):
    token = serializers.CharField(max_length=64, help_text="what the door's QR code carries")


CheckinOut = inline_serializer(
    "MeetingCheckin", {"meeting": serializers.IntegerField(), "first": serializers.BooleanField()}
)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("place", str, description="within this place's subtree (a place code)"),
            OpenApiParameter("invited", bool, description="only the meetings the reader is invited to"),
        ]
    )
)
class MeetingViewSet(viewsets.ReadOnlyModelViewSet[Meeting]):
    """Meetings (议事会) the actor may read."""

    serializer_class = MeetingOut
    pagination_class = Pagination

    def get_queryset(self) -> QuerySet[Meeting]:
        params = self.request.query_params
        place = access_place(self.request.user, params["place"], "view_deliberation") if params.get("place") else None
        qs = sel.meeting_list(actor=self.request.user, place=place).prefetch_related("agenda")
        if params.get("invited") in ("1", "true"):
            person_id = scope_for(self.request.user).person_id
            qs = qs.filter(invitations__person_id=person_id) if person_id else qs.none()
        return qs

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        person_id = scope_for(self.request.user).person_id
        if person_id is not None:
            from linli.deliberation.models import Invitation

            context["rsvps"] = dict(Invitation.objects.filter(person_id=person_id).values_list("meeting_id", "rsvp"))
        return context

    def get_object(self) -> Meeting:
        return sel.access_meeting(self.request.user, self.kwargs["pk"])

    @extend_schema(request=RsvpIn, responses={200: MeetingOut})
    @action(detail=True, methods=["post"])
    def rsvp(self, request: Request, pk: str) -> Response:
        """The invitee's reply: yes, no or maybe."""
        meeting = self.get_object()
        data = RsvpIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.rsvp_set(actor=request.user, meeting=meeting, answer=data.validated_data["rsvp"])
        return Response(MeetingOut(meeting, context=self.get_serializer_context()).data)

    @extend_schema(request=CheckinIn, responses={200: CheckinOut})
    @action(detail=False, methods=["post"])
    def checkin(self, request: Request) -> Response:
        """Check in with the token of the door's QR code (invitees; anyone living under the
        meeting's place when it is open to it; from an hour before the start to the end)."""
        data = CheckinIn(data=request.data)
        data.is_valid(raise_exception=True)
        token = data.validated_data["token"]
        meeting = sel.meeting_by_token(request.user, token)
        first = services.checkin_by_token(actor=request.user, meeting=meeting, token=token, now=timezone.now())
        return Response({"meeting": meeting.pk, "first": first})


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("meeting", int, description="the decisions of this meeting"),
            OpenApiParameter("status", str, enum=DecisionStatus.values, description="open, done or dropped"),
            OpenApiParameter("overdue", bool, description="only open decisions past their due date"),
        ]
    )
)
class DecisionViewSet(viewsets.ReadOnlyModelViewSet[Decision]):
    """Decisions of meetings (议定事项) the actor may read, with their progress."""

    serializer_class = DecisionOut
    pagination_class = Pagination

    def get_queryset(self) -> QuerySet[Decision]:
        params = self.request.query_params
        qs = sel.decision_list(actor=self.request.user)
        if params.get("meeting"):
            try:
                qs = qs.filter(meeting_id=int(params["meeting"]))
            except ValueError as exc:
                raise serializers.ValidationError({"meeting": [_("须为数字")]}) from exc
        status = params.get("status")
        if status:
            if status not in DecisionStatus.values:
                raise serializers.ValidationError({"status": [_("未知的状态")]})
            qs = qs.filter(status=status)
        if params.get("overdue") in ("1", "true"):
            qs = qs.filter(status=DecisionStatus.OPEN, due__lt=timezone.localdate())
        return qs

    def get_object(self) -> Decision:
        return sel.access_decision(self.request.user, self.kwargs["pk"])
