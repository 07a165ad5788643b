from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "linli.accounts"
    label = "accounts"
    verbose_name = _("账户")

    def ready(self) -> None:
        from allauth.mfa.models import Authenticator
        from django.contrib.auth.signals import user_login_failed
        from django.db.models.signals import post_save

        from linli.accounts.adapter import count_failed_sign_in
        from linli.accounts.middleware import record_totp_set_up
        from linli.accounts.sms import send_sms
        from linli.core.notify import register_sender

        post_save.connect(record_totp_set_up, sender=Authenticator, dispatch_uid="linli_totp_set_up")
        register_sender("sms", send_sms)  # the channel of every notification today
        user_login_failed.connect(count_failed_sign_in, dispatch_uid="linli_failed_sign_in")
