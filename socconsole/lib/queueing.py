"""Queueing a Celery task once the change it follows is committed, without letting a broker
that cannot be reached fail that change: what was stored is an outbox a sweep picks up."""

import logging
from functools import partial

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

logger = logging.getLogger(__name__)


def publish(task, *args, later="a sweep will take it"):
    """Queue `task(*args)` now; a broker error is logged, saying what catches it `later`."""
    try:
        # Nobody waits for the result: without ignore_result, publishing also subscribes
        # to the result store, a second connection that can fail.
        task.apply_async(args=list(args), ignore_result=True)
    except (BrokerError, OSError) as exc:  # OSError: a socket error kombu did not wrap
        logger.warning("%s%s not queued (%s): %s", task.name, tuple(args)[:3], later, exc)


def publish_on_commit(task, *args, later="a sweep will take it"):
    """Queue `task(*args)` when the current transaction commits (at once outside one)."""
    transaction.on_commit(partial(publish, task, *args, later=later))
