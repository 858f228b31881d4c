-- Requests refused for want of a privilege: who tried what on which object, when, in which
-- request. Not events: they change no state, so they stay out of the log (and out of replay).
CREATE TABLE denied_attempts (
    id              bigserial   PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    principal       text        NOT NULL,
    action          text        NOT NULL,
    securable_type  text        NOT NULL,
    full_name       text        NOT NULL,
    request_id      text        NOT NULL,
    method          text        NOT NULL,
    route           text        NOT NULL
);
CREATE INDEX denied_attempts_at ON denied_attempts (at);
