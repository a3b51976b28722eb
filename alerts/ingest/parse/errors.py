"""Errors and warnings produced while splitting and normalising alerts."""

from __future__ import annotations

from dataclasses import dataclass

from socconsole.lib.jsonbody import BodyError, InvalidJSON  # noqa: F401 - re-exported


class ItemRejected(Exception):
    """One item cannot be accepted; the other items of the body are unaffected."""

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "field": self.field}

    def __repr__(self) -> str:
        return f"ItemRejected({self.code!r}, {self.message!r}, field={self.field!r})"


@dataclass(slots=True)
class Warning:  # noqa: A001 - the name is part of the public API
    """Something odd in an accepted item, reported back to the producer."""

    code: str
    message: str
    field: str | None = None

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "field": self.field}


ParseWarning = Warning
