"""REST API of meetings and decisions: the meetings the actor may read (their community's and
those they are invited to), the invitee's reply, check-in with the door code's token, and the
decisions the actor may read; for the secretary, planning (retry-safe with ``Idempotency-Key``),
cancelling, inviting, ticking at the door, the minutes, recording decisions with their need or
vote (retry-safe too) and reporting progress. Each write first finds the meeting or decision in
the actor's reach (404 outside it, 403 without the right), then checks the body (400). Reads go through ``selectors.meetings``, writes through
``services.meetings``; owners' names go out masked unless the reader may see the people."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from linli.core.access import scope_for
from linli.core.api import IDEMPOTENCY_KEY, Pagination, idempotent
from linli.deliberation.capabilities import DelibCap
from linli.deliberation.models import Decision, DecisionStatus, Electorate, Meeting, MeetingKind, Rsvp, VoteRule
from linli.deliberation.selectors import meetings as sel
from linli.deliberation.services import meetings as services
from linli.people.capabilities import PeopleCap
from linli.people.identity import mask_name, redact_text
from linli.places.models import Place
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


class MeetingIn(serializers.Serializer[Any]):
    place = serializers.CharField(max_length=64, help_text="code of the community, grid, building or courtyard")
    kind = serializers.ChoiceField(choices=MeetingKind.choices)
    title = serializers.CharField(max_length=120)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(help_text="after the start, at most 12 hours later")
    venue = serializers.CharField(max_length=120)
    quorum = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=100_000)
    open_to_place = serializers.BooleanField(
        required=False, default=False, help_text="anyone living under the place may check in, not only invitees"
    )
    agenda = serializers.ListField(
        child=serializers.CharField(max_length=120, allow_blank=True),
        required=False,
        default=list,
        max_length=services.MAX_AGENDA,
        help_text="free agenda lines, after the topics (blank ones left out)",
    )
    topics = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        required=False,
        default=list,
        max_length=services.MAX_AGENDA,
        help_text="ids of topics of the place to put on the agenda (first)",
    )


class MeetingReasonIn(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class InviteIn(serializers.Serializer[Any]):
    place = serializers.CharField(
        max_length=64,
        required=False,
        help_text="invite the adults of the households under this place; "
        "with ``role``, the place where the role is held (the meeting's place by default)",
    )
    role = serializers.ChoiceField(
        choices=[r.value for r in sel.INVITE_ROLES], required=False, help_text="invite everyone holding this role"
    )
    households = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
        required=False,
        max_length=500,
        help_text="invite the adults of these households",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("households") and ("place" in attrs or "role" in attrs):
            raise serializers.ValidationError(_("请只选择一种邀请方式"))
        if not attrs.get("households") and "place" not in attrs and "role" not in attrs:
            raise serializers.ValidationError(_("请选择邀请方式"))
        return attrs


InviteOut = inline_serializer(
    "MeetingInvited",
    {
        "meeting": serializers.IntegerField(),
        "added": serializers.IntegerField(help_text="people newly invited (those invited already are not again)"),
    },
)


class TickIn(serializers.Serializer[Any]):
    person = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, help_text="id of the invitee checked in by the staff"
    )


TickOut = inline_serializer(
    "MeetingTick",
    {"meeting": serializers.IntegerField(), "person": serializers.IntegerField(), "first": serializers.BooleanField()},
)


class MinutesIn(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=20000, allow_blank=True)
    publish = serializers.BooleanField(
        required=False, default=False, help_text="publish them too: residents read them, the meeting is held"
    )


class MinutesOut(MeetingOut):
    draft = serializers.SerializerMethodField(help_text="the minutes as written, published or not")

    class Meta(MeetingOut.Meta):
        fields = [*MeetingOut.Meta.fields, "draft"]

    def get_draft(self, meeting: Meeting) -> str:
        return redact_text(meeting.minutes)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("place", str, description="within this place's subtree (a place code)"),
            OpenApiParameter("invited", bool, description="only the meetings the reader is invited to"),
        ]
    )
)
class MeetingViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[Meeting]):
    """Meetings (议事会) the actor may read; the secretary's planning and running of them."""

    serializer_class = MeetingOut
    pagination_class = Pagination
    http_method_names = ["get", "post", "head", "options"]

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

    def _meeting_to(self, capability: str) -> Meeting:
        """The meeting in the URL if the actor may act on it with ``capability`` (404 when it may
        not read it, 403 when it may read but not act), before its body is read."""
        return sel.access_meeting_to(self.request.user, self.kwargs["pk"], capability)

    def _out(self, meeting: Meeting, code: int = status.HTTP_200_OK) -> Response:
        fresh = sel.meeting_list(actor=self.request.user).prefetch_related("agenda").filter(pk=meeting.pk).first()
        return Response(MeetingOut(fresh or meeting, context=self.get_serializer_context()).data, status=code)

    @extend_schema(
        request=MeetingIn,
        responses={201: MeetingOut},
        parameters=[IDEMPOTENCY_KEY],
        description="Plan a meeting at a community or a place in one (the staff who run meetings there); "
        "then invite. A place outside the actor's reach is 404.",
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        code = request.data.get("place") if hasattr(request.data, "get") else None
        # the place's reach and the right to plan there first (404, 403), then the body (400)
        place = sel.access_place_to_plan(request.user, code) if isinstance(code, str) and code else None
        data = MeetingIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if place is None:
            place = sel.access_place_to_plan(request.user, values["place"])
        wanted = list(dict.fromkeys(values["topics"]))
        topics = list(sel.topics_for_place(request.user, place).filter(pk__in=wanted))
        if len(topics) != len(wanted):
            raise serializers.ValidationError({"topics": [_("议题不存在或不能列入本次会议的议程")]})
        topics.sort(key=lambda t: wanted.index(t.pk))
        meeting = services.meeting_create(
            actor=request.user,
            place=place,
            kind=values["kind"],
            title=values["title"],
            starts_at=values["starts_at"],
            ends_at=values["ends_at"],
            venue=values["venue"],
            quorum=values.get("quorum"),
            open_to_place=values["open_to_place"],
            agenda=values["agenda"],
            topics=topics,
        )
        return self._out(meeting, status.HTTP_201_CREATED)

    @extend_schema(request=MeetingReasonIn, responses={200: MeetingOut})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """Cancel a planned meeting, with a reason: the invitees are told, its topics are back on
        the list. 400 for a meeting that is not planned."""
        meeting = self._meeting_to(DelibCap.RUN)
        data = MeetingReasonIn(data=request.data)
        data.is_valid(raise_exception=True)
        return self._out(
            services.meeting_cancel(actor=request.user, meeting=meeting, reason=data.validated_data["reason"])
        )

    @extend_schema(request=InviteIn, responses={200: InviteOut})
    @action(detail=True, methods=["post"])
    def invite(self, request: Request, pk: str) -> Response:
        """Invite by place (the adults of its households), by role (at the meeting's place or
        ``place``) or by households; inviting again adds only the new people."""
        user = request.user
        meeting = self._meeting_to(DelibCap.RUN)
        data = InviteIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        place: Place | None = None
        if values.get("place"):
            try:
                place = access_place(user, values["place"], DelibCap.RUN)
            except Http404 as exc:
                raise serializers.ValidationError({"place": [_("找不到该地点")]}) from exc
        if values.get("households"):
            wanted = set(values["households"])
            households = list(sel.invitable_households(user, meeting).filter(pk__in=wanted))
            if len(households) != len(wanted):
                raise serializers.ValidationError({"households": [_("找不到所选的住户")]})
            rows = services.invite_by_households(actor=user, meeting=meeting, households=households)
        elif values.get("role"):
            rows = services.invite_by_role(actor=user, meeting=meeting, role=values["role"], place=place)
        else:
            assert place is not None
            rows = services.invite_by_place(actor=user, meeting=meeting, place=place)
        return Response({"meeting": meeting.pk, "added": len(rows)})

    @extend_schema(request=TickIn, responses={200: TickOut})
    @action(detail=True, methods=["post"])
    def tick(self, request: Request, pk: str) -> Response:
        """Staff at the door check in an invitee without a phone (from an hour before the start
        to the end); ``first`` is false when they were checked in already."""
        meeting = self._meeting_to(DelibCap.CHECK_IN)
        data = TickIn(data=request.data)
        data.is_valid(raise_exception=True)
        person = sel.door_person(data.validated_data["person"])
        first = services.attendance_tick(actor=request.user, meeting=meeting, person=person)
        return Response({"meeting": meeting.pk, "person": person.pk, "first": first})

    @extend_schema(request=MinutesIn, responses={200: MinutesOut})
    @action(detail=True, methods=["post"])
    def minutes(self, request: Request, pk: str) -> Response:
        """Write (or correct) the minutes; with ``publish``, publish them as well (the meeting
        must have begun), in one transaction."""
        meeting = self._meeting_to(DelibCap.RUN)
        data = MinutesIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        with transaction.atomic():
            meeting = services.minutes_save(actor=request.user, meeting=meeting, text=values["text"])
            if values["publish"]:
                meeting = services.minutes_publish(actor=request.user, meeting=meeting)
        fresh = sel.meeting_list(actor=request.user).prefetch_related("agenda").get(pk=meeting.pk)
        return Response(MinutesOut(fresh, context=self.get_serializer_context()).data)

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


class DecisionIn(serializers.Serializer[Any]):
    meeting = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    text = serializers.CharField(max_length=2000)
    owner = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, help_text="id of the person responsible (an invitee or staff)"
    )
    due = serializers.DateField()
    topic = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        allow_null=True,
        help_text="a topic on the meeting's agenda it settles",
    )
    spawn = serializers.ChoiceField(
        choices=["", "need", "vote"],
        required=False,
        default="",
        help_text="the follow-up: none, a need (诉求) or a vote (表决), in the same transaction",
    )
    category = serializers.CharField(max_length=40, required=False, allow_blank=True, help_text="need: category code")
    department = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        allow_null=True,
        help_text="need: id of the department to whistle it to",
    )
    electorate = serializers.ChoiceField(choices=Electorate.choices, required=False, default=Electorate.HOUSEHOLDS)
    rule = serializers.ChoiceField(choices=VoteRule.choices, required=False, default=VoteRule.MAJORITY)


class ReportIn(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    status = serializers.ChoiceField(
        choices=DecisionStatus.choices,
        allow_blank=True,
        required=False,
        default="",
        help_text="done or dropped (dropping needs a reason in ``text``); empty: only a note",
    )


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("meeting", int, description="the decisions of this meeting"),
            OpenApiParameter("status", str, enum=DecisionStatus.values, description="open, done or dropped"),
            OpenApiParameter("overdue", bool, description="only open decisions past their due date"),
        ]
    )
)
class DecisionViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[Decision]):
    """Decisions of meetings (议定事项) the actor may read, with their progress; the secretary
    records them, the owner or the staff report progress."""

    serializer_class = DecisionOut
    pagination_class = Pagination
    http_method_names = ["get", "post", "head", "options"]

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

    def _out(self, decision: Decision, code: int = status.HTTP_200_OK) -> Response:
        fresh = sel.decision_list(actor=self.request.user).get(pk=decision.pk)
        return Response(DecisionOut(fresh, context={"request": self.request}).data, status=code)

    @extend_schema(
        request=DecisionIn,
        responses={201: DecisionOut},
        parameters=[IDEMPOTENCY_KEY],
        description="Record a decision of a meeting (the staff who run it), perhaps raising a need "
        "(whistled to a department) or a vote; a refused follow-up records nothing.",
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = request.user
        meeting_id = request.data.get("meeting") if hasattr(request.data, "get") else None
        meeting = (
            sel.access_meeting_to(user, meeting_id, DelibCap.RUN)
            if type(meeting_id) is int and 0 < meeting_id < 2**31
            else None
        )
        data = DecisionIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if meeting is None:
            meeting = sel.access_meeting_to(user, values["meeting"], DelibCap.RUN)
        owner = sel.owner_candidates(user, meeting).filter(pk=values["owner"]).first()
        if owner is None:
            raise serializers.ValidationError({"owner": [_("请选择责任人")]})
        topic = None
        if values.get("topic") is not None:
            topic = next((t for t in sel.agenda_topics(meeting) if t.pk == values["topic"]), None)
            if topic is None:
                raise serializers.ValidationError({"topic": [_("议题不在本次会议的范围内")]})
        department = None
        if values.get("department") is not None:
            department = sel.decision_departments(meeting).filter(pk=values["department"]).first()
            if department is None:
                raise serializers.ValidationError({"department": [_("找不到该部门")]})
        decision = services.decision_record(
            actor=user,
            meeting=meeting,
            text=values["text"],
            owner=owner,
            due=values["due"],
            topic=topic,
            spawn=values["spawn"],
            category_code=values.get("category") or None,
            department=department,
            electorate=values["electorate"],
            rule=values["rule"],
        )
        return self._out(decision, status.HTTP_201_CREATED)

    @extend_schema(request=ReportIn, responses={200: DecisionOut})
    @action(detail=True, methods=["post"])
    def report(self, request: Request, pk: str) -> Response:
        """A note of progress, and perhaps the decision done or dropped (its owner or the staff)."""
        decision = sel.access_decision_to_report(request.user, pk)
        data = ReportIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        decision = services.decision_report(
            actor=request.user, decision=decision, text=values["text"], status=values["status"]
        )
        return self._out(decision)
