from alerts.models import Alert
from incidents.models import Incident
from inventory.models import Activity
from tests.factories import make_alert, make_incident


def two_alert_incident(p):
    from incidents.correlation import correlate

    make_alert(p.sub, id="t-a", compromised_entity="vm-t", start_time="2026-11-20T10:00:00Z")
    make_alert(p.sub, id="t-b", compromised_entity="vm-t", start_time="2026-11-20T11:00:00Z",
               severity="low")
    correlate()
    return Incident.objects.get(standalone=False)


def url(p, incident, action):
    return f"/s/{p.sub.pk}/incidents/{incident.pk}/{action}/"


def test_dismissing_an_incident_dismisses_its_alerts_and_is_audited(p, as_user):
    incident = two_alert_incident(p)
    response = as_user(p.analyst).post(url(p, incident, "dismiss"),
                                       {"verdict": "false_positive", "comment": "pen test"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert (incident.status, incident.verdict) == ("dismissed", "false_positive")
    assert set(Alert.objects.values_list("status", "verdict")) == {("dismissed",
                                                                    "false_positive")}
    row = Activity.objects.get(verb="incident.dismiss")
    assert row.actor_label == "analyst" and row.reason == "pen test"
    assert Activity.objects.filter(verb="alert.dismiss").count() == 2
    # Again: nothing changes, nothing is logged twice.
    as_user(p.analyst).post(url(p, incident, "dismiss"), {"verdict": "false_positive"})
    assert Activity.objects.filter(verb="incident.dismiss").count() == 1


def test_the_queue_row_and_counters_update_in_place(p, as_user):
    incident = two_alert_incident(p)
    response = as_user(p.analyst).post(url(p, incident, "resolve"),
                                       {"from": "queue", "comment": "reimaged"},
                                       HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and body.startswith(f'<tr class="row-resolved" '
                                                           f'id="incident-{incident.pk}">')
    assert 'id="sev-counts"' in body and 'hx-swap-oob="true"' in body
    assert "High <strong>0</strong>" in body


def test_a_comment_is_required_to_resolve(p, as_user):
    incident = two_alert_incident(p)
    response = as_user(p.analyst).post(url(p, incident, "resolve"),
                                       {"from": "queue", "comment": "  "},
                                       HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and b"Resolving needs a comment" in response.content
    response = as_user(p.analyst).post(f"/s/{p.sub.pk}/queue/bulk/",
                                       {"ids": [incident.pk], "action": "resolve"}, follow=True)
    assert b"Resolving needs a comment" in response.content
    incident.refresh_from_db()
    assert incident.status == "active" and not Activity.objects.filter(
        verb__endswith=".resolve").exists()


def test_a_verdict_is_required_to_dismiss(p, as_user):
    incident = two_alert_incident(p)
    response = as_user(p.analyst).post(url(p, incident, "dismiss"), {"verdict": "maybe"},
                                       HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and b"verdict" in response.content
    incident.refresh_from_db()
    assert incident.status == "active"


def test_roles_outsiders_and_methods(p, as_user):
    incident = two_alert_incident(p)
    assert as_user(p.admin).post(url(p, incident, "resolve")).status_code == 403
    assert as_user(p.outsider).post(url(p, incident, "resolve")).status_code == 404
    assert as_user(p.analyst).get(url(p, incident, "resolve")).status_code == 405
    assert as_user(p.analyst).post(url(p, incident, "explode")).status_code == 404
    incident.refresh_from_db()
    assert incident.status == "active"


def test_reopening_a_resolved_incident_is_for_shift_leads(p, as_user):
    incident = two_alert_incident(p)
    as_user(p.analyst).post(url(p, incident, "resolve"), {"comment": "contained"})
    assert as_user(p.analyst).post(url(p, incident, "activate")).status_code == 403
    assert as_user(p.lead).post(url(p, incident, "activate")).status_code == 302
    incident.refresh_from_db()
    assert incident.status == "active"
    assert set(Alert.objects.values_list("status", flat=True)) == {"active"}


def test_a_standalone_incident_follows_its_alert(p, as_user):
    incident = make_incident(p.sub, id="solo")
    alert = Alert.objects.get(key="solo")
    response = as_user(p.analyst).post(f"/s/{p.sub.pk}/alerts/{alert.pk}/dismiss/",
                                       {"verdict": "benign_positive"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert (incident.status, incident.verdict) == ("dismissed", "benign_positive")


def test_comments_are_logged_and_shown_escaped(p, as_user):
    incident = two_alert_incident(p)
    client = as_user(p.analyst)
    client.post(url(p, incident, "comment"), {"comment": "<b>look</b> at vm-t"})
    body = client.get(f"/s/{p.sub.pk}/incidents/{incident.pk}/").content.decode()
    assert "&lt;b&gt;look&lt;/b&gt; at vm-t" in body
    assert client.post(url(p, incident, "comment"), {"comment": "  "}).status_code == 302
    assert Activity.objects.filter(verb="incident.comment").count() == 1


def test_bulk_dismiss_from_the_queue(p, as_user):
    a = make_incident(p.sub, compromised_entity="vm-1", entities=[])
    b = make_incident(p.sub, compromised_entity="vm-2", entities=[])
    foreign = make_incident(p.other, compromised_entity="vm-3", entities=[])
    response = as_user(p.analyst).post(f"/s/{p.sub.pk}/queue/bulk/", {
        "ids": [a.pk, b.pk, foreign.pk], "action": "dismiss", "verdict": "not_applicable",
        "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == f"/s/{p.sub.pk}/queue/"
    assert set(Incident.objects.filter(pk__in=[a.pk, b.pk]).values_list("status", flat=True))\
        == {"dismissed"}
    foreign.refresh_from_db()
    assert foreign.status == "active"
    assert as_user(p.admin).post(f"/s/{p.sub.pk}/queue/bulk/", {"ids": [a.pk]}).status_code \
        == 403


def test_the_handover_note_is_shown_first(p, as_user):
    client = as_user(p.lead)
    client.post(f"/s/{p.sub.pk}/queue/handover/", {"text": "watch vm-web-01 <b>closely</b>"})
    body = as_user(p.analyst).get(f"/s/{p.sub.pk}/queue/").content.decode()
    assert "Shift handover" in body and "watch vm-web-01 &lt;b&gt;closely&lt;/b&gt;" in body
    assert Activity.objects.filter(verb="queue.handover").exists()


def test_the_domain_refuses_an_analyst_reopening_a_resolved_incident(p):
    import pytest

    from alerts.triage import NotAllowed
    from incidents.triage import change_incident
    from inventory.roles import Role
    from tests.conftest import SYSTEM

    incident = two_alert_incident(p)
    change_incident(incident, action="resolve", actor=SYSTEM, role=Role.ANALYST,
                    reason="contained")
    with pytest.raises(NotAllowed):
        change_incident(incident, action="activate", actor=SYSTEM, role=Role.ANALYST)
    assert Incident.objects.get(pk=incident.pk).status == "resolved"
    assert set(Alert.objects.values_list("status", flat=True)) == {"resolved"}
