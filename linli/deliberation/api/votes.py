"""REST API for votes (表决): the votes a reader may see, one vote with its options and
participation so far, casting one's own ballot, the result once the vote has closed, and
cancelling a vote (its organisers).

Reads go through ``selectors.votes`` (the reader's communities), the ballot through
``services.votes.vote_cast``. A cast's answer says that the ballot was counted and through which
channel, never what was chosen (a secret vote's choice is kept nowhere beside its voter, not even
in an idempotency record). A second ballot for the same elector is a 409 naming the channel of
the first."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from linli.core.api import Pagination
from linli.core.errors import Conflict
from linli.deliberation.models import Channel, Elector, OptionsKind, Vote, VoteStatus
from linli.deliberation.selectors import votes as sel
from linli.deliberation.services.votes import vote_cancel, vote_cast

OptionOut = inline_serializer("VoteOptionOut", {"code": serializers.CharField(), "label": serializers.CharField()})


class VoteOut(serializers.ModelSerializer[Vote]):
    place = serializers.CharField(source="place.code")
    place_name = serializers.CharField(source="place.name")
    options = serializers.SerializerMethodField()

    class Meta:
        model = Vote
        fields = [
            "id",
            "place",
            "place_name",
            "title",
            "body",
            "electorate",
            "rule",
            "options_kind",
            "max_choices",
            "secret",
            "status",
            "closes_at",
            "opened_at",
            "closed_at",
            "cancelled_at",
            "cancel_reason",
            "register_fingerprint",
            "register_heads",
            "register_area",
            "topic",
            "meeting",
            "options",
        ]

    @extend_schema_field(serializers.ListField(child=OptionOut))
    def get_options(self, vote: Vote) -> list[dict[str, str]]:
        yes_no = vote.options_kind == OptionsKind.YES_NO
        return [{"code": o.code, "label": _(o.label) if yes_no else o.label} for o in vote.options.all()]


class CastIn(serializers.Serializer[Any]):
    choices = serializers.ListField(child=serializers.CharField(max_length=12), min_length=1, max_length=20)
    elector = serializers.IntegerField(
        required=False, allow_null=True, help_text="which of the reader's register lines, when it has several"
    )
    # a plain string: the needs' ``channel`` enum already has the schema's name
    channel = serializers.CharField(
        required=False, default=Channel.ONLINE, help_text="``online`` (default) or ``meeting`` (checked in)"
    )

    def validate_channel(self, value: str) -> str:
        if value not in (Channel.ONLINE, Channel.MEETING):
            raise serializers.ValidationError(_("只能是 online 或 meeting"))
        return value


CastOut = inline_serializer(
    "VoteCastOut",
    {
        "counted": serializers.BooleanField(),
        "channel": serializers.CharField(),
        "lines": serializers.IntegerField(help_text="register lines the ballot covers (an owner's units)"),
    },
)

RatioOut = inline_serializer(
    "VoteRatio",
    {"part": serializers.IntegerField(), "whole": serializers.IntegerField(), "fraction": serializers.CharField()},
)

ResultOut = inline_serializer(
    "VoteResult",
    {
        "status": serializers.CharField(),
        "participation_heads": RatioOut,
        "participation_area": RatioOut,
        "result": serializers.JSONField(
            allow_null=True,
            help_text="after close: passed, reason (the rule that decided), options with heads and area "
            "(hundredths of a square metre), leading; a secret vote with fewer than five voters: withheld",
        ),
    },
)


class CancelIn(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=200, help_text="Why the vote is cancelled (kept and shown).")


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("place", str, description="votes at or under this place (a place code)"),
            OpenApiParameter("status", str, enum=VoteStatus.values, description="only votes in this state"),
        ]
    )
)
class VoteViewSet(viewsets.ReadOnlyModelViewSet[Vote]):
    """Votes (表决) of the reader's communities; casting one's own ballot; the results."""

    serializer_class = VoteOut
    pagination_class = Pagination

    def get_queryset(self) -> QuerySet[Vote]:
        params = self.request.query_params
        place = sel.vote_place(self.request.user, params["place"]) if params.get("place") else None
        state = params.get("status") or None
        if state and state not in VoteStatus.values:
            raise serializers.ValidationError({"status": [_("未知的状态")]})
        return sel.vote_list(actor=self.request.user, place=place, status=state).prefetch_related("options")

    def get_object(self) -> Vote:
        return sel.access_vote(self.request.user, self.kwargs["pk"])

    @extend_schema(request=CastIn, responses={201: CastOut})
    @action(detail=True, methods=["post"])
    def cast(self, request: Request, pk: str) -> Response:
        """Cast the reader's ballot (online, or ``meeting`` when checked in at the vote's meeting).
        409 when the elector has voted already, naming the channel."""
        vote = self.get_object()
        data = CastIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        elector = None
        if values.get("elector") is not None:
            elector = Elector.objects.filter(vote=vote, pk=values["elector"]).first()
            if elector is None:
                raise serializers.ValidationError({"elector": [_("名册中没有这个选民编号")]})
        made = vote_cast(
            actor=request.user, vote=vote, choices=values["choices"], elector=elector, channel=values["channel"]
        )
        return Response(
            {"counted": True, "channel": values["channel"], "lines": len(made)}, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=CancelIn, responses={200: VoteOut})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """Cancel a draft or open vote, with its reason (the staff who run votes at its place): its
        ballots count for nothing and no result is published. 409 for a closed or cancelled vote."""
        vote = self.get_object()
        data = CancelIn(data=request.data)
        data.is_valid(raise_exception=True)
        vote = vote_cancel(actor=request.user, vote=vote, reason=data.validated_data["reason"])
        return Response(VoteOut(vote).data)

    @extend_schema(responses={200: ResultOut})
    @action(detail=True, methods=["get"])
    def results(self, request: Request, pk: str) -> Response:
        """Participation so far (by head and area, never choices); the result once closed."""
        vote = self.get_object()
        so_far = sel.participation_so_far(vote)
        if so_far is None:
            raise Conflict(_("表决还没有开始"))
        result = None
        if vote.status == VoteStatus.CLOSED and vote.result:
            result = dict(vote.result)
            result["reason"] = _(result["reason"]) if result.get("reason") else ""
        return Response(
            {
                "status": vote.status,
                "participation_heads": so_far["heads"],
                "participation_area": so_far["area"],
                "result": result,
            }
        )
