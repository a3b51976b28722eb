from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from inventory.activity import Actor
from inventory.models import Subscription
from inventory.roles import DEFAULT_SCOPES, parse_scopes
from inventory.tokens import TokenError, create_token


class Command(BaseCommand):
    help = "Create an API token and print it once."

    def add_arguments(self, parser):
        parser.add_argument("--subscription", required=True)
        parser.add_argument("--name", required=True, help="A label for the token.")
        parser.add_argument("--user", help="The user the token acts for (else a service token).")
        parser.add_argument("--scopes", default=",".join(DEFAULT_SCOPES),
                            help="Comma-separated: ingest,read,act,admin (default ingest,read).")

    def handle(self, *args, subscription, name, user=None, scopes, **options):
        try:
            sub = Subscription.objects.get(name=subscription)
        except Subscription.DoesNotExist:
            raise CommandError(f"No subscription named {subscription!r}.") from None
        person = None
        if user:
            person = get_user_model().objects.filter(username=user).first()
            if person is None:
                raise CommandError(f"No user named {user!r}.")
        try:
            token, plaintext = create_token(subscription=sub, name=name, user=person,
                                            scopes=parse_scopes(scopes),
                                            actor=Actor.of_system("manage.py"))
        except (TokenError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stderr.write(f"Token {token.name!r} created; it is shown only this once:")
        self.stdout.write(plaintext)
