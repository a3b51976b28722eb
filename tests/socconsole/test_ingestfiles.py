"""socconsole.lib.ingestfiles: one reading of files for ingest_alerts and ingest_events,
with one detection of NDJSON."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from alerts.models import Alert
from socconsole.lib.ingestfiles import JSON, NDJSON, content_type_of
from tests.alerts.helpers import native
from tests.search.factories import default_workspace, stored_events

LINES = b'{"id": "a"}\n{"id": "b"}\n'
PRETTY = json.dumps({"id": "a", "nested": {"x": 1}}, indent=2).encode()


@pytest.mark.parametrize(("name", "body", "expected"), [
    ("alerts.jsonl", b'{"id": "a"}', NDJSON),          # the name says so
    ("alerts.NDJSON", PRETTY, NDJSON),
    ("alerts.json", LINES, NDJSON),                     # the content says so
    ("alerts.txt", LINES, NDJSON),
    ("alerts", b"\xef\xbb\xbf" + LINES + b"\n\n", NDJSON),
    ("alerts.json", PRETTY, JSON),                      # one document, whatever the name
    ("events.log", PRETTY, JSON),
    ("events.log", b'{"id": "a"}\n', JSON),
    ("events.log", b'[{"id": "a"},\n {"id": "b"}]', JSON),
    ("events.log", b"", JSON),
    ("events.log", b"\xff\xfe{\n}", JSON),              # not UTF-8: the parser says why
])
def test_it_tells_ndjson_from_json(name, body, expected):
    assert content_type_of(Path(name), body) == expected


def test_ingest_alerts_reads_ndjson_whatever_the_name(p, tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(native("n-1")) + "\n" + json.dumps(native("n-2")) + "\n")
    out = StringIO()
    call_command("ingest_alerts", "--subscription", p.sub.name, str(path), stdout=out)
    assert f"{path}: 2 accepted" in out.getvalue()
    assert Alert.objects.filter(subscription=p.sub).count() == 2


def test_ingest_events_reads_one_pretty_printed_event_whatever_the_name(p, tmp_path):
    path = tmp_path / "event.txt"
    path.write_text(json.dumps({"TimeGenerated": "2026-11-28T10:00:00Z", "EventID": 4688,
                                "Computer": "vm-web-01"}, indent=2))
    out = StringIO()
    call_command("ingest_events", "--subscription", p.sub.name, "--table", "SecurityEvent",
                 str(path), stdout=out)
    assert "1 accepted" in out.getvalue()
    assert [e["event_id"] for e in stored_events(default_workspace(p.sub))] == [4688]


def test_a_refused_body_is_said_and_the_other_files_go_on(p, tmp_path):
    bad, good = tmp_path / "bad.json", tmp_path / "good.json"
    bad.write_text("{not json")
    good.write_text(json.dumps(native("g-1")))
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="could not be read as alerts"):
        call_command("ingest_alerts", "--subscription", p.sub.name, str(bad), str(good),
                     stdout=out, stderr=err)
    assert f"{bad}: not ingested" in err.getvalue()
    assert f"{good}: 1 accepted" in out.getvalue()
    with pytest.raises(CommandError, match="missing.json"):
        call_command("ingest_alerts", "--subscription", p.sub.name,
                     str(tmp_path / "missing.json"))
