-- The dispatcher prunes finished deliveries past their retention (registry/webhooks/dispatcher.py
-- PRUNE): found by when they finished, among the finished only.
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (finished_at)
    WHERE status <> 'pending';
