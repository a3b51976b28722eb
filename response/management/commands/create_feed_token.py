from django.core.management.base import BaseCommand, CommandError

from inventory.activity import Actor
from inventory.models import Subscription
from response.feeds import FeedTokenError, create_feed_token, feed_url


class Command(BaseCommand):
    help = ("Create a feed token for a subscription's blocklist and print the URL a firewall "
            "polls (shown only this once).")

    def add_arguments(self, parser):
        parser.add_argument("--subscription", required=True, help="the subscription's name")
        parser.add_argument("--name", default="firewall",
                            help="the firewall that reads it (default: firewall)")

    def handle(self, *args, subscription, name, **options):
        sub = Subscription.objects.filter(name=subscription).first()
        if sub is None:
            raise CommandError(f"No subscription named {subscription!r}.")
        try:
            token, plaintext = create_feed_token(subscription=sub, name=name,
                                                 actor=Actor.of_system("create_feed_token"))
        except FeedTokenError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Feed token {token.name!r} created for {sub.name}; its URL is shown "
                          "only this once:")
        self.stdout.write(feed_url(plaintext))
