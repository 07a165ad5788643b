"""REST API for topics (议题): the topics the actor may read, a topic, proposing one,
supporting one (附议), and the secretary's accepting (列入待议) or declining one. Reads go through ``selectors.topics`` (the actor's scope), writes
through ``services.topics``; a proposer is named masked, free text goes out redacted."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from linli.core.api import Pagination
from linli.deliberation.models import Topic, TopicSource, TopicStatus
from linli.deliberation.selectors import topics as selectors
from linli.deliberation.services import topics as services
from linli.people.identity import mask_name, redact_text
from linli.places.models import Place
from linli.places.selectors import access_place


class TopicOut(serializers.ModelSerializer[Topic]):
    place = serializers.CharField(source="place.code")
    place_name = serializers.CharField(source="place.name")
    title = serializers.SerializerMethodField()
    body = serializers.SerializerMethodField()
    category = serializers.SerializerMethodField()
    proposer_name = serializers.SerializerMethodField(help_text="masked (张**)")
    needs = serializers.SerializerMethodField(help_text="ids of the needs linked to the topic (recurring needs)")

    class Meta:
        model = Topic
        fields = [
            "id",
            "place",
            "place_name",
            "title",
            "body",
            "source",
            "status",
            "status_note",
            "category",
            "supports",
            "proposer_name",
            "opinion",
            "needs",
            "created_at",
            "updated_at",
        ]

    def get_title(self, topic: Topic) -> str:
        return redact_text(topic.title)

    def get_body(self, topic: Topic) -> str:
        return redact_text(topic.body)

    def get_category(self, topic: Topic) -> str | None:
        return topic.category.code if topic.category is not None else None

    def get_proposer_name(self, topic: Topic) -> str | None:
        return mask_name(topic.proposer.name) if topic.proposer is not None else None

    def get_needs(self, topic: Topic) -> list[int]:
        return [link.need_id for link in topic.need_links.all()]


class TopicIn(serializers.Serializer[Any]):
    place = serializers.CharField(help_text="code of the community, grid or building the topic is about")
    title = serializers.CharField(max_length=services.TITLE_MAX)
    body = serializers.CharField(max_length=services.BODY_MAX, required=False, allow_blank=True, default="")


class DeclineIn(serializers.Serializer[Any]):
    # the length is the service's to check, after the actor's right to decline
    reason = serializers.CharField(
        allow_blank=True, default="", help_text="why the topic is not taken up (2 to 200 characters; kept and shown)"
    )


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("place", str, description="within this place's subtree (a place code)"),
            OpenApiParameter("status", str, enum=TopicStatus.values, description="topics in this status"),
            OpenApiParameter("source", str, enum=TopicSource.values, description="topics from this source"),
            OpenApiParameter("mine", bool, description="only the topics the actor proposed"),
        ]
    )
)
class TopicViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[Topic]):
    """Topics (议题) of the communities the actor takes part in: proposing one, supporting one."""

    serializer_class = TopicOut
    pagination_class = Pagination
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Topic]:
        params = self.request.query_params
        status_, source = params.get("status") or None, params.get("source") or None
        if status_ and status_ not in TopicStatus.values:
            raise serializers.ValidationError({"status": [_("未知的状态")]})
        if source and source not in TopicSource.values:
            raise serializers.ValidationError({"source": [_("未知的来源")]})
        place = access_place(self.request.user, params["place"]) if params.get("place") else None
        if params.get("mine") in ("1", "true"):
            qs = selectors.my_proposals(actor=self.request.user)
        else:
            qs = selectors.topic_list(actor=self.request.user, place=place, status=status_, source=source)
        return qs.prefetch_related("need_links")

    def get_object(self) -> Topic:
        return selectors.access_topic(self.request.user, self.kwargs["pk"])

    def _out(self, topic: Topic, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.topic_list(actor=self.request.user).prefetch_related("need_links").filter(pk=topic.pk).first()
        return Response(TopicOut(fresh or topic, context={"request": self.request}).data, status=code)

    @extend_schema(request=TopicIn, responses={201: TopicOut}, description="Propose a topic (居民提议).")
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = TopicIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        place = Place.objects.filter(code=values["place"]).first()
        if place is None or place.pk not in {p.pk for p in selectors.proposal_places(request.user)}:
            raise serializers.ValidationError({"place": [_("请选择议题所在的社区、网格或楼栋")]})
        topic = services.topic_propose(actor=request.user, place=place, title=values["title"], body=values["body"])
        return self._out(topic, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: TopicOut}, description="Support (附议) a topic, once per person.")
    @action(detail=True, methods=["post"])
    def support(self, request: Request, pk: str) -> Response:
        topic = services.topic_support(actor=request.user, topic=self.get_object())
        return self._out(topic)

    @extend_schema(request=None, responses={200: TopicOut}, description="List a topic for a meeting (列入待议).")
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str) -> Response:
        """The staff who run meetings at the topic's place; 409 once it was accepted or declined."""
        topic = services.topic_accept(actor=request.user, topic=self.get_object())
        return self._out(topic)

    @extend_schema(request=DeclineIn, responses={200: TopicOut}, description="Decline a topic (不予列入).")
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str) -> Response:
        """With the reason, kept and told to the proposer; 409 once it is on an agenda."""
        topic = self.get_object()
        data = DeclineIn(data=request.data)
        data.is_valid(raise_exception=True)
        return self._out(services.topic_decline(actor=request.user, topic=topic, reason=data.validated_data["reason"]))
