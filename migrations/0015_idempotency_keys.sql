-- A command sent with an Idempotency-Key carries it in its events' metadata; a repeat of the key
-- (by the same principal, for the same command) finds those events instead of appending again.
CREATE INDEX events_idempotency_keys ON events ((metadata->>'actor'), (metadata->>'idempotency_key'))
    WHERE metadata ? 'idempotency_key';
