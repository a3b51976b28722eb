"""One task round trip through a real Celery worker process, Redis and the test database."""

import os
import socket
import subprocess
import sys
import tempfile
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from inventory.models import LoginFailure
from inventory.tasks import purge_login_failures
from socconsole.celery import app

# A queue of its own, so that no other worker on the same Redis can take the task.
QUEUE = f"test-worker-{os.getpid()}"


def redis_reachable(url):
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=1).close()
        return True
    except OSError:
        return False


def database_url():
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return (f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
            f"/{s['NAME']}")


def own_events_url():
    """An embedded events path of its own, for a child process: this process holds its."""
    return f"chdb://{tempfile.mkdtemp(prefix='soc-test-child-events-')}"


def start_worker(**env_extra):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "socconsole.settings_test",
           "DATABASE_URL": database_url(), "CELERY_BROKER_URL": app.conf.broker_url,
           "EVENTS_URL": own_events_url(), **env_extra}
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "socconsole", "worker", "--pool=solo",
         "--concurrency=1", "--loglevel=warning", "--without-gossip", "--without-mingle",
         "--without-heartbeat", "-n", f"test-{os.getpid()}@%h", "-Q", QUEUE],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.fixture
def broker(tmp_path):
    """Redis when it runs (always in CI); else a folder, shared with the worker process."""
    folder = None
    if not redis_reachable(settings.CELERY_BROKER_URL):
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the worker tests against Redis.")
        folder = tmp_path / "broker"
        folder.mkdir()
        saved = {k: app.conf[k] for k in ("broker_url", "broker_transport_options",
                                         "result_backend")}
        app.conf.update(broker_url="filesystem://", result_backend=f"file://{folder}",
                        broker_transport_options={"data_folder_in": str(folder),
                                                  "data_folder_out": str(folder),
                                                  "control_folder": str(folder)})
        saved_env = os.environ.get("CELERY_BROKER_URL")
        # Celery reads this variable before its settings: it must name the folder too.
        os.environ.update(TEST_BROKER_FOLDER=str(folder), CELERY_BROKER_URL="filesystem://")
        _forget_connections()
    app.conf.task_always_eager = False
    try:
        yield
    finally:
        app.conf.task_always_eager = True
        if folder is not None:
            app.conf.update(saved)
            os.environ.pop("TEST_BROKER_FOLDER")
            if saved_env is None:
                os.environ.pop("CELERY_BROKER_URL")
            else:
                os.environ["CELERY_BROKER_URL"] = saved_env
            _forget_connections()


def _forget_connections():
    """Let the app connect afresh to the broker and result backend it is now set to."""
    app._local.__dict__.pop("backend", None)  # the result backend, cached per thread
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def worker(broker):
    proc = start_worker()
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_against_the_database(worker):
    old = LoginFailure.objects.create(username="mallory", address="192.0.2.1")
    LoginFailure.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=1))
    fresh = LoginFailure.objects.create(username="mallory", address="192.0.2.1")
    result = purge_login_failures.apply_async(queue=QUEUE)
    try:
        # Earlier tests run tasks eagerly in this process; this is no subtask.
        answer = result.get(timeout=60, disable_sync_subtasks=False)
    except Exception:
        worker.terminate()
        print(worker.stdout.read().decode(errors="replace"))
        raise
    assert answer == {"purged": 1}
    assert list(LoginFailure.objects.values_list("pk", flat=True)) == [fresh.pk]


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_correlation_loses_nothing(broker, p):
    """Kill -9 a real worker while it correlates; a new one finishes: each alert once."""
    import signal
    import time as clock
    from datetime import UTC, datetime, timedelta

    from alerts.models import Alert, AwaitingCorrelation
    from incidents.models import Incident, IncidentAlert
    from incidents.tasks import correlate_alerts
    from inventory.models import Resource
    from socconsole.lib.bulk import bulk_insert

    resources = bulk_insert(Resource, ("subscription_id", "kind", "name", "external_id"),
                            [(p.sub.pk, "virtual_machine", f"vm-k{i}", "") for i in range(300)])
    start, now = datetime(2026, 11, 1, tzinfo=UTC), datetime.now(UTC)
    ids = bulk_insert(Alert, ("subscription_id", "resource_id", "key", "format",
                              "display_name", "severity", "status", "tactics", "time",
                              "ingested_at", "first_seen", "last_seen"),
                      [(p.sub.pk, resources[i % 300], f"k-{i}", "native", f"Alert {i}", i % 4,
                        "active", ["Execution"], start + timedelta(hours=i % 200), now, now,
                        now) for i in range(3000)])
    AwaitingCorrelation.add(p.sub.pk, ids, new=True)
    first = start_worker(CORRELATION_BATCH="100")
    try:
        correlate_alerts.apply_async(args=[p.sub.pk], queue=QUEUE)
        deadline = clock.monotonic() + 60
        while not IncidentAlert.objects.exists() and clock.monotonic() < deadline:
            clock.sleep(0.05)
        first.send_signal(signal.SIGKILL)  # mid-way: some batches committed, others not
        first.wait(timeout=20)
    finally:
        if first.poll() is None:
            first.kill()
    left = AwaitingCorrelation.objects.count()
    output = first.stdout.read().decode(errors="replace")[-2000:]
    assert 0 < left < 3000, f"the kill did not land mid-correlation ({left} left): {output}"
    second = start_worker(CORRELATION_BATCH="500")
    try:
        result = correlate_alerts.apply_async(args=[p.sub.pk], queue=QUEUE)
        result.get(timeout=120, disable_sync_subtasks=False)
    finally:
        second.terminate()
        second.wait(timeout=20)
    assert not AwaitingCorrelation.objects.exists()
    assert IncidentAlert.objects.count() == 3000  # each alert in exactly one incident
    assert sum(Incident.objects.values_list("alert_count", flat=True)) == 3000


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_search(broker, p):
    from search import engine
    from search.models import QueryRun
    from search.runs import wait_for
    from search.tasks import run_query
    from tests.search.factories import default_workspace, ingest

    ws = default_workspace(p.sub)
    ingest(ws, "SecurityEvent", [{"TimeGenerated": "2026-11-28T10:00:00Z", "EventID": 4625,
                                  "Account": "CONTOSO\\svc-backup"}] * 4)
    run = QueryRun.objects.create(subscription=p.sub, workspace=ws, user=p.analyst,
                                  query="SecurityEvent | summarize count() by Account")
    # An embedded events path serves one process: this one hands it to the worker.
    engine.close()
    worker = start_worker(EVENTS_URL=settings.EVENTS_URL)
    try:
        run_query.apply_async(args=[run.pk], queue=QUEUE)
        wait_for(run, timeout=60)  # the task keeps no result: the run row is the result
        assert (run.state, run.rows, run.truncated) == \
            ("done", [["CONTOSO\\svc-backup", 4]], False), run.error
        finished = run.finished_at
        # Delivered twice (a retry, a second worker): the run is not executed again.
        run_query.apply_async(args=[run.pk], queue=QUEUE)
        import time
        time.sleep(2)
        run.refresh_from_db()
        assert run.finished_at == finished and run.rows == [["CONTOSO\\svc-backup", 4]]
    finally:
        worker.terminate()
        worker.wait(timeout=20)
