from django import forms

from alerts.models import Severity
from incidents.models import Incident


class QueueFilterForm(forms.Form):
    severity = forms.MultipleChoiceField(
        required=False, choices=[(s.label, s.label.capitalize()) for s in Severity],
        widget=forms.CheckboxSelectMultiple)
    status = forms.MultipleChoiceField(required=False, choices=Incident.Status.choices,
                                       widget=forms.CheckboxSelectMultiple)
    resource = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    assigned = forms.ChoiceField(required=False, choices=[("", "Anyone"), ("me", "Me"),
                                                          ("none", "Unassigned")])
    escalated = forms.BooleanField(required=False)
    overdue = forms.BooleanField(required=False)
    q = forms.CharField(required=False, max_length=200, strip=True)
    cursor = forms.CharField(required=False, max_length=500)
    view = forms.CharField(required=False, max_length=20)  # marks a saved view's URL
