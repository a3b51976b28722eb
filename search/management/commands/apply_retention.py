from django.core.management.base import BaseCommand

from search.retention import apply_retention


class Command(BaseCommand):
    help = "Drop or delete events older than their workspace's retention (from ingestion)."

    def handle(self, *args, **options):
        result = apply_retention()
        self.stdout.write(f"Dropped {result['dropped_days']} whole days; deleted "
                          f"{result['deleted_events']} events in all, and "
                          f"{result['deleted_runs']} searches older than 30 days.")
