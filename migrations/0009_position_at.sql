-- "The last position recorded at or before T", by binary search over the primary key: positions
-- are gap-free and recorded_at never decreases along them, so about 20 index lookups answer it
-- in a log of a million events, where the BRIN index would scan every block before T.
CREATE FUNCTION modelog_position_at(t timestamptz) RETURNS bigint
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    lo  bigint := 0;  -- position 0 stands for "before the first event"
    hi  bigint;
    mid bigint;
    at  timestamptz;
BEGIN
    SELECT e.position INTO hi FROM public.events e ORDER BY e.position DESC LIMIT 1;
    hi := coalesce(hi, 0);
    WHILE lo < hi LOOP  -- the answer stays in [lo, hi]
        mid := (lo + hi + 1) / 2;
        SELECT e.recorded_at INTO at FROM public.events e WHERE e.position = mid;
        IF at <= t THEN
            lo := mid;
        ELSE
            hi := mid - 1;
        END IF;
    END LOOP;
    RETURN lo;
END $$;
