"""inventory.plans: turning the Defender plan on and off, and its effect on ingestion."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from alerts.models import Alert, RejectedItem
from alerts.rejected import replay_rejected
from inventory.activity import Actor
from inventory.models import Activity, PlanOffPeriod, Subscription
from inventory.plans import banner_period, covered_by_plan, set_defender_plan
from inventory.roles import Role
from inventory.subscriptions import InventoryError
from tests.alerts.helpers import arm_alerts, export_alert, ingest, native, sentinel_rows
from tests.conftest import SYSTEM


def turn(sub, on, user=None, reason="budget"):
    actor = Actor.of_user(user) if user else SYSTEM
    return set_defender_plan(sub, on=on, actor=actor, reason=reason,
                             role=Role.ADMIN if user else None)


def test_new_subscriptions_start_with_the_plan_on(p):
    assert p.sub.defender_plan is True
    assert p.sub.defender_plan_since == p.sub.created_at
    assert not PlanOffPeriod.objects.exists()


def test_it_turns_the_plan_off_and_on_with_the_audit_and_the_period(p):
    assert turn(p.sub, False, p.admin, reason="trial ended") is True
    sub = Subscription.objects.get(pk=p.sub.pk)
    assert (sub.defender_plan, sub.defender_plan_changed_by) == (False, "admin")
    period = PlanOffPeriod.objects.get()
    assert (period.started_by, period.reason_off, period.ended_at) == ("admin", "trial ended",
                                                                        None)
    assert turn(p.sub, True, p.admin, reason="renewed") is True
    period.refresh_from_db()
    assert period.ended_at == Subscription.objects.get(pk=p.sub.pk).defender_plan_changed_at
    assert (period.ended_by, period.reason_on) == ("admin", "renewed")
    rows = list(Activity.objects.filter(verb="subscription.defender_plan").order_by("id"))
    assert [(r.before, r.after, r.reason, r.actor_label) for r in rows] == [
        ({"defender_plan": "on"}, {"defender_plan": "off"}, "trial ended", "admin"),
        ({"defender_plan": "off"}, {"defender_plan": "on"}, "renewed", "admin")]


def test_it_is_idempotent(p):
    turn(p.sub, False)
    assert turn(p.sub, False) is False
    assert PlanOffPeriod.objects.count() == 1
    assert Activity.objects.filter(verb="subscription.defender_plan").count() == 1


def test_it_needs_a_reason_and_an_admin(p):
    with pytest.raises(InventoryError, match="reason is required"):
        turn(p.sub, False, reason="   ")
    for role in (Role.ANALYST, Role.SHIFT_LEAD, None):
        with pytest.raises(PermissionDenied):
            set_defender_plan(p.sub, on=False, actor=Actor.of_user(p.lead), reason="x",
                              role=role)
    assert Subscription.objects.get(pk=p.sub.pk).defender_plan is True
    assert not Activity.objects.filter(verb="subscription.defender_plan").exists()


def test_what_the_plan_covers():
    assert all(covered_by_plan(format=f) for f in ("arm", "export", "sentinel"))
    assert not covered_by_plan(format="native", source="api")
    assert covered_by_plan(format="native", source="detection")  # custom rules, indicators


def test_with_the_plan_off_microsoft_alerts_are_refused_and_kept(p):
    turn(p.sub, False)
    items = [arm_alerts()[0], export_alert(), sentinel_rows()[0], native("other-product")]
    report = ingest(p.sub, items)
    assert [r.status for r in report.results] == ["rejected"] * 3 + ["created"]
    error = report.results[0].error
    assert error["code"] == "defender_plan_off"
    assert "Defender plan of this subscription is off" in error["message"]
    assert list(Alert.objects.values_list("key", flat=True)) == ["other-product"]
    kept = RejectedItem.objects.filter(code="defender_plan_off")
    assert kept.count() == 3
    # Another subscription is not affected.
    assert ingest(p.other, [export_alert()]).results[0].status == "created"


def test_a_detection_is_refused_with_the_plan_off(p):
    turn(p.sub, False)
    report = ingest(p.sub, [native("rule-1")], source="detection")
    assert report.results[0].error["code"] == "defender_plan_off"


def test_a_refused_item_replays_only_once_the_plan_is_on(p):
    turn(p.sub, False)
    ingest(p.sub, [export_alert()])
    item = RejectedItem.objects.get(code="defender_plan_off")
    assert replay_rejected(item, actor=SYSTEM).status == "rejected"  # still off
    assert not Alert.objects.exists()
    turn(p.sub, True)
    result = replay_rejected(item, actor=SYSTEM)
    assert result.status == "created"
    assert Alert.objects.get(pk=result.id).format == "export"


def test_a_refused_detection_is_judged_by_its_source_when_replayed(p):
    turn(p.sub, False)
    ingest(p.sub, [native("rule-2")], source="detection")
    item = RejectedItem.objects.get()
    assert replay_rejected(item, actor=SYSTEM).error["code"] == "defender_plan_off"


def test_the_banner_tells_of_the_current_or_a_recent_period(p, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert banner_period(p.sub) is None
    turn(p.sub, False)
    assert banner_period(p.sub).ended_at is None
    turn(p.sub, True)
    assert banner_period(p.sub).ended_at is not None
    Subscription.objects.filter(pk=p.sub.pk).update(
        defender_plan_changed_at=timezone.now() - timedelta(days=8))
    with django_assert_num_queries(1):  # the fetch only
        assert banner_period(Subscription.objects.get(pk=p.sub.pk)) is None


def test_the_raw_bytes_of_a_refused_item_are_kept(p):
    turn(p.sub, False)
    alert = export_alert()
    ingest(p.sub, [alert])
    assert json.loads(bytes(RejectedItem.objects.get().body)) == alert
