-- Every process's read cache listens on 'modelog_appended': one notification per committed
-- append statement (delivered at commit), carrying the highest position it appended, so no
-- process keeps serving what another changed, and a process can skip what it already knows.
CREATE FUNCTION events_notify_appended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('modelog_appended', (SELECT max(position)::text FROM appended));
    RETURN NULL;
END $$;

CREATE TRIGGER events_notify_appended AFTER INSERT ON events
    REFERENCING NEW TABLE AS appended
    FOR EACH STATEMENT EXECUTE FUNCTION events_notify_appended();
