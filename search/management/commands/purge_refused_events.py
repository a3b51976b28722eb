from django.core.management.base import BaseCommand

from search.retention import REFUSED_RETENTION, purge_refused


class Command(BaseCommand):
    help = f"Delete refused events older than {REFUSED_RETENTION.days} days (also a periodic job)."

    def handle(self, *args, **options):
        self.stdout.write(f"Purged {purge_refused()} refused events.")
