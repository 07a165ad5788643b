"""REST API for votes (表决): the votes a reader may see, one vote with its options and
participation so far, casting one's own ballot, the result once the vote has closed, and the
staff's actions the pages have: putting a matter to a vote, opening it (its register drawn and
frozen), closing and cancelling it, keying paper sheets twice, entering a ballot collected door
to door, by proxy or at the meeting, and handing out a secret vote's paper.

Every write goes through ``services.votes``, which checks the capability; the checks shared with
the pages (named representatives, collectors, a new vote's topic and meeting) are selectors.
Creating a vote and the staff's ballot writes are retry-safe with ``Idempotency-Key``
(``core.api.idempotent``); a reader's own cast is not (see below).

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

from linli.core.access import require
from linli.core.api import IDEMPOTENCY_KEY, Pagination, idempotent
from linli.core.errors import Conflict
from linli.deliberation.capabilities import DelibCap
from linli.deliberation.models import (
    Channel,
    Elector,
    Electorate,
    OptionsKind,
    PaperStatus,
    Vote,
    VoteRule,
    VoteStatus,
)
from linli.deliberation.selectors import votes as sel
from linli.deliberation.services import votes as services
from linli.deliberation.services.votes import vote_cancel, vote_cast

#: ids in a request body stay within PostgreSQL's integer (a larger number is a 400, not a 500)
MAX_ID = 2_147_483_647


def _id(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


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


class VoteIn(serializers.Serializer[Any]):
    place = serializers.CharField(max_length=64, help_text="the place the vote is held at (a place code)")
    title = serializers.CharField(max_length=160)
    body = serializers.CharField(max_length=8000, required=False, default="", allow_blank=True)
    # plain strings checked by the service (its messages), as the pages send them
    electorate = serializers.CharField(
        max_length=20, required=False, default=Electorate.HOUSEHOLDS, help_text=" | ".join(Electorate.values)
    )
    rule = serializers.CharField(
        max_length=30, required=False, default=VoteRule.MAJORITY, help_text=" | ".join(VoteRule.values)
    )
    options_kind = serializers.CharField(
        max_length=20, required=False, default=OptionsKind.YES_NO, help_text=" | ".join(OptionsKind.values)
    )
    options = serializers.ListField(
        child=serializers.CharField(max_length=120),
        required=False,
        default=list,
        max_length=50,
        help_text="the options' labels (``one_of`` and ``several_of``; ``yes_no`` has its own)",
    )
    max_choices = serializers.IntegerField(min_value=1, max_value=50, required=False, default=1)
    secret = serializers.BooleanField(required=False, default=False)
    closes_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    topic = _id(required=False, allow_null=True, default=None, help_text="the topic the vote decides")
    meeting = _id(required=False, allow_null=True, default=None, help_text="the meeting it is held at")


class OpenIn(serializers.Serializer[Any]):
    representatives = serializers.ListField(
        child=_id(),
        required=False,
        default=list,
        max_length=300,
        help_text="a representatives' vote: the person ids named (none: the register takes the carers)",
    )


class PaperIn(serializers.Serializer[Any]):
    sheet = serializers.CharField(max_length=20, help_text="the number written on the paper sheet")
    choices = serializers.ListField(child=serializers.CharField(max_length=12), min_length=1, max_length=20)
    elector = _id(
        required=False, allow_null=True, default=None, help_text="a named sheet's register number; none on a secret one"
    )


PaperOut = inline_serializer(
    "VotePaperOut",
    {
        "sheet": serializers.CharField(),
        "round": serializers.IntegerField(help_text="1: the first keying, 2: the second (or a settling)"),
        "status": serializers.ChoiceField(choices=PaperStatus.choices),
    },
)


class EnterIn(serializers.Serializer[Any]):
    elector = _id(help_text="the register line (选民编号)")
    choices = serializers.ListField(child=serializers.CharField(max_length=12), min_length=1, max_length=20)
    channel = serializers.CharField(max_length=20, help_text="``door``, ``proxy`` or ``meeting``")
    collector = _id(required=False, allow_null=True, default=None, help_text="door to door: who collected it")

    def validate_channel(self, value: str) -> str:
        if value not in (Channel.DOOR, Channel.PROXY, Channel.MEETING):
            raise serializers.ValidationError(_("工作人员只能录入上门收票、委托投票或会场投票"))
        return value


class HandOutIn(serializers.Serializer[Any]):
    elector = _id(help_text="the register line (选民编号)")
    channel = serializers.CharField(
        max_length=20, required=False, default=Channel.PAPER, help_text="``paper`` (default), ``door`` or ``proxy``"
    )
    collector = _id(required=False, allow_null=True, default=None, help_text="door to door: who took the paper")

    def validate_channel(self, value: str) -> str:
        if value not in sel.PAPER_CHANNELS:
            raise serializers.ValidationError(_("未知的投票方式"))
        return value


HandOutOut = inline_serializer(
    "VoteHandOutOut",
    {"handed_out": serializers.BooleanField(), "channel": serializers.CharField()},
)


def _valid(serializer: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    data = serializer(data=request.data)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("place", str, description="votes at or under this place (a place code)"),
            OpenApiParameter("status", str, enum=VoteStatus.values, description="only votes in this state"),
        ]
    )
)
class VoteViewSet(viewsets.ReadOnlyModelViewSet[Vote]):
    """Votes (表决) of the reader's communities; casting one's own ballot; the results; the
    staff's actions (create, open, close, cancel, paper keying, entry, paper hand-out)."""

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

    def _vote_out(self, vote: Vote, code: int = status.HTTP_200_OK) -> Response:
        fresh = sel.vote_list(actor=self.request.user).prefetch_related("options").filter(pk=vote.pk).first()
        return Response(VoteOut(fresh or vote).data, status=code)

    @extend_schema(request=VoteIn, responses={201: VoteOut}, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Put a matter to a vote at a place (the staff who run votes there), in draft: its
        register is drawn and frozen when it opens. 404 for a place outside the reader's reach."""
        code = request.data.get("place") if hasattr(request.data, "get") else None
        if not isinstance(code, str) or not code:
            raise serializers.ValidationError({"place": [_("请选择地点")]})
        place = sel.vote_place(request.user, code)
        require(request.user, DelibCap.RUN, place)
        values = _valid(VoteIn, request)
        topic, meeting = sel.vote_links(request.user, topic=values["topic"], meeting=values["meeting"])
        vote = services.vote_create(
            actor=request.user,
            place=place,
            title=values["title"],
            body=values["body"],
            electorate=values["electorate"],
            rule=values["rule"],
            options_kind=values["options_kind"],
            options=values["options"],
            max_choices=values["max_choices"],
            secret=values["secret"],
            closes_at=values["closes_at"],
            topic=topic,
            meeting=meeting,
        )
        return self._vote_out(vote, status.HTTP_201_CREATED)

    @extend_schema(request=OpenIn, responses={200: VoteOut})
    @action(detail=True, methods=["post"])
    def open(self, request: Request, pk: str) -> Response:
        """Open a draft vote (the staff who run votes at its place): its register is drawn and
        frozen, its fingerprint published. 409 unless in draft."""
        vote = self.get_object()
        require(request.user, DelibCap.RUN, vote.place)
        values = _valid(OpenIn, request)
        named = sel.named_representatives(request.user, vote, values["representatives"])
        return self._vote_out(services.vote_open(actor=request.user, vote=vote, representatives=named))

    @extend_schema(request=None, responses={200: VoteOut})
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str) -> Response:
        """Close an open vote and count it. 409 when it is not open or paper sheets still wait
        for their second keying."""
        vote = self.get_object()
        return self._vote_out(services.vote_close(actor=request.user, vote=vote))

    @extend_schema(request=PaperIn, responses={201: PaperOut}, parameters=[IDEMPOTENCY_KEY])
    @action(detail=True, methods=["post"])
    @idempotent
    def paper(self, request: Request, pk: str) -> Response:
        """Key one paper sheet (staff who count votes at the vote's place or a part of it). The
        first keying waits for a second by another account; two alike count the ballot once
        (``counted``), two different are a ``mismatch`` settled by keying the sheet again."""
        vote = self.get_object()
        sel.require_reaching(request.user, DelibCap.COUNT, vote)
        values = _valid(PaperIn, request)
        entry = services.paper_key(
            actor=request.user, vote=vote, sheet=values["sheet"], choices=values["choices"], elector=values["elector"]
        )
        return Response(
            {"sheet": entry.sheet, "round": entry.round, "status": entry.status}, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=EnterIn, responses={201: CastOut}, parameters=[IDEMPOTENCY_KEY])
    @action(detail=True, methods=["post"])
    @idempotent
    def enter(self, request: Request, pk: str) -> Response:
        """Staff enter a named vote's ballot collected from an elector: door to door (with its
        collector), by proxy (a recorded authorisation) or at the meeting (checked in). 409 when
        the elector has voted already."""
        vote = self.get_object()
        sel.require_reaching(request.user, DelibCap.CHECK_IN, vote)
        values = _valid(EnterIn, request)
        collector = sel.staff_person(request.user, values["collector"])
        made = services.vote_enter(
            actor=request.user,
            vote=vote,
            elector=values["elector"],
            choices=values["choices"],
            channel=values["channel"],
            collector=collector,
        )
        return Response(
            {"counted": True, "channel": values["channel"], "lines": len(made)}, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=HandOutIn, responses={201: HandOutOut}, parameters=[IDEMPOTENCY_KEY])
    @action(detail=True, methods=["post"], url_path="hand-out")
    @idempotent
    def hand_out(self, request: Request, pk: str) -> Response:
        """A secret vote's paper handed to an elector (at the station, door to door, or to a proxy
        holder): the participation is recorded then; the sheet is keyed apart, without a name."""
        vote = self.get_object()
        sel.require_reaching(request.user, DelibCap.CHECK_IN, vote)
        values = _valid(HandOutIn, request)
        collector = sel.staff_person(request.user, values["collector"])
        services.paper_hand_out(
            actor=request.user, vote=vote, elector=values["elector"], channel=values["channel"], collector=collector
        )
        return Response({"handed_out": True, "channel": values["channel"]}, status=status.HTTP_201_CREATED)

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
