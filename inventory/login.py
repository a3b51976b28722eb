"""Sign-in throttling: failed sign-ins counted per (account, address) pair, per address and,
more slowly, per account.

The pair limit is the tight one (LOGIN_FAILURES_PER_PAIR in LOGIN_FAILURE_WINDOW): someone
guessing a user's password from one address is stopped after a few tries, while the user,
signing in from their own address, is not locked out by it. The account limit
(LOGIN_FAILURES_PER_ACCOUNT in LOGIN_ACCOUNT_WINDOW) stops guessing spread over many
addresses; the address limit stops one address trying many accounts."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from inventory.models import LoginFailure


def _since(seconds: int):
    return timezone.now() - timedelta(seconds=seconds)


def is_throttled(username: str, address: str | None) -> bool:
    name = username.lower()
    recent = LoginFailure.objects.filter(created_at__gte=_since(settings.LOGIN_FAILURE_WINDOW))
    if recent.filter(username=name, address=address).count() >= settings.LOGIN_FAILURES_PER_PAIR:
        return True
    if address and recent.filter(address=address).count() >= settings.LOGIN_FAILURES_PER_ADDRESS:
        return True
    return LoginFailure.objects.filter(
        username=name, created_at__gte=_since(settings.LOGIN_ACCOUNT_WINDOW),
    ).count() >= settings.LOGIN_FAILURES_PER_ACCOUNT


def note_failure(username: str, address: str | None) -> None:
    LoginFailure.objects.create(username=username.lower()[:150], address=address)


def note_success(username: str, address: str | None) -> None:
    # Only this pair's: a right password must not wipe what others tried on the account.
    LoginFailure.objects.filter(username=username.lower(), address=address).delete()


def purge_old_failures() -> int:
    since = _since(max(settings.LOGIN_FAILURE_WINDOW, settings.LOGIN_ACCOUNT_WINDOW))
    return LoginFailure.objects.filter(created_at__lt=since).delete()[0]
