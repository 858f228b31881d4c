-- Every process's read cache listens on 'modelog_appended': one notification per committed
-- append statement (delivered at commit), so no process keeps serving what another changed.
CREATE FUNCTION events_notify_appended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('modelog_appended', '');
    RETURN NULL;
END $$;

CREATE TRIGGER events_notify_appended AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_notify_appended();
