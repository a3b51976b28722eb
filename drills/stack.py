"""The processes a drill runs against, started by the drill itself: a redis-server of its
own, gunicorn, Celery workers and beat, all on loopback ports nobody else uses, with a
PostgreSQL database of the drill's own (a copy of a migrated template)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG = os.environ.get("DRILLS_PG", "postgres://postgres@127.0.0.1:5432")
TEMPLATE = os.environ.get("DRILLS_DB", "soc_drills")
LOGS = Path(tempfile.mkdtemp(prefix="soc-drills-"))


def free_port() -> int:
    """A loopback port free right now (the kernel's pick)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connect(db: str):
    import psycopg

    return psycopg.connect(f"{PG}/{db}", autocommit=True)


def app_env(db: str, redis_port: int, name: str = "soc-drills", **extra: str) -> dict[str, str]:
    """The environment of a process of the stack: production settings on loopback; its
    database connections carry `name` (pg_stat_activity.application_name)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("CACHE_URL", "CELERY_RESULT_BACKEND", "DJANGO_SETTINGS_MODULE")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "socconsole.settings",
        "DATABASE_URL": f"{PG}/{db}?application_name={name}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "SECRET_KEY": "drills-only-" + "d" * 50,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        # Several processes (gunicorn workers, Celery) cannot share the embedded events
        # engine: as in docker-compose, a ClickHouse server. The drills send no events.
        "EVENTS_URL": os.environ.get("DRILLS_EVENTS_URL",
                                     "clickhouse://soc:soc@127.0.0.1:8123/soc"),
        # A missed task is picked up by beat's sweep; in a drill it need not take a minute.
        "CORRELATION_SWEEP_SECONDS": "3",
        **extra,
    })
    return env


class Process:
    """A child in a process group of its own (so SIGKILL reaches its pool children too),
    its output in a log file under LOGS."""

    def __init__(self, name: str, args: list[str], env: dict[str, str]):
        self.name, self.args, self.env = name, args, env
        self.stopped = False  # by the drill, on purpose
        self.restarts = 0
        self.log = LOGS / f"{name}.log"
        self.start()

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.args, env=self.env, cwd=ROOT, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        self.stopped = True
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, timeout: float = 15) -> None:
        if self.alive():
            self.kill(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self.kill(signal.SIGKILL)  # whatever of the group is left
        self.proc.wait()

    def wait_for(self, text: str, seconds: float) -> None:
        """Until `text` is in the log (the process is ready) or `seconds` have passed."""
        wait_until(lambda: text in self.log.read_text(errors="replace"), seconds,
                   f"{self.name} did not log {text!r}", self)

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(f"  {self.name}| {line}" for line in text[-lines:])


class Redis:
    """A redis-server on its own loopback port, nothing kept on disk: a restart empties
    the queue, which is the point (the database must remember the work)."""

    def __init__(self):
        self.port = free_port()
        self.process = None
        self.start()

    def start(self) -> None:
        self.process = Process(f"redis-{self.port}", [
            "redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
            "--appendonly", "no", "--protected-mode", "yes"], os.environ.copy())
        wait_until(self.ping, 10, "redis-server did not start")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        self.process.stop()


class Web:
    """gunicorn as docker-compose runs it (3 sync workers, 60 s timeout), on loopback."""

    def __init__(self, env: dict[str, str], workers: int = 3):
        self.port = free_port()
        self.process = Process(f"gunicorn-{self.port}", [
            str(BIN / "gunicorn"), "socconsole.wsgi:application", "--bind",
            f"127.0.0.1:{self.port}", "--workers", str(workers), "--timeout", "60",
            "--log-level", "warning"], env)
        wait_until(self.healthy, 60, "gunicorn did not answer /healthz", self.process)

    def healthy(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        except OSError:
            return False

    def stop(self) -> None:
        self.process.stop()


def worker(env: dict[str, str], name: str, concurrency: int = 2) -> Process:
    """A Celery worker as docker-compose runs it (prefork, concurrency 2)."""
    return Process(name, [str(BIN / "celery"), "-A", "socconsole", "worker",
                          "--loglevel=info", f"--concurrency={concurrency}",
                          "-n", f"{name}@drills"], env)


def beat(env: dict[str, str], name: str = "beat") -> Process:
    return Process(name, [str(BIN / "celery"), "-A", "socconsole", "beat",
                          "--loglevel=warning", "--schedule", str(LOGS / f"{name}-schedule")],
                   env)


def wait_until(ready, seconds: float, message: str, process: Process | None = None,
               every: float = 0.1) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if process is not None and not process.alive():
            raise RuntimeError(f"{message}: it exited\n{process.tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(message + (f"\n{process.tail()}" if process else ""))
        time.sleep(every)


SETUP = """
import json
from inventory.activity import Actor
from inventory.subscriptions import create_subscription
from inventory.tokens import create_token
actor = Actor.of_system("drills")
tokens = []
for name in ("Drill one", "Drill two"):
    sub = create_subscription(name=name, actor=actor)
    tokens.append(create_token(subscription=sub, name="drill producer", actor=actor)[1])
print(json.dumps(tokens))
"""


def prepare_template() -> list[str]:
    """Migrate the template database afresh and give it two subscriptions, each with an
    ingest token; returns the tokens (valid in every copy of the template)."""
    with connect("postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
    env = app_env(TEMPLATE, 1)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
    out = subprocess.run([*manage, "shell", "-c", SETUP], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def copy_database(name: str) -> str:
    """A database of the drill's own: a copy of the template, made in a second."""
    db = f"{TEMPLATE}_{name}"
    with connect("postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}" TEMPLATE "{TEMPLATE}"')
    return db


def drop_database(db: str) -> None:
    with connect("postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


class Stack:
    """One drill's database, redis-server, gunicorn, workers and beat; all stopped on
    exit. `settings` are environment variables every process gets."""

    def __init__(self, drill: str, **settings: str):
        self.drill, self.settings = drill, settings
        self.db = copy_database(drill)
        self.redis = Redis()
        self.web: Web | None = None
        self.processes: list[Process] = []
        self._done = threading.Event()
        self._supervisor = threading.Thread(target=self._supervise, daemon=True)
        self._supervisor.start()

    def _supervise(self) -> None:
        """Start again a worker or beat that exited by itself, as docker-compose does
        (`restart: unless-stopped`); the drill reports it."""
        while not self._done.wait(1.0):
            for process in list(self.processes):
                if not process.stopped and not process.alive():
                    process.restarts += 1
                    process.start()

    def env(self, name: str) -> dict[str, str]:
        return app_env(self.db, self.redis.port, f"soc-{name}", **self.settings)

    def start_web(self) -> Web:
        self.web = Web(self.env("web"))
        return self.web

    def start_worker(self, name: str = "worker") -> Process:
        process = worker(self.env(name), f"{self.drill}-{name}")
        self.processes.append(process)
        return process

    def start_beat(self) -> Process:
        process = beat(self.env("beat"), f"{self.drill}-beat")
        self.processes.append(process)
        return process

    def restarted(self) -> dict[str, int]:
        """The workers and beat that exited by itself, and how often."""
        return {p.name: p.restarts for p in self.processes if p.restarts}

    def logs(self) -> str:
        return "\n".join(p.tail() for p in [*self.processes, *(
            [self.web.process] if self.web else [])])

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._supervisor.join()
        for process in self.processes:
            process.stop()
        if self.web:
            self.web.stop()
        self.redis.stop()
