"""The test settings with the throwaway app installed: the one edit outside its folder."""

from linli.config.settings.test import *  # noqa: F403
from linli.config.settings.test import DATABASES, INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.noticeboard"]
# its own test database, beside the suite's
DATABASES["default"]["TEST"] = {"NAME": "test_linli_noticeboard"}
