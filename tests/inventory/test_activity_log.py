"""The activity page as an audit trail: filters, keyset paging, CSV export, GET /activity."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from inventory.models import Activity
from inventory.roles import Scope
from tests.conftest import make_token
from tests.factories import objects_of
from tests.inventory.conftest import T0, log_at
from tests.test_scoping import api_routes, console_routes, fill, fill_api


def rows_of(response):
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def shown(response, log):
    body = response.content.decode()
    return {name for name, row in log.items()
            if f'datetime="{row.created_at.isoformat()}"' in body and row.verb in body}


def page(client, p, **params):
    return client.get(f"/s/{p.sub.pk}/activity/", params)


@pytest.mark.parametrize(("params", "expected"), [
    ({"actor": "alice"}, {"dismiss", "escalate"}),
    ({"actor": "token ci (service)"}, {"token"}),
    ({"actor": "retention"}, {"system"}),
    ({"verb": "alert.resolve"}, {"resolve"}),
    ({"verb": "alert."}, {"dismiss", "resolve"}),
    ({"verb": "incident."}, {"escalate"}),
    ({"target": "incident"}, {"escalate"}),
    ({"since": "2026-11-29"}, {"escalate", "token", "system"}),
    ({"until": "2026-11-28"}, {"dismiss", "resolve", "old"}),
    ({"since": "2026-11-28T10:30:00Z", "until": "2026-11-29T11:00:00+00:00"},
     {"resolve", "escalate"}),
    ({"since": "2026-11-28T12:30:00+02:00"}, {"escalate", "token", "system", "resolve"}),
    ({"since": "2026-11-28T11:00", "until": "2026-11-29T11:00"}, {"resolve", "escalate"}),
    ({"actor": "alice", "verb": "alert."}, {"dismiss"}),
    ({"actor": "nobody"}, set()),
])
def test_it_filters(p, as_user, log, params, expected):
    response = page(as_user(p.analyst), p, **params)
    assert response.status_code == 200
    assert shown(response, log) == expected
    assert b"Fabrikam&#x27;s secret alert" not in response.content


def test_the_unfiltered_page_shows_only_this_subscription(p, as_user, log):
    response = page(as_user(p.lead), p)
    assert shown(response, log) >= {"dismiss", "resolve", "escalate", "token", "system", "old"}
    assert b"Fabrikam" not in response.content


def test_it_offers_the_values_present(p, as_user, log):
    body = page(as_user(p.analyst), p).content.decode()
    for value in ("alert.dismiss", "alert.", "incident.escalate", "token ci (service)",
                  "retention", "workspace"):
        assert f'<option value="{value}">' in body
    # Another subscription's actors and verbs are not offered.
    assert '<option value="outsider">' not in body


@pytest.mark.parametrize(("params", "message"), [
    ({"since": "yesterday"}, "is not a date or time"),
    ({"since": "2026-13-01"}, "is not a date or time"),
    ({"until": "2026-11-28T25:00"}, "is not a date or time"),
    ({"since": "0001-01-01T00:00:00+05:00"}, "is not a date or time"),
    ({"until": "9999-12-31"}, "is not a date or time"),
    ({"since": "2026-11-29", "until": "2026-11-28"}, "Until must be after From"),
    ({"verb": "Alert.Dismiss; DROP"}, "lower-case words joined by dots"),
    ({"verb": "x" * 65}, "at most 64 characters"),
    ({"actor": "a" * 201}, "at most 200 characters"),
    ({"cursor": "garbage"}, "not one this server gave out"),
])
def test_bad_filters_are_a_form_error(p, as_user, log, params, message):
    client = as_user(p.analyst)
    response = page(client, p, **params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert b'role="alert"' in response.content
    # The fragment too answers with the page and its error, never a 500.
    assert page(client, p, HTTP_HX_REQUEST="true", **params).status_code == 400
    if "cursor" not in params:  # the export takes no cursor: it is every filtered entry
        export = client.get(f"/s/{p.sub.pk}/activity/export.csv", params)
        assert export.status_code == 400 and message.encode() in export.content


def test_unicode_digits_and_nul_are_refused(p, as_user, log):
    client = as_user(p.analyst)
    assert page(client, p, since="２０２６-11-28").status_code == 400
    assert page(client, p, actor="alice\x00").status_code == 400


def test_it_pages_with_a_keyset_across_equal_times(p, as_user):
    # 120 entries at one and the same instant: only the id orders them.
    for i in range(120):
        log_at(p.sub, T0, verb="alert.dismiss", target_id=str(i), target_label=f"row-{i:03}")
    log_at(p.sub, T0, verb="token.create", target_label="not an alert")
    client = as_user(p.analyst)
    seen, url = [], f"/s/{p.sub.pk}/activity/?verb=alert."
    for _ in range(5):
        response = client.get(url, HTTP_HX_REQUEST="true" if seen else None)
        assert response.status_code == 200
        body = response.content.decode()
        seen += [int(part[:3]) for part in body.split("row-")[1:]]
        if "cursor=" not in body:
            break
        # The More row keeps the filter.
        assert "?verb=alert.&amp;cursor=" in body
        url = f"/s/{p.sub.pk}/activity/?verb=alert.&cursor=" + \
            body.split("cursor=")[1].split('"')[0]
    assert seen == list(range(119, -1, -1))


def test_the_csv_holds_the_filtered_rows_only(p, as_user, log):
    response = as_user(p.analyst).get(f"/s/{p.sub.pk}/activity/export.csv",
                                      {"verb": "alert.", "until": "2026-11-29"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert disposition.startswith(f'attachment; filename="activity-{p.sub.pk}-contoso-')
    rows = rows_of(response)
    assert rows[0] == ["time", "actor", "verb", "target kind", "target id", "target label",
                       "reason", "before", "after"]
    assert [r[:3] for r in rows[1:]] == [
        ["2026-11-28T11:00:00+00:00", "bob", "alert.resolve"],
        ["2026-11-28T10:00:00+00:00", "alice", "alert.dismiss"],
    ]


def test_the_csv_escapes_formula_leading_cells(p, as_user):
    log_at(p.sub, T0, verb="x.csv", actor="=HYPERLINK(\"http://evil\")", target_label="+SUM(A1)",
           reason="-2+3", target_id="@cmd", before={"n": 1}, after=-5)
    log_at(p.sub, T0 - timedelta(seconds=1), verb="x.csv", actor="\tTAB", target_label="\rCR",
           reason="a normal reason, = inside", after="=quoted json")
    rows = rows_of(as_user(p.analyst).get(f"/s/{p.sub.pk}/activity/export.csv",
                                          {"verb": "x.csv"}))
    assert len(rows) == 3
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["actor"] == "'=HYPERLINK(\"http://evil\")"
    assert first["target label"] == "'+SUM(A1)"
    assert first["reason"] == "'-2+3"
    assert first["target id"] == "'@cmd"
    assert first["before"] == '{"n": 1}'
    assert first["after"] == "'-5"  # a plain negative number is escaped too
    second = dict(zip(rows[0], rows[2], strict=True))
    assert second["actor"] == "'\tTAB" and second["target label"] == "'\rCR"
    assert second["reason"] == "a normal reason, = inside"
    assert second["after"] == '"=quoted json"'  # JSON text starts with its quote


def test_the_csv_filename_is_safe(p, as_user):
    p.sub.name = 'Evil"; filename=x.exe\r\nX-Injected: 1 ü'
    p.sub.save(update_fields=["name"])
    response = as_user(p.analyst).get(f"/s/{p.sub.pk}/activity/export.csv")
    disposition = response["Content-Disposition"]
    name = disposition.split('filename="')[1].rstrip('"')
    assert name.startswith(f"activity-{p.sub.pk}-evil-filename-x-exe-x-injected-1-")
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-.TZ")


def test_the_export_streams_more_than_one_batch(p, as_user, django_assert_max_num_queries):
    for i in range(2500):
        log_at(p.sub, T0 + timedelta(seconds=i % 7), verb="alert.dismiss", target_id=str(i))
    rows = rows_of(as_user(p.analyst).get(f"/s/{p.sub.pk}/activity/export.csv",
                                          {"verb": "alert.dismiss"}))
    assert sorted(int(r[4]) for r in rows[1:]) == list(range(2500))


@pytest.mark.parametrize("role", ["analyst", "lead", "admin"])
def test_every_member_reads_it(p, as_user, log, role):
    client = as_user(getattr(p, role))
    assert page(client, p).status_code == 200
    assert client.get(f"/s/{p.sub.pk}/activity/export.csv").status_code == 200


def test_an_outsider_gets_404(p, as_user, log):
    client = as_user(p.outsider)
    assert page(client, p).status_code == 404
    assert client.get(f"/s/{p.sub.pk}/activity/export.csv").status_code == 404
    # Their own subscription's log holds their own entry only.
    rows = rows_of(client.get(f"/s/{p.other.pk}/activity/export.csv"))
    assert "Fabrikam's secret alert" in {r[5] for r in rows}
    assert "Suspicious sign-in" not in {r[5] for r in rows}


def test_no_route_changes_or_deletes_entries(p, as_user, log):
    staff = get_user_model().objects.create_superuser("root", password="x" * 20)
    before = list(Activity.objects.order_by("id").values())
    client = as_user(p.admin)
    for url in (f"/s/{p.sub.pk}/activity/", f"/s/{p.sub.pk}/activity/export.csv"):
        for method in ("post", "put", "patch", "delete"):
            assert getattr(client, method)(url).status_code == 405
    # The Django admin shows entries and changes none.
    client.force_login(staff)
    row = log["dismiss"]
    assert client.get("/admin/inventory/activity/").status_code == 200
    assert client.get(f"/admin/inventory/activity/{row.pk}/change/").status_code == 200
    assert client.post(f"/admin/inventory/activity/{row.pk}/change/",
                       {"verb": "forged"}).status_code == 403
    assert client.post(f"/admin/inventory/activity/{row.pk}/delete/",
                       {"post": "yes"}).status_code == 403
    assert client.post("/admin/inventory/activity/add/", {"verb": "x"}).status_code == 403
    response = client.post("/admin/inventory/activity/",
                           {"action": "delete_selected", "_selected_action": [row.pk],
                            "post": "yes"})
    assert response.status_code in (200, 302)
    assert list(Activity.objects.order_by("id").values()) == before


def test_no_route_of_the_console_or_the_api_edits_an_entry(p, client, log):
    """Every route and every write method, as the subscription's admin and with a token of
    every scope, with a body naming an entry: entries are added, none is changed or removed."""
    values = objects_of(p)
    before = list(Activity.objects.order_by("id").values())
    last = before[-1]["id"]
    entry = log["dismiss"].pk
    form = {"id": entry, "pk": entry, "activity_id": entry, "verb": "forged",
            "reason": "forged", "note": "forged", "confirm": "yes", "post": "yes"}
    token = make_token(p.sub, user=p.admin, scopes=[Scope.INGEST, Scope.READ, Scope.ADMIN])
    client.force_login(p.admin)
    answered = []
    for name, route in console_routes():
        url = fill(route, values)
        for method in ("post", "put", "patch", "delete"):
            answered.append(getattr(client, method)(url, form).status_code)
    for method, path in api_routes():
        if method == "get":
            continue
        response = getattr(client, method)(fill_api(path, values), data=form,
                                           content_type="application/json", **token.header)
        answered.append(response.status_code)
    assert len(answered) > 100 and any(code < 400 for code in answered)
    assert 500 not in answered
    assert list(Activity.objects.filter(id__lte=last).order_by("id").values()) == before


def test_a_new_entry_refreshes_the_suggestions(p, as_user, log):
    client = as_user(p.analyst)
    assert '<option value="brand.new">' not in page(client, p).content.decode()
    # The newest entry of all (the personas' own entries are written now).
    log_at(p.sub, timezone.now() + timedelta(seconds=1), verb="brand.new", actor="carol")
    body = page(client, p).content.decode()
    assert '<option value="brand.new">' in body and '<option value="carol">' in body
