"""Keyset pagination: a page is a WHERE on the sort key, never an OFFSET."""

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db.models import Q


class BadCursor(ValueError):
    pass


@dataclass
class Page:
    items: list
    next_cursor: str | None


def encode_cursor(values):
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor, fields):
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, TypeError):
        raise BadCursor("The cursor is not one this server gave out.") from None
    if not isinstance(values, list) or len(values) != len(fields) or None in values:
        raise BadCursor("The cursor is not one this server gave out.")
    return values


def _after(fields, values):
    """Q for rows strictly after `values` in the order `fields` (each '-f' descending)."""
    condition = Q()
    for i in range(len(fields) - 1, -1, -1):
        name = fields[i].lstrip("-")
        op = "lt" if fields[i].startswith("-") else "gt"
        strict = Q(**{f"{name}__{op}": values[i]})
        condition = strict if i == len(fields) - 1 else strict | (
            Q(**{name: values[i]}) & condition)
    # The same bound on the first field alone, redundant but one an index can seek to:
    # under the OR, PostgreSQL scans from the start of the range and filters, so walking
    # a large set page by page would cost the square of its size.
    first = fields[0].lstrip("-")
    bound = Q(**{f"{first}__{'lte' if fields[0].startswith('-') else 'gte'}": values[0]})
    return bound & condition if len(fields) > 1 else condition


def keyset_page(queryset, fields, cursor=None, size=50, key=None):
    """One page of `queryset` ordered by `fields` (the last must be unique, e.g. id).

    `key(obj)` gives the cursor values of an item (default: the attributes named).
    A bad cursor raises BadCursor; callers turn it into a 400.
    """
    queryset = queryset.order_by(*fields)
    if cursor:
        values = decode_cursor(cursor, fields)
        for i, f in enumerate(fields):
            field = queryset.model._meta.get_field(f.lstrip("-"))
            if isinstance(values[i], (list, dict, bool)):
                raise BadCursor("The cursor is not one this server gave out.")
            try:
                values[i] = field.to_python(values[i])
                if isinstance(values[i], datetime) and values[i].tzinfo is not None:
                    # A time at the calendar's edge fails here, not in the database driver.
                    values[i] = values[i].astimezone(UTC)
            except (ValidationError, TypeError, ValueError, OverflowError):
                raise BadCursor("The cursor is not one this server gave out.") from None
        queryset = queryset.filter(_after(fields, values))
    items = list(queryset[: size + 1])
    next_cursor = None
    if len(items) > size:
        items = items[:size]
        last = items[-1]
        values = key(last) if key else [getattr(last, f.lstrip("-")) for f in fields]
        next_cursor = encode_cursor(values)
    return Page(items, next_cursor)
