-- A model's state every so many events of its stream (registry/domain/snapshots.py): a cache of
-- the fold, written with the events that reach it, so a model of any history is restored from
-- one row and a short tail. The log stays the truth: a row here may be dropped at any time.
CREATE TABLE model_snapshots (
    stream_id       text     NOT NULL,
    position        bigint   NOT NULL,  -- of the last event folded into it
    stream_version  integer  NOT NULL,
    schema_version  smallint NOT NULL,
    state           jsonb    NOT NULL,
    PRIMARY KEY (stream_id, position)
);

-- One version's own events (those that name its number), for loading that version alone or as
-- it was at a position: one index range, however long the model's history.
CREATE INDEX events_by_version ON events (stream_id, ((data->'version')::numeric), position)
    WHERE jsonb_typeof(data->'version') = 'number';
