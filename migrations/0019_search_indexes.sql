-- modelog:read-model
-- Indexes for searches and deep pages at a million models (issue 15).
--
-- Trigrams answer any LIKE/ILIKE on a model's own name (MLflow's name filters, the native API's
-- name_pattern, the UI's search box), wherever the wildcards are. The extension lives in `public`,
-- not in the read-model schema: a rebuild drops and swaps that schema, and would take it along.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE INDEX registered_models_name_trgm ON registered_models USING gin (name public.gin_trgm_ops);

-- A schema's models in the native API's and Unity Catalog's order (full name): a page starts at
-- its key within the schema, however deep.
CREATE INDEX registered_models_schema_full_name ON registered_models (catalog_name, schema_name,
                                                                      full_name);

-- Tag filters (MLflow's `tags.k = 'v'`, the UI's tag search): the models or versions carrying a
-- key, or a key and value, without reading every tag.
CREATE INDEX model_tags_key_value ON model_tags (key, value);
CREATE INDEX version_tags_key_value ON version_tags (key, value);

-- MLflow's `version_number` filters across models.
CREATE INDEX model_versions_number ON model_versions (version);
