-- The append statement's notifications (0021) in one query rather than three: the trigger runs
-- once per write batch, and each statement a PL/pgSQL function runs is a plan and an execution
-- of its own. Same channels, payloads and rules: nothing when the statement appended no row; on
-- 'modelog_appended_streams' the position alone when the streams would not fit in a payload.
CREATE OR REPLACE FUNCTION events_notify_appended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('modelog_appended', a.head::text),
            pg_notify('modelog_appended_streams', CASE WHEN octet_length(a.streams) > 7900
                THEN a.head::text ELSE a.head::text || E'\n' || a.streams END)
        FROM (SELECT max(position) AS head, string_agg(DISTINCT stream_id, E'\n') AS streams
              FROM appended) a
        WHERE a.head IS NOT NULL;
    RETURN NULL;
END $$;
