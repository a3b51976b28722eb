from django.core.management.base import BaseCommand

from inventory.demo import DEMO_USERS, seed_estate


class Command(BaseCommand):
    help = "Load the demo estate (subscriptions, resources, people). Safe to run again."

    def handle(self, *args, **options):
        subs = seed_estate()
        self.stdout.write(f"Demo estate ready: {', '.join(s.name for s in subs.values())}.")
        self.stdout.write("")
        self.stdout.write("Demo users (local demo only):")
        for username, password, role in DEMO_USERS:
            self.stdout.write(f"  {role:<11} user {username:<8} password {password}")
        self.stdout.write("")
        self.stdout.write("Open http://127.0.0.1:8000/ and sign in.")
