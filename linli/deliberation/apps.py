from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliberationConfig(AppConfig):
    """决策共谋: topics, meetings, votes and resident conventions. It touches nothing outside
    itself but the kernel's registries and the services of the apps below it (a decision's
    need is raised through the needs app's intake). ``linli deliberation tally FILE.json``
    recounts any vote through ``deliberation.tally``."""

    name = "linli.deliberation"
    label = "deliberation"
    verbose_name = _("议事与表决")

    def ready(self) -> None:
        from linli.core.access import declare_capabilities
        from linli.core.registry import register_routes
        from linli.deliberation.capabilities import GRANTS, DelibCap

        declare_capabilities(DelibCap, GRANTS)
        register_routes("linli.deliberation.urls", prefix="deliberation/", order=55)
        # --- topics (register here) ---
        from linli.core.notify import register_kind
        from linli.core.registry import register_api_viewset, register_periodic, register_tile, register_todo
        from linli.deliberation.api_topics import TopicViewSet
        from linli.deliberation.notifications import KINDS as TOPIC_KINDS
        from linli.deliberation.tasks_topics import sweep_recurring_needs
        from linli.deliberation.tiles import TILES as TOPIC_TILES
        from linli.deliberation.tiles import TODOS as TOPIC_TODOS

        for kind in TOPIC_KINDS:
            register_kind(kind)
        for tile in TOPIC_TILES:
            register_tile(tile)
        for todo in TOPIC_TODOS:
            register_todo(todo)
        register_periodic(sweep_recurring_needs)
        register_api_viewset("topics", TopicViewSet, "topic")
        # --- meetings and decisions (register here) ---
        from linli.core.notify import register_kind
        from linli.core.registry import register_api_viewset, register_periodic, register_tile
        from linli.deliberation.api_meetings import DecisionViewSet, MeetingViewSet
        from linli.deliberation.hooks import on_vote_closed
        from linli.deliberation.notifications_meetings import KINDS as MEETING_KINDS
        from linli.deliberation.services.meetings import decision_vote_closed
        from linli.deliberation.tasks_meetings import sweep_meeting_reminders
        from linli.deliberation.tiles_meetings import TILES as MEETING_TILES

        for kind in MEETING_KINDS:
            register_kind(kind)
        for tile in MEETING_TILES:
            register_tile(tile)
        register_periodic(sweep_meeting_reminders)
        register_api_viewset("meetings", MeetingViewSet, "meeting")
        register_api_viewset("decisions", DecisionViewSet, "decision")
        on_vote_closed(decision_vote_closed)  # a decision put to a vote learns its result
        # --- votes (register here) ---
        from linli.core.registry import register_api_viewset, register_periodic, register_tile, register_todo
        from linli.deliberation.api_votes import VoteViewSet
        from linli.deliberation.tasks import sweep_due_votes
        from linli.deliberation.tiles_votes import VOTE_TILES, VOTE_TODOS

        register_periodic(sweep_due_votes)
        register_api_viewset("votes", VoteViewSet, "vote")
        for vote_tile in VOTE_TILES:
            register_tile(vote_tile)
        for vote_todo in VOTE_TODOS:
            register_todo(vote_todo)
        # --- conventions (register here) ---
        from linli.core.registry import register_api_viewset, register_tile
        from linli.deliberation.api_conventions import ConventionViewSet
        from linli.deliberation.hooks import on_vote_closed
        from linli.deliberation.services.conventions import convention_vote_closed
        from linli.deliberation.tiles_conventions import TILES as CONVENTION_TILES

        on_vote_closed(convention_vote_closed)
        register_api_viewset("conventions", ConventionViewSet, "convention")
        for tile in CONVENTION_TILES:
            register_tile(tile)
