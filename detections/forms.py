from django import forms


class ImportForm(forms.Form):
    file = forms.FileField(error_messages={"required": "Choose a STIX 2.1 bundle (.json) or "
                                                       "a CSV file (.csv)."})
    source = forms.CharField(max_length=200, required=False, strip=True)


class IndicatorFilterForm(forms.Form):
    q = forms.CharField(max_length=200, required=False, strip=True)
