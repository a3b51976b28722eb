import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from search import engine
from search.engine import EngineError


class Command(BaseCommand):
    help = ("Create the events engine's tables where missing (on EVENTS_CLUSTER when set); "
            "run as the tables' owner after migrate.")

    def add_arguments(self, parser):
        parser.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                            help="try again for this long while the engine (or a node of "
                                 "the cluster) does not answer yet; 0: try once")

    def handle(self, *args, wait, **options):
        deadline = time.monotonic() + wait
        while True:
            try:
                statements = engine.ensure_schema()
                break
            except EngineError as exc:
                # At a stack's start the nodes come up in any order; the statements are
                # IF NOT EXISTS, so another try is harmless.
                if time.monotonic() + 2 > deadline:
                    raise CommandError(f"The events tables were not created: {exc}") from None
                self.stderr.write(f"Waiting for the events engine: {exc}")
                time.sleep(2)
        where = f"on cluster {settings.EVENTS_CLUSTER}" if settings.EVENTS_CLUSTER \
            else "in the events engine"
        self.stdout.write(f"Events tables ready {where} ({len(statements)} statements).")
