-- modelog:read-model
-- Each catalog's and schema's stream: catalogs and schemas can be renamed, and a stream keeps its
-- object through renames, so a stream is found by the object's name here, not built from it.
-- Every row so far is of a stream keyed by the name the object was created with (new ones are
-- keyed by id: 'catalog:<id>', 'schema:<id>').
ALTER TABLE catalogs ADD COLUMN stream_id text;
UPDATE catalogs SET stream_id = 'catalog:' || name;
ALTER TABLE catalogs ALTER COLUMN stream_id SET NOT NULL;
CREATE UNIQUE INDEX catalogs_stream ON catalogs (stream_id);

ALTER TABLE schemas ADD COLUMN stream_id text;
UPDATE schemas SET stream_id = 'schema:' || catalog_name || '.' || name;
ALTER TABLE schemas ALTER COLUMN stream_id SET NOT NULL;
CREATE UNIQUE INDEX schemas_stream ON schemas (stream_id);
