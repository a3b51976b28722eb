from django import forms

from alerts.models import Severity, Status


class AlertFilterForm(forms.Form):
    severity = forms.MultipleChoiceField(
        required=False, choices=[(s.label, s.label.capitalize()) for s in Severity],
        widget=forms.CheckboxSelectMultiple)
    status = forms.MultipleChoiceField(required=False, choices=Status.choices,
                                       widget=forms.CheckboxSelectMultiple)
    resource = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    cursor = forms.CharField(required=False, max_length=500)
