import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socconsole.settings")

app = Celery("socconsole", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _claim_embedded_engine(**kwargs):
    from search.engine import EngineInUse, claim_for_process

    try:
        claim_for_process()
    except EngineInUse as exc:
        # Celery logs and ignores a signal handler's exceptions: only an exit stops it.
        raise SystemExit(str(exc)) from None
