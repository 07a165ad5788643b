"""Pages of visits; the patterns are the views package's (``linli.visits.views``)."""

from linli.visits.views import urlpatterns

app_name = "visits"
__all__ = ["app_name", "urlpatterns"]
