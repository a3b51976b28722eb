from functools import partial

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from inventory import plans
from inventory.activity import Actor
from inventory.collection import set_auto_provisioning
from inventory.models import Subscription
from inventory.roles import Role
from inventory.subscriptions import InventoryError

# Each setting: its option, its attribute, and the domain function that changes it.
SETTINGS = [
    ("--defender-plan", "defender_plan", plans.set_defender_plan),
    # The command is the operator's own: it acts with an admin's rights.
    ("--auto-provisioning", "auto_provisioning", partial(set_auto_provisioning, role=Role.ADMIN)),
]


class Command(BaseCommand):
    help = ("Show a subscription's settings, or change them with a reason: "
            "--defender-plan on|off --auto-provisioning on|off --reason \"...\". "
            "Each change is in the activity log.")

    def add_arguments(self, parser):
        parser.add_argument("--subscription", required=True)
        for option, _, _ in SETTINGS:
            parser.add_argument(option, choices=["on", "off"])
        parser.add_argument("--reason", default="")

    def handle(self, *args, subscription, reason, **options):
        try:
            sub = Subscription.objects.get(name=subscription)
        except Subscription.DoesNotExist:
            raise CommandError(f"No subscription named {subscription!r}.") from None
        wanted = [(attr, options[attr], change) for _, attr, change in SETTINGS
                  if options[attr] is not None]
        actor = Actor.of_system("manage.py")
        try:
            with transaction.atomic():  # all the changes asked for, or none
                for attr, value, change in wanted:
                    changed = change(sub, on=value == "on", actor=actor, reason=reason)
                    name = attr.replace("_", " ")
                    self.stdout.write(f"{sub.name}: {name} {'turned' if changed else 'was already'}"
                                      f" {value}.")
        except (InventoryError, PermissionDenied) as exc:
            raise CommandError(str(exc)) from exc
        for _, attr, _ in SETTINGS:
            self.stdout.write(f"{attr.replace('_', ' ')}: {plans.word(getattr(sub, attr))}")
