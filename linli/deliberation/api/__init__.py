"""Deliberation's REST API, one module per part; ``VIEWSETS`` are registered under ``/api/``."""

from linli.deliberation.api.conventions import ConventionViewSet
from linli.deliberation.api.meetings import DecisionViewSet, MeetingViewSet
from linli.deliberation.api.topics import TopicViewSet
from linli.deliberation.api.votes import VoteViewSet

#: (prefix, viewset, basename)
VIEWSETS = [
    ("topics", TopicViewSet, "topic"),
    ("meetings", MeetingViewSet, "meeting"),
    ("decisions", DecisionViewSet, "decision"),
    ("votes", VoteViewSet, "vote"),
    ("conventions", ConventionViewSet, "convention"),
]
