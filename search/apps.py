from django.apps import AppConfig
from django.db.backends.signals import connection_created


class SearchConfig(AppConfig):
    name = "search"

    def ready(self):
        from .kql.sqlite import on_connection_created

        # SQLite has no kql_* functions of its own: every new connection gets them.
        connection_created.connect(on_connection_created, dispatch_uid="search.kql.sqlite")
