from django import forms

from socconsole.lib.ids import IdField

from .blocklist import DEFAULT_DAYS, MAX_DAYS, MAX_TEXT


class BlockForm(forms.Form):
    address = forms.CharField(max_length=64, strip=True, error_messages={
        "required": "Give an address or a CIDR range to block."})
    reason = forms.CharField(max_length=MAX_TEXT, strip=True, error_messages={
        "required": "Give a reason: it is on the blocklist and in the activity log."})
    days = forms.IntegerField(min_value=1, max_value=MAX_DAYS, initial=DEFAULT_DAYS)
    confirm = forms.BooleanField(required=False)
    # Where the block came from: the alert or incident page (checked against the
    # subscription by the view, never trusted).
    alert = IdField(required=False)
    incident = IdField(required=False)


class RenewForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=MAX_DAYS, initial=DEFAULT_DAYS)
    reason = forms.CharField(max_length=MAX_TEXT, strip=True, required=False)


class UnblockForm(forms.Form):
    reason = forms.CharField(max_length=MAX_TEXT, strip=True, required=False)


class NeverBlockForm(forms.Form):
    address = forms.CharField(max_length=64, strip=True)
    note = forms.CharField(max_length=200, strip=True, error_messages={
        "required": "Say what it is (our egress, our DNS resolver…)."})


class FeedTokenForm(forms.Form):
    name = forms.CharField(max_length=120, strip=True, error_messages={
        "required": "Name the firewall that will read the feed."})


class WebhookForm(forms.Form):
    name = forms.CharField(max_length=120, strip=True)
    url = forms.CharField(max_length=2000, strip=True, label="URL")
    secret = forms.CharField(min_length=16, max_length=200, strip=False,
                             widget=forms.PasswordInput(render_value=False))
    events = forms.MultipleChoiceField(choices=[], widget=forms.CheckboxSelectMultiple)
    allow_private = forms.BooleanField(required=False)

    def __init__(self, *args, **kwargs):
        from .webhooks import EVENTS

        super().__init__(*args, **kwargs)
        self.fields["events"].choices = list(EVENTS.items())


class ActionRequestForm(forms.Form):
    kind = forms.ChoiceField(choices=[])
    target = forms.CharField(max_length=512, strip=True)
    reason = forms.CharField(max_length=MAX_TEXT, strip=True, error_messages={
        "required": "Give a reason: the playbook and the timeline carry it."})
    alert = IdField(required=False)
    incident = IdField(required=False)

    def __init__(self, *args, **kwargs):
        from .models import ActionRequest

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = ActionRequest.Kind.choices
