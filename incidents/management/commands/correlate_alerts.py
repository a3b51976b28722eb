from django.core.management.base import BaseCommand, CommandError

from incidents.correlation import drain
from inventory.models import Subscription


class Command(BaseCommand):
    help = "Correlate the alerts awaiting correlation into incidents (also a periodic job)."

    def add_arguments(self, parser):
        parser.add_argument("--subscription", help="Only this subscription (by name).")

    def handle(self, *args, subscription=None, **options):
        sub_id = None
        if subscription:
            sub = Subscription.objects.filter(name=subscription).first()
            if sub is None:
                raise CommandError(f"No subscription named {subscription!r}.")
            sub_id = sub.pk
        total = drain(subscription_id=sub_id)
        self.stdout.write(f"Correlated {total} alerts.")
