-- The append notification names the streams the statement appended to, one a line below the
-- highest position, so a read cache can drop what changed rather than everything. NOTIFY's payload
-- is at most 8000 bytes: past that, the position alone, which readers take as "anything changed".
CREATE OR REPLACE FUNCTION events_notify_appended() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head bigint;
    streams text;
BEGIN
    SELECT max(position), string_agg(DISTINCT stream_id, E'\n') INTO head, streams FROM appended;
    IF head IS NULL THEN  -- a statement that inserted no row appended nothing
        RETURN NULL;
    ELSIF octet_length(streams) > 7900 THEN
        PERFORM pg_notify('modelog_appended', head::text);
    ELSE
        PERFORM pg_notify('modelog_appended', head::text || E'\n' || streams);
    END IF;
    RETURN NULL;
END $$;
