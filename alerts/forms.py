from django import forms

from alerts.models import DISMISS_VERDICTS, Severity, Status


class AlertFilterForm(forms.Form):
    severity = forms.MultipleChoiceField(
        required=False, choices=[(s.label, s.label.capitalize()) for s in Severity],
        widget=forms.CheckboxSelectMultiple)
    status = forms.MultipleChoiceField(required=False, choices=Status.choices,
                                       widget=forms.CheckboxSelectMultiple)
    resource = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    cursor = forms.CharField(required=False, max_length=500)


class DismissForm(forms.Form):
    verdict = forms.ChoiceField(choices=[(v.value, v.label) for v in DISMISS_VERDICTS])
    comment = forms.CharField(required=False, max_length=4000, strip=True,
                              widget=forms.Textarea(attrs={"rows": 2}))


class CommentForm(forms.Form):
    comment = forms.CharField(required=False, max_length=4000, strip=True,
                              widget=forms.Textarea(attrs={"rows": 2}))
