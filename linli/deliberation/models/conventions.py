"""Resident conventions (居民公约): versions of articles, comments per article during a comment
period, adoption by a vote, publication and signatures by households. An adopted version is
frozen; an amendment starts a new version.

The text is frozen in the database as well as in the services: a trigger on
``ConventionArticle`` refuses any write to an article whose version is neither a draft nor open
for comments, and a trigger on ``ConventionVersion`` lets a status move only forward (an adopted
version can only be superseded, never reopened as a draft)."""

from __future__ import annotations

import uuid

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.access import Actor, PlaceScoped, PlaceScopedQuerySet
from linli.core.models import TimeStampedModel
from linli.deliberation.access import community_also
from linli.deliberation.capabilities import DelibCap

__all__ = [
    "EDITABLE_STATUSES",
    "ArticleComment",
    "Convention",
    "ConventionArticle",
    "ConventionVersion",
    "Signature",
    "SignatureChannel",
    "VersionStatus",
]


class Convention(TimeStampedModel, PlaceScoped):
    """A convention of the residents of a place (a community usually, a building sometimes): the
    rules neighbours agree on, kept as numbered versions of numbered articles."""

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

    @classmethod
    def visible_also(cls, actor: Actor, capability: str) -> models.Q | None:
        """A resident reads (and comments on) the conventions of their own community."""
        if capability not in (DelibCap.VIEW, DelibCap.PROPOSE):
            return None
        return community_also(actor, capability)


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    COMMENTS = "comments", _("征求意见")
    VOTING = "voting", _("表决中")
    ADOPTED = "adopted", _("已通过")
    REJECTED = "rejected", _("未通过")
    SUPERSEDED = "superseded", _("已修订")


#: The statuses whose articles the database lets anyone write.
EDITABLE_STATUSES = (VersionStatus.DRAFT, VersionStatus.COMMENTS)

_ARTICLE_FROZEN = pgtrigger.Func(
    """
    IF TG_OP <> 'INSERT' THEN
        SELECT status INTO _status FROM deliberation_conventionversion WHERE id = OLD.version_id;
        IF _status IS NOT NULL AND _status NOT IN ('draft', 'comments') THEN
            RAISE EXCEPTION 'convention article % belongs to a % version: its text is frozen', OLD.id, _status;
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        SELECT status INTO _status FROM deliberation_conventionversion WHERE id = NEW.version_id;
        IF _status IS NOT NULL AND _status NOT IN ('draft', 'comments') THEN
            RAISE EXCEPTION 'convention article of a % version: its text is frozen', _status;
        END IF;
        RETURN NEW;
    END IF;
    RETURN OLD;
    """
)

_STATUS_FORWARD = pgtrigger.Func(
    """
    IF NEW.status <> OLD.status AND NOT (
        (OLD.status = 'draft' AND NEW.status IN ('comments', 'voting'))
        OR (OLD.status = 'comments' AND NEW.status = 'voting')
        OR (OLD.status = 'voting' AND NEW.status IN ('adopted', 'rejected'))
        OR (OLD.status = 'voting' AND NEW.status IN ('draft', 'comments') AND EXISTS (
            SELECT 1 FROM deliberation_vote WHERE id = OLD.vote_id AND status = 'cancelled'))
        OR (OLD.status = 'adopted' AND NEW.status = 'superseded')
    ) THEN
        RAISE EXCEPTION 'a convention version cannot go from % to %', OLD.status, NEW.status;
    END IF;
    IF OLD.status NOT IN ('draft', 'comments') AND (NEW.convention_id <> OLD.convention_id OR NEW.number <> OLD.number)
    THEN
        RAISE EXCEPTION 'a % convention version keeps its number', OLD.status;
    END IF;
    RETURN NEW;
    """
)


class ConventionVersion(TimeStampedModel):
    """One numbered text of a convention. A draft is edited; it may be opened for comments until
    a date, then put to a vote; the vote adopts it (superseding the version adopted before) or
    rejects it. An adopted version is published and signed by households."""

    convention = models.ForeignKey(Convention, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField(_("版本"))
    status = models.CharField(_("状态"), max_length=12, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    #: the version whose articles this one started from (none for the first)
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("依据版本")
    )
    #: what this version changes, in the secretary's words
    note = models.CharField(_("修订说明"), max_length=400, blank=True)
    comments_until = models.DateTimeField(_("意见截止"), null=True, blank=True)
    vote = models.ForeignKey("deliberation.Vote", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    adopted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["convention", "number"]
        constraints = [
            models.UniqueConstraint(fields=["convention", "number"], name="convention_version_once"),
            # one version being written or voted on at a time
            models.UniqueConstraint(
                fields=["convention"],
                condition=models.Q(status__in=["draft", "voting"]),
                name="convention_one_open_version",
            ),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="convention_version_forward",
                when=pgtrigger.Before,
                operation=pgtrigger.Update,
                func=_STATUS_FORWARD,
            )
        ]
        verbose_name = _("公约版本")
        verbose_name_plural = _("公约版本")

    def __str__(self) -> str:
        return f"{self.convention_id} v{self.number}"

    @property
    def editable(self) -> bool:
        return self.status == VersionStatus.DRAFT


class ConventionArticle(models.Model):
    """An article (条) of a version. ``key`` follows the same article from version to version
    (a copy keeps it, a new article gets its own), so that two versions compare article by
    article even when articles were renumbered."""

    version = models.ForeignKey(ConventionVersion, on_delete=models.CASCADE, related_name="articles")
    number = models.PositiveSmallIntegerField(_("条号"))
    key = models.UUIDField(default=uuid.uuid4, editable=False)
    text = models.TextField(_("条文"), max_length=4000)

    class Meta:
        ordering = ["version", "number"]
        constraints = [
            models.UniqueConstraint(fields=["version", "number"], name="article_number_once"),
            models.UniqueConstraint(fields=["version", "key"], name="article_key_once"),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="convention_article_frozen",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                declare=[("_status", "text")],
                func=_ARTICLE_FROZEN,
            )
        ]
        verbose_name = _("公约条文")
        verbose_name_plural = _("公约条文")

    def __str__(self) -> str:
        return f"{self.version_id}/{self.number}"


class ArticleComment(models.Model):
    """A resident's comment on one article during its version's comment period."""

    article = models.ForeignKey(ConventionArticle, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("意见"), max_length=2000)
    at = models.DateTimeField()

    class Meta:
        ordering = ["article", "at", "id"]
        verbose_name = _("条文意见")
        verbose_name_plural = _("条文意见")

    def __str__(self) -> str:
        return self.text[:40]


class SignatureChannel(models.TextChoices):
    ONLINE = "online", _("网上签署")
    PAPER = "paper", _("纸质签名")


class Signature(models.Model):
    """A household's signature of an adopted version (one per household): signed online by an
    adult member, or on paper and recorded by staff."""

    version = models.ForeignKey(ConventionVersion, on_delete=models.PROTECT, related_name="signatures")
    household = models.ForeignKey("people.Household", on_delete=models.PROTECT, related_name="+")
    signed_by = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(
        _("方式"), max_length=8, choices=SignatureChannel.choices, default=SignatureChannel.ONLINE
    )
    #: the staff account that entered a paper signature
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "household"], name="signature_household_once")]
        verbose_name = _("签署")
        verbose_name_plural = _("签署")

    def __str__(self) -> str:
        return f"{self.version_id}/{self.household_id}"
