from django.core.management.base import BaseCommand, CommandError

from inventory.models import Workspace
from search.engine import EngineUnavailable
from search.engine_migration import MigrationError, format_checks, migrate_events


class Command(BaseCommand):
    help = ("Copy the events stored in the database (search_event) into the events engine, "
            "resumably, verify the counts per workspace and day, and with --drop-source "
            "delete the source rows of the days that verified.")

    def add_arguments(self, parser):
        parser.add_argument("--subscription", help="Only this subscription's workspaces.")
        parser.add_argument("--workspace", help="Only the workspaces of this name.")
        parser.add_argument("--batch", type=int, default=10_000,
                            help="Rows per insert (default 10000).")
        parser.add_argument("--max-batches", type=int,
                            help="Stop after this many batches; run again to continue.")
        parser.add_argument("--dry-run", action="store_true",
                            help="Print what would be copied; change nothing.")
        parser.add_argument("--drop-source", action="store_true",
                            help="Delete the source rows of the days whose counts match.")

    def handle(self, *args, subscription=None, workspace=None, batch, max_batches=None,
               dry_run=False, drop_source=False, **options):
        spaces = Workspace.objects.select_related("subscription").order_by(
            "subscription__name", "name")
        if subscription:
            spaces = spaces.filter(subscription__name=subscription)
        if workspace:
            spaces = spaces.filter(name=workspace)
        spaces = list(spaces)
        if not spaces:
            raise CommandError("No workspace matches --subscription and --workspace.")
        try:
            outcome = migrate_events(spaces, batch=batch, max_batches=max_batches,
                                     dry_run=dry_run, drop_source=drop_source,
                                     report=self.stdout.write)
        except MigrationError as exc:
            raise CommandError(str(exc)) from None
        except EngineUnavailable as exc:
            raise CommandError(f"{exc} What was copied is kept: run the command again to "
                               "continue.") from None
        except KeyboardInterrupt:
            raise CommandError("Interrupted; what was copied is kept: run the command again "
                               "to continue.", returncode=130) from None
        for day, rows in outcome.left:
            self.stderr.write(f"{day.label}: {rows:,} rows reached the source after its copy "
                              "was dropped; they are left there.")
        if dry_run:
            self._plan(outcome.days)
            return
        self.stdout.write(f"Copied {outcome.copied:,} rows in {outcome.batches:,} batches; "
                          f"{sum(c.matches for c in outcome.checks):,} of "
                          f"{len(outcome.days):,} days verified.")
        if outcome.stopped:
            self.stdout.write(f"Stopped after {outcome.batches:,} batches: run again to "
                              "continue.")
        if drop_source and not outcome.mismatches:
            self.stdout.write(f"Deleted {outcome.dropped:,} source rows.")
        if outcome.mismatches:
            self.stderr.write(format_checks(outcome.checks))
            kept = " Nothing was dropped." if drop_source else ""
            raise CommandError(f"{len(outcome.mismatches)} days differ between the database "
                               f"and the engine; they are copied again on the next run.{kept}")

    def _plan(self, days):
        pending = [d for d in days if d.record.state != d.record.State.COPIED]
        for day in pending:
            done = f" ({day.record.copied:,} copied so far)" if day.record.copied else ""
            self.stdout.write(f"{day.label}: {day.rows:,} rows{done}")
        self.stdout.write(f"Would copy {len(pending):,} days, "
                          f"{sum(d.rows - d.record.copied for d in pending):,} rows; "
                          f"{len(days) - len(pending):,} days are copied already.")
