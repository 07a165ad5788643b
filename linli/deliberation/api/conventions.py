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

from linli.core.api import Pagination
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
from linli.people.models import Household


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


class ConventionViewSet(viewsets.ReadOnlyModelViewSet[Convention]):
    """Resident conventions (居民公约) the reader may read."""

    serializer_class = ConventionOut
    pagination_class = Pagination

    def get_queryset(self) -> QuerySet[Convention]:
        return selectors.convention_list(actor=self.request.user)

    def get_object(self) -> Convention:
        return selectors.access_convention(self.request.user, self.kwargs["pk"])

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
