"""Pages of topics."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
