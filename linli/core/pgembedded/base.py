"""PostgreSQL backend that starts the embedded server on the first connection.

Used when ``DATABASE_URL`` is not set. Everything else is Django's own PostgreSQL backend;
only the host and port are filled in from the running embedded server, so ``dbshell``
reaches it too.
"""

from typing import Any

from django.db.backends.postgresql import base

from linli.core import embedded


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        info = embedded.ensure_server()
        self.settings_dict["HOST"] = info.host
        self.settings_dict["PORT"] = str(info.port)
        self.settings_dict["USER"] = info.user
        name = self.settings_dict.get("NAME") or ""
        if name and not name.startswith("test_") and name != "postgres":
            embedded.ensure_database(name)
        return super().get_connection_params()
