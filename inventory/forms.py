import re
from datetime import UTC, datetime, time, timedelta

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.utils import dateparse

from inventory import login
from inventory.activity import ActivityFilter
from inventory.models import Resource
from inventory.roles import DEFAULT_SCOPES, Role, Scope
from socconsole.lib.net import client_address


class LoginForm(AuthenticationForm):
    """The stock form, throttled; its errors never say whether an account exists."""

    error_messages = {
        "invalid_login": "That user name and password do not match an active account.",
        "inactive": "That user name and password do not match an active account.",
        "throttled": "Too many failed sign-ins. Wait a few minutes and try again.",
    }

    def clean(self):
        username = (self.cleaned_data.get("username") or "").strip()
        address = client_address(self.request, settings.TRUSTED_PROXIES)
        if login.is_throttled(username, address):
            raise ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError:
            login.note_failure(username, address)
            raise
        login.note_success(username, address)
        return cleaned


class TokenForm(forms.Form):
    name = forms.CharField(max_length=120, strip=True)
    user = forms.ChoiceField(required=False, help_text="Empty: a service identity (ingest, read).")
    scopes = forms.MultipleChoiceField(
        choices=[(s.value, s.value) for s in Scope], initial=[s.value for s in DEFAULT_SCOPES],
        widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, members=(), **kwargs):
        # A token acts for the admin creating it or for no one (a service identity): an
        # admin must not mint rights of another member's role.
        super().__init__(*args, **kwargs)
        self.members = {str(m.user_id): m.user for m in members}
        self.fields["user"].choices = [("", "— service identity —")] + [
            (str(m.user_id), f"me, {m.user.get_username()} ({Role(m.role).label})")
            for m in members]

    def clean_user(self):
        value = self.cleaned_data.get("user")
        return self.members.get(value) if value else None


class MemberForm(forms.Form):
    # A name no user could have (`<script>`, spaces) is refused: the same rule for every name,
    # so the answer still says nothing about which users exist.
    username = forms.CharField(max_length=150, strip=True,
                               validators=[UnicodeUsernameValidator()])
    email = forms.EmailField(required=False, help_text="Only for a new account.")
    role = forms.ChoiceField(choices=[(r.value, r.label) for r in Role])
    reason = forms.CharField(max_length=500, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False, strip=True)


class WorkspaceForm(forms.Form):
    name = forms.CharField(max_length=120, strip=True)
    retention_days = forms.IntegerField(min_value=1, max_value=3650, initial=90)


class RetentionForm(forms.Form):
    retention_days = forms.IntegerField(min_value=1, max_value=3650)
    reason = forms.CharField(max_length=500, required=False, strip=True)


class DefenderPlanForm(forms.Form):
    plan = forms.ChoiceField(choices=[("on", "On"), ("off", "Off")])
    reason = forms.CharField(max_length=500, strip=True,
                             error_messages={"required": "Say why: a reason is required."})


ON_OFF = [("on", "On"), ("off", "Off")]


class ResourceFilterForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "any kind")] + list(Resource.Kind.choices),
                             required=False)
    not_monitored = forms.BooleanField(required=False)
    cursor = forms.CharField(required=False, max_length=400)


class CollectionForm(forms.Form):
    """Turning automatic provisioning, or one resource's collection, on or off."""

    state = forms.ChoiceField(choices=ON_OFF)
    reason = forms.CharField(max_length=500, strip=True, error_messages={
        "required": "Give a reason: it is written to the activity log."})

    def clean_state(self):
        return self.cleaned_data["state"] == "on"


VERB = re.compile(r"[a-z0-9_]+(?:\.[a-z0-9_]+)*\.?")


class IsoTimeField(forms.Field):
    """An ISO 8601 date or time, as typed or as a browser's date input sends it. A time
    without offset is UTC; a date alone is its 00:00 UTC, or with `end_of_day` the next
    day's (so "until 2026-11-28" includes that day)."""

    def __init__(self, *args, end_of_day: bool = False, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)
        self.end_of_day = end_of_day

    def to_python(self, value):
        text = (value or "").strip()
        if not text:
            return None
        message = (f"{text[:40]!r} is not a date or time; use 2026-11-28 or "
                   "2026-11-28T10:00:00Z.")
        # Python's ISO parsers read other scripts' digits ("２０２６"): ASCII only.
        if len(text) > 40 or not text.isascii():
            raise ValidationError(message, code="invalid")
        try:
            # A date alone first: parse_datetime also reads "2026-11-28", as its midnight.
            day = dateparse.parse_date(text) if len(text) == 10 else None
            if day is not None:
                moment = datetime.combine(day, time.min)
                if self.end_of_day:
                    moment += timedelta(days=1)
            else:
                moment = dateparse.parse_datetime(text)
                if moment is None:
                    raise ValidationError(message, code="invalid")
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return moment.astimezone(UTC)
        except (ValueError, OverflowError):
            raise ValidationError(message, code="invalid") from None


class ActivityFilterForm(forms.Form):
    """The activity page's filters; `choices` are what the subscription's log holds."""

    actor = forms.CharField(required=False, max_length=200, strip=True)
    verb = forms.CharField(required=False, max_length=64, strip=True, help_text=(
        "An action, or a prefix ending in a dot: alert."))
    target = forms.CharField(required=False, max_length=64, strip=True, label="Target kind")
    since = IsoTimeField(label="From")
    until = IsoTimeField(label="Until", end_of_day=True)
    cursor = forms.CharField(required=False, max_length=500)

    def clean_verb(self):
        verb = self.cleaned_data["verb"]
        if verb and not VERB.fullmatch(verb):
            raise ValidationError("An action is lower-case words joined by dots, such as "
                                  "alert.dismiss, or a prefix ending in a dot, such as alert.")
        return verb

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until <= since:
            self.add_error("until", "Until must be after From.")
        return cleaned

    def activity_filter(self) -> ActivityFilter:
        data = self.cleaned_data
        return ActivityFilter(actor=data["actor"], verb=data["verb"],
                              target_type=data["target"], since=data["since"],
                              until=data["until"])
