"""manage.py subscription_settings, and the plan's effect on manage.py ingest_alerts."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from alerts.models import Alert, RejectedItem
from inventory.models import Activity, Subscription
from tests.alerts.helpers import export_alert, native


def run(command, *args):
    out = StringIO()
    call_command(command, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_it_turns_the_plan_off_and_on_for_ingest_alerts(p, tmp_path):
    path = tmp_path / "alerts.json"
    path.write_text(json.dumps([export_alert(), native("cli-native")]))

    out = run("subscription_settings", "--subscription", "Contoso", "--defender-plan", "off",
              "--reason", "scripted set-up")
    assert "Contoso: defender plan turned off." in out
    row = Activity.objects.get(verb="subscription.defender_plan")
    assert (row.actor_label, row.reason) == ("manage.py", "scripted set-up")

    out = run("ingest_alerts", "--subscription", "Contoso", str(path))
    assert "1 accepted, 0 duplicates, 1 rejected" in out
    assert "item 0: defender_plan_off: The Defender plan of this subscription is off" in out
    assert RejectedItem.objects.get().source == "command"

    run("subscription_settings", "--subscription", "Contoso", "--defender-plan", "on",
        "--reason", "back on")
    out = run("ingest_alerts", "--subscription", "Contoso", str(path))
    assert "1 accepted, 1 duplicates, 0 rejected" in out
    assert Alert.objects.filter(subscription=p.sub).count() == 2


def test_it_is_idempotent_and_shows_the_settings(p):
    out = run("subscription_settings", "--subscription", "Contoso", "--defender-plan", "on",
              "--reason", "x")
    assert "defender plan was already on" in out
    assert "defender plan: on" in run("subscription_settings", "--subscription", "Contoso")
    assert not Activity.objects.filter(verb="subscription.defender_plan").exists()


def test_it_refuses_bad_input(p):
    with pytest.raises(CommandError, match="reason is required"):
        run("subscription_settings", "--subscription", "Contoso", "--defender-plan", "off")
    with pytest.raises(CommandError, match="No subscription named"):
        run("subscription_settings", "--subscription", "Nope", "--defender-plan", "off",
            "--reason", "x")
    with pytest.raises(CommandError):
        run("subscription_settings", "--subscription", "Contoso", "--defender-plan", "maybe")
    assert Subscription.objects.get(pk=p.sub.pk).defender_plan is True


def test_it_turns_automatic_provisioning_off(p):
    out = run("subscription_settings", "--subscription", "Contoso", "--auto-provisioning",
              "off", "--reason", "scripted set-up")
    assert "auto provisioning turned off" in out
    p.sub.refresh_from_db()
    assert not p.sub.auto_provisioning
    assert "auto provisioning: off" in run("subscription_settings", "--subscription", "Contoso")
