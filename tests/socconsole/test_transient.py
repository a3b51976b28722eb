"""Which database errors are tried again: the connection's, never the data's."""

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from alerts.models import Alert
from socconsole.lib.transient import StorageUnavailable, is_transient, retry_transient


def error_of(sql):
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    except DatabaseError as exc:
        return exc
    raise AssertionError(f"{sql} did not fail")


def test_an_error_the_statement_causes_is_not_transient(db):
    assert not is_transient(error_of("SELECT * FROM no_such_table"))
    assert not is_transient(error_of("SELECT 1 +"))
    assert not is_transient(IntegrityError("duplicate key"))
    assert not is_transient(ValueError("not a database error"))


def test_it_does_not_retry_what_is_not_transient(db):
    calls = []

    def work():
        calls.append(1)
        Alert.objects.create()  # no subscription: the database refuses it

    with pytest.raises(IntegrityError):
        retry_transient(work)
    assert len(calls) == 1


@pytest.mark.django_db(transaction=True)
def test_a_lost_connection_is_transient_and_tried_again():
    from tests.faults import database_fault

    calls = []

    def work():
        calls.append(1)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(1, 2)" if connection.vendor ==
                           "postgresql" else "SELECT 1")
        return "done"

    with database_fault(times=1).active():
        assert retry_transient(work) == "done"
    assert len(calls) == 2
    with database_fault(times=99).active(), pytest.raises(StorageUnavailable):
        retry_transient(work)
