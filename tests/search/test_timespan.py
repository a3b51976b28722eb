import datetime as dt

import pytest

from search.timespan import TimespanError, page_range, parse_duration, parse_timespan

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("text,expected", [
    ("P1D", dt.timedelta(days=1)), ("PT86400.0S", dt.timedelta(days=1)),
    ("PT1H", dt.timedelta(hours=1)), ("P1DT2H30M", dt.timedelta(days=1, hours=2, minutes=30)),
    ("P2W", dt.timedelta(weeks=2)), ("pt15m", dt.timedelta(minutes=15)),
])
def test_it_reads_iso_8601_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "P", "PT", "1D", "P1DT", "PT-5S", "P0D", "P99999999D",
                                  "P1Y", "yesterday"])
def test_it_refuses_what_is_not_a_duration(text):
    with pytest.raises(TimespanError):
        parse_timespan(text, NOW)


def test_it_reads_the_forms_of_a_timespan():
    day = dt.timedelta(days=1)
    assert parse_timespan("P1D", NOW) == (NOW - day, NOW)
    assert parse_timespan("2026-11-27T12:00:00Z/2026-11-28T12:00:00Z", NOW) == (NOW - day, NOW)
    assert parse_timespan("2026-11-27T12:00:00Z/P1D", NOW) == (NOW - day, NOW)
    assert parse_timespan("P1D/2026-11-28T12:00:00Z", NOW) == (NOW - day, NOW)
    with pytest.raises(TimespanError):
        parse_timespan("2026-11-28T12:00:00Z/2026-11-27T12:00:00Z", NOW)


def test_the_page_ranges():
    assert page_range("1h", NOW) == (NOW - dt.timedelta(hours=1), NOW)
    assert page_range("query", NOW) is None
    assert page_range("custom", NOW, NOW - dt.timedelta(hours=2), NOW) == (
        NOW - dt.timedelta(hours=2), NOW)
    with pytest.raises(TimespanError):
        page_range("custom", NOW)
