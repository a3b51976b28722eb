"""Database failures that are not the data's fault, and trying the work again after one.

A lost connection (the server restarted, an admin terminated the backend), a
serialization failure or a deadlock says nothing about the rows being written:
the whole transaction is tried again on a fresh connection, a bounded number of
times, and then the caller is told the database is unavailable (HTTP 503), never
that an item was refused.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections

logger = logging.getLogger(__name__)
T = TypeVar("T")

TRIES = 3
BACKOFF_SECONDS = 0.2
RETRY_AFTER_SECONDS = 5
# serialization_failure, deadlock_detected, lock_not_available, too_many_connections,
# admin_shutdown, crash_shutdown, cannot_connect_now; and class 08, connection exceptions.
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03", "53300", "57P01", "57P02",
                                 "57P03"})


class StorageUnavailable(Exception):
    """The database kept failing for reasons of its own; nothing of the work was stored.
    The caller answers 503 with Retry-After (the API) or fails the command."""

    retry_after = RETRY_AFTER_SECONDS

    def __init__(self, message: str = "The database is unavailable right now; nothing was "
                 f"stored. Send the request again in {RETRY_AFTER_SECONDS} seconds."):
        super().__init__(message)
        self.message = message


def is_transient(exc: BaseException) -> bool:
    """True for a database error that trying again on a fresh connection may cure."""
    if not isinstance(exc, DatabaseError):
        return False
    if isinstance(exc, InterfaceError):  # the connection is already closed
        return True
    cause = exc.__cause__ or exc
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate:
        return sqlstate in TRANSIENT_SQLSTATES or sqlstate.startswith("08")
    if not isinstance(exc, OperationalError):
        return False
    if type(cause).__module__.startswith("sqlite3"):
        # SQLite's OperationalError also means "no such table" or "too many variables".
        return "locked" in str(cause) or "busy" in str(cause)
    # psycopg's OperationalError without a SQLSTATE is the client losing the server.
    return True


def retry_transient(work: Callable[[], T], *, what: str = "work",
                    using: str = DEFAULT_DB_ALIAS, tries: int = TRIES) -> T:
    """Run `work` (which opens its own transaction) again after a transient failure, on a
    fresh connection; raise StorageUnavailable once `tries` runs have failed, or at once
    inside an outer transaction, which the failure has lost and which cannot be redone."""
    connection = connections[using]
    for attempt in range(1, tries + 1):
        try:
            return work()
        except DatabaseError as exc:
            if not is_transient(exc):
                raise
            if connection.in_atomic_block:
                raise StorageUnavailable() from exc
            logger.warning("%s: transient database failure (try %s of %s): %s", what, attempt,
                           tries, exc)
            drop_connection(using)
            if attempt == tries:
                raise StorageUnavailable() from exc
            time.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


def drop_connection(using: str = DEFAULT_DB_ALIAS) -> None:
    """Close the connection so that the next query opens a new one (outside a transaction;
    inside one, Django closes it when the outermost block exits)."""
    connection = connections[using]
    if connection.in_atomic_block:
        return
    try:
        connection.close()
    except DatabaseError:
        logger.debug("closing a broken connection failed", exc_info=True)
