"""Pages of deliberation, under ``/deliberation/``; the patterns are the view modules'."""

from linli.deliberation.views import conventions, meetings, topics, votes

app_name = "deliberation"
urlpatterns = [*topics.urlpatterns, *meetings.urlpatterns, *votes.urlpatterns, *conventions.urlpatterns]
