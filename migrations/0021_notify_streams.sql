-- Each append statement also notifies 'modelog_appended_streams': the highest position it
-- appended and, one a line below it, the streams it appended to, so a read cache can drop what
-- changed rather than everything. NOTIFY's payload is at most 8000 bytes: past that, the position
-- alone, which readers take as "anything may have changed". 'modelog_appended' goes on carrying
-- the position alone, as processes of earlier versions read it (during a rolling upgrade).
CREATE OR REPLACE FUNCTION events_notify_appended() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head bigint;
    streams text;
BEGIN
    SELECT max(position), string_agg(DISTINCT stream_id, E'\n') INTO head, streams FROM appended;
    IF head IS NULL THEN  -- a statement that inserted no row appended nothing
        RETURN NULL;
    END IF;
    PERFORM pg_notify('modelog_appended', head::text);
    IF octet_length(streams) > 7900 THEN
        PERFORM pg_notify('modelog_appended_streams', head::text);
    ELSE
        PERFORM pg_notify('modelog_appended_streams', head::text || E'\n' || streams);
    END IF;
    RETURN NULL;
END $$;
