from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliberationConfig(AppConfig):
    """决策共谋: topics, meetings, votes and resident conventions. It touches nothing outside
    itself but the kernel's registries. So far: the tally of votes (``deliberation.tally``)
    and ``linli deliberation tally FILE.json``."""

    name = "linli.deliberation"
    label = "deliberation"
    verbose_name = _("议事与表决")
