"""Database ids from the outside world (URLs, forms, query parameters), parsed one way.

`str.isdigit()` is true for "¹" and `int()` accepts "١" (Arabic-Indic) and "1_0"; an id
is 1 to 19 ASCII digits and fits PostgreSQL's bigint, or it is not an id."""

import re
from typing import Annotated

from django import forms
from pydantic import BeforeValidator

MAX_ID = 2**63 - 1
ID_PATTERN = "[0-9]{1,19}"
_ID = re.compile(ID_PATTERN, re.ASCII)


def parse_id(value: object) -> int | None:
    """The id `value` spells, or None when it is not one (callers answer 404 or 400)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 1 <= value <= MAX_ID else None
    if not isinstance(value, str) or not _ID.fullmatch(value):
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


def is_id(value: object) -> bool:
    return parse_id(value) is not None


class IdField(forms.Field):
    """A form field holding one id; anything else is the field's error."""

    default_error_messages = {"invalid": "Not an id."}

    def to_python(self, value: object) -> int | None:
        if value in self.empty_values:
            return None
        number = parse_id(value.strip() if isinstance(value, str) else value)
        if number is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return number


def _api_id(value: object) -> int:
    # Before pydantic's own int parsing, which takes "+1", " 1", "1_0" and "1.0".
    number = parse_id(value)
    if number is None:
        raise ValueError(f"must be an id: 1 to 19 digits (0-9), at most {MAX_ID}")
    return number


# An id in an API path or query parameter (pair it with Path(..., ge=1, le=MAX_ID) or
# Field(None, ge=1, le=MAX_ID) so that the schema says so).
ApiId = Annotated[int, BeforeValidator(_api_id)]
