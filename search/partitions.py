"""Daily partitions of search_event on PostgreSQL (no-ops on SQLite)."""

import datetime as dt

from django.db import connection, transaction

PARENT = "search_event"
# Serialises partition creation between concurrent ingests (any constant will do).
_LOCK_KEY = 0x5EA4C4_0001
_known = set()


def partition_name(day):
    return f"{PARENT}_p{day:%Y%m%d}"


def ensure_for_days(days):
    """Create the partitions for `days` (dates) that do not exist yet."""
    if connection.vendor != "postgresql":
        return
    missing = sorted(set(days) - _known)
    if not missing:
        return
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        cur.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s", [PARENT])
        existing = {row[0] for row in cur.fetchall()}
        for day in missing:
            name = partition_name(day)
            if name not in existing:
                start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
                # Identifiers come from a date, never from input; bounds are parameters.
                cur.execute(
                    f'CREATE TABLE "{name}" PARTITION OF {PARENT} FOR VALUES FROM (%s) TO (%s)',
                    [start, start + dt.timedelta(days=1)])
        # Remembered once committed: a rolled-back creation must be tried again.
        transaction.on_commit(lambda: _known.update(missing))


def existing_days():
    """The days that have a partition, oldest first."""
    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s", [PARENT])
        names = [row[0] for row in cur.fetchall()]
    return sorted(dt.datetime.strptime(n.rsplit("_p", 1)[1], "%Y%m%d").date() for n in names)


def drop_day(day):
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        cur.execute(f'DROP TABLE IF EXISTS "{partition_name(day)}"')
    _known.discard(day)


def forget():
    """Forget the partitions this process has seen (tests recreate the database)."""
    _known.clear()
