-- The event log: the single source of truth. Append-only, hash-chained, totally ordered.

CREATE TABLE events (
    position        bigint      PRIMARY KEY,          -- global, gap-free, assigned under the writer lock
    stream_id       text        NOT NULL,             -- 'model:<uuid>', 'catalog:<name>', 'schema:<c>.<s>'
    stream_version  integer     NOT NULL CHECK (stream_version > 0),
    type            text        NOT NULL,
    schema_version  smallint    NOT NULL DEFAULT 1,
    data            jsonb       NOT NULL,
    metadata        jsonb       NOT NULL,             -- actor, request_id, client, ...
    recorded_at     timestamptz NOT NULL,             -- never decreases along position
    prev_hash       bytea       NOT NULL,
    hash            bytea       NOT NULL,
    UNIQUE (stream_id, stream_version)
);
-- recorded_at grows along position, so a BRIN index finds "the last position at time T" for
-- almost no write cost.
CREATE INDEX events_recorded_at ON events USING brin (recorded_at);

-- Immutability is the database's job, not only ours: no UPDATE, DELETE or TRUNCATE, for anyone.
CREATE FUNCTION events_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % on events is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_reject_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_reject_change();
REVOKE UPDATE, DELETE, TRUNCATE ON events FROM PUBLIC;

-- The writers' lock (all processes) and the head a locked batch builds on. A writer that does
-- not know the head, or found it moved, takes this before deciding; see eventstore/writer.py.
CREATE FUNCTION modelog_lock_head(
    OUT head_position bigint, OUT head_hash bytea, OUT head_recorded_at timestamptz
) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7173747470);  -- 'modelog' writer lock
    SELECT e.position, e.hash, e.recorded_at INTO head_position, head_hash, head_recorded_at
        FROM public.events e ORDER BY e.position DESC LIMIT 1;
END $$;
