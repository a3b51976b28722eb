"""The activity log: who changed what, when and why. Append-only."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from inventory.models import Activity, ApiToken
from socconsole.lib.paging import Page, keyset_page


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a user, a token (and its user, if any), or the system."""

    user: object = None
    token: ApiToken | None = None
    system: str = ""

    @classmethod
    def of_user(cls, user):
        return cls(user=user)

    @classmethod
    def of_token(cls, token):
        return cls(user=token.user, token=token)

    @classmethod
    def of_system(cls, name="system"):
        return cls(system=name)

    @property
    def kind(self):
        if self.token is not None:
            return Activity.ActorKind.TOKEN
        if self.user is not None:
            return Activity.ActorKind.USER
        return Activity.ActorKind.SYSTEM

    @property
    def label(self):
        if self.token is not None:
            owner = self.token.user.get_username() if self.token.user else "service"
            return f"token {self.token.name} ({owner})"
        if self.user is not None:
            return self.user.get_username()
        return self.system or "system"


def record(*, actor, verb, target_type, target_id="", target_label="", subscription=None,
           subscription_id=None, reason="", before=None, after=None):
    """Write one activity row. Must run inside the transaction of the change it records."""
    _check_atomic()
    row = _row(actor=actor, verb=verb, target_type=target_type, target_id=target_id,
               target_label=target_label, subscription=subscription,
               subscription_id=subscription_id, reason=reason, before=before, after=after)
    row.save(force_insert=True)
    return row


def record_many(entries):
    """Write several rows in one statement; `entries` are `record`'s keyword arguments."""
    _check_atomic()
    Activity.objects.bulk_create([_row(**entry) for entry in entries], batch_size=500)


def _check_atomic():
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("activity.record must be called inside the change's transaction")


def _row(*, actor, verb, target_type, target_id="", target_label="", subscription=None,
         subscription_id=None, reason="", before=None, after=None):
    return Activity(
        subscription_id=subscription.pk if subscription is not None else subscription_id,
        actor_kind=actor.kind,
        actor_user=actor.user,
        actor_token=actor.token,
        actor_label=actor.label[:200],
        verb=verb,
        target_type=target_type,
        target_id=str(target_id),
        target_label=str(target_label)[:300],
        reason=reason or "",
        before=before,
        after=after,
    )


# Columns whose values present in a subscription the activity page offers as choices.
PRESENT_COLUMNS = {"verb": "verb", "target_type": "target_type", "actor_label": "actor_label"}
MAX_CHOICES = 300
ORDER = ("-created_at", "-id")


@dataclass(frozen=True, slots=True)
class ActivityFilter:
    """What the activity page, its CSV and GET /api/v1/activity filter on (all optional).

    `verb` ending in "." is a prefix ("alert." is every alert action); `since` is
    inclusive, `until` exclusive, both aware datetimes.
    """

    actor: str = ""
    verb: str = ""
    target_type: str = ""
    since: datetime | None = None
    until: datetime | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.actor or self.verb or self.target_type or self.since or self.until)


def present(subscription_id: int, column: str, limit: int = MAX_CHOICES) -> list[str]:
    """The distinct values of `column` in a subscription's log, sorted.

    On PostgreSQL a recursive query skips from one value to the next along the index
    (subscription, column, …): a few hundred index probes, not a scan of a million rows.
    """
    name = PRESENT_COLUMNS[column]
    if connection.vendor != "postgresql":
        return list(Activity.objects.filter(subscription_id=subscription_id)
                    .order_by(name).values_list(name, flat=True).distinct()[:limit])
    table = Activity._meta.db_table
    # The names come from PRESENT_COLUMNS, never from the request.
    sql = (f"WITH RECURSIVE v(x) AS ("  # noqa: S608
           f" (SELECT {name} FROM {table} WHERE subscription_id = %s ORDER BY {name} LIMIT 1)"
           f" UNION ALL SELECT (SELECT {name} FROM {table} WHERE subscription_id = %s"
           f" AND {name} > v.x ORDER BY {name} LIMIT 1) FROM v WHERE v.x IS NOT NULL"
           f") SELECT x FROM v WHERE x IS NOT NULL LIMIT %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [subscription_id, subscription_id, limit])
        return [row[0] for row in cursor.fetchall()]


def filtered(subscription_id: int, f: ActivityFilter) -> QuerySet:
    """The subscription's entries that `f` selects (unordered)."""
    rows = Activity.objects.filter(subscription_id=subscription_id)
    if f.actor:
        rows = rows.filter(actor_label=f.actor)
    if f.verb.endswith("."):
        # A prefix becomes the list of the verbs present that have it: `LIKE 'alert.%'`
        # cannot use a b-tree index under a non-C collation, an IN list can.
        verbs = [v for v in present(subscription_id, "verb", limit=10_000)
                 if v.startswith(f.verb)]
        rows = rows.filter(verb__in=verbs)
    elif f.verb:
        rows = rows.filter(verb=f.verb)
    if f.target_type:
        rows = rows.filter(target_type=f.target_type)
    if f.since is not None:
        rows = rows.filter(created_at__gte=f.since)
    if f.until is not None:
        rows = rows.filter(created_at__lt=f.until)
    return rows


def activity_page(subscription_id: int, f: ActivityFilter, cursor: str | None = None,
                  size: int = 50) -> Page:
    """One page of the filtered log, newest first; a bad cursor raises BadCursor."""
    return keyset_page(filtered(subscription_id, f), ORDER, cursor, size=size)


def iter_filtered(subscription_id: int, f: ActivityFilter, columns: tuple[str, ...],
                  batch: int = 2000):
    """Every filtered entry as a tuple of `columns` (JSON ones as text), newest first,
    fetched a keyset page at a time: an export of a million rows holds one batch in
    memory and keeps no transaction open between batches. (Tuples: a model instance
    each costs more than the rest of a CSV line.)"""
    # JSON columns come as their text: decoding a document only to encode it again was a
    # third of an export's time.
    json_columns = {c: Cast(c, TextField()) for c in columns if c in ("before", "after")}
    rows = filtered(subscription_id, f).annotate(
        **{f"{c}_text": expression for c, expression in json_columns.items()}).values_list(
        "created_at", "id", *(f"{c}_text" if c in json_columns else c for c in columns))
    cursor = None
    while True:
        page = keyset_page(rows, ORDER, cursor, size=batch, key=lambda row: row[:2])
        for row in page.items:
            yield row[2:]
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
