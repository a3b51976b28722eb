from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from inventory.activity import Actor
from inventory.password_links import LINK_HOURS, issue_link


class Command(BaseCommand):
    help = (f"Print a one-time link through which a user sets a new password (valid "
            f"{LINK_HOURS} hours, once). The user's earlier unused links stop working.")

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True)

    def handle(self, *args, user, **options):
        person = get_user_model().objects.filter(username=user).first()
        if person is None:
            raise CommandError(f"No user named {user!r}: create one with grant_role.")
        if not person.is_active:
            raise CommandError(f"{user} is deactivated: a link would not let them sign in.")
        _, url = issue_link(username=person.get_username(), user=person,
                            actor=Actor.of_system("manage.py"))
        self.stdout.write(f"Link for {user} to set a password (works once, for {LINK_HOURS} "
                          f"hours):\n{url}")
