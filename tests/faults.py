"""Real database faults for tests: the app's connection lost mid-transaction.

On PostgreSQL another connection terminates the app's backend (pg_terminate_backend)
when the app runs a chosen statement; on SQLite another connection takes the write
lock as the app begins a transaction, so it cannot ("database is locked"). Either fault lasts
for the first `times` tries and is then lifted as the retry is logged.
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import contextmanager

from django.db import connection


class _LiftOnRetry(logging.Handler):
    def __init__(self, fault):
        super().__init__()
        self.fault = fault

    def emit(self, record):
        if "transient database failure" in record.getMessage():
            self.fault.failed += 1
            if self.fault.failed >= self.fault.times:
                self.fault.lift()


class DatabaseFault:
    def __init__(self, times: int, statement: str | None):
        self.times, self.statement = times, statement
        self.failed = 0
        self.lifted = False
        self._lock = None

    def lift(self) -> None:
        self.lifted = True
        if self._lock is not None:
            self._lock.rollback()
            self._lock.close()
            self._lock = None

    # PostgreSQL: terminate the backend as it is about to run the statement.
    def _terminate(self, execute, sql, params, many, context):
        if not self.lifted and (self.statement or "pg_advisory_xact_lock") in sql:
            import psycopg

            s = connection.settings_dict
            pid = connection.connection.info.backend_pid
            with psycopg.connect(dbname=s["NAME"], host=s["HOST"] or "127.0.0.1",
                                 port=s["PORT"] or 5432, user=s["USER"],
                                 password=s["PASSWORD"] or None, autocommit=True) as other:
                # Waits (up to 5 s) until the backend is gone.
                other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
        return execute(sql, params, many, context)

    # SQLite: as the app begins a transaction, another connection holds the write lock.
    def _hold_lock(self, execute, sql, params, many, context):
        if not self.lifted and self._lock is None and (self.statement or "BEGIN") in sql:
            self._lock = sqlite3.connect(connection.settings_dict["NAME"], timeout=5,
                                         isolation_level=None)
            self._lock.execute("BEGIN IMMEDIATE")
        return execute(sql, params, many, context)

    @contextmanager
    def active(self):
        handler = _LiftOnRetry(self)
        logger = logging.getLogger("socconsole.lib.transient")
        logger.addHandler(handler)
        options = connection.settings_dict["OPTIONS"]
        saved = options.get("timeout")
        try:
            if connection.vendor == "postgresql":
                connection.ensure_connection()
                with connection.execute_wrapper(self._terminate):
                    yield self
            else:
                options["timeout"] = 0.3  # the app's wait for the lock: short
                connection.close()
                with connection.execute_wrapper(self._hold_lock):
                    yield self
        finally:
            self.lift()
            logger.removeHandler(handler)
            if connection.vendor != "postgresql":
                options["timeout"] = saved
                connection.close()


def database_fault(times: int = 1, statement: str | None = None) -> DatabaseFault:
    """A fault for the first `times` tries (a large number: for every try), at the first
    statement that contains `statement`: by default, as ingest takes its lock (PostgreSQL)
    or begins its transaction (SQLite)."""
    return DatabaseFault(times, statement)
