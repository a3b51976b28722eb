"""The events engine: ClickHouse, embedded (chDB) or a server, chosen by EVENTS_URL.

Nothing outside this package knows which transport runs. The API:

- `engine()`: this process's engine (opened on first use, one per process);
- `ensure_schema()`: create the events tables (on EVENTS_CLUSTER: shards and a
  Distributed table over them);
- `delete(where, params)`: delete rows, waited for (on every shard of a cluster);
- `insert(rows)`: store a batch of `row(...)` tuples, durably, all or nothing;
- `query(sql, params, tenant=..., limits=...)`: one SELECT with `{name:Type}`
  parameters, read through the tenant's row filter and within the run's limits;
- `set_retention(workspace_id, days)` and `drop_expired()`: retention (each row also
  carries a TTL, applied by the engine at merges).

Errors: EngineUnavailable (InsertRefused, EngineInUse), QueryError, QueryLimitExceeded.
"""

import threading
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import (
    Engine,
    EngineError,
    EngineInUse,
    EngineUnavailable,
    InsertRefused,
    Limits,
    QueryError,
    QueryLimitExceeded,
    Result,
    Tenant,
)
from .rows import row

__all__ = ["Engine", "EngineError", "EngineInUse", "EngineUnavailable", "InsertRefused",
           "Limits", "QueryError", "QueryLimitExceeded", "Result", "Tenant", "close",
           "delete", "drop_expired", "engine", "ensure_schema", "insert", "query", "row",
           "set_retention", "search_limits"]

SCHEMES = ("chdb", "clickhouse", "clickhouses")

_lock = threading.Lock()
_engine = None


def open_engine(url, *, pool_size=8, timeout=60):
    """A new engine for `url` (chdb://path, clickhouse[s]://user:password@host:port/db)."""
    scheme = urlsplit(url).scheme
    if scheme == "chdb":
        from .embedded import EmbeddedEngine
        return EmbeddedEngine(url[len("chdb://"):])
    if scheme in ("clickhouse", "clickhouses"):
        from .server import ServerEngine
        return ServerEngine(url, pool_size=pool_size, timeout=timeout)
    raise ImproperlyConfigured(f"EVENTS_URL must start with chdb://, clickhouse:// or "
                               f"clickhouses://, not {url!r}.")


def engine():
    """This process's engine, for settings.EVENTS_URL (reopened if the setting changed)."""
    global _engine
    url = settings.EVENTS_URL
    current = _engine
    if current is not None and current.configured_url == url:
        return current
    with _lock:
        if _engine is not None and _engine.configured_url != url:
            _engine.close()  # chDB holds one path per process: free it first
            _engine = None
        if _engine is None:
            opened = open_engine(url, pool_size=settings.EVENTS_POOL_SIZE,
                                 timeout=settings.SEARCH_TIMEOUT_SECONDS + 30)
            opened.configured_url = url
            _engine = opened
        return _engine


def close():
    """Close this process's engine (an embedded path is then free for another process)."""
    global _engine
    with _lock:
        if _engine is not None:
            _engine.close()
            _engine = None


def claim_for_process():
    """At a process's start (a web process, a Celery worker): open the embedded engine
    now, so that a second process on its path (another gunicorn worker, a worker beside
    the web process) fails to start with the reason (EngineInUse), not later."""
    if urlsplit(settings.EVENTS_URL).scheme == "chdb":
        engine()


def ensure_schema():
    return engine().ensure_schema()


def delete(where, params=None):
    return engine().delete(where, params)


def insert(rows):
    return engine().insert(rows)


def query(sql, params=None, *, tenant, limits=None):
    return engine().query(sql, params, tenant=tenant, limits=limits)


def set_retention(workspace_id, days, now=None):
    return engine().set_retention(workspace_id, days, now)


def drop_expired(now=None):
    return engine().drop_expired(now)


def search_limits(**overrides):
    """The limits of a search run, from the settings (SEARCH_TIMEOUT_SECONDS, ...)."""
    values = {"max_execution_time": settings.SEARCH_TIMEOUT_SECONDS,
              "max_result_rows": settings.SEARCH_ROW_LIMIT + 1, "result_overflow_mode": "break",
              "max_bytes_to_read": settings.SEARCH_MAX_BYTES or None}
    values.update(overrides)
    return Limits(**values)
