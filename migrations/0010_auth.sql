-- Authentication. Principals and tokens are events in the log (streams 'principal:<name>' and
-- 'token:<id>'): who could act, from when until when, is in the audit trail. What lives here is
-- what the log must not hold.

-- The few auth events among millions: the registry lists principals and tokens by folding these.
CREATE INDEX events_auth ON events (position)
    WHERE stream_id LIKE 'principal:%' OR stream_id LIKE 'token:%';

-- A token's secret's SHA-256, outside the log on purpose (the log is streamed to subscribers and
-- can never be withdrawn from). Written before the TokenIssued event that names the token id, so a
-- row whose event failed is never honoured: a token is valid only while the log says it was issued
-- and not revoked. last_used_at is refreshed at most once per cache period, a hint not a record.
CREATE TABLE auth_tokens (
    id           text        PRIMARY KEY,
    principal    text        NOT NULL,
    secret_hash  bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);
