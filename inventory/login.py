"""Sign-in throttling: failed logins counted per account and per client address."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from inventory.models import LoginFailure


def is_throttled(username, address):
    since = timezone.now() - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)
    recent = LoginFailure.objects.filter(created_at__gte=since)
    if recent.filter(username=username.lower()).count() >= settings.LOGIN_FAILURES_PER_ACCOUNT:
        return True
    return bool(address) and (
        recent.filter(address=address).count() >= settings.LOGIN_FAILURES_PER_ADDRESS)


def note_failure(username, address):
    LoginFailure.objects.create(username=username.lower()[:150], address=address)


def note_success(username):
    LoginFailure.objects.filter(username=username.lower()).delete()


def purge_old_failures():
    since = timezone.now() - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)
    return LoginFailure.objects.filter(created_at__lt=since).delete()[0]
