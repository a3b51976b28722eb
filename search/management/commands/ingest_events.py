from django.core.management.base import BaseCommand, CommandError

from inventory.models import Subscription, Workspace
from search.ingest import ingest_event_body
from search.ingest.store import EventError
from socconsole.lib.ingestfiles import ingest_files


class Command(BaseCommand):
    help = ("Ingest event files (JSON array or NDJSON; Windows events as JSON, syslog as JSON, "
            "Suricata EVE, or Log Analytics rows) into a workspace's table.")

    def add_arguments(self, parser):
        parser.add_argument("--subscription", required=True)
        parser.add_argument("--workspace", help="Default: the subscription's default workspace.")
        parser.add_argument("--table", required=True, help="For example SecurityEvent, Syslog.")
        parser.add_argument("files", nargs="+", metavar="FILE")

    def handle(self, *args, subscription, table, files, workspace=None, **options):
        try:
            sub = Subscription.objects.get(name=subscription)
        except Subscription.DoesNotExist:
            raise CommandError(f"No subscription named {subscription!r}.") from None
        spaces = Workspace.objects.filter(subscription=sub)
        space = spaces.filter(name=workspace).first() if workspace else \
            spaces.filter(is_default=True).first()
        if space is None:
            raise CommandError(f"{sub.name} has no workspace named {workspace!r}." if workspace
                               else f"{sub.name} has no default workspace.")

        def ingest(name, body, content_type):
            try:
                report = ingest_event_body(space, table, body, content_type,
                                           source="command")
            except EventError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"{name}: {report.summary()} into {space.name}/{table}")
            for result in report.results:
                for problem in ([result.error] if result.error else []) + result.warnings:
                    where = f" ({problem['field']})" if problem.get("field") else ""
                    kind = "error" if problem is result.error else "warning"
                    self.stdout.write(f"  line {result.index + 1}: {kind} {problem['code']}"
                                      f"{where}: {problem['message']}")

        if not ingest_files(files, ingest, self.stderr):
            raise CommandError("Some files could not be read as events.")
