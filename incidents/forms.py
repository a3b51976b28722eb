from django import forms

from alerts.models import Severity
from incidents.models import Incident
from socconsole.lib.ids import IdField


class QueueFilterForm(forms.Form):
    severity = forms.MultipleChoiceField(
        required=False, choices=[(s.label, s.label.capitalize()) for s in Severity],
        widget=forms.CheckboxSelectMultiple)
    status = forms.MultipleChoiceField(required=False, choices=Incident.Status.choices,
                                       widget=forms.CheckboxSelectMultiple)
    # A resource by name (as the rows link it) or by id.
    resource = forms.CharField(required=False, max_length=255, strip=True)
    subscription = IdField(required=False)
    since = forms.DateTimeField(required=False)   # latest alert at or after (UTC)
    until = forms.DateTimeField(required=False)   # first alert at or before (UTC)
    assigned = forms.ChoiceField(required=False, choices=[("", "Anyone"), ("me", "Me"),
                                                          ("none", "Unassigned")])
    escalated = forms.BooleanField(required=False)
    overdue = forms.BooleanField(required=False)
    q = forms.CharField(required=False, max_length=200, strip=True)
    cursor = forms.CharField(required=False, max_length=500)
    view = forms.CharField(required=False, max_length=20)  # marks a saved view's URL

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end of the time range is before its start.")
        return data
