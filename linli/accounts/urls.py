"""The sign-in pages Linli serves itself, ahead of allauth's (``config.urls``): the SMS code's
confirmation, with a resend held to the limits of the codes sent to one number."""

from django.urls import path

from linli.accounts.views import confirm_login_code

urlpatterns = [
    path("login/code/confirm/", confirm_login_code, name="account_confirm_login_code"),
]
