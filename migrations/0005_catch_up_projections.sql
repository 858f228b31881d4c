-- Catch-up projections follow the log behind the writers, in their own transactions. Each keeps
-- its checkpoint here and moves it in the same transaction as the rows it writes, so a restart
-- resumes exactly where the last commit left off: no event skipped, none applied twice.
CREATE TABLE projection_checkpoints (
    name       text        PRIMARY KEY,
    position   bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- alias_history: one row per period in which a lane of a model pointed at a version. A lane is
-- an alias ('alias', 'champion') or a stage ('stage', 'Production'; several versions may share
-- it). Periods are half-open in log positions: [valid_from_position, valid_to_position).
CREATE TABLE alias_history (
    model_id            uuid        NOT NULL,
    kind                text        NOT NULL CHECK (kind IN ('alias', 'stage')),
    lane                text        NOT NULL,
    version             integer     NOT NULL,
    valid_from_position bigint      NOT NULL,
    valid_from          timestamptz NOT NULL,
    set_by              text        NOT NULL,
    valid_to_position   bigint,
    valid_to            timestamptz,
    ended_by            text,
    PRIMARY KEY (model_id, kind, lane, valid_from_position, version)
);
-- Open periods: what closing an alias or stage (or deleting a model) touches.
CREATE INDEX alias_history_open ON alias_history (model_id, kind, lane, version)
    WHERE valid_to_position IS NULL;

INSERT INTO projection_checkpoints (name) VALUES ('alias_history');

-- Catalog and schema events are few among model events: `as_of` on catalogs and schemas folds
-- just these, found through this small partial index.
CREATE INDEX events_namespaces ON events (position) WHERE stream_id NOT LIKE 'model:%';
