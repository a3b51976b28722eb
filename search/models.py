from django.conf import settings
from django.db import models

from inventory.models import ApiToken, Resource, Subscription, Workspace


class Event(models.Model):
    """One security event of a workspace's table, as installs stored them in the database
    before events moved to the events engine (search.engine).

    Nothing writes here any more: the table is the source that `manage.py
    migrate_events_to_clickhouse` reads and, with --drop-source, deletes once a day's
    copy verified. On PostgreSQL it is partitioned by day of `time_generated` (migration
    0002) and its primary key is (id, time_generated); foreign keys are not enforced.
    """

    id = models.BigAutoField(primary_key=True)
    subscription = models.ForeignKey(Subscription, on_delete=models.DO_NOTHING,
                                     db_constraint=False, db_index=False, related_name="+")
    workspace = models.ForeignKey(Workspace, on_delete=models.DO_NOTHING,
                                  db_constraint=False, db_index=False, related_name="+")
    table_name = models.CharField(max_length=128)
    time_generated = models.DateTimeField()
    ingested_at = models.DateTimeField()
    # The hot columns (search/schema.py): typed, indexed where the benchmark says so.
    computer = models.CharField(max_length=255, blank=True, default="")
    event_id = models.IntegerField(null=True, blank=True)
    account = models.CharField(max_length=255, blank=True, default="")
    ip_address = models.CharField(max_length=64, blank=True, default="")
    resource = models.ForeignKey(Resource, on_delete=models.DO_NOTHING, db_constraint=False,
                                 db_index=False, null=True, blank=True, related_name="+")
    # Every other field, under its Kusto column name.
    fields = models.JSONField(default=dict)

    class Meta:
        indexes = [
            models.Index(fields=["workspace", "table_name", "time_generated"],
                         name="event_ws_table_time"),
            models.Index(fields=["workspace", "table_name", "event_id", "time_generated"],
                         name="event_ws_table_eventid"),
            # The analyst's pivots: everything an account, an address or a host did. Each
            # costs ingestion about a sixth and turns its lookup from a scan of the time
            # range into an index probe (docs/benchmarks.md, "Search").
            models.Index(fields=["workspace", "table_name", "account", "time_generated"],
                         name="event_ws_table_account"),
            models.Index(fields=["workspace", "table_name", "ip_address", "time_generated"],
                         name="event_ws_table_ip"),
            models.Index(fields=["workspace", "table_name", "computer", "time_generated"],
                         name="event_ws_table_computer"),
        ]


class TableColumn(models.Model):
    """The column catalog: the columns a workspace's table has beyond the seeded ones."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    table_name = models.CharField(max_length=128)
    name = models.CharField(max_length=128)
    kusto_type = models.CharField(max_length=16)
    first_seen = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "table_name", "name"],
                                    name="tablecolumn_unique"),
        ]


class EventDay(models.Model):
    """What each day of events holds, kept up to date by ingestion.

    The database's account of the engine's events per workspace, table and day: the
    dashboard reads it, retention forgets the days it left empty.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    table_name = models.CharField(max_length=128)
    day = models.DateField()
    events = models.BigIntegerField(default=0)
    first_ingested_at = models.DateTimeField()
    last_ingested_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "table_name", "day"],
                                    name="eventday_unique"),
        ]


class QueryRun(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="+")
    token = models.ForeignKey(ApiToken, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    query = models.TextField()
    time_from = models.DateTimeField(null=True, blank=True)
    time_to = models.DateTimeField(null=True, blank=True)
    time_label = models.CharField(max_length=40, blank=True, default="")
    state = models.CharField(max_length=12, choices=State.choices, default=State.QUEUED)
    # {"message", "line", "column", "token"} when the query was refused or failed.
    error = models.JSONField(null=True, blank=True)
    columns = models.JSONField(default=list, blank=True)
    rows = models.JSONField(default=list, blank=True)
    row_count = models.IntegerField(default=0)
    truncated = models.BooleanField(default=False)
    elapsed_ms = models.FloatField(null=True, blank=True)
    # The database session running it, so that a cancel can interrupt the statement.
    backend_pid = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="queryrun_user_recent")]

    def shown(self):
        """(columns, rows, hidden) for the page: columns empty in every row are left out
        (a bare `SecurityEvent | take 10` has some 230), the downloads keep them all."""
        keep = [i for i in range(len(self.columns))
                if any(row[i] not in ("", None) for row in self.rows)] if self.rows \
            else list(range(len(self.columns)))
        return ([self.columns[i] for i in keep], [[row[i] for i in keep] for row in self.rows],
                len(self.columns) - len(keep))

    @property
    def error_excerpt(self):
        """(the query's line the error is on, spaces up to its column) for a caret."""
        error = self.error or {}
        line, column = error.get("line"), error.get("column")
        lines = self.query.splitlines()
        if not isinstance(line, int) or not isinstance(column, int) or \
                not 1 <= line <= len(lines):
            return None
        text = lines[line - 1]
        return text, " " * max(0, min(column - 1, len(text)))

    @property
    def finished(self):
        return self.state in (self.State.DONE, self.State.FAILED, self.State.CANCELLED)


class RejectedEvent(models.Model):
    """An event refused at ingestion, kept as sent with its reason for an admin to inspect
    (DESIGN.md, "Nothing is lost")."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    table_name = models.CharField(max_length=128)
    source = models.CharField(max_length=16, default="api")  # api | command
    index = models.PositiveIntegerField()
    body = models.BinaryField()
    computer = models.CharField(max_length=255, blank=True, default="")
    resource = models.ForeignKey(Resource, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+", db_index=False)
    code = models.CharField(max_length=64)
    message = models.TextField()
    field = models.TextField(blank=True, default="")
    received_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["subscription", "-received_at", "-id"],
                         name="rejectedevent_sub_time"),
            models.Index(fields=["resource", "-received_at"], name="rejectedevent_resource"),
        ]

    def __str__(self):
        return f"{self.code} at {self.received_at:%Y-%m-%d %H:%M}"


class EventMigration(models.Model):
    """How far moving one workspace's day of events from `search_event` into the events
    engine has got (search.engine_migration)."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        COPYING = "copying", "Copying"
        COPIED = "copied", "Copied"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    # The last source id copied and how many rows that makes, saved after each batch.
    last_id = models.BigIntegerField(default=0)
    copied = models.BigIntegerField(default=0)
    # What the last verification counted, and when it found both sides equal.
    source_rows = models.BigIntegerField(null=True, blank=True)
    engine_rows = models.BigIntegerField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    source_dropped_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "day"], name="eventmigration_unique"),
        ]
