"""The visits app's pages: the doorstep log (``log``), my households and a household
(``households``), coverage (``coverage``), care assignments (``care``), visit policies
(``policies``), night rounds (``nights``), opinions heard (``opinions``) and the monthly ledger
(``ledger``). Access rules and totals are the selectors'; each module is thin."""

from __future__ import annotations

from django.urls import URLPattern, path

from linli.visits.views import care, coverage, households, ledger, log, nights, opinions, policies

urlpatterns: list[URLPattern] = [
    *log.urlpatterns,
    *ledger.urlpatterns,
    path("visits/", households.home, name="home"),
    path("visits/coverage/<str:code>/", coverage.coverage, name="coverage"),
    path("visits/households/<int:pk>/", households.household_detail, name="household"),
    path("visits/households/<int:pk>/out-by-day/", households.household_out_by_day, name="household_out_by_day"),
    path("visits/households/<int:pk>/assign/", households.household_assign, name="household_assign"),
    path("visits/care/<str:code>/", care.care, name="care"),
    path("visits/care/<str:code>/handover/", care.care_handover, name="care_handover"),
    path("visits/care/<str:code>/import/", care.care_import, name="care_import"),
    path("visits/care/<str:code>/export.xlsx", care.care_export, name="care_export"),
    path("visits/care/a/<int:pk>/end/", care.care_end, name="care_end"),
    path("visits/policies/<str:code>/", policies.policies, name="policies"),
    path("visits/policies/<str:code>/set/", policies.policy_set, name="policy_set"),
    path("visits/nights/<str:code>/", nights.nights, name="nights"),
    path("visits/nights/<str:code>/new/", nights.night_create, name="night_create"),
    path("visits/nights/r/<int:pk>/", nights.night_detail, name="night"),
    path("visits/opinions/<str:code>/", opinions.opinions, name="opinions"),
    path("visits/opinions/o/<int:pk>/", opinions.opinion_decide, name="opinion_decide"),
    path("visits/v/<int:pk>/photo/", opinions.visit_photo, name="photo"),
]
