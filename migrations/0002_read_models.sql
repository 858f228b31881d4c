-- modelog:read-model
-- Inline read models. Unqualified names: the runner applies this file into the read-model schema
-- (and `projections rebuild` into a fresh one). Rows here may change; the log never does.
-- No foreign keys between these tables on purpose: every projection statement writes one table and
-- reads no other, so a write batch may group statements per table (see projections/runner.py).

CREATE TABLE catalogs (
    name        text PRIMARY KEY,
    id          uuid NOT NULL,
    comment     text,
    owner       text NOT NULL,
    created_at  timestamptz NOT NULL,
    created_by  text NOT NULL,
    updated_at  timestamptz NOT NULL,
    updated_by  text NOT NULL
);

CREATE TABLE schemas (
    catalog_name text NOT NULL,
    name         text NOT NULL,
    id           uuid NOT NULL,
    comment      text,
    owner        text NOT NULL,
    created_at   timestamptz NOT NULL,
    created_by   text NOT NULL,
    updated_at   timestamptz NOT NULL,
    updated_by   text NOT NULL,
    PRIMARY KEY (catalog_name, name)
);

CREATE TABLE registered_models (
    id           uuid PRIMARY KEY,
    catalog_name text NOT NULL,
    schema_name  text NOT NULL,
    name         text NOT NULL,
    full_name    text NOT NULL UNIQUE,
    description  text,
    owner        text NOT NULL,
    created_at   timestamptz NOT NULL,
    created_by   text NOT NULL,
    updated_at   timestamptz NOT NULL,
    updated_by   text NOT NULL
);
CREATE INDEX registered_models_schema ON registered_models (catalog_name, schema_name, name);
CREATE INDEX registered_models_name_prefix ON registered_models (full_name text_pattern_ops);

CREATE TABLE model_versions (
    model_id         uuid NOT NULL,
    version          integer NOT NULL,
    source           text NOT NULL,
    run_id           text,
    run_link         text,
    logged_model_id  text,
    description      text,
    status           text NOT NULL,
    status_message   text,
    storage_location text,
    stage            text NOT NULL DEFAULT 'None',
    created_at       timestamptz NOT NULL,
    created_by       text NOT NULL,
    updated_at       timestamptz NOT NULL,
    updated_by       text NOT NULL,
    PRIMARY KEY (model_id, version)
);
CREATE INDEX model_versions_run_id ON model_versions (run_id) WHERE run_id IS NOT NULL;

CREATE TABLE model_aliases (
    model_id   uuid NOT NULL,
    alias      text NOT NULL,
    version    integer NOT NULL,
    updated_at timestamptz NOT NULL,
    updated_by text NOT NULL,
    PRIMARY KEY (model_id, alias)
);

CREATE TABLE model_tags (
    model_id uuid NOT NULL,
    key      text NOT NULL,
    value    text NOT NULL,
    PRIMARY KEY (model_id, key)
);

CREATE TABLE version_tags (
    model_id uuid NOT NULL,
    version  integer NOT NULL,
    key      text NOT NULL,
    value    text NOT NULL,
    PRIMARY KEY (model_id, version, key)
);

-- Which model held a full name from which log position on: resolves a name "as of" a past point.
CREATE TABLE model_names (
    full_name text   NOT NULL,
    position  bigint NOT NULL,
    model_id  uuid   NOT NULL,
    PRIMARY KEY (full_name, position)
);
