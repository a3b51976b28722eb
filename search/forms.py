from django import forms

from .runs import MAX_QUERY_CHARS
from .timespan import CHOICES


class SearchForm(forms.Form):
    workspace = forms.TypedChoiceField(coerce=int)
    range = forms.ChoiceField(choices=[(k, v[0]) for k, v in CHOICES.items()], initial="24h")
    start = forms.DateTimeField(required=False, input_formats=["%Y-%m-%dT%H:%M",
                                                               "%Y-%m-%dT%H:%M:%S"])
    end = forms.DateTimeField(required=False, input_formats=["%Y-%m-%dT%H:%M",
                                                             "%Y-%m-%dT%H:%M:%S"])
    query = forms.CharField(max_length=MAX_QUERY_CHARS, strip=False,
                            widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false",
                                                         "autocomplete": "off"}))

    def __init__(self, *args, workspaces=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workspace"].choices = [(w.pk, w.name) for w in workspaces]

    def clean(self):
        data = super().clean()
        if data.get("range") == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError("A custom range needs a start and an end (UTC).")
            if end <= start:
                raise forms.ValidationError("The range ends before it starts.")
        return data
