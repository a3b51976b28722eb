from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from search.engine import EngineError
from search.engine_schema import create_events_tables


class Command(BaseCommand):
    help = ("Create the events engine's tables where missing (on EVENTS_CLUSTER when set); "
            "run as the tables' owner after migrate.")

    def handle(self, *args, **options):
        try:
            statements = create_events_tables()
        except EngineError as exc:
            raise CommandError(f"The events tables were not created: {exc}") from None
        where = f"on cluster {settings.EVENTS_CLUSTER}" if settings.EVENTS_CLUSTER \
            else "in the events engine"
        self.stdout.write(f"Events tables ready {where} ({len(statements)} statements).")
