from django.core.management.base import BaseCommand

from alerts.rejected import RETENTION, purge_rejected


class Command(BaseCommand):
    help = f"Delete rejected items older than {RETENTION.days} days (also a periodic job)."

    def handle(self, *args, **options):
        self.stdout.write(f"Purged {purge_rejected()} rejected items.")
