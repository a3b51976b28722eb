"""make_<model>() factories and the id of one object of each kind, for the scoping walk."""

import itertools
import json

from alerts.ingest.store import ingest_body
from alerts.models import Alert, RejectedItem
from inventory.models import Resource
from tests.conftest import SYSTEM, make_token

_serial = itertools.count(1)


def native_alert(**fields):
    """A native-format alert with a host, an account and an IP; fields override."""
    n = next(_serial)
    alert = {
        "id": f"test-alert-{n}",
        "display_name": f"Test alert {n}",
        "severity": "high",
        "alert_type": "Test_Alert",
        "description": "A test alert.",
        "start_time": "2026-11-27T10:00:00Z",
        "compromised_entity": "vm-test-01",
        "tactics": ["InitialAccess"],
        "entities": [
            {"$id": "1", "Type": "host", "HostName": "vm-test-01", "NTDomain": "CONTOSO"},
            {"$id": "2", "Type": "account", "Name": "alice", "NTDomain": "CONTOSO"},
            {"$id": "3", "Type": "ip", "Address": "203.0.113.50"},
        ],
    }
    alert.update(fields)
    return alert


def make_alert(subscription, **fields):
    report = ingest_body(subscription, json.dumps(native_alert(**fields)).encode(),
                         "application/json", actor=SYSTEM)
    result = report.results[0]
    assert result.status == "created", result.as_dict()
    return Alert.objects.get(pk=result.id)


def make_rejected(subscription, token=None):
    report = ingest_body(subscription, b'{"id": "x", "display_name": "x", "severity": "urgent"}',
                         "application/json", actor=SYSTEM, token=token)
    assert report.rejected == 1
    return RejectedItem.objects.filter(subscription=subscription).latest("id")


def objects_of(p):
    """URL parameter -> the id of an object in p.sub (which the outsider cannot see)."""
    token = make_token(p.sub, name="target token")
    alert = make_alert(p.sub)
    return {
        "sub": p.sub.pk,
        "subscription_id": p.sub.pk,
        "pk": token.token.pk,
        "user_id": p.analyst.pk,
        "alert_id": alert.pk,
        "rejected_id": make_rejected(p.sub, token.token).pk,
        "incident_id": make_incident(p.sub).pk,
        "action": "dismiss",
        "rule_id": make_rule(p.sub).pk,
        "run_id": make_query_run(p.sub).pk,
        "fmt": "csv",
        "investigation_id": make_investigation(p.sub).pk,
        "tab": "alerts",
        "ref": p.sub.workspaces.get(is_default=True).workspace_id,
        "workspace_id": p.sub.workspaces.get(is_default=True).pk,
        "invitation_id": make_invitation(p.sub).pk,
        "answer": "accept",
        "resource_id": alert.resource_id or Resource.objects.create(
            subscription=p.sub, name="vm-scoped").pk,
        "entry_id": make_block_entry(p.sub).pk,
        "never_id": make_never_block(p.sub).pk,
        "token_id": make_feed_token(p.sub)[0].pk,
        "webhook_id": make_webhook(p.sub).pk,
        "delivery_id": make_delivery(p.sub).pk,
        "indicator_id": make_indicator(p.sub).pk,
    }


def make_indicator(subscription, value="203.0.113.87"):
    from django.utils import timezone

    from detections.models import Indicator

    return Indicator.objects.create(subscription=subscription, type="ip", value=value,
                                    valid_from=timezone.now(), updated_by_label="tests")


def make_webhook(subscription, url="https://hooks.example.com/soc"):
    from response.webhooks import create_webhook

    return create_webhook(subscription, name="playbook", url=url, secret="s" * 32,
                          events=["address.blocked"], allow_private=False, actor=SYSTEM,
                          role="admin")


def make_delivery(subscription):
    from response.models import Delivery

    hook = subscription.webhooks.first() or make_webhook(subscription)
    return Delivery.objects.create(webhook=hook, event="address.blocked",
                                   payload={"id": "x", "event": "address.blocked"},
                                   state=Delivery.State.FAILED, attempts=6)


def make_block_entry(subscription, address="203.0.113.200"):
    from response.blocklist import block

    return block(subscription, address, actor=SYSTEM, role="analyst", reason="test")[0]


def make_never_block(subscription, address="192.0.2.53"):
    from response.models import NeverBlock

    return NeverBlock.objects.create(subscription=subscription, network=f"{address}/32",
                                     note="our resolver", created_by_label="tests")


def make_feed_token(subscription, name="edge firewall"):
    from response.feeds import create_feed_token

    return create_feed_token(subscription=subscription, name=name, actor=SYSTEM)


def make_invitation(subscription, username="newcomer", role="analyst"):
    from inventory.people import invite

    return invite(subscription=subscription, username=username, role=role, actor=SYSTEM)[0]


def make_query_run(subscription, query="SecurityEvent | take 1", **fields):
    """A finished run (as the task leaves it) in `subscription`'s default workspace."""
    from search.models import QueryRun

    workspace = subscription.workspaces.get(is_default=True)
    defaults = {"state": QueryRun.State.DONE, "columns": [{"name": "n", "type": "long"}],
                "rows": [[1]], "row_count": 1}
    return QueryRun.objects.create(subscription=subscription, workspace=workspace, query=query,
                                   **{**defaults, **fields})


def make_rule(subscription, alert_type="Test_Alert", days=30):
    from datetime import timedelta

    from django.utils import timezone

    from alerts.models import SuppressionRule

    return SuppressionRule.objects.create(subscription=subscription, alert_type=alert_type,
                                          reason="test", expires_at=timezone.now()
                                          + timedelta(days=days))


def make_incident(subscription, **fields):
    from incidents.correlation import correlate
    from incidents.models import IncidentAlert

    alert = make_alert(subscription, **fields)
    correlate(subscription_id=subscription.pk)
    return IncidentAlert.objects.get(alert=alert).incident


def make_investigation(subscription, **fields):
    """An investigation of a new alert of `subscription`, started by the system."""
    from investigation.actions import start_investigation

    investigation, _ = start_investigation(actor=SYSTEM, alert=make_alert(subscription,
                                                                          **fields))
    return investigation
