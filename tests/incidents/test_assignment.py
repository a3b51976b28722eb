from datetime import timedelta

from django.core import mail
from django.utils import timezone

from incidents.models import Incident
from inventory.models import Activity, Resource
from tests.factories import make_incident


def url(p, incident, action):
    return f"/s/{p.sub.pk}/incidents/{incident.pk}/{action}/"


def test_an_analyst_takes_and_a_lead_assigns(p, as_user):
    incident = make_incident(p.sub)
    as_user(p.lead).post(url(p, incident, "assign"), {"user": p.analyst.pk})
    incident.refresh_from_db()
    assert incident.assigned_to == p.analyst and incident.acknowledged_at is not None
    assert as_user(p.analyst).post(url(p, incident, "assign"), {"user": p.lead.pk})\
        .status_code == 403
    as_user(p.lead).post(url(p, incident, "take"))
    incident.refresh_from_db()
    assert incident.assigned_to == p.lead
    assert list(Activity.objects.filter(target_type="incident").values_list("verb", flat=True)
                .order_by("id")) == ["incident.assign", "incident.take"]
    # An admin cannot triage, so cannot be assigned.
    as_user(p.lead).post(url(p, incident, "assign"), {"user": p.admin.pk})
    incident.refresh_from_db()
    assert incident.assigned_to == p.lead


def test_escalating_to_the_shift_leads_emails_them_and_shows_in_their_view(
        p, as_user, django_capture_on_commit_callbacks):
    p.lead.email = "lead@contoso.example"
    p.lead.save()
    incident = make_incident(p.sub)
    client = as_user(p.analyst)
    with_note = client.post(url(p, incident, "escalate"), {"to": "leads", "note": ""},
                            follow=True)
    assert b"Say why you escalate" in with_note.content and not mail.outbox
    with django_capture_on_commit_callbacks(execute=True):  # the email leaves on commit
        client.post(url(p, incident, "escalate"), {"to": "leads",
                                                   "note": "looks like ransomware"})
    incident.refresh_from_db()
    assert incident.escalated and incident.escalated_to == "leads"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["lead@contoso.example"]
    assert "looks like ransomware" in mail.outbox[0].body
    lead_view = as_user(p.lead).get(f"/s/{p.sub.pk}/queue/?escalated=on").content.decode()
    assert f'id="incident-{incident.pk}"' in lead_view and "escalated" in lead_view
    as_user(p.lead).post(url(p, incident, "acknowledge"))
    incident.refresh_from_db()
    assert incident.escalation_acknowledged


def test_escalating_to_the_owner_needs_an_owner(p, as_user,
                                                django_capture_on_commit_callbacks):
    incident = make_incident(p.sub)
    response = as_user(p.analyst).post(url(p, incident, "escalate"),
                                       {"to": "owner", "note": "yours"}, follow=True)
    assert b"Nobody to escalate to" in response.content
    Resource.objects.filter(pk=incident.resource_id).update(owner_email="dana@contoso.example")
    with django_capture_on_commit_callbacks(execute=True):
        as_user(p.analyst).post(url(p, incident, "escalate"), {"to": "owner", "note": "yours"})
    assert mail.outbox[-1].to == ["dana@contoso.example"]


def test_overdue_incidents_are_marked_and_filtered(p, as_user):
    # The clock runs from when it came into the queue, not from the alert's own time: an
    # alert detected an hour ago that arrived now is not late yet.
    late = make_incident(p.sub, severity="high", compromised_entity="vm-late", entities=[])
    Incident.objects.filter(pk=late.pk).update(created_at=timezone.now() - timedelta(hours=1))
    fresh = make_incident(p.sub, severity="high", compromised_entity="vm-fresh", entities=[])
    Incident.objects.filter(pk=fresh.pk).update(first_time=timezone.now() - timedelta(hours=1),
                                                created_at=timezone.now())
    body = as_user(p.analyst).get(f"/s/{p.sub.pk}/queue/?overdue=on").content.decode()
    assert f'id="incident-{late.pk}"' in body and f'id="incident-{fresh.pk}"' not in body
    assert "overdue" in body
    as_user(p.analyst).post(url(p, late, "take"))
    body = as_user(p.analyst).get(f"/s/{p.sub.pk}/queue/?overdue=on").content.decode()
    assert f'id="incident-{late.pk}"' not in body


def test_the_incident_page_shows_time_to_acknowledge_and_resolve(p, as_user):
    incident = make_incident(p.sub)
    client = as_user(p.analyst)
    client.post(url(p, incident, "resolve"), {"comment": "contained"})
    body = client.get(f"/s/{p.sub.pk}/incidents/{incident.pk}/").content.decode()
    assert "Time to acknowledge" in body
    assert body.count(" min ") >= 2  # both durations are filled


def test_the_timeline_tells_the_story_in_words(p, as_user):
    import re

    p.lead.email = "lead@example.com"
    p.lead.save()
    from incidents.correlation import correlate
    from tests.alerts import helpers
    from tests.factories import native_alert

    helpers.ingest(p.sub, [native_alert(start_time="2026-11-27T10:00:00Z"),
                           native_alert(start_time="2026-11-27T11:00:00Z")])
    correlate()
    incident = Incident.objects.get(standalone=False)
    analyst = as_user(p.analyst)
    analyst.post(url(p, incident, "comment"), {"comment": "<b>looks</b> real"})
    analyst.post(url(p, incident, "escalate"), {"to": "leads", "note": "isolate?"})
    lead = as_user(p.lead)
    lead.post(url(p, incident, "assign"), {"user": p.analyst.pk})
    lead.post(url(p, incident, "dismiss"), {"verdict": "benign_positive"})
    body = lead.get(f"/s/{p.sub.pk}/incidents/{incident.pk}/").content.decode()
    timeline = body[body.index('id="timeline"'):]
    words = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", item)).strip()
             for item in re.findall(r"<li class=\"verb-.*?</li>", timeline, re.S)]
    story = [w.split(" ", 2)[2] for w in words]  # without the date and time
    assert re.match(r"\S+ 2 alerts arrived: «.+», «.+»", story[0]), story
    assert story[1:] == [
        "analyst commented &lt;b&gt;looks&lt;/b&gt; real",
        "analyst escalated it to the shift leads isolate?",
        "lead assigned it to analyst",
        "lead dismissed it as benign positive, and 2 of its alerts with it",
    ], story


def test_assigning_names_nobody_outside_the_subscription(p, as_user):
    incident = make_incident(p.sub)
    lead = as_user(p.lead)
    for user in (p.outsider.pk, 999_999, "9" * 30):
        response = lead.post(url(p, incident, "assign"), {"user": user}, follow=True)
        body = response.content.decode()
        assert "Choose whom to assign it to." in body and "outsider" not in body
    incident.refresh_from_db()
    assert incident.assigned_to is None


def test_acknowledging_twice_says_nothing_changed(p, as_user):
    p.lead.email = "lead@example.com"
    p.lead.save()
    incident = make_incident(p.sub)
    as_user(p.analyst).post(url(p, incident, "escalate"), {"to": "leads", "note": "look"})
    lead = as_user(p.lead)
    first = lead.post(url(p, incident, "acknowledge"), follow=True).content.decode()
    again = lead.post(url(p, incident, "acknowledge"), follow=True).content.decode()
    assert "Escalation acknowledged." in first
    assert "Nothing to acknowledge" in again and "Escalation acknowledged." not in again


def test_the_escalation_email_tells_what_where_why_and_links_to_it(
        p, as_user, django_capture_on_commit_callbacks, settings):
    settings.SITE_URL = "https://soc.example.com"
    p.lead.email = "lead@contoso.example"
    p.lead.save()
    incident = make_incident(p.sub, severity="high",
                             display_name="Ransomware on vm-web-01\r\nBcc: evil@example.com")
    assert "\r\n" in incident.title
    with django_capture_on_commit_callbacks(execute=True):
        as_user(p.analyst).post(url(p, incident, "escalate"),
                                {"to": "leads", "note": "looks like ransomware"})
    sent = mail.outbox[-1]
    assert sent.subject == ("[SOC] Escalated (High): Ransomware on vm-web-01 "
                            "Bcc: evil@example.com")
    assert "Incident:  Ransomware on vm-web-01 Bcc: evil@example.com\n" in sent.body
    assert "Severity:  High\n" in sent.body
    assert f"Resource:  {incident.resource.name}\n" in sent.body
    assert "looks like ransomware" in sent.body
    assert (f"Link:      https://soc.example.com/s/{p.sub.pk}/incidents/{incident.pk}/\n"
            in sent.body)
    # The title is in the subject only: no header of the message comes from it.
    headers = sent.message().as_bytes().split(b"\n\n", 1)[0]
    assert b"\nBcc:" not in headers and sent.bcc == []


def test_the_page_cannot_assign_a_deactivated_member(p, as_user):
    incident = make_incident(p.sub)
    p.analyst.is_active = False
    p.analyst.save()
    lead = as_user(p.lead)
    page = lead.get(f"/s/{p.sub.pk}/incidents/{incident.pk}/").content.decode()
    assert f'<option value="{p.analyst.pk}"' not in page  # not offered...
    body = lead.post(url(p, incident, "assign"), {"user": p.analyst.pk},
                     follow=True).content.decode()
    assert "not an active analyst or shift lead" in body  # ...nor taken when sent
    incident.refresh_from_db()
    assert incident.assigned_to is None
    assert not Activity.objects.filter(verb="incident.assign").exists()


def test_the_domain_decides_who_may_assign_escalate_and_acknowledge(p):
    import pytest

    from alerts.triage import NotAllowed, TriageError
    from incidents.assignment import acknowledge_escalation, assign, escalate
    from inventory.activity import Actor
    from inventory.roles import Role

    incident = make_incident(p.sub)
    analyst, lead = Actor.of_user(p.analyst), Actor.of_user(p.lead)
    with pytest.raises(NotAllowed, match="Only a shift lead"):
        assign(incident, to=p.lead, actor=analyst, role=Role.ANALYST)
    with pytest.raises(NotAllowed):
        assign(incident, to=p.admin, actor=Actor.of_user(p.admin), role=Role.ADMIN)
    with pytest.raises(NotAllowed):
        escalate(incident, to="leads", note="n", actor=Actor.of_user(p.admin),
                 role=Role.ADMIN)
    with pytest.raises(NotAllowed):
        acknowledge_escalation(incident, actor=analyst, role=Role.ANALYST)
    with pytest.raises(TriageError, match="Choose whom"):
        assign(incident, to=None, actor=lead, role=Role.SHIFT_LEAD)
    with pytest.raises(TriageError, match="not an active analyst"):
        assign(incident, to=p.admin, actor=lead, role=Role.SHIFT_LEAD)
    incident.refresh_from_db()
    assert incident.assigned_to is None and not incident.escalated
    assert assign(incident, to=p.analyst, actor=analyst, role=Role.ANALYST)  # taking
    assert assign(incident, to=p.lead, actor=lead, role=Role.SHIFT_LEAD)
