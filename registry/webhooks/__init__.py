"""Webhooks' shell: registrations appended with their secrets kept aside, signing, and the
dispatcher that delivers the outbox (projections/webhook_outbox.py). Which events a webhook sees and
the payloads it gets are pure, in registry/domain/webhook_events.py."""
