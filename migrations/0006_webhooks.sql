-- Webhooks. Registrations are events in the log (stream 'webhook:<id>'); what lives here is what
-- the log must not hold or what changes as deliveries go on.

-- A few webhook events among millions: the registry lists webhooks by folding just these.
CREATE INDEX events_webhooks ON events (position) WHERE stream_id LIKE 'webhook:%';

-- Signing secrets, outside the log on purpose: the log is append-only, served to auditors and
-- streamed to subscribers, so a secret written there could never be withdrawn. An event names its
-- secret by id; a secret row is written before its event, so one whose event failed is unused.
CREATE TABLE webhook_secrets (
    id         uuid        PRIMARY KEY,
    webhook_id uuid        NOT NULL,
    secret     text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Catch-up projection `webhook_outbox`: the registrations as of its checkpoint ...
CREATE TABLE webhook_subscriptions (
    webhook_id      uuid    PRIMARY KEY,
    url             text    NOT NULL,
    events          text[]  NOT NULL,
    active          boolean NOT NULL,
    secret_id       uuid    NOT NULL,
    updated_position bigint NOT NULL
);

-- ... and the outbox: one row per (webhook, matching event), inserted in the same transaction as
-- the checkpoint moves. The dispatcher updates status, attempts and lease; `ordering_key` (the
-- event's stream) orders deliveries: only the lowest pending position of a key is sent.
CREATE TABLE webhook_deliveries (
    id              uuid        PRIMARY KEY,   -- the delivery id the receiver sees, stable across retries
    webhook_id      uuid        NOT NULL,
    position        bigint,                    -- the event's; NULL for a test ping
    ordering_key    text        NOT NULL,
    event           text        NOT NULL,      -- the webhook event name, e.g. MODEL_VERSION_CREATED
    payload         jsonb       NOT NULL,
    status          text        NOT NULL DEFAULT 'pending'
                                CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_owner     uuid,
    lease_until     timestamptz,
    last_error      text,
    last_status_code integer,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    UNIQUE (webhook_id, position)
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook_id, ordering_key, position)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (webhook_id, created_at DESC, id);

-- Every attempt, for the delivery log.
CREATE TABLE webhook_attempts (
    delivery_id uuid        NOT NULL,
    attempt     integer     NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    status_code integer,
    error       text,
    duration_ms double precision NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);

INSERT INTO projection_checkpoints (name) VALUES ('webhook_outbox');

-- The live feed and the outbox name each model event's object by the name the model bore then,
-- through the index on model_names (model_id, position) in 0007_audit_indexes.sql.
