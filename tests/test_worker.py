"""One task round trip through a real Celery worker process, Redis and the test database."""

import os
import socket
import subprocess
import sys
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


@pytest.fixture
def worker():
    broker = settings.CELERY_BROKER_URL
    if not redis_reachable(broker) and os.environ.get("CI") != "true":
        pytest.skip("Redis is not running here (CI always runs this test)")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "socconsole.settings_test",
           "DATABASE_URL": database_url(), "CELERY_BROKER_URL": broker}
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "socconsole", "worker", "--pool=solo",
         "--concurrency=1", "--loglevel=warning", "--without-gossip", "--without-mingle",
         "--without-heartbeat", "-n", f"test-{os.getpid()}@%h", "-Q", QUEUE],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    app.conf.task_always_eager = False
    try:
        yield proc
    finally:
        app.conf.task_always_eager = True
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
