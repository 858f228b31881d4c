"""Webhooks: registrations (events in the log), the names and payloads receivers see, signing,
and the dispatcher that delivers the outbox (projections/webhook_outbox.py)."""
