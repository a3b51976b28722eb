"""The investigation pages: start/continue, the map, clicks, undo, the pane, exports."""

import json

from django.utils.html import escape

from inventory.models import Activity
from investigation.models import Investigation
from tests.factories import native_alert
from tests.investigation.helpers import HOSTILE, attack_entities, incident_with, ingest


def start(client, p, incident):
    response = client.post(f"/s/{p.sub.pk}/investigations/incident/{incident.pk}/")
    assert response.status_code == 302, response.status_code
    return Investigation.objects.get(incident=incident), response["Location"]


def host_id(inv):
    return next(n for n, a in inv.state["nodes"] if a["kind"] == "host")


def test_it_starts_then_continues_the_same_investigation(p, as_user):
    incident, _ = incident_with(p.sub)
    client = as_user(p.analyst)
    page = client.get(f"/s/{p.sub.pk}/incidents/{incident.pk}/").content.decode()
    assert "Start investigation" in page and "Continue investigation" not in page
    inv, url = start(client, p, incident)
    assert url == f"/s/{p.sub.pk}/investigations/{inv.pk}/"
    assert inv.started_by == p.analyst
    again = as_user(p.lead).post(f"/s/{p.sub.pk}/investigations/incident/{incident.pk}/")
    assert again["Location"] == url and Investigation.objects.count() == 1
    page = as_user(p.lead).get(f"/s/{p.sub.pk}/incidents/{incident.pk}/").content.decode()
    assert "Continue investigation" in page and url in page
    started = Activity.objects.get(verb="investigation.start")
    assert (started.actor_user, started.target_id) == (p.analyst, str(inv.pk))


def test_an_alert_page_starts_its_own_investigation(p, as_user):
    [alert] = ingest(p.sub, [native_alert()])
    client = as_user(p.analyst)
    assert "Start investigation" in client.get(f"/s/{p.sub.pk}/alerts/{alert.pk}/")\
        .content.decode()
    response = client.post(f"/s/{p.sub.pk}/investigations/alert/{alert.pk}/")
    inv = Investigation.objects.get(alert=alert)
    assert response["Location"] == f"/s/{p.sub.pk}/investigations/{inv.pk}/"
    body = client.get(response["Location"]).content.decode()
    assert 'data-node="alert:' in body and "<svg" in body
    assert "Continue investigation" in client.get(f"/s/{p.sub.pk}/alerts/{alert.pk}/")\
        .content.decode()


def test_the_map_page_and_its_fragment(p, as_user):
    incident, _ = incident_with(p.sub)
    client = as_user(p.analyst)
    inv, url = start(client, p, incident)
    full = client.get(url).content.decode()
    assert "<html" in full and 'id="inv-main"' in full and 'id="inv-pane"' in full
    assert "ran as" in full and "image file" in full  # relation labels on the arrows
    fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and 'id="inv-main"' in fragment
    assert 'hx-swap-oob="true"' in fragment


def test_a_click_selects_expands_and_is_kept(p, as_user):
    incident, _ = incident_with(p.sub)
    incident_with(p.sub, host="vm-other-03", account="bob")  # shares the IP
    client = as_user(p.analyst)
    inv, url = start(client, p, incident)
    ip = next(n for n, a in inv.state["nodes"] if a["kind"] == "ip")
    before = dict(inv.state["positions"])
    response = client.post(url + "select/", {"node": ip}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and "Security incident detected on vm-other-03" in body
    assert 'hx-swap-oob="true"' in body and "Seen in 1 other incident." in body
    inv.refresh_from_db()
    assert inv.state["selected"] == ip and inv.state["expanded"] == [ip]
    assert {n: inv.state["positions"][n] for n in before} == before
    expand = Activity.objects.get(verb="investigation.expand")
    assert expand.after["node"] == ip and expand.after["added"] > 0
    # Clicking it again selects it without expanding it twice.
    nodes = len(inv.state["nodes"])
    client.post(url + "select/", {"node": ip}, HTTP_HX_REQUEST="true")
    inv.refresh_from_db()
    assert len(inv.state["nodes"]) == nodes
    assert Activity.objects.filter(verb="investigation.expand").count() == 1
    # Without htmx, the click answers with the page.
    response = client.post(url + "select/", {"node": host_id(inv)})
    assert response.status_code == 302 and response["Location"] == url
    # Another analyst continues where it was left.
    page = as_user(p.lead).get(url).content.decode()
    for node_id, (x, y) in inv.state["positions"].items():
        assert f'transform="translate({x} {y})" data-node="{node_id}"' in page


def test_undo_steps_back_one_expansion(p, as_user):
    incident, _ = incident_with(p.sub)
    incident_with(p.sub, host="vm-other-03", account="bob")
    client = as_user(p.analyst)
    inv, url = start(client, p, incident)
    first = json.loads(json.dumps(inv.state))
    ip = next(n for n, a in first["nodes"] if a["kind"] == "ip")
    client.post(url + "select/", {"node": ip}, HTTP_HX_REQUEST="true")
    response = client.post(url + "undo/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    inv.refresh_from_db()
    for key in ("nodes", "edges", "positions", "expanded", "selected"):
        assert inv.state[key] == first[key], key
    assert client.post(url + "undo/", HTTP_HX_REQUEST="true").status_code == 400
    assert client.post(url + "undo/").status_code == 302  # a message, then the page
    assert Activity.objects.filter(verb="investigation.undo").count() == 1


def test_bad_input_never_fails_the_server(p, as_user):
    incident, _ = incident_with(p.sub)
    client = as_user(p.analyst)
    inv, url = start(client, p, incident)
    for node in ("", "nope", "entity:99999999", "x" * 5000, "more:entity:1", "alert:-1"):
        assert client.post(url + "select/", {"node": node}, HTTP_HX_REQUEST="true")\
            .status_code == 400, node
    assert client.get(url + "select/").status_code == 405
    assert client.get(url + "undo/").status_code == 405
    assert client.get(f"/s/{p.sub.pk}/investigations/incident/{incident.pk}/").status_code == 405
    assert client.get(url + "pane/?node=nope").status_code == 404
    assert client.get(url + "pane/nope/?node=" + host_id(inv)).status_code == 404
    assert client.get(url + "pane/tree/?node=" + host_id(inv)).status_code == 404
    assert client.get(url + "export.pdf").status_code == 404
    # A damaged saved state still opens, and clicks on it are refused cleanly.
    Investigation.objects.filter(pk=inv.pk).update(state={"nodes": "garbage", "history": [1]})
    assert client.get(url).status_code == 200
    assert client.post(url + "select/", {"node": "incident:1"}, HTTP_HX_REQUEST="true")\
        .status_code == 400
    assert client.post(url + "undo/", HTTP_HX_REQUEST="true").status_code == 400


def test_outsiders_get_404_and_admins_may_look_but_not_expand(p, as_user):
    incident, _ = incident_with(p.sub)
    inv, url = start(as_user(p.analyst), p, incident)
    outsider = as_user(p.outsider)
    assert outsider.get(url).status_code == 404
    assert outsider.post(url + "select/", {"node": host_id(inv)}).status_code == 404
    assert outsider.get(url + "export.json").status_code == 404
    admin = as_user(p.admin)
    assert admin.get(url).status_code == 200
    assert admin.get(url + "pane/?node=" + host_id(inv), HTTP_HX_REQUEST="true")\
        .status_code == 200
    assert admin.post(url + "select/", {"node": host_id(inv)}).status_code == 403
    assert admin.post(url + "undo/").status_code == 403
    other, _ = incident_with(p.sub, host="vm-admin-01")
    assert admin.post(f"/s/{p.sub.pk}/investigations/incident/{other.pk}/").status_code == 403
    page = admin.get(f"/s/{p.sub.pk}/incidents/{other.pk}/").content.decode()
    assert "Start investigation" not in page


def test_the_pane_tabs_depend_on_the_kind_and_load_alone(p, as_user):
    incident, alerts = incident_with(p.sub)
    client = as_user(p.analyst)
    inv, url = start(client, p, incident)
    host = host_id(inv)
    pane = client.get(url + "pane/?node=" + host, HTTP_HX_REQUEST="true").content.decode()
    for tab in ("Info", "Alerts", "Logons", "Processes", "Network"):
        assert f">{tab}</button>" in pane
    assert "Search events for this" in pane and "/search/?query=SecurityEvent" in pane
    tab = client.get(url + "pane/alerts/?node=" + host, HTTP_HX_REQUEST="true")
    assert "<html" not in tab.content.decode() and "Step 0" in tab.content.decode()
    full = client.get(url + "pane/alerts/?node=" + host).content.decode()
    assert "<html" in full and "Step 1" in full
    logons = client.get(url + "pane/logons/?node=" + host, HTTP_HX_REQUEST="true")
    assert logons.status_code == 200 and "No events in the last 30 days." in \
        logons.content.decode()
    process = next(n for n, a in inv.state["nodes"] if a["kind"] == "process")
    pane = client.get(url + "pane/?node=" + process, HTTP_HX_REQUEST="true").content.decode()
    assert ">Tree</button>" in pane and ">Logons</button>" not in pane
    file_ = next(n for n, a in inv.state["nodes"] if a["kind"] == "file")
    hashes = client.get(url + "pane/hashes/?node=" + file_, HTTP_HX_REQUEST="true")
    assert "vm-inv-01" in hashes.content.decode()


def test_exports_json_and_graphml(p, as_user):
    incident, _ = incident_with(p.sub)
    client = as_user(p.analyst)
    inv, url = start(client, p, incident)
    data = json.loads(client.get(url + "export.json").content)
    assert {n["id"] for n in data["nodes"]} == {n for n, _ in inv.state["nodes"]}
    assert all({"x", "y", "properties"} <= set(n) for n in data["nodes"])
    response = client.get(url + "export.graphml")
    assert response["Content-Type"] == "application/graphml+xml"
    assert b"<graphml" in response.content and b"vm-inv-01" in response.content


def test_hostile_labels_are_escaped_everywhere(p, as_user):
    [alert] = ingest(p.sub, [native_alert(
        display_name=HOSTILE, entities=attack_entities(host=HOSTILE, account=HOSTILE,
                                                       command=HOSTILE, dangling=True))])
    client = as_user(p.analyst)
    client.post(f"/s/{p.sub.pk}/investigations/alert/{alert.pk}/")
    inv = Investigation.objects.get(alert=alert)
    url = f"/s/{p.sub.pk}/investigations/{inv.pk}/"
    node = next(n for n, a in inv.state["nodes"] if a["kind"] == "account")
    responses = [client.get(url), client.post(url + "select/", {"node": node},
                                              HTTP_HX_REQUEST="true"),
                 client.get(url + "pane/?node=" + node, HTTP_HX_REQUEST="true"),
                 client.get(url + "pane/alerts/?node=" + node, HTTP_HX_REQUEST="true"),
                 client.get(url + "pane/logons/?node=" + node, HTTP_HX_REQUEST="true"),
                 client.get(url + "export.graphml")]
    for response in responses:
        body = response.content.decode()
        assert response.status_code == 200
        assert "<script>alert(1)" not in body and "<img src=x" not in body, body[:200]
    page = responses[0].content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # The map cuts the label; its tooltip has all of it, escaped.
    assert f"<title>host: {escape(HOSTILE)}</title>" in page
    # In JSON the label is the attacker's text, as data.
    data = json.loads(client.get(url + "export.json").content)
    assert any(n["label"] == HOSTILE for n in data["nodes"])


def test_the_pane_shows_times_as_the_console_does(p, as_user):
    from datetime import timedelta

    from django.utils import timezone

    from tests.search.factories import default_workspace
    from tests.search.factories import ingest as ingest_events

    incident, _ = incident_with(p.sub, count=1)
    at = timezone.now() - timedelta(hours=3, minutes=5)
    ingest_events(default_workspace(p.sub), "SecurityEvent", [
        {"TimeGenerated": at.isoformat().replace("+00:00", "Z"), "Computer": "vm-inv-01",
         "EventID": 4688, "Account": "CONTOSO\\alice",
         "NewProcessName": "C:\\Tools\\mimikatz.exe"}])
    client = as_user(p.analyst)
    inv, url = start(client, p, incident)
    client.post(url + "select/", {"node": host_id(inv)})
    inv.refresh_from_db()
    process = next(n for n, a in inv.state["nodes"] if a["label"] == "mimikatz.exe")
    raw = inv.state["nodes"][[n for n, _ in inv.state["nodes"]].index(process)][1]["props"]
    assert "." in raw["Last"] and raw["Last"].endswith("Z")  # microseconds, as events say
    pane = client.get(url + "pane/?node=" + process, HTTP_HX_REQUEST="true").content.decode()
    shown = at.strftime("%Y-%m-%d %H:%M:%S")
    assert f'title="3 h ago">{shown} UTC</time>' in pane
    assert raw["Last"] not in pane.replace(f'datetime="{raw["Last"]}', "")
    rows = client.get(url + "pane/processes/?node=" + host_id(inv),
                      HTTP_HX_REQUEST="true").content.decode()
    assert f"{shown} UTC</time>" in rows and raw["Last"] not in rows


def test_undo_takes_back_what_the_events_told_of_shown_nodes(p, as_user):
    from datetime import timedelta

    from django.utils import timezone

    from tests.search.factories import default_workspace
    from tests.search.factories import ingest as ingest_events

    incident, _ = incident_with(p.sub)
    ingest_events(default_workspace(p.sub), "SecurityEvent", [
        {"TimeGenerated": (timezone.now() - timedelta(hours=1)).isoformat(),
         "Computer": "vm-inv-01", "EventID": 4688, "Account": "CONTOSO\\alice",
         "NewProcessName": "C:\\Windows\\System32\\powershell.exe"}])
    client = as_user(p.analyst)
    inv, url = start(client, p, incident)
    first = json.loads(json.dumps(inv.state))
    client.post(url + "select/", {"node": host_id(inv)}, HTTP_HX_REQUEST="true")
    inv.refresh_from_db()
    told = {n: a["events"] for n, a in inv.state["nodes"] if "events" in a}
    assert [a["label"] for n, a in inv.state["nodes"] if n in told] == \
        ["powershell.exe -enc AAAA"]
    client.post(url + "undo/", HTTP_HX_REQUEST="true")
    inv.refresh_from_db()
    assert inv.state["nodes"] == first["nodes"]
