"""Pages of visits. Each module lists its own patterns: the doorstep page (``views``), the
coverage and management pages (``manage_views``) and the monthly ledger (``ledger_views``)."""

from linli.visits import ledger_views, manage_views, views

app_name = "visits"
urlpatterns = [*views.urlpatterns, *manage_views.urlpatterns, *ledger_views.urlpatterns]
