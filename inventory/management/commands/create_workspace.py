from django.core.management.base import BaseCommand, CommandError

from inventory.activity import Actor
from inventory.models import Subscription
from inventory.subscriptions import InventoryError, create_workspace


class Command(BaseCommand):
    help = "Add a workspace (where raw security events are kept) to a subscription."

    def add_arguments(self, parser):
        parser.add_argument("--subscription", required=True)
        parser.add_argument("--retention-days", type=int, default=90)
        parser.add_argument("workspace", metavar="WORKSPACE")

    def handle(self, *args, subscription, workspace, retention_days, **options):
        try:
            sub = Subscription.objects.get(name=subscription)
        except Subscription.DoesNotExist:
            raise CommandError(f"No subscription named {subscription!r}.") from None
        try:
            created = create_workspace(subscription=sub, name=workspace,
                                       retention_days=retention_days,
                                       actor=Actor.of_system("manage.py"))
        except InventoryError as exc:
            raise CommandError(str(exc)) from exc
        default = " (default)" if created.is_default else ""
        self.stdout.write(f"Created workspace {created.name}{default} in {sub.name}: "
                          f"id {created.workspace_id}, retention {created.retention_days} days.")
