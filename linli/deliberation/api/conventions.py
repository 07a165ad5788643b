"""REST API for resident conventions (居民公约): the conventions the reader may read (a resident:
their own community's), one with its versions and their articles (drafts only for those who
write them), a comment on an article during a comment period, and a household's signature of
the convention in force. Reads go through ``selectors.conventions``, writes through
``services.conventions``; no name is given out in clear."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from linli.core.access import require
from linli.core.api import IDEMPOTENCY_KEY, Pagination, idempotent
from linli.deliberation.capabilities import DelibCap
from linli.deliberation.models import (
    ArticleComment,
    Convention,
    ConventionArticle,
    ConventionVersion,
    Signature,
    SignatureChannel,
    VersionStatus,
)
from linli.deliberation.selectors import conventions as selectors
from linli.deliberation.services import conventions as services
from linli.people.identity import redact_text
from linli.people.models import Household, Person
from linli.places.selectors import access_place


class ArticleOut(serializers.ModelSerializer[ConventionArticle]):
    class Meta:
        model = ConventionArticle
        fields = ["id", "number", "text"]


class ShareOut(serializers.Serializer[Any]):
    signed = serializers.IntegerField(help_text="households that signed")
    total = serializers.IntegerField(help_text="households under the convention's place")
    percent = serializers.IntegerField(help_text="signed × 100 ÷ total, rounded down")


class VersionOut(serializers.ModelSerializer[ConventionVersion]):
    status = serializers.ChoiceField(choices=VersionStatus.choices)
    articles = ArticleOut(many=True)
    comments_open = serializers.SerializerMethodField()
    share = serializers.SerializerMethodField()

    class Meta:
        model = ConventionVersion
        fields = [
            "id",
            "number",
            "status",
            "note",
            "comments_until",
            "comments_open",
            "adopted_at",
            "published_at",
            "vote",
            "articles",
            "share",
        ]

    def get_comments_open(self, version: ConventionVersion) -> bool:
        return services.comments_are_open(version)

    @extend_schema_field(ShareOut(allow_null=True))
    def get_share(self, version: ConventionVersion) -> dict[str, int] | None:
        if version.status != VersionStatus.ADOPTED or version.published_at is None:
            return None
        share = selectors.signature_share(version)
        return {"signed": share.signed, "total": share.total, "percent": share.percent}


class ConventionOut(serializers.ModelSerializer[Convention]):
    place = serializers.CharField(source="place.code")
    place_name = serializers.CharField(source="place.name")
    current_version = serializers.SerializerMethodField(help_text="the number of the adopted version in force")

    class Meta:
        model = Convention
        fields = ["id", "title", "place", "place_name", "current_version"]

    def get_current_version(self, convention: Convention) -> int | None:
        version = selectors.current_version(convention)
        return version.number if version else None


class ConventionDetailOut(ConventionOut):
    versions = serializers.SerializerMethodField()

    class Meta(ConventionOut.Meta):
        fields = [*ConventionOut.Meta.fields, "versions"]

    @extend_schema_field(VersionOut(many=True))
    def get_versions(self, convention: Convention) -> Any:
        request = self.context["request"]
        versions = [v.pk for v in selectors.visible_versions(request.user, convention)]
        rows = (
            ConventionVersion.objects.filter(pk__in=versions)
            .select_related("convention__place")
            .prefetch_related("articles")
            .order_by("number")
        )
        return VersionOut(rows, many=True).data


class CommentIn(serializers.Serializer[Any]):
    article = serializers.IntegerField(min_value=1, help_text="the article's id")
    text = serializers.CharField(max_length=services.MAX_COMMENT)


class CommentOut(serializers.ModelSerializer[ArticleComment]):
    text = serializers.SerializerMethodField(help_text="the comment, with phone and identity numbers masked")

    class Meta:
        model = ArticleComment
        fields = ["id", "article", "text", "at"]

    def get_text(self, comment: ArticleComment) -> str:
        return redact_text(comment.text)


class SignIn(serializers.Serializer[Any]):
    household = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="the household to sign for, if the reader belongs to several",
    )


class SignatureOut(serializers.ModelSerializer[Signature]):
    version = serializers.IntegerField(source="version.number")
    signed_via = serializers.ChoiceField(
        source="channel", choices=SignatureChannel.choices, help_text="online, or on paper entered by staff"
    )
    by_me = serializers.SerializerMethodField()

    class Meta:
        model = Signature
        fields = ["id", "version", "household", "signed_via", "at", "by_me"]

    def get_by_me(self, signature: Signature) -> bool:
        request = self.context.get("request")
        person = getattr(getattr(request, "user", None), "person", None)
        return person is not None and signature.signed_by_id == person.pk


class ConventionCreateIn(serializers.Serializer[Any]):
    place = serializers.CharField(max_length=64, help_text="the place's code")
    title = serializers.CharField(max_length=200)
    articles = serializers.ListField(child=serializers.CharField(allow_blank=True), help_text="the articles, in order")
    note = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)


class ConventionVersionIn(serializers.Serializer[Any]):
    base = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, default=None, help_text="the version's number to start from"
    )
    note = serializers.CharField(max_length=2000, required=False, default="", allow_blank=True)


class ConventionArticleIn(serializers.Serializer[Any]):
    text = serializers.CharField(allow_blank=True)
    number = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)


class ConventionArticleChangeIn(serializers.Serializer[Any]):
    action = serializers.ChoiceField(choices=["save", "remove", "move"], default="save")
    text = serializers.CharField(required=False, default="", allow_blank=True)
    number = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)


class ConventionCommentsOpenIn(serializers.Serializer[Any]):
    until = serializers.DateTimeField(help_text="the end of the comment period")


class ConventionVoteIn(serializers.Serializer[Any]):
    electorate = serializers.CharField(
        max_length=20, required=False, default="households", help_text="who votes (see the vote's electorates)"
    )
    rule = serializers.CharField(max_length=30, required=False, default="majority", help_text="the rule to pass")
    closes_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ConventionPaperIn(serializers.Serializer[Any]):
    household = serializers.IntegerField(min_value=1, max_value=2_147_483_647)
    signer = serializers.IntegerField(min_value=1, max_value=2_147_483_647, help_text="the member who signed")


def _valid(serializer: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    data = serializer(data=request.data)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


class ConventionViewSet(viewsets.ReadOnlyModelViewSet[Convention]):
    """Resident conventions (居民公约) the reader may read."""

    serializer_class = ConventionOut
    pagination_class = Pagination

    def get_queryset(self) -> QuerySet[Convention]:
        return selectors.convention_list(actor=self.request.user)

    def get_object(self) -> Convention:
        return selectors.access_convention(self.request.user, self.kwargs["pk"])

    def _detail(self, convention: Convention, code: int = status.HTTP_200_OK) -> Response:
        convention = selectors.access_convention(self.request.user, convention.pk)
        return Response(ConventionDetailOut(convention, context={"request": self.request}).data, status=code)

    def _run(self) -> Convention:
        """The convention, readable (else 404) and run by the reader (else 403)."""
        convention = self.get_object()
        require(self.request.user, DelibCap.RUN, convention.place)
        return convention

    def _latest(self, convention: Convention) -> ConventionVersion:
        version = selectors.latest_version(convention)
        if version is None:
            raise serializers.ValidationError({"detail": [_("该公约还没有任何版本")]})
        return version

    @extend_schema(responses={200: ConventionDetailOut})
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        convention = self.get_object()
        return Response(ConventionDetailOut(convention, context={"request": request}).data)

    @extend_schema(
        request=CommentIn,
        responses={201: CommentOut},
        description="Comment on one article of the version open for comments (400 outside the period).",
    )
    @action(detail=True, methods=["post"])
    def comment(self, request: Request, pk: str) -> Response:
        convention = self.get_object()
        data = CommentIn(data=request.data)
        data.is_valid(raise_exception=True)
        article = selectors.access_article(request.user, data.validated_data["article"])
        if article.version.convention_id != convention.pk:
            raise serializers.ValidationError({"article": [_("该条文不属于这份公约")]})
        comment = services.comment_add(actor=request.user, article=article, text=data.validated_data["text"])
        return Response(CommentOut(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=SignIn,
        responses={200: SignatureOut, 201: SignatureOut},
        description="Sign the convention in force for the reader's household: 201 when signed now, "
        "200 when the reader had signed already; 400 when another member signed for the household.",
    )
    @action(detail=True, methods=["post"])
    def sign(self, request: Request, pk: str) -> Response:
        convention = self.get_object()
        data = SignIn(data=request.data)
        data.is_valid(raise_exception=True)
        version = selectors.current_version(convention)
        if version is None:
            raise serializers.ValidationError({"detail": [_("只有已公布的现行公约可以签署")]})
        household = None
        if data.validated_data.get("household"):
            household = Household.objects.filter(pk=data.validated_data["household"]).first()
            if household is None:
                raise serializers.ValidationError({"household": [_("您家不在该公约的范围内，或您不是该户的登记成员")]})
        before = selectors.my_signature(request.user, version)
        signature = services.convention_sign(actor=request.user, version=version, household=household)
        code = status.HTTP_200_OK if before is not None and before.pk == signature.pk else status.HTTP_201_CREATED
        return Response(SignatureOut(signature, context={"request": request}).data, status=code)

    @extend_schema(
        request=ConventionCreateIn,
        responses={201: ConventionDetailOut},
        parameters=[IDEMPOTENCY_KEY],
        description="A new convention at a place (the staff who run deliberation there), its first "
        "version a draft. 404 for a place outside the reader's reach.",
    )
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        code = request.data.get("place") if hasattr(request.data, "get") else None
        if not isinstance(code, str) or not code:
            raise serializers.ValidationError({"place": [_("请选择地点")]})
        place = access_place(request.user, code, DelibCap.RUN)
        require(request.user, DelibCap.RUN, place)
        values = _valid(ConventionCreateIn, request)
        convention = services.convention_create(
            actor=request.user, place=place, title=values["title"], articles=values["articles"], note=values["note"]
        )
        return self._detail(convention, status.HTTP_201_CREATED)

    @extend_schema(
        request=ConventionVersionIn,
        responses={201: VersionOut},
        parameters=[IDEMPOTENCY_KEY],
        description="An amendment: a new draft copied from the latest version (or the one numbered ``base``).",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def versions(self, request: Request, pk: str) -> Response:
        convention = self._run()
        values = _valid(ConventionVersionIn, request)
        base = None
        if values["base"] is not None:
            base = convention.versions.filter(number=values["base"]).first()
            if base is None:
                raise serializers.ValidationError({"base": [_("依据版本不属于该公约")]})
        version = services.version_create(actor=request.user, convention=convention, base=base, note=values["note"])
        return Response(VersionOut(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ConventionArticleIn,
        responses={201: ArticleOut},
        parameters=[IDEMPOTENCY_KEY],
        description="Add an article to the latest version, a draft (at ``number``, else at the end).",
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def articles(self, request: Request, pk: str) -> Response:
        convention = self._run()
        values = _valid(ConventionArticleIn, request)
        article = services.article_add(
            actor=request.user, version=self._latest(convention), text=values["text"], number=values["number"]
        )
        return Response(ArticleOut(article).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="api_conventions_article_change",
        request=ConventionArticleChangeIn,
        responses={200: VersionOut},
        description="Save an article's text, remove it or move it to another number (``action``); "
        "the answer is its version.",
    )
    @action(detail=True, methods=["post"], url_path=r"articles/(?P<article_id>[0-9]+)")
    def article(self, request: Request, pk: str, article_id: str) -> Response:
        convention = self._run()
        article = selectors.access_article(request.user, article_id)
        if article.version.convention_id != convention.pk:
            raise serializers.ValidationError({"article": [_("该条文不属于这份公约")]})
        values = _valid(ConventionArticleChangeIn, request)
        if values["action"] == "remove":
            services.article_remove(actor=request.user, article=article)
        elif values["action"] == "move":
            if values["number"] is None:
                raise serializers.ValidationError({"number": [_("请选择条号")]})
            services.article_move(actor=request.user, article=article, number=values["number"])
        else:
            services.article_change(actor=request.user, article=article, text=values["text"])
        version = ConventionVersion.objects.prefetch_related("articles").get(pk=article.version_id)
        return Response(VersionOut(version).data)

    @extend_schema(
        request=ConventionCommentsOpenIn,
        responses={200: VersionOut},
        description="Open the latest version, a draft, to residents' comments until ``until``.",
    )
    @action(detail=True, methods=["post"], url_path="comments-open")
    def comments_open(self, request: Request, pk: str) -> Response:
        convention = self._run()
        values = _valid(ConventionCommentsOpenIn, request)
        version = services.comments_open(actor=request.user, version=self._latest(convention), until=values["until"])
        version = ConventionVersion.objects.prefetch_related("articles").get(pk=version.pk)
        return Response(VersionOut(version).data)

    @extend_schema(
        request=ConventionVoteIn,
        responses={200: VersionOut},
        description="Put the latest version to a vote; adopted or sent back when the vote closes.",
    )
    @action(detail=True, methods=["post"])
    def vote(self, request: Request, pk: str) -> Response:
        convention = self._run()
        values = _valid(ConventionVoteIn, request)
        version = self._latest(convention)
        services.version_put_to_vote(
            actor=request.user,
            version=version,
            electorate=values["electorate"],
            rule=values["rule"],
            closes_at=values["closes_at"],
        )
        version = ConventionVersion.objects.prefetch_related("articles").get(pk=version.pk)
        return Response(VersionOut(version).data)

    @extend_schema(
        request=None,
        responses={200: VersionOut},
        description="Publish the adopted version: residents may sign it. 400 when none waits to be published.",
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str) -> Response:
        convention = self._run()
        version = (
            convention.versions.filter(status=VersionStatus.ADOPTED, published_at__isnull=True)
            .order_by("-number")
            .first()
        )
        if version is None:
            raise serializers.ValidationError({"detail": [_("只有表决通过的版本可以公布")]})
        version = services.version_publish(actor=request.user, version=version)
        version = ConventionVersion.objects.prefetch_related("articles").get(pk=version.pk)
        return Response(VersionOut(version).data)

    @extend_schema(
        request=ConventionPaperIn,
        responses={201: SignatureOut},
        parameters=[IDEMPOTENCY_KEY],
        description="Enter a household's signature of the convention in force collected on paper "
        "(the staff who collect signatures at its place or a part of it).",
    )
    @action(detail=True, methods=["post"], url_path="paper-signature")
    @idempotent
    def paper_signature(self, request: Request, pk: str) -> Response:
        convention = self.get_object()
        version = selectors.current_version(convention)
        if version is None:
            if not selectors.can_run(request.user, convention):
                require(request.user, DelibCap.CHECK_IN, convention.place)
            raise serializers.ValidationError({"detail": [_("只有已公布的现行公约可以签署")]})
        version = selectors.collect_version(request.user, version.pk)
        values = _valid(ConventionPaperIn, request)
        household = (
            Household.objects.visible(request.user, DelibCap.CHECK_IN)
            .filter(pk=values["household"])
            .select_related("place")
            .first()
        )
        signer = Person.objects.filter(pk=values["signer"], household_links__household=household).first()
        if household is None or signer is None:
            raise serializers.ValidationError({"household": [_("请选择该户和签名的家庭成员")]})
        signature = services.signature_record_paper(
            actor=request.user, version=version, household=household, signer=signer
        )
        return Response(SignatureOut(signature, context={"request": request}).data, status=status.HTTP_201_CREATED)
