"""Resident conventions (居民公约): versions of articles, comments per article during a comment
period, adoption by a vote, publication and signatures by households. An adopted version is
frozen; an amendment starts a new version."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.access import PlaceScoped, PlaceScopedQuerySet
from linli.core.models import TimeStampedModel

__all__ = ["ArticleComment", "Convention", "ConventionArticle", "ConventionVersion", "Signature", "VersionStatus"]


class Convention(TimeStampedModel, PlaceScoped):
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+", verbose_name=_("范围"))
    title = models.CharField(_("公约名称"), max_length=120)

    objects = PlaceScopedQuerySet.as_manager()

    class Meta:
        ordering = ["place_path", "id"]
        indexes = [models.Index(fields=["place_path"], name="convention_path_like", opclasses=["varchar_pattern_ops"])]
        verbose_name = _("居民公约")
        verbose_name_plural = _("居民公约")

    def __str__(self) -> str:
        return self.title


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    COMMENTS = "comments", _("征求意见")
    VOTING = "voting", _("表决中")
    ADOPTED = "adopted", _("已通过")
    REJECTED = "rejected", _("未通过")
    SUPERSEDED = "superseded", _("已修订")


class ConventionVersion(TimeStampedModel):
    convention = models.ForeignKey(Convention, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField()
    status = models.CharField(_("状态"), max_length=12, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    comments_until = models.DateTimeField(_("意见截止"), null=True, blank=True)
    vote = models.ForeignKey("deliberation.Vote", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    adopted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["convention", "number"]
        constraints = [models.UniqueConstraint(fields=["convention", "number"], name="convention_version_once")]

    def __str__(self) -> str:
        return f"{self.convention_id} v{self.number}"


class ConventionArticle(models.Model):
    version = models.ForeignKey(ConventionVersion, on_delete=models.CASCADE, related_name="articles")
    number = models.PositiveSmallIntegerField()
    text = models.TextField(_("条文"), max_length=4000)

    class Meta:
        ordering = ["version", "number"]
        constraints = [models.UniqueConstraint(fields=["version", "number"], name="article_number_once")]

    def __str__(self) -> str:
        return f"{self.version_id}/{self.number}"


class ArticleComment(models.Model):
    article = models.ForeignKey(ConventionArticle, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("意见"), max_length=2000)
    at = models.DateTimeField()

    class Meta:
        ordering = ["article", "at", "id"]

    def __str__(self) -> str:
        return self.text[:40]


class Signature(models.Model):
    """A household's signature of an adopted version (one per household)."""

    version = models.ForeignKey(ConventionVersion, on_delete=models.PROTECT, related_name="signatures")
    household = models.ForeignKey("people.Household", on_delete=models.PROTECT, related_name="+")
    signed_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "household"], name="signature_household_once")]

    def __str__(self) -> str:
        return f"{self.version_id}/{self.household_id}"
