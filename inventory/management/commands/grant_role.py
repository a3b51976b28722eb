from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from inventory.activity import Actor
from inventory.models import Subscription
from inventory.people import grant_role
from inventory.roles import Role
from inventory.subscriptions import InventoryError


class Command(BaseCommand):
    help = ("Give a user a role in a subscription (creating the user, without a password: "
            "set one with changepassword before they sign in).")

    def add_arguments(self, parser):
        parser.add_argument("--subscription", required=True)
        parser.add_argument("--user", required=True)
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])

    def handle(self, *args, subscription, user, role, **options):
        try:
            sub = Subscription.objects.get(name=subscription)
        except Subscription.DoesNotExist:
            raise CommandError(f"No subscription named {subscription!r}.") from None
        with transaction.atomic():
            person, created = get_user_model().objects.get_or_create(username=user)
            if created:
                person.set_unusable_password()
                person.save(update_fields=["password"])
            try:
                grant_role(subscription=sub, user=person, role=role,
                           actor=Actor.of_system("manage.py"))
            except InventoryError as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(f"{user} is {role} in {sub.name}.")
        if created or not person.has_usable_password():
            # Nothing else tells the new user how to sign in.
            self.stdout.write(f"{user} is a new user with no password yet, and cannot sign in "
                              f"until one is set: python manage.py changepassword {user}")
