"""ISO 8601 times in API parameters, and nothing else that pydantic would take for one."""

import re
from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

# pydantic also reads numbers as Unix times ("0.5", "20261128"): the API documents
# ISO 8601 only, so a time must begin with a calendar date.
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:$|[T ])")


def _iso_only(value: object) -> object:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise PydanticCustomError("iso_datetime", "Input should be an ISO 8601 date or time, "
                                  "such as 2026-11-28 or 2026-11-28T10:00:00Z")
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_iso_only), WithJsonSchema({
    "anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}],
})]
