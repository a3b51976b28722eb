from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from detections.indicators import IndicatorError, import_file
from inventory.activity import Actor
from inventory.models import Subscription
from inventory.roles import Role


class Command(BaseCommand):
    help = ("Import indicators from STIX 2.1 bundles (.json) or CSV files (.csv, header: "
            "type,value,severity,confidence,source,description,tags,valid_from,valid_until).")

    def add_arguments(self, parser):
        parser.add_argument("--subscription", required=True)
        parser.add_argument("--source", default="", help="where they come from, when the "
                            "file does not say")
        parser.add_argument("files", nargs="+")

    def handle(self, *args, subscription, source, files, **options):
        sub = Subscription.objects.filter(name=subscription).first()
        if sub is None:
            raise CommandError(f"No subscription named {subscription!r}.")
        failed = False
        for name in files:
            path = Path(name)
            try:
                body = path.read_bytes()
            except OSError as exc:
                raise CommandError(f"{name}: {exc.strerror}") from None
            try:
                report = import_file(sub, body, filename=path.name, source=source,
                                     actor=Actor.of_system("import_indicators"),
                                     role=Role.SHIFT_LEAD)
            except IndicatorError as exc:
                self.stderr.write(f"{name}: {exc}")
                failed = True
                continue
            self.stdout.write(f"{name}: {report.summary()}")
            for where, reason in report.refused:
                self.stdout.write(f"  {where}: {reason}")
        if failed:
            raise CommandError("Some files were not read (see above).")
