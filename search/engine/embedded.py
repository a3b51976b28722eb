"""The embedded engine: chDB in this process, on a data directory only it may open.

chDB holds one data path per process, and a path one process holds cannot be opened by
another. So a process opens one Session and its threads share it behind a lock, and a
lock file beside the path (flock, held for the process's life) makes a second process
fail at once with a message that says what to do, instead of failing obscurely later.
"""

import fcntl
import os
import threading
from pathlib import Path

from .base import Engine, EngineInUse, TransportError, escaped, with_settings
from .ddl import COLUMN_TYPES, COLUMNS, TABLE

try:
    from pyarrow import ArrowException
except ImportError:  # chDB depends on pyarrow; without it, every insert goes as JSON
    ArrowException = ()

SERVER_HINT = ("The embedded engine (EVENTS_URL=chdb://...) serves one process; run "
                "several processes (gunicorn with more than one worker, a separate Celery "
                "worker) against a ClickHouse server: EVENTS_URL=clickhouse://user:password"
                "@host:8123/database (see docs/operations.md).")


class EmbeddedEngine(Engine):
    def __init__(self, path):
        from chdb import session  # imported here: a server install need not load chDB

        self.path = Path(path)
        self.url = f"chdb://{self.path}"
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock_file = _hold(self.path)
        self._pid = os.getpid()
        self._mutex = threading.Lock()
        try:
            self._session = session.Session(str(self.path))
        except Exception as exc:
            self._release()
            raise EngineInUse(f"chDB could not open {self.path}: {exc}. {SERVER_HINT}") \
                from None
        # The process that holds the path owns its table: create it on a new path (a
        # server's tables are created by `manage.py create_events_tables`).
        self.ensure_schema()

    def _run(self, sql, params, settings):
        return self._call(with_settings(sql, settings), params)

    def _insert_rows(self, rows, settings):
        # In process, the rows go to the engine as Arrow columns: no JSON text to write in
        # Python and parse again in the engine (a third of an ingest request's time). A
        # value Arrow will not take as its column's type goes the JSON way, where the
        # engine refuses it as it always has, naming the row.
        try:
            events_batch = arrow_batch(rows)  # noqa: F841 - chDB's Python() reads it by name
        except (ArrowException, TypeError, ValueError, OverflowError, UnicodeError):
            return super()._insert_rows(rows, settings)
        # Squashed into one block, as the JSON insert is parsed into one: the batch is
        # written whole or not at all.
        statement = with_settings(
            f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) SELECT * FROM Python(events_batch)",  # noqa: S608
            {"max_insert_block_size": settings["max_insert_block_size"],
             "min_insert_block_size_rows": len(rows), "min_insert_block_size_bytes": 0})
        self._call(statement, {})

    def _insert(self, body, settings):
        statement = with_settings(f"INSERT INTO {TABLE} ({', '.join(COLUMNS)})", settings)
        self._call(f"{statement}\nFORMAT JSONEachRow\n{body.decode()}", {})

    def _call(self, sql, params):
        if os.getpid() != self._pid:
            raise EngineInUse(f"The embedded events engine at {self.path} was opened by "
                              f"process {self._pid} before this process was forked from "
                              f"it. {SERVER_HINT}")
        texts = {name: escaped(value) for name, value in params.items()}
        with self._mutex:
            if self._session is None:
                raise EngineInUse(f"The embedded events engine at {self.path} is closed.")
            try:
                return self._session.query(sql, "JSONCompact", params=texts).bytes()
            except Exception as exc:  # chDB raises its own RuntimeError subclasses
                # chDB hands what a failed statement had written to the next one's answer:
                # a throwaway statement takes it.
                try:
                    self._session.query("SELECT 1", "JSONCompact")
                except Exception:  # noqa: BLE001, S110 - the first error is the one to report
                    pass
                raise TransportError(str(exc)) from None

    def close(self):
        with self._mutex:
            if self._session is not None:
                self._session.close()
                self._session = None
        self._release()

    def _release(self):
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None


def _arrow_type(kind):
    """The Arrow type that carries a value of ClickHouse type `kind` (ddl.COLUMN_TYPES)."""
    import pyarrow as pa

    kind = kind.split(" CODEC(")[0]
    for wrapper in ("Nullable(", "LowCardinality("):
        while kind.startswith(wrapper):
            kind = kind[len(wrapper):-1]
    if kind.startswith("Map("):
        return pa.map_(pa.string(), pa.string())
    if kind.startswith("DateTime64("):
        return pa.timestamp("us", tz="UTC")
    return {"String": pa.string(), "UInt64": pa.uint64(), "UInt16": pa.uint16(),
            "Int32": pa.int32()}[kind]


def arrow_batch(rows):
    """The rows (tuples in ddl.COLUMNS order) as an Arrow table of the events' columns.
    Raises what pyarrow raises for a value its column's type cannot hold."""
    import pyarrow as pa

    global _ARROW_TYPES
    if _ARROW_TYPES is None:
        _ARROW_TYPES = [_arrow_type(kind) for _, kind in COLUMN_TYPES]
    arrays = []
    for values, kind in zip(zip(*rows, strict=True), _ARROW_TYPES, strict=True):
        if pa.types.is_map(kind):
            offsets, keys, items = [0], [], []
            for mapping in values:
                keys.extend(mapping)
                items.extend(mapping.values())
                offsets.append(len(keys))
            arrays.append(pa.MapArray.from_arrays(pa.array(offsets, pa.int32()),
                                                  pa.array(keys, pa.string()),
                                                  pa.array(items, pa.string())))
        else:
            arrays.append(pa.array(values, kind))
    return pa.Table.from_arrays(arrays, names=list(COLUMNS))


_ARROW_TYPES = None


def lock_path(path):
    """The lock file that says which process holds the embedded engine at `path`."""
    path = Path(path)
    return path.with_name(path.name + ".lock")


def _hold(path):
    lock = lock_path(path)
    handle = lock.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "another process"
        handle.close()
        raise EngineInUse(f"The embedded events engine at {path} is held by process "
                          f"{owner}. {SERVER_HINT}") from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle
