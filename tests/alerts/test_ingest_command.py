"""manage.py ingest_alerts: files into a subscription, with the API's counts."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from alerts.models import Alert, ProviderIncident, RejectedItem
from inventory.models import Activity
from tests.alerts.helpers import SENTINEL, arm_alerts, native, rest_example
from tests.conftest import make_token


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("ingest_alerts", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_ingests_a_json_file(p, tmp_path):
    path = tmp_path / "alerts.json"
    path.write_text(json.dumps([native("c-1"), native("c-2"), native("c-1"),
                                {"id": "c-bad", "display_name": "x", "severity": "severe"}]))

    out, _ = run("--subscription", "Contoso", str(path))

    assert f"{path}: 2 accepted, 1 duplicates, 1 rejected" in out
    assert "item 3: unknown_severity (severity)" in out
    assert set(Alert.objects.filter(subscription=p.sub).values_list("key", flat=True)) == \
        {"c-1", "c-2"}
    assert RejectedItem.objects.get().source == "command"
    assert Activity.objects.get(verb="alerts.ingest").after["source"] == "command"


def test_it_ingests_an_ndjson_file_with_the_counts_of_the_api(p, client, tmp_path):
    path = tmp_path / "sentinel.jsonl"
    path.write_bytes(SENTINEL.read_bytes())

    out, _ = run("--subscription", "Contoso", str(path))

    assert out.splitlines()[0] == f"{path}: 7 accepted, 0 duplicates, 0 rejected"
    assert Alert.objects.filter(subscription=p.sub).count() == 6
    assert ProviderIncident.objects.filter(subscription=p.sub).count() == 1

    token = make_token(p.other)
    api = client.post("/api/v1/alerts", data=SENTINEL.read_bytes(),
                      content_type="application/x-ndjson", **token.header).json()
    assert (api["accepted"], api["duplicates"], api["rejected"]) == (7, 0, 0)

    again, _ = run("--subscription", "Contoso", str(path))
    assert again.splitlines()[0] == f"{path}: 0 accepted, 7 duplicates, 0 rejected"


def test_it_ingests_an_arm_list_and_a_rest_api_example_file(p, tmp_path):
    values = arm_alerts()
    listing = tmp_path / "list.json"
    listing.write_text(json.dumps({"value": values}))
    example = tmp_path / "GetAlertsSubscription_example.json"
    example.write_text(json.dumps(rest_example(values), indent=2))

    out, _ = run("--subscription", "Contoso", str(listing), str(example))

    assert out.splitlines() == [f"{listing}: 2 accepted, 0 duplicates, 0 rejected",
                                f"{example}: 0 accepted, 2 duplicates, 0 rejected"]
    assert sorted(Alert.objects.filter(subscription=p.sub).values_list("key", flat=True)) == \
        sorted(v["name"] for v in values)
    assert set(Alert.objects.values_list("occurrence_count", flat=True)) == {2}


def test_it_refuses_an_unknown_subscription(p, tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps(native("x")))

    with pytest.raises(CommandError, match="Nowhere"):
        run("--subscription", "Nowhere", str(path))
    assert Alert.objects.count() == 0


def test_it_refuses_a_missing_file(p, tmp_path):
    missing = tmp_path / "missing.json"

    with pytest.raises(CommandError, match="missing.json"):
        run("--subscription", "Contoso", str(missing))
    assert Alert.objects.count() == 0


def test_it_reports_an_unparseable_file_then_fails(p, tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(native("good-1")))
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "broken", ')

    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError):
        call_command("ingest_alerts", "--subscription", "Contoso", str(bad), str(good),
                     stdout=out, stderr=err)

    assert f"{bad}: not ingested" in err.getvalue()
    assert f"{good}: 1 accepted, 0 duplicates, 0 rejected" in out.getvalue()
    assert list(Alert.objects.values_list("key", flat=True)) == ["good-1"]
    assert RejectedItem.objects.count() == 0
