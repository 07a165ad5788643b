"""Shared base models. No domain models live here."""

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.access import PlaceScopedQuerySet


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class Heartbeat(models.Model):
    """The last time a background process proved it was alive (the worker writes one).

    ``/healthz`` reads it to tell operators whether the job worker runs.
    """

    name = models.CharField(max_length=64, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.at:%Y-%m-%d %H:%M:%S}"


class AuditEntry(models.Model):
    """One line of the append-only audit trail: who did what to whose data, where and why.

    Services write an entry in the same transaction as the change; unmasking a phone or
    identity number writes one too. A database trigger forbids updates and deletes, and
    django-pghistory keeps row-level history underneath for writes that bypass services.
    """

    class Action(models.TextChoices):
        CREATE = "create", _("创建")
        UPDATE = "update", _("修改")
        DELETE = "delete", _("删除")
        UNMASK = "unmask", _("查看完整信息")
        GRANT = "grant", _("授予角色")
        REVOKE = "revoke", _("撤销角色")
        IMPORT = "import", _("导入")
        EXPORT = "export", _("导出")
        CONFLICT = "conflict", _("证件号码重复录入")

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(_("操作人"), max_length=150, blank=True)
    action = models.CharField(_("动作"), max_length=16, choices=Action.choices)
    target_type = models.CharField(_("对象类型"), max_length=64)
    target_id = models.CharField(_("对象"), max_length=64)
    target_label = models.CharField(_("对象名称"), max_length=200, blank=True)
    place = models.ForeignKey("places.Place", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    place_path = models.CharField(max_length=255, blank=True, db_index=True)
    field = models.CharField(_("字段"), max_length=64, blank=True)
    reason = models.TextField(_("理由"), blank=True)
    changes = models.JSONField(_("变更"), default=dict, blank=True)

    objects = PlaceScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["place_path"], name="audit_place_path_like", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["target_type", "target_id"]),
        ]
        triggers = [pgtrigger.Protect(name="audit_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.target_type}:{self.target_id}"


class IdempotencyRecord(models.Model):
    """The stored answer to a write sent with an ``Idempotency-Key`` header, so that a client
    retrying after a lost response gets the same answer instead of a second record."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(default=0)
    body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_once_per_user")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class RateCounter(models.Model):
    """Hits of one rate limit in one time window, shared by every process and machine.

    ``key`` is a digest of the limit's name and what it counts (an address, a phone number, a
    client), so that no personal data is kept here; ``window`` is the window's start in epoch
    seconds. One ``INSERT … ON CONFLICT`` statement counts a hit (``core.ratelimit``); the
    worker deletes windows that have expired.
    """

    key = models.CharField(max_length=64)
    window = models.BigIntegerField()
    hits = models.PositiveIntegerField(default=0)
    expires = models.BigIntegerField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window"], name="ratecounter_once_per_window")]

    def __str__(self) -> str:
        return f"{self.key[:8]}… @ {self.window}: {self.hits}"


class ImportJob(models.Model):
    """A large spreadsheet import, parsed and written by the worker rather than the web
    request: who sent which file for what, how far the worker has got, and what came of it.

    ``kind`` names an importer registered by an app (``core.imports``); ``params`` are its
    arguments (a place code). The file is kept until the job is finished, then dropped.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("处理中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("未导入")

    kind = models.CharField(max_length=32)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=200)
    params = models.JSONField(default=dict, blank=True)
    data = models.BinaryField(editable=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    phase = models.CharField(max_length=32, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.filename} ({self.status})"

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done / self.total)) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)


class Notification(models.Model):
    """The outbox: a message one of the apps has to send (``core.notify``), written in the
    same transaction as what caused it and delivered by the worker. ``payload`` names what it
    is about (ids, short values); ``reached`` keeps digests of the numbers already sent to,
    so that a retry sends nobody twice."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    kind = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    reached = models.JSONField(default=list, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="notification_pending_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"
