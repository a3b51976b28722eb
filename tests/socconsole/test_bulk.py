"""Bulk writes (socconsole.lib.bulk): the fast paths give back what was written."""

from datetime import timedelta

from django.db import connection
from django.utils import timezone

from alerts.models import AlertPayload, Entity, EntityIdentifier
from socconsole.lib.bulk import Encoded, Json, array_literal, bulk_insert
from tests.factories import make_alert

AWKWARD = ['plain', 'quo"te', 'back\\slash', 'com,ma', '{brace}', 'NULL', '', ' spaced ',
           "it's", 'tab\tand\nnewline', 'ünïcode']


def test_it_writes_an_array_literal_the_database_reads_back(db):
    literal = array_literal(AWKWARD)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::text[], %s::bigint[]", [literal, array_literal([1, 2])])
            assert cursor.fetchone() == (AWKWARD, [1, 2])
    else:  # only PostgreSQL reads it; the quoting is still checked
        assert literal.startswith('{"plain","quo\\"te","back\\\\slash","com,ma"')


def test_it_keeps_every_byte_of_a_payload(p):
    alert = make_alert(p.sub)
    AlertPayload.objects.filter(pk=alert.pk).delete()
    body = bytes(range(256)) * 3
    bulk_insert(AlertPayload, ("alert_id", "body"), [(alert.pk, body)], explicit_pk=True)
    assert bytes(AlertPayload.objects.get(pk=alert.pk).body) == body


def test_it_skips_or_updates_conflicting_rows(p):
    now = timezone.now()
    entity = Entity.objects.create(subscription=p.sub, kind="host", label="vm1",
                                   props={"HostName": "vm1"}, first_seen=now, last_seen=now)
    fields = ("subscription_id", "entity_id", "value", "strong", "name_only")
    bulk_insert(EntityIdentifier, fields, [(p.sub.pk, entity.pk, "host|name|vm1", False, False)],
                explicit_pk=True)
    bulk_insert(EntityIdentifier, fields, [(p.sub.pk, entity.pk, "host|name|vm1", False, True),
                                           (p.sub.pk, entity.pk, 'host|name|"x"', False, False)],
                on_conflict=("entity", "value"))
    assert dict(EntityIdentifier.objects.values_list("value", "name_only")) == {
        "host|name|vm1": False, 'host|name|"x"': False}
    bulk_insert(EntityIdentifier, fields, [(p.sub.pk, entity.pk, "host|name|vm1", False, True)],
                on_conflict=("entity", "value"), update=("name_only",))
    assert EntityIdentifier.objects.get(value="host|name|vm1").name_only is True


def test_it_writes_documents_given_as_objects_or_already_serialised(p):
    now = timezone.now()
    ids = bulk_insert(Entity, ("subscription_id", "kind", "label", "props", "first_seen",
                               "last_seen"), [
        (p.sub.pk, "host", "a", {"HostName": "a", "n": 1}, now, now + timedelta(seconds=1)),
        (p.sub.pk, "host", "b", Json('{"HostName": "b", "n": [2]}'), now, now)])
    rows = Entity.objects.in_bulk(ids)
    assert rows[ids[0]].props == {"HostName": "a", "n": 1}
    assert rows[ids[1]].props == {"HostName": "b", "n": [2]}
    assert rows[ids[0]].last_seen == now + timedelta(seconds=1)


def test_it_writes_values_encoded_ahead_as_they_were(p):
    now = timezone.now()
    label = 'tab\there, new\nline, back\\slash \\N \\. "quoted" ünï'
    ids = bulk_insert(Entity, ("subscription_id", "kind", "label", "props", "known",
                               "first_seen", "last_seen"), [
        (p.sub.pk, Encoded(("host", label, Json('{"k": "v\\\\t"}'), False, now,
                            now + timedelta(microseconds=7))))])
    entity = Entity.objects.get(pk=ids[0])
    assert (entity.kind, entity.label, entity.props, entity.known) == \
        ("host", label, {"k": "v\\t"}, False)
    assert (entity.first_seen, entity.last_seen) == (now, now + timedelta(microseconds=7))
