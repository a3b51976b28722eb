import os

from django.core.management.base import BaseCommand
from django.utils import timezone

from alerts.demo import clear_demo_alerts, demo_alerts_fresh, seed_alerts
from incidents.demo import clear_demo_incidents, seed_triage
from inventory.demo import DEMO_USERS, DEVELOPMENT, PRODUCTION, seed_estate
from search.demo import has_demo_events, seed_events


def refresh_demo_alerts(subscriptions, now=None, force=False):
    """The demo alerts anew, unless fresh ones are there (None); returns the reports.
    The reset spans two apps, so it is made here, above both: the incidents built from
    the stale alerts go first, then the alerts."""
    now = now or timezone.now()
    if not force and demo_alerts_fresh(subscriptions, now):
        return None
    for sub in (subscriptions[PRODUCTION], subscriptions[DEVELOPMENT]):
        clear_demo_incidents(sub)
        clear_demo_alerts(sub)
    return seed_alerts(subscriptions, now)


def _total(reports):
    accepted, duplicates, rejected = (sum(getattr(r, n) for r in reports)
                                      for n in ("accepted", "duplicates", "rejected"))
    return (f"{accepted} accepted, {duplicates} duplicates, {rejected} rejected "
            f"in {len(reports)} deliveries")


class Command(BaseCommand):
    help = ("Load the demo: a Contoso-like estate, its people and a fresh attack told in "
            "Defender alerts and the security events behind it. Safe to run again; alerts "
            "and events older than 12 hours are replaced.")

    def add_arguments(self, parser):
        parser.add_argument("--refresh", action="store_true",
                            help="Replace the demo alerts even if they are fresh.")

    def handle(self, *args, refresh=False, **options):
        subs = seed_estate()
        reports = refresh_demo_alerts(subs, force=refresh)
        if reports is not None:
            seed_triage(subs)
        names = ", ".join(s.name for s in subs.values())
        # The events are told with the same clock as the alerts they explain.
        events = seed_events(subs[PRODUCTION]) if reports is not None or \
            not has_demo_events(subs[PRODUCTION]) else None
        if reports is None and events is None:
            self.stdout.write(f"Demo ready: {names} (alerts and events already fresh).")
        else:
            self.stdout.write(
                f"Demo ready: {names}; alerts: "
                + (_total(reports) if reports else "already fresh")
                + "; events: " + "; ".join(r.summary() for r in events or []) + ".")
        self.stdout.write("")
        self.stdout.write("Demo users (local demo only):")
        for username, password, role in DEMO_USERS:
            self.stdout.write(f"  {role:<11} user {username:<8} password {password}")
        self.stdout.write("")
        port = os.environ.get("PORT", "8000")
        self.stdout.write(f"Open http://127.0.0.1:{port}/ and sign in.")
