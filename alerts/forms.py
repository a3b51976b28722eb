from django import forms

from alerts.models import DISMISS_VERDICTS, Severity, Status, Verdict
from alerts.suppression import MAX_DAYS
from socconsole.lib.ids import IdField


class AlertFilterForm(forms.Form):
    severity = forms.MultipleChoiceField(
        required=False, choices=[(s.label, s.label.capitalize()) for s in Severity],
        widget=forms.CheckboxSelectMultiple)
    status = forms.MultipleChoiceField(required=False, choices=Status.choices,
                                       widget=forms.CheckboxSelectMultiple)
    resource = IdField(required=False)
    # What the dashboard's figures link to: one alert type, a verdict, a time range (UTC).
    type = forms.CharField(required=False, max_length=300, strip=False)
    verdict = forms.ChoiceField(required=False, choices=[("", "Any"), *Verdict.choices])
    since = forms.DateTimeField(required=False)   # at or after
    until = forms.DateTimeField(required=False)   # before
    cursor = forms.CharField(required=False, max_length=500)


class DismissForm(forms.Form):
    verdict = forms.ChoiceField(choices=[(v.value, v.label) for v in DISMISS_VERDICTS])
    comment = forms.CharField(required=False, max_length=4000, strip=True,
                              widget=forms.Textarea(attrs={"rows": 2}))


class CommentForm(forms.Form):
    comment = forms.CharField(required=False, max_length=4000, strip=True,
                              widget=forms.Textarea(attrs={"rows": 2}))


class SuppressScopeForm(forms.Form):
    """The scope of a suppression rule: one of the choices offered for this alert
    (`alerts.suppression.scope_choices`), never a value parsed from the request."""

    scope = forms.ChoiceField(error_messages={
        "required": "Choose the resource or one of the alert's entities.",
        "invalid_choice": "Scope the rule to this alert's resource or to one of its "
                          "entities."})

    def __init__(self, *args, scopes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = scopes


class SuppressForm(SuppressScopeForm):
    days = forms.IntegerField(min_value=1, max_value=MAX_DAYS, initial=30, error_messages={
        key: f"A rule lasts 1 to {MAX_DAYS} days."
        for key in ("required", "invalid", "min_value", "max_value")})
    reason = forms.CharField(max_length=2000, strip=True, error_messages={
        "required": "Say why these alerts may be suppressed.",
        "max_length": "Keep the reason under 2,000 characters."})
