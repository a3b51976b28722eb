"""Automatic provisioning and each resource's data collection, and their effect on
ingestion of events and alerts (inventory/collection.py, search/ingest/store.py)."""

import json
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from alerts.models import Alert
from inventory.activity import Actor
from inventory.collection import CollectionError, set_auto_provisioning, set_collection
from inventory.models import Activity, Resource
from inventory.roles import Role, Scope
from search.models import RejectedEvent
from socconsole.lib.bulk import bulk_insert
from tests.conftest import make_token
from tests.factories import native_alert
from tests.search.factories import default_workspace, ingest, stored_events

TIME = "2026-11-28T10:00:00Z"


@pytest.fixture
def ws(p):
    return default_workspace(p.sub)


def switch_off(p, reason="Onboarding by hand from now on"):
    return set_auto_provisioning(p.sub, on=False, actor=Actor.of_user(p.admin), reason=reason,
                                 role=Role.ADMIN)


def events_for(*computers):
    return [{"TimeGenerated": TIME, "EventID": 4625, "Computer": c} for c in computers]


def test_it_turns_provisioning_off_with_an_audit_row(p):
    assert switch_off(p) is True
    p.sub.refresh_from_db()
    assert p.sub.auto_provisioning is False and p.sub.auto_provisioning_by == p.admin
    assert p.sub.auto_provisioning_since is not None
    row = Activity.objects.get(verb="subscription.auto_provisioning")
    assert (row.actor_user, row.subscription_id, row.reason) == (
        p.admin, p.sub.pk, "Onboarding by hand from now on")
    assert row.before == {"auto_provisioning": "on"}
    assert row.after == {"auto_provisioning": "off", "still_collecting": 0}


def test_it_is_idempotent(p):
    switch_off(p)
    assert switch_off(p) is False
    assert Activity.objects.filter(verb="subscription.auto_provisioning").count() == 1


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_it_needs_a_reason(p, reason):
    with pytest.raises(CollectionError):
        switch_off(p, reason=reason)
    p.sub.refresh_from_db()
    assert p.sub.auto_provisioning is True
    assert not Activity.objects.filter(verb="subscription.auto_provisioning").exists()


@pytest.mark.parametrize("role", [Role.ANALYST, Role.SHIFT_LEAD, None])
def test_only_an_admin_may_switch_it(p, role):
    with pytest.raises(PermissionDenied):
        set_auto_provisioning(p.sub, on=False, actor=Actor.of_user(p.lead), reason="x",
                              role=role)
    with pytest.raises(PermissionDenied):
        set_collection(Resource.objects.create(subscription=p.sub, name="vm"), on=False,
                       actor=Actor.of_user(p.lead), reason="x", role=role)


def test_with_provisioning_on_a_new_vm_collects_automatically(p, ws):
    report = ingest(ws, "SecurityEvent", events_for("vm-new-01"))
    assert report.accepted == 1
    vm = Resource.objects.get(subscription=p.sub, name="vm-new-01")
    assert (vm.collecting, vm.collection_by, vm.kind) == (True, "automatic", "virtual_machine")
    assert vm.last_event_at is not None
    [event] = stored_events(ws)
    assert event["resource_id"] == vm.pk


def test_with_provisioning_off_a_new_vms_events_are_refused_and_kept(p, ws):
    existing = Resource.objects.create(subscription=p.sub, name="vm-old-01",
                                       kind="virtual_machine")
    switch_off(p)
    report = ingest(ws, "SecurityEvent", events_for("vm-old-01", "VM-New-02", "vm-new-02"))
    assert [r.status for r in report.results] == ["created", "rejected", "rejected"]
    error = report.results[1].error
    assert error["code"] == "collection_off" and error["field"] == "Computer"
    assert "VM-New-02" in error["message"] and "turn collection on" in error["message"]
    new = Resource.objects.get(subscription=p.sub, name__iexact="vm-new-02")
    assert (new.collecting, new.collection_by) == (False, "automatic")
    assert Resource.objects.filter(subscription=p.sub, name__iexact="vm-new-02").count() == 1
    # The existing resource keeps collecting: provisioning decides only for new ones.
    existing.refresh_from_db()
    assert existing.collecting is True
    assert [e["computer"] for e in stored_events(ws)] == ["vm-old-01"]
    kept = list(RejectedEvent.objects.order_by("index"))
    assert [(k.index, k.code, k.resource_id, k.computer) for k in kept] == [
        (1, "collection_off", new.pk, "VM-New-02"), (2, "collection_off", new.pk, "vm-new-02")]
    assert json.loads(bytes(kept[0].body))["Computer"] == "VM-New-02"


def test_collection_stays_on_existing_resources_when_provisioning_goes_off(p, ws):
    ingest(ws, "SecurityEvent", events_for("vm-a", "vm-b"))
    switch_off(p)
    assert Activity.objects.get(verb="subscription.auto_provisioning").after[
        "still_collecting"] == 2
    report = ingest(ws, "SecurityEvent", events_for("vm-a", "vm-b"))
    assert report.accepted == 2
    assert set(Resource.objects.filter(subscription=p.sub).values_list(
        "name", "collecting")) == {("vm-a", True), ("vm-b", True)}


def test_turning_it_back_on_provisions_again_but_not_the_ones_left_off(p, ws):
    switch_off(p)
    ingest(ws, "SecurityEvent", events_for("vm-off"))
    set_auto_provisioning(p.sub, on=True, actor=Actor.of_user(p.admin), reason="back",
                          role=Role.ADMIN)
    report = ingest(ws, "SecurityEvent", events_for("vm-off", "vm-later"))
    assert [r.status for r in report.results] == ["rejected", "created"]


def test_by_hand_collection_on_lets_its_events_in_and_off_refuses_them(p, ws):
    switch_off(p)
    ingest(ws, "SecurityEvent", events_for("vm-new"))
    vm = Resource.objects.get(name="vm-new")
    assert set_collection(vm, on=True, actor=Actor.of_user(p.admin), reason="Agent installed",
                          role=Role.ADMIN) is True
    vm.refresh_from_db()
    assert (vm.collecting, vm.collection_by, vm.collection_changed_by) == (True, "by_hand",
                                                                            p.admin)
    assert ingest(ws, "SecurityEvent", events_for("vm-new")).accepted == 1
    row = Activity.objects.get(verb="resource.collection")
    assert (row.target_id, row.before, row.after, row.reason) == (
        str(vm.pk), {"collecting": False}, {"collecting": True}, "Agent installed")
    set_collection(vm, on=False, actor=Actor.of_user(p.admin), reason="Decommissioned",
                   role=Role.ADMIN)
    assert ingest(ws, "SecurityEvent", events_for("vm-new")).rejected == 1
    assert set_collection(vm, on=False, actor=Actor.of_user(p.admin), reason="again",
                          role=Role.ADMIN) is False


def test_alerts_about_a_resource_not_collecting_are_accepted(client, p):
    switch_off(p)
    token = make_token(p.sub, scopes=(Scope.INGEST,))
    body = native_alert(id="a-1", compromised_entity="vm-alerted-01")
    response = client.post("/api/v1/alerts", data=json.dumps(body),
                           content_type="application/json", **token.header)
    assert response.status_code == 200, response.content
    assert response.json()["results"][0]["status"] == "created"
    alert = Alert.objects.get()
    assert alert.resource.name == "vm-alerted-01" and alert.resource.collecting is False


def test_provisioning_decides_events_sent_through_the_api(client, p, ws):
    token = make_token(p.sub, scopes=(Scope.INGEST,))

    def send(computer):
        return client.post(f"/api/v1/workspaces/{ws.workspace_id}/events?table=SecurityEvent",
                           data=json.dumps(events_for(computer)),
                           content_type="application/json", **token.header)

    assert send("vm-on").json()["accepted"] == 1
    switch_off(p)
    answer = send("vm-off").json()
    assert answer["rejected"] == 1
    assert answer["results"][0]["error"]["code"] == "collection_off"
    assert send("vm-on").json()["accepted"] == 1
    assert RejectedEvent.objects.get().source == "api"


def test_provisioning_decides_events_sent_with_the_command(p, tmp_path):
    path = tmp_path / "events.json"
    path.write_text(json.dumps(events_for("vm-cli-on")))
    out = StringIO()
    call_command("ingest_events", "--subscription", p.sub.name, "--table", "SecurityEvent",
                 str(path), stdout=out)
    assert "1 accepted, 0 rejected" in out.getvalue()
    switch_off(p)
    path.write_text(json.dumps(events_for("vm-cli-on", "vm-cli-off")))
    out = StringIO()
    call_command("ingest_events", "--subscription", p.sub.name, "--table", "SecurityEvent",
                 str(path), stdout=out)
    assert "1 accepted, 1 rejected" in out.getvalue()
    assert "collection_off" in out.getvalue()
    kept = RejectedEvent.objects.get()
    assert (kept.source, kept.computer) == ("command", "vm-cli-off")


def test_other_refusals_are_kept_too(p, ws):
    ingest(ws, "SecurityEvent", [{"TimeGenerated": "not a time", "Computer": "vm"}])
    kept = RejectedEvent.objects.get()
    assert (kept.code, kept.field) == ("bad_time", "TimeGenerated")


def test_resources_written_by_copy_collect_by_the_database_defaults(p):
    # Written the way alerts ingestion writes (COPY, no Python defaults).
    [pk] = bulk_insert(Resource, ("subscription_id", "kind", "name", "external_id"),
                       [(p.sub.pk, "other", "bulk", "")])
    bulk = Resource.objects.get(pk=pk)
    assert (bulk.collecting, bulk.collection_by) == (True, "automatic")
    assert bulk.collecting_since is not None


@pytest.mark.django_db(transaction=True)
def test_the_migration_counts_existing_resources_as_collecting_since_creation():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    before = [("inventory", "0005_invitation")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    sub = old.get_model("inventory", "Subscription").objects.create(name="Old")
    OldResource = old.get_model("inventory", "Resource")
    made = OldResource.objects.create(subscription=sub, name="vm-old")
    OldResource.objects.filter(pk=made.pk).update(created_at="2024-01-02T03:04:05Z")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    vm = Resource.objects.get(pk=made.pk)
    assert (vm.collecting, vm.collection_by) == (True, "automatic")
    assert vm.collecting_since == vm.created_at
    assert vm.created_at.year == 2024


def test_refused_events_are_kept_seven_days(p, ws):
    import datetime as dt

    from search.retention import purge_refused

    ingest(ws, "SecurityEvent", [{"TimeGenerated": "not a time", "Computer": "vm"}])
    kept = RejectedEvent.objects.get()
    assert purge_refused(now=kept.received_at + dt.timedelta(days=6)) == 0
    out = StringIO()
    call_command("purge_refused_events", stdout=out)
    assert "Purged 0 refused events." in out.getvalue()
    assert purge_refused(now=kept.received_at + dt.timedelta(days=7, seconds=1)) == 1
    assert not RejectedEvent.objects.exists()


@pytest.mark.parametrize("provisioning", ["on", "off"])
def test_a_resource_first_seen_in_events_is_on_the_activity_log(p, ws, provisioning):
    if provisioning == "off":
        switch_off(p)
    ingest(ws, "SecurityEvent", events_for("vm-new-01", "vm-new-01", "VM-NEW-02"))
    rows = Activity.objects.filter(verb="resource.provision").order_by("target_label")
    assert [(r.target_label, r.after["collecting"], r.actor_label) for r in rows] == [
        ("VM-NEW-02", provisioning == "on", "automatic provisioning"),
        ("vm-new-01", provisioning == "on", "automatic provisioning")]
    assert {int(r.target_id) for r in rows} == set(
        Resource.objects.filter(name__in=["vm-new-01", "VM-NEW-02"]).values_list("pk", flat=True))
    assert all("First seen in events" in r.reason and r.subscription_id == p.sub.pk
               for r in rows)
    # Seen again: nothing new to say.
    ingest(ws, "SecurityEvent", events_for("vm-new-01"))
    assert Activity.objects.filter(verb="resource.provision").count() == 2


def test_a_resource_first_seen_in_an_alert_is_on_the_activity_log(p):
    from tests.factories import make_alert

    switch_off(p)
    alert = make_alert(p.sub)
    row = Activity.objects.get(verb="resource.provision")
    assert row.target_id == str(alert.resource_id)
    assert row.after == {"collecting": False, "how": "automatic"}
    assert "First seen in an alert" in row.reason
