from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache

from inventory.models import Activity


@pytest.fixture(autouse=True)
def _fresh_cache():
    # The activity page caches its suggestions by subscription and newest entry: ids are
    # reused from one test's rolled-back database to the next.
    cache.clear()


T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def log_at(sub, when, verb="alert.dismiss", actor="alice", target_type="alert",
           target_id="1", target_label="Suspicious sign-in", reason="", before=None,
           after=None, kind="user"):
    """An entry at a chosen time: a raw insert, past auto_now_add (and the log's save())."""
    row = Activity(subscription=sub, actor_kind=kind, actor_label=actor, verb=verb,
                   target_type=target_type, target_id=target_id, target_label=target_label,
                   reason=reason, before=before, after=after, created_at=when)
    row.save_base(raw=True, force_insert=True)
    return row


@pytest.fixture
def log(p):
    """Six entries in `sub` over three days, one in `other`."""
    return {
        "dismiss": log_at(p.sub, T0, verb="alert.dismiss", actor="alice"),
        "resolve": log_at(p.sub, T0 + timedelta(hours=1), verb="alert.resolve", actor="bob"),
        "escalate": log_at(p.sub, T0 + timedelta(days=1), verb="incident.escalate",
                           actor="alice", target_type="incident"),
        "token": log_at(p.sub, T0 + timedelta(days=1, hours=2), verb="alerts.ingest",
                        actor="token ci (service)", kind="token", target_type="subscription"),
        "system": log_at(p.sub, T0 + timedelta(days=2), verb="events.retention",
                         actor="retention", kind="system", target_type="workspace"),
        "old": log_at(p.sub, T0 - timedelta(days=30), verb="token.create", actor="admin",
                      target_type="token"),
        "elsewhere": log_at(p.other, T0 + timedelta(minutes=5), verb="alert.dismiss", actor="alice",
                            target_label="Fabrikam's secret alert"),
    }
