import pytest
from django.db import DatabaseError, connection, transaction

from inventory import activity
from inventory.models import Activity, AppendOnlyError
from tests.conftest import SYSTEM


def test_membership_changes_are_logged(p):
    verbs = list(Activity.objects.filter(subscription=p.sub, target_type="user")
                 .values_list("verb", "target_label", "after"))
    assert ("membership.grant", "analyst", {"role": "analyst"}) in verbs
    assert ("membership.grant", "lead", {"role": "shift_lead"}) in verbs


def test_it_must_be_written_inside_the_change_s_transaction(transactional_db):
    with pytest.raises(RuntimeError, match="inside the change"):
        activity.record(actor=SYSTEM, verb="x.y", target_type="t")


@pytest.mark.django_db(transaction=True)
def test_the_log_refuses_updates_and_deletes(p):
    row = Activity.objects.first()
    with pytest.raises(AppendOnlyError):
        Activity.objects.filter(pk=row.pk).update(verb="forged")
    with pytest.raises(AppendOnlyError):
        row.delete()
    row.verb = "forged"
    with pytest.raises(AppendOnlyError):
        row.save()
    if connection.vendor == "postgresql":
        # Below the ORM, the trigger refuses raw SQL as well.
        for sql in (f"UPDATE inventory_activity SET verb = 'forged' WHERE id = {row.pk}",
                    f"DELETE FROM inventory_activity WHERE id = {row.pk}"):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(sql)
    row.refresh_from_db()
    assert row.verb != "forged"


@pytest.mark.django_db(transaction=True)
def test_the_log_refuses_truncate(p):
    count = Activity.objects.count()
    assert count > 0
    with pytest.raises(AppendOnlyError):
        Activity.objects.all().delete()
    if connection.vendor == "postgresql":
        # A statement trigger: row triggers do not fire for TRUNCATE.
        for sql in ("TRUNCATE inventory_activity", "TRUNCATE inventory_activity CASCADE",
                    "TRUNCATE inventory_loginfailure, inventory_activity RESTART IDENTITY"):
            with pytest.raises(DatabaseError, match=r"append-only \(TRUNCATE refused\)"), \
                    transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
    assert Activity.objects.count() == count
