"""Query and path parameters every API router reads alike: ids, enum words, times."""

from datetime import UTC, datetime

from socconsole.lib.apierrors import ApiError


def words(values: list[str] | None, allowed: list[str], field: str) -> list[str]:
    """Lower-cased enum words (any case accepted, as at ingestion); 400 naming the field."""
    found = [v.strip().lower() for v in values or []]
    bad = [w for w in found if w not in allowed]
    if bad:
        raise ApiError(400, "invalid", f"{field}: unknown value {bad[0]!r}; use "
                       f"{', '.join(allowed)}.", field)
    return found


def utc(value: datetime | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise ApiError(400, "invalid", f"{field}: a time this console cannot store.",
                       field) from None
