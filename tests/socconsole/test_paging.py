"""Keyset pages: the next page starts strictly after the cursor, and an index can seek to it."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.models import Activity
from socconsole.lib.paging import keyset_page
from tests.inventory.conftest import T0, log_at


def test_it_walks_equal_first_keys_by_the_last(p):
    rows = [log_at(p.sub, T0, target_id=str(i)) for i in range(7)]
    queryset = Activity.objects.filter(subscription=p.sub, created_at=T0)
    seen, cursor = [], None
    while True:
        page = keyset_page(queryset, ("-created_at", "-id"), cursor, size=3)
        seen += [a.pk for a in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted((r.pk for r in rows), reverse=True)


def test_the_next_page_bounds_its_first_field_alone(p):
    # Under the OR of (t < x) OR (t = x AND id < y) PostgreSQL scans the index from the
    # start of the range; the plain bound t <= x is what lets it seek to the cursor.
    for i in range(3):
        log_at(p.sub, T0, target_id=str(i))
    queryset = Activity.objects.filter(subscription=p.sub)
    first = keyset_page(queryset, ("-created_at", "-id"), size=1)
    with CaptureQueriesContext(connection) as ctx:
        keyset_page(queryset, ("-created_at", "-id"), first.next_cursor, size=1)
    where = ctx.captured_queries[0]["sql"].split("WHERE", 1)[1].split("ORDER BY")[0]
    assert '"created_at" <= ' in where and " OR " in where
