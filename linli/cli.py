"""The ``linli`` command: Django's manage.py with the project's own sub-commands.

``linli demo``, ``linli serve``, ``linli worker``, ``linli load-demo``,
``linli import-places FILE``, ``linli db start|stop|status`` and ``linli bench …`` are
management commands of the project (hyphens become underscores); every other Django
command works too (``linli migrate``, ``linli createsuperuser``, ``linli shell``).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.config.settings.demo")
    if len(args) > 1 and not args[1].startswith("-"):
        args[1] = args[1].replace("-", "_")
    args[0] = "linli"
    from django.core.management import execute_from_command_line

    execute_from_command_line(args)


if __name__ == "__main__":
    main()
