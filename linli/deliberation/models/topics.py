"""Topics (议题): what a community deliberates. Three sources feed one list per place: a
resident's proposal once enough neighbours support it, an opinion heard on a visit, and
recurring needs of one category in one place (每月一题)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from linli.core.access import Actor, PlaceScoped, PlaceScopedQuerySet
from linli.core.models import TimeStampedModel
from linli.deliberation.access import community_also

__all__ = ["CommunityRules", "Topic", "TopicNeed", "TopicSource", "TopicStatus", "TopicSupport"]


class TopicSource(models.TextChoices):
    PROPOSAL = "proposal", _("居民提议")
    OPINION = "opinion", _("走访听到的心声")
    RECURRING = "recurring", _("反复出现的诉求")
    STAFF = "staff", _("社区提出")


class TopicStatus(models.TextChoices):
    GATHERING = "gathering", _("征集附议")  # a proposal below its community's threshold
    OFFERED = "offered", _("待书记确认")  # recurring needs offered to the secretary
    LISTED = "listed", _("待议")  # on the secretary's list
    SCHEDULED = "scheduled", _("已列入议程")
    DECIDED = "decided", _("已决定")
    DONE = "done", _("已落实")
    DECLINED = "declined", _("不予列入")


class CommunityRules(models.Model):
    """A community's settings for deliberation; a community without a row uses the defaults."""

    community = models.OneToOneField("places.Place", on_delete=models.CASCADE, related_name="+")
    #: supports that put a resident's proposal on the secretary's list
    support_threshold = models.PositiveSmallIntegerField(_("附议门槛"), default=10)
    #: N needs of one category in one building, grid or community within M days offer a topic
    recurring_count = models.PositiveSmallIntegerField(_("同类诉求件数"), default=3)
    recurring_days = models.PositiveSmallIntegerField(_("统计天数"), default=30)

    class Meta:
        verbose_name = _("议事规则")
        verbose_name_plural = _("议事规则")

    def __str__(self) -> str:
        return f"{self.community_id}"


class Topic(TimeStampedModel, PlaceScoped):
    """A matter for the community to deliberate (议题), about a community, grid or building.
    ``source`` says where it came from: a resident's proposal (``proposer``; ``supports`` counts
    its ``TopicSupport`` rows), an opinion heard on a visit (``opinion``), needs of one
    ``category`` recurring in one place (``need_links``), or the community itself. ``status``
    follows it from gathering supports or being offered, through the secretary's list and a
    meeting's agenda, to decided and done (or declined, with ``status_note`` saying why)."""

    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+", verbose_name=_("范围"))
    title = models.CharField(_("议题"), max_length=120)
    body = models.TextField(_("说明"), max_length=4000, blank=True)
    source = models.CharField(_("来源"), max_length=12, choices=TopicSource.choices)
    status = models.CharField(_("状态"), max_length=12, choices=TopicStatus.choices)
    proposer = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("提议人")
    )
    opinion = models.OneToOneField(
        "visits.Opinion", null=True, blank=True, on_delete=models.PROTECT, related_name="topic"
    )
    category = models.ForeignKey(
        "needs.Category", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("类别")
    )
    supports = models.PositiveIntegerField(_("附议数"), default=0)
    #: why the secretary declined it (shown to its proposer)
    status_note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = PlaceScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["place_path"], name="topic_path_like", opclasses=["varchar_pattern_ops"])]
        verbose_name = _("议题")
        verbose_name_plural = _("议题")

    def __str__(self) -> str:
        return self.title

    @classmethod
    def visible_also(cls, actor: Actor, capability: str) -> Q | None:
        """A resident holds their role at their household: their community's topics are theirs
        to read too (``access.community_also``)."""
        return community_also(actor, capability)


class TopicSupport(models.Model):
    """A resident's support (附议) of a proposal: once per person."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="support_rows")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "person"], name="topic_support_once")]

    def __str__(self) -> str:
        return f"{self.topic_id}/{self.person_id}"


class TopicNeed(models.Model):
    """A need linked to a topic (the recurring needs that offered it)."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="need_links")
    need = models.ForeignKey("needs.Need", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "need"], name="topic_need_once")]

    def __str__(self) -> str:
        return f"{self.topic_id}/{self.need_id}"
