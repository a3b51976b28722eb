from incidents.models import Incident
from tests.factories import make_alert


def test_the_queue_ranks_by_severity_then_activity(p, as_user):
    make_alert(p.sub, severity="low", display_name="Low thing", compromised_entity="vm-1",
               entities=[])
    make_alert(p.sub, severity="high", display_name="High thing", compromised_entity="vm-2",
               entities=[])
    from incidents.correlation import correlate

    correlate()
    client = as_user(p.analyst)
    body = client.get(f"/s/{p.sub.pk}/queue/").content.decode()
    assert body.index("High thing") < body.index("Low thing")
    assert "High <strong>1</strong>" in body


def test_the_queue_filters_and_pages(p, as_user):
    from incidents.correlation import correlate

    for i in range(55):
        make_alert(p.sub, severity="medium", display_name=f"Noise {i}",
                   compromised_entity=f"host-{i}", entities=[])
    make_alert(p.sub, severity="high", display_name="Needle", compromised_entity="vm-needle",
               entities=[{"$id": "1", "Type": "ip", "Address": "198.51.100.99"}])
    correlate()
    client = as_user(p.analyst)
    found = client.get(f"/s/{p.sub.pk}/queue/?q=198.51.100.99").content.decode()
    assert "Needle" in found and "Noise 1" not in found
    first = client.get(f"/s/{p.sub.pk}/queue/").content.decode()
    cursor = first.split("cursor=")[1].split('"')[0]
    more = client.get(f"/s/{p.sub.pk}/queue/?cursor={cursor}", HTTP_HX_REQUEST="true")
    assert "<html" not in more.content.decode() and "Noise" in more.content.decode()
    assert client.get(f"/s/{p.sub.pk}/queue/?cursor=bad").status_code == 400
    assert client.get(f"/s/{p.sub.pk}/queue/?severity=urgent").status_code == 400


def test_an_incident_page_shows_alerts_reasons_and_related(p, as_user):
    from incidents.correlation import correlate

    shared_ip = {"$id": "9", "Type": "ip", "Address": "203.0.113.9"}
    make_alert(p.sub, id="i1", compromised_entity="vm-x", start_time="2026-11-20T10:00:00Z",
               entities=[shared_ip])
    make_alert(p.sub, id="i2", compromised_entity="vm-x", start_time="2026-11-20T11:00:00Z",
               entities=[shared_ip])
    make_alert(p.sub, id="elsewhere", display_name="Elsewhere", compromised_entity="vm-y",
               start_time="2026-11-20T12:00:00Z", entities=[shared_ip])
    correlate()
    incident = Incident.objects.get(standalone=False)
    body = as_user(p.analyst).get(f"/s/{p.sub.pk}/incidents/{incident.pk}/").content.decode()
    assert "Security incident detected on vm-x" in body
    assert "They share the ip 203.0.113.9." in body
    assert "Related alerts on other resources" in body and "Elsewhere" in body


def test_incidents_are_404_for_outsiders(p, as_user):
    from incidents.correlation import correlate

    make_alert(p.sub)
    correlate()
    incident = Incident.objects.get()
    assert as_user(p.outsider).get(f"/s/{p.sub.pk}/incidents/{incident.pk}/").status_code \
        == 404
    assert as_user(p.outsider).get(f"/s/{p.other.pk}/incidents/{incident.pk}/").status_code \
        == 404


def test_the_queue_counts_new_alerts_of_its_filters_not_triage(p, as_user):
    from urllib.parse import quote

    from django.utils import timezone

    from incidents.correlation import correlate
    from incidents.models import IncidentAlert

    client = as_user(p.analyst)

    def news(drawn, query=""):
        return client.get(f"/s/{p.sub.pk}/queue/news/?{query}drawn={quote(drawn.isoformat())}")

    drawn = timezone.now()
    high = make_alert(p.sub, severity="high", compromised_entity="vm-a", entities=[])
    make_alert(p.sub, severity="low", compromised_entity="vm-b", entities=[])
    correlate()
    assert news(drawn).status_code == 200 and b"2 new" in news(drawn).content
    assert b"1 new" in news(drawn, "severity=high&").content  # the page's own filters
    assert b"new" not in news(timezone.now()).content
    # Triage moves no row and is no news, to the analyst or anyone else.
    drawn = timezone.now()
    incident = IncidentAlert.objects.get(alert=high).incident
    client.post(f"/s/{p.sub.pk}/incidents/{incident.pk}/dismiss/", {"verdict": "false_positive"})
    client.post(f"/s/{p.sub.pk}/incidents/{incident.pk}/comment/", {"comment": "noise"})
    assert b"new" not in news(drawn, "status=dismissed&").content
    assert client.get(f"/s/{p.sub.pk}/queue/news/?drawn=yesterday").status_code == 400
    assert news(drawn, "severity=urgent&").status_code == 400


def test_the_queue_ranks_by_the_arrival_of_the_latest_alert_and_triage_keeps_it(p, as_user):
    from incidents.correlation import correlate
    from incidents.models import IncidentAlert

    first = make_alert(p.sub, severity="high", display_name="Arrived first",
                       compromised_entity="vm-1", entities=[], start_time="2026-11-27T12:00:00Z")
    make_alert(p.sub, severity="high", display_name="Arrived last", compromised_entity="vm-2",
               entities=[], start_time="2026-11-27T08:00:00Z")
    correlate()
    client = as_user(p.analyst)
    body = client.get(f"/s/{p.sub.pk}/queue/").content.decode()
    assert body.index("Arrived last") < body.index("Arrived first")
    incident = IncidentAlert.objects.get(alert=first).incident
    client.post(f"/s/{p.sub.pk}/incidents/{incident.pk}/comment/", {"comment": "looking"})
    client.post(f"/s/{p.sub.pk}/incidents/{incident.pk}/take/")
    body = client.get(f"/s/{p.sub.pk}/queue/").content.decode()
    assert body.index("Arrived last") < body.index("Arrived first")


def test_the_queue_filters_by_time_range_and_resource_name(p, as_user):
    from incidents.correlation import correlate

    make_alert(p.sub, display_name="October thing", compromised_entity="vm-old",
               entities=[], start_time="2026-10-01T10:00:00Z")
    make_alert(p.sub, display_name="November thing", compromised_entity="VM-New",
               entities=[], start_time="2026-11-20T10:00:00Z")
    correlate()
    client = as_user(p.analyst)

    def queue(query):
        response = client.get(f"/s/{p.sub.pk}/queue/?{query}")
        assert response.status_code == 200, response.content
        body = response.content.decode()
        return {t for t in ("October thing", "November thing") if t in body}

    assert queue("since=2026-11-01T00:00") == {"November thing"}
    assert queue("until=2026-11-01T00:00") == {"October thing"}
    assert queue("since=2026-09-01T00:00&until=2026-12-01T00:00") == {
        "October thing", "November thing"}
    assert queue("resource=vm-new") == {"November thing"}  # a name, in any case
    assert queue("resource=vm-nowhere") == set()
    for bad in ("since=tomorrow", "since=2026-11-02T00:00&until=2026-11-01T00:00",
                "resource=" + "x" * 300):
        assert client.get(f"/s/{p.sub.pk}/queue/?{bad}").status_code == 400, bad
    # The default view shows active items, and its Active box says so.
    body = client.get(f"/s/{p.sub.pk}/queue/?view=all").content.decode()
    assert 'name="status" value="active" checked' in body


def test_the_subscription_filter_opens_another_queue_of_a_member_only(p, as_user):
    from inventory.activity import Actor
    from inventory.people import grant_role

    client = as_user(p.analyst)
    response = client.get(f"/s/{p.sub.pk}/queue/?subscription={p.other.pk}&severity=high")
    assert response.status_code == 404  # not a member of Fabrikam
    grant_role(subscription=p.other, user=p.analyst, role="analyst",
               actor=Actor.of_system("tests"))
    response = client.get(f"/s/{p.sub.pk}/queue/?subscription={p.other.pk}&severity=high"
                          "&resource=17&cursor=abc")
    assert response.status_code == 302
    assert response["Location"] == f"/s/{p.other.pk}/queue/?severity=high"
    assert client.get(f"/s/{p.sub.pk}/queue/?subscription={p.sub.pk}").status_code == 200


def test_an_analyst_saves_a_default_view(p, as_user):
    client = as_user(p.analyst)
    response = client.post(f"/s/{p.sub.pk}/queue/view/", {"query": "severity=high&escalated=on"})
    assert response.status_code == 302
    landing = client.get(f"/s/{p.sub.pk}/queue/")
    assert landing.status_code == 302 and "severity=high" in landing["Location"]
    assert client.get(f"/s/{p.sub.pk}/queue/?view=all").status_code == 200
    assert client.post(f"/s/{p.sub.pk}/queue/view/", {"query": "severity=urgent"})\
        .status_code == 400
    # Another analyst's queue is untouched.
    assert as_user(p.lead).get(f"/s/{p.sub.pk}/queue/").status_code == 200


def test_filters_too_long_to_save_are_refused_not_cut(p, as_user):
    from incidents.models import SavedView

    client = as_user(p.analyst)
    for query in ("x" * 10_000, "resource=" + "%C3%BC" * 150 + "&q=" + "a" * 200):
        response = client.post(f"/s/{p.sub.pk}/queue/view/", {"query": query})
        assert response.status_code == 400, query[:40]
    assert not SavedView.objects.filter(user=p.analyst).exists()


def test_the_queue_page_makes_as_many_queries_for_one_row_as_for_many(p, as_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from incidents.correlation import correlate
    from inventory.activity import Actor
    from inventory.people import grant_role

    grant_role(subscription=p.other, user=p.analyst, role="analyst",
               actor=Actor.of_system("tests"))  # the subscription filter lists both
    client = as_user(p.analyst)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/s/{p.sub.pk}/queue/?view=all").status_code == 200
        return len(ctx.captured_queries)

    make_alert(p.sub, compromised_entity="vm-0", entities=[])
    correlate()
    one = queries()
    for n in range(1, 12):
        make_alert(p.sub, compromised_entity=f"vm-{n}", entities=[])
    correlate()
    assert queries() == one
