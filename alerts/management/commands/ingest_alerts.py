from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from alerts.ingest.parse import FORMATS, BodyError
from alerts.ingest.store import ingest_body
from inventory.activity import Actor
from inventory.models import Subscription
from socconsole.lib.transient import StorageUnavailable


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
        failed = False
        for name in files:
            path = Path(name)
            try:
                body = path.read_bytes()
            except OSError as exc:
                raise CommandError(f"{name}: {exc.strerror}") from exc
            content_type = "application/x-ndjson" if path.suffix in (".jsonl", ".ndjson") \
                else "application/json"
            try:
                report = ingest_body(sub, body, content_type, actor=Actor.of_system("manage.py"),
                                     source="command", format=format)
            except (BodyError, StorageUnavailable) as exc:
                self.stderr.write(f"{name}: not ingested: {exc}")
                failed = True
                continue
            self.stdout.write(f"{name}: {report.summary()}")
            for result in report.results:
                if result.error:
                    error = result.error
                    where = f" ({error['field']})" if error.get("field") else ""
                    self.stdout.write(f"  item {result.index}: {error['code']}{where}: "
                                      f"{error['message']}")
        if failed:
            raise CommandError("Some files could not be read as alerts.")
