"""Time ranges: the search page's choices and the query API's ISO 8601 timespans."""

import datetime as dt
import re

_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$", re.IGNORECASE)
MAX_SPAN = dt.timedelta(days=36500)

# The search page's ranges: value → (label, length).
CHOICES = {
    "1h": ("Last hour", dt.timedelta(hours=1)),
    "24h": ("Last 24 hours", dt.timedelta(hours=24)),
    "7d": ("Last 7 days", dt.timedelta(days=7)),
    "30d": ("Last 30 days", dt.timedelta(days=30)),
    "custom": ("Custom", None),
    "query": ("Set in query", None),
}


class TimespanError(ValueError):
    """A timespan that cannot be read; the message says what is expected."""


def parse_duration(text):
    match = _DURATION.match(text.strip())
    if not match or text.strip().upper() in ("P", "PT") or text.strip().upper().endswith("T"):
        raise TimespanError(f"{text!r} is not an ISO 8601 duration (for example P1D or "
                            "PT86400.0S).")
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    try:
        span = dt.timedelta(**parts)
    except OverflowError:
        raise TimespanError(f"{text!r} is too long.") from None
    if span <= dt.timedelta(0) or span > MAX_SPAN:
        raise TimespanError(f"{text!r} must be longer than zero and at most 100 years.")
    return span


def parse_instant(text):
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise TimespanError(f"{text!r} is not an ISO 8601 time.") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def parse_timespan(text, now):
    """`duration` (ending now), `start/end`, `start/duration` or `duration/end` →
    (start, end)."""
    if not isinstance(text, str) or not text.strip():
        raise TimespanError("The timespan is empty.")
    if "/" not in text:
        return now - parse_duration(text), now
    first, _, second = text.partition("/")
    if first.strip().upper().startswith("P"):
        end = parse_instant(second)
        return end - parse_duration(first), end
    start = parse_instant(first)
    end = start + parse_duration(second) if second.strip().upper().startswith("P") \
        else parse_instant(second)
    if end <= start:
        raise TimespanError("The timespan ends before it starts.")
    return start, end


def page_range(choice, now, start=None, end=None):
    """The search page's range as (start, end), or None when the query sets its own."""
    if choice == "custom":
        if start is None or end is None:
            raise TimespanError("A custom range needs a start and an end.")
        if end <= start:
            raise TimespanError("The range ends before it starts.")
        return start, end
    if choice not in CHOICES or CHOICES[choice][1] is None:
        return None
    return now - CHOICES[choice][1], now
