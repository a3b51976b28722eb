from incidents.models import Incident
from tests.factories import make_alert


def test_home_is_the_queue_ranked_by_severity_then_activity(p, as_user):
    make_alert(p.sub, severity="low", display_name="Low thing", compromised_entity="vm-1",
               entities=[])
    make_alert(p.sub, severity="high", display_name="High thing", compromised_entity="vm-2",
               entities=[])
    from incidents.correlation import correlate

    correlate()
    client = as_user(p.analyst)
    assert client.get("/")["Location"] == f"/s/{p.sub.pk}/queue/"
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


def test_the_queue_says_how_many_changed_since_it_was_drawn(p, as_user):
    from urllib.parse import quote

    from django.utils import timezone

    drawn = timezone.now()
    make_alert(p.sub, entities=[])
    from incidents.correlation import correlate

    correlate()
    client = as_user(p.analyst)
    news = client.get(f"/s/{p.sub.pk}/queue/news/?since={quote(drawn.isoformat())}")
    assert news.status_code == 200 and b"1 new or updated" in news.content
    later = client.get(f"/s/{p.sub.pk}/queue/news/?since={quote(timezone.now().isoformat())}")
    assert b"new" not in later.content
    assert client.get(f"/s/{p.sub.pk}/queue/news/?since=yesterday").status_code == 400


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
