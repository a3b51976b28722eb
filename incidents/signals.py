"""Signals the incidents app sends; apps above it (response) listen."""

from django.dispatch import Signal

# Sent inside correlation's transaction, with subscription_id=... and incident_ids=[...]:
# incidents correlation has just made (not standalone alerts, not alerts joining one).
incidents_created = Signal()
