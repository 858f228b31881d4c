-- modelog:read-model
-- Open stage transition requests (at most one per version and target stage). Closed ones
-- (approved, rejected, cancelled) leave this table; the log keeps them all.
CREATE TABLE transition_requests (
    model_id     uuid NOT NULL,
    version      integer NOT NULL,
    stage        text NOT NULL,
    comment      text,
    requested_by text NOT NULL,
    requested_at timestamptz NOT NULL,
    PRIMARY KEY (model_id, version, stage)
);
