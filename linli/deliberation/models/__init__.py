"""The deliberation app's rows, one module per part: topics (议题), meetings (议事会) with their
decisions, votes (表决) and resident conventions (居民公约)."""

from linli.deliberation.models.conventions import *  # noqa: F403
from linli.deliberation.models.meetings import *  # noqa: F403
from linli.deliberation.models.topics import *  # noqa: F403
from linli.deliberation.models.votes import *  # noqa: F403
