from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from inventory.activity import Actor
from inventory.models import Subscription
from inventory.password_links import LINK_HOURS, issue_link
from inventory.people import grant_role, remove_member
from inventory.roles import Role
from inventory.subscriptions import InventoryError


class Command(BaseCommand):
    help = ("Give a user a role in a subscription, or take it away with --remove. A new user "
            "is created without a password, and the command prints a one-time link through "
            "which they set one.")

    def add_arguments(self, parser):
        parser.add_argument("--subscription", required=True)
        parser.add_argument("--user", required=True)
        parser.add_argument("--role", choices=[r.value for r in Role])
        parser.add_argument("--remove", action="store_true",
                            help="Remove the user from the subscription instead.")
        parser.add_argument("--reason", default="")

    def handle(self, *args, subscription, user, role, remove, reason, **options):
        if bool(role) == remove:
            raise CommandError("Give either --role ROLE or --remove.")
        try:
            sub = Subscription.objects.get(name=subscription)
        except Subscription.DoesNotExist:
            raise CommandError(f"No subscription named {subscription!r}.") from None
        actor = Actor.of_system("manage.py")
        if remove:
            return self._remove(sub, user, actor, reason)
        url = None
        with transaction.atomic():
            person, created = get_user_model().objects.get_or_create(username=user)
            if created:
                person.set_unusable_password()
                person.save(update_fields=["password"])
            try:
                grant_role(subscription=sub, user=person, role=role, actor=actor, reason=reason)
            except InventoryError as exc:
                raise CommandError(str(exc)) from exc
            if created or not person.has_usable_password():
                # Nothing else tells the new user how to sign in.
                _, url = issue_link(username=user, user=person, subscription=sub, actor=actor)
        self.stdout.write(f"{user} is {role} in {sub.name}.")
        if url:
            self.stdout.write(f"{user} has no password yet. Give them this link to set one "
                              f"(it works once, for {LINK_HOURS} hours):\n{url}")

    def _remove(self, sub, user, actor, reason):
        person = get_user_model().objects.filter(username=user).first()
        try:
            removed = person is not None and remove_member(
                subscription=sub, user=person, actor=actor, reason=reason)
        except InventoryError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{user} removed from {sub.name}." if removed else
                          f"{user} was not a member of {sub.name}.")
