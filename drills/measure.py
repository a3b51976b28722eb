"""What a drill measures, read from the drill's database (the truth, whatever the API said):
alerts sent, stored, lost, duplicated, and left uncorrelated; and whether the incidents
correlation wrote add up."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from drills.stack import connect

UNCORRELATED = """
SELECT count(*) FROM alerts_alert a
WHERE EXISTS (SELECT FROM alerts_awaitingcorrelation q WHERE q.alert_id = a.id)
   OR NOT EXISTS (SELECT FROM incidents_incidentalert m WHERE m.alert_id = a.id)
"""

# Each check counts what is wrong; all are 0 once correlation is done and right.
CHECKS = {
    "incidents whose counts disagree with their alerts": """
        SELECT count(*) FROM incidents_incident i LEFT JOIN (
            SELECT m.incident_id, count(*) AS n,
                   count(*) FILTER (WHERE a.status = 'active') AS active
            FROM incidents_incidentalert m JOIN alerts_alert a ON a.id = m.alert_id
            GROUP BY m.incident_id) c ON c.incident_id = i.id
        WHERE coalesce(c.n, 0) <> i.alert_count OR coalesce(c.active, 0) <> i.active_count
           OR i.standalone <> (i.alert_count = 1)""",
    # The drills' alerts on one resource all fall within one correlation window.
    "resources whose alerts are split over incidents": """
        SELECT count(*) FROM (
            SELECT a.resource_id FROM alerts_alert a
            JOIN incidents_incidentalert m ON m.alert_id = a.id
            WHERE a.resource_id IS NOT NULL
            GROUP BY a.resource_id HAVING count(DISTINCT m.incident_id) > 1) s""",
    "incidents mixing resources": """
        SELECT count(*) FROM (
            SELECT m.incident_id FROM incidents_incidentalert m
            JOIN alerts_alert a ON a.id = m.alert_id
            GROUP BY m.incident_id HAVING count(DISTINCT a.resource_id) > 1) s""",
}


@dataclass
class Outcome:
    sent: int
    stored: int
    lost: int
    duplicated: int
    uncorrelated: int
    problems: list[str] = field(default_factory=list)
    lost_ids: list[str] = field(default_factory=list)


def uncorrelated(db: str) -> int:
    with connect(db) as conn:
        return conn.execute(UNCORRELATED).fetchone()[0]


def settle(db: str, seconds: float) -> float:
    """Wait (at most `seconds`) until every alert is correlated; returns the time taken."""
    started = time.monotonic()
    while uncorrelated(db) and time.monotonic() - started < seconds:
        time.sleep(0.5)
    return time.monotonic() - started


def measure(db: str, sent: set[str]) -> Outcome:
    with connect(db) as conn:
        stored = dict(conn.execute("SELECT key, count(*) FROM alerts_alert GROUP BY key"))
        left = conn.execute(UNCORRELATED).fetchone()[0]
        problems = [f"{n} {what}" for what, sql in CHECKS.items()
                    if (n := conn.execute(sql).fetchone()[0])]
    extra = set(stored) - sent
    if extra:
        problems.append(f"{len(extra)} alerts stored that nobody sent")
    lost = sorted(sent - set(stored))
    return Outcome(sent=len(sent), stored=len(sent & set(stored)), lost=len(lost),
                   duplicated=sum(1 for k in sent if stored.get(k, 0) > 1),
                   uncorrelated=left, problems=problems, lost_ids=lost)
