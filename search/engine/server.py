"""A ClickHouse server (or cluster) over HTTP(S), through clickhouse-connect.

Inserts are asynchronous on the server, batched with others there, and answered only
once flushed (`wait_for_async_insert=1`): what returns is durable. Connections come
from one bounded pool per process.
"""

import threading
from urllib.parse import unquote, urlsplit

from .base import Engine, TransportError, error_code, param_text
from .ddl import COLUMNS, TABLE

ASYNC_INSERT = {"async_insert": 1, "wait_for_async_insert": 1}


class ServerEngine(Engine):
    def __init__(self, url, *, pool_size=8, timeout=60):
        parts = urlsplit(url)
        self.secure = parts.scheme == "clickhouses"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (8443 if self.secure else 8123)
        self.username = unquote(parts.username or "default")
        self._password = unquote(parts.password or "")
        self.database = parts.path.lstrip("/") or "default"
        # The URL without its password, for messages and logs.
        self.url = f"{parts.scheme}://{self.username}@{self.host}:{self.port}/{self.database}"
        self.pool_size = pool_size
        self.timeout = timeout
        self._client = None
        self._mutex = threading.Lock()

    def _connect(self):
        import clickhouse_connect
        from clickhouse_connect.driver import httputil

        with self._mutex:
            if self._client is None:
                self._client = clickhouse_connect.get_client(
                    host=self.host, port=self.port, username=self.username,
                    password=self._password, database=self.database, secure=self.secure,
                    connect_timeout=5, send_receive_timeout=self.timeout,
                    autogenerate_session_id=False,
                    pool_mgr=httputil.get_pool_manager(maxsize=self.pool_size, block=True))
            return self._client

    def _run(self, sql, params, settings):
        # clickhouse-connect escapes a scalar's text and writes arrays and maps itself.
        texts = {name: value if isinstance(value, (list, tuple, dict)) else param_text(value)
                 for name, value in params.items()}
        return self._guard(lambda c: c.raw_query(sql, parameters=texts, settings=settings,
                                                 fmt="JSONCompact"))

    def _insert(self, body, settings):
        self._guard(lambda c: c.raw_insert(TABLE, list(COLUMNS), insert_block=body,
                                           settings={**settings, **ASYNC_INSERT},
                                           fmt="JSONEachRow"))

    def _guard(self, call):
        from clickhouse_connect.driver.exceptions import ClickHouseError, OperationalError

        try:
            return call(self._connect())
        except OperationalError as exc:
            # A server's own error carries its code; without one, it was not reached.
            raise TransportError(str(exc), unavailable=error_code(str(exc)) is None) \
                from None
        except ClickHouseError as exc:
            raise TransportError(str(exc)) from None
        except OSError as exc:
            raise TransportError(str(exc), unavailable=True) from None

    def close(self):
        with self._mutex:
            if self._client is not None:
                self._client.close()
                self._client = None
