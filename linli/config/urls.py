from typing import Any

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.utils.translation import gettext_lazy
from django.views.i18n import JavaScriptCatalog, set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from linli.core import views as core_views
from linli.core.errors import error_response
from linli.core.registry import api_views, api_viewsets, routes


def _admin_only(request: object) -> bool:
    user = getattr(request, "user", None)
    return bool(user and user.is_active and user.is_superuser)


def _admin_login(request: HttpRequest, extra_context: object = None) -> HttpResponse:
    """The admin site has no sign-in form of its own: it uses the site's, with the second
    factor (a password alone would open every person's data). Someone signed in who is not a
    system admin is refused, rather than sent round between the two sign-in pages."""
    if request.user.is_authenticated:
        return error_response(request, 403, gettext_lazy("系统管理仅限系统管理员。"))
    return redirect_to_login(request.GET.get("next") or "/admin/", login_url="account_login")


# a database outage anywhere in a request is a 503, anything else the site's own error page
handler500 = "linli.core.outage.server_error"
handler400 = "linli.core.errors.bad_request"
handler403 = "linli.core.errors.permission_denied"
handler404 = "linli.core.errors.page_not_found"

# Django admin is for system admins only, not for every is_staff account.
admin.site.has_permission = _admin_only  # type: ignore[method-assign,assignment]
admin.site.login = _admin_login  # type: ignore[method-assign,assignment]
admin.site.site_header = gettext_lazy("邻里 · 系统管理")

#: Names of the third-party apps' sections and lists, which their own code names in English.
_ADMIN_NAMES = {
    "axes": gettext_lazy("登录尝试记录"),
    "django_tasks_database": gettext_lazy("后台任务"),
    "Authenticator": gettext_lazy("验证器（动态码、恢复码）"),
    "AccessAttempt": gettext_lazy("登录失败累计"),
    "AccessFailureLog": gettext_lazy("登录失败记录"),
    "AccessLog": gettext_lazy("登录记录"),
    "DBTaskResult": gettext_lazy("任务结果"),
}
_app_list = admin.site.get_app_list


def _named_app_list(request: HttpRequest, app_label: str | None = None) -> list[Any]:
    apps = _app_list(request, app_label)
    for app in apps:
        app["name"] = _ADMIN_NAMES.get(app["app_label"], app["name"])
        for model in app["models"]:
            model["name"] = _ADMIN_NAMES.get(model["object_name"], model["name"])
    return apps


admin.site.get_app_list = _named_app_list  # type: ignore[method-assign]

# The apps' pages and API, as they registered them (``core.registry``): nothing to edit here
# for a new app.
router = DefaultRouter()
for prefix, viewset, basename in api_viewsets():
    router.register(prefix, viewset, basename=basename)

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("imports/<int:pk>/", core_views.import_job, name="import_job"),
    path("prefs/large-type/", core_views.large_type, name="large_type"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("i18n/js/", JavaScriptCatalog.as_view(), name="javascript_catalog"),
    path("accounts/", include("linli.accounts.urls")),  # before allauth's: the SMS code's page
    path("accounts/", include("allauth.urls")),
    *(path(r.prefix, include(r.module)) for r in routes()),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api_docs"),
    *(path(f"api/{route}", view, name=name) for route, view, name in api_views()),
    path("api/", include(router.urls)),
    path("admin/", admin.site.urls),
]
