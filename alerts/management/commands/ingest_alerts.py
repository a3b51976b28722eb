from django.core.management.base import BaseCommand, CommandError

from alerts.ingest.parse import FORMATS
from alerts.ingest.store import ingest_body
from inventory.activity import Actor
from inventory.models import Subscription
from socconsole.lib.ingestfiles import ingest_files


class Command(BaseCommand):
    help = "Ingest alert files (JSON, JSON array, ARM list or NDJSON) into a subscription."

    def add_arguments(self, parser):
        parser.add_argument("--subscription", required=True)
        parser.add_argument("--format", choices=sorted(FORMATS))
        parser.add_argument("files", nargs="+", metavar="FILE")

    def handle(self, *args, subscription, files, format=None, **options):  # noqa: A002
        try:
            sub = Subscription.objects.get(name=subscription)
        except Subscription.DoesNotExist:
            raise CommandError(f"No subscription named {subscription!r}.") from None
        actor = Actor.of_system("manage.py")

        def ingest(name, body, content_type):
            report = ingest_body(sub, body, content_type, actor=actor, source="command",
                                 format=format)
            self.stdout.write(f"{name}: {report.summary()}")
            for result in report.results:
                if result.error:
                    error = result.error
                    where = f" ({error['field']})" if error.get("field") else ""
                    self.stdout.write(f"  item {result.index}: {error['code']}{where}: "
                                      f"{error['message']}")

        if not ingest_files(files, ingest, self.stderr):
            raise CommandError("Some files could not be read as alerts.")
