-- How far the webhook outbox had enqueued deliveries before it was last rebuilt: those events
-- were sent, failed or cancelled already, and their delivery rows may since have been pruned by
-- the retention. A replay must not enqueue them again (projections/webhook_outbox.py).
CREATE TABLE webhook_outbox_floor (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    position bigint  NOT NULL
);
