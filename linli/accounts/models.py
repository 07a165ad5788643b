"""Sign-in accounts. The person behind an account lives in ``people.Person``."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.people.identity import mask_phone


class User(AbstractUser):
    """A sign-in account: staff sign in with a username, password and TOTP; residents with
    their phone number and a one-time SMS code. ``phone`` is E.164 (+8613800138000)."""

    phone = models.CharField(_("手机号码"), max_length=20, null=True, blank=True, unique=True)
    phone_verified = models.BooleanField(_("手机已验证"), default=False)
    display_name = models.CharField(_("显示名称"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("账户")
        verbose_name_plural = _("账户")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone or "")


class ApiClient(models.Model):
    """A registered API client (a city app, a 12345 hotline bridge) that posts needs through
    Open311 or the triage endpoint with an ``api_key``. Only a digest of the key is stored;
    the key itself is shown once when the client is registered. The client acts as
    ``user``, whose memberships decide where it may read and write."""

    name = models.CharField(_("名称"), max_length=80)
    key_prefix = models.CharField(max_length=8, editable=False)
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="api_clients")
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("接口客户端")
        verbose_name_plural = _("接口客户端")

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"
