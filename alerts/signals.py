"""Signals the alerts app sends; apps above it (incidents, detections) listen."""

from django.dispatch import Signal

# Sent inside the ingest transaction, with subscription=... and alert_ids=[...].
alerts_ingested = Signal()

# Sent inside the transaction of a triage change, with alert_ids=[...].
alert_status_changed = Signal()
