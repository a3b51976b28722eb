from django.core.management.base import BaseCommand, CommandError

from inventory.activity import Actor
from inventory.subscriptions import InventoryError, create_subscription


class Command(BaseCommand):
    help = "Create a subscription with its default workspace."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--external-id", help="The cloud subscription GUID.")

    def handle(self, *args, name, external_id=None, **options):
        try:
            subscription = create_subscription(name=name, external_id=external_id,
                                               actor=Actor.of_system("manage.py"))
        except InventoryError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Created subscription {subscription.name} (id {subscription.pk}).")
