"""The kinds of notification deliberation sends (``core.notify``), one module per part."""

from linli.deliberation.notifications import meetings, topics

KINDS = [*topics.KINDS, *meetings.KINDS]
