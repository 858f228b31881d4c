-- modelog:read-model
-- Indexes for searches and deep pages at a million models (issue 15).
--
-- Trigrams answer any LIKE/ILIKE on a model's own name (MLflow's name filters, the native API's
-- name_pattern, the UI's search box), wherever the wildcards are. The extension lives in `public`,
-- not in the read-model schema: a rebuild drops and swaps that schema, and would take it along.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE INDEX registered_models_name_trgm ON registered_models USING gin (name public.gin_trgm_ops);

-- A schema's models by name (the order of every surface's list of a schema: registry/reads/
-- search.py says why full names sort the same there), now with the id: a search by name pattern
-- or tag finds a page's ids from the index alone, however many models it passes on the way.
DROP INDEX registered_models_schema;
CREATE INDEX registered_models_schema ON registered_models (catalog_name, schema_name, name)
    INCLUDE (id);
-- A catalog's models by full name (the native API's and the UI's lists of a catalog).
CREATE INDEX registered_models_catalog ON registered_models (catalog_name, full_name)
    INCLUDE (id, name);

-- Tag filters (MLflow's `tags.k = 'v'`, the UI's tag search): the models or versions carrying a
-- key, or a key and value, without reading every tag; for models, from the index alone (the set
-- of models a tag selects is hashed from it, or counted: registry/reads/queries.py).
CREATE INDEX model_tags_key_value ON model_tags (key, value, model_id);
CREATE INDEX version_tags_key_value ON version_tags (key, value);

-- MLflow's `version_number` filters across models. On an expression, not the column: an index
-- ordered by the bare version number is one the planner may walk from the top for a single
-- model's "newest version in a stage" or "versions after n", reading every model's versions.
CREATE INDEX model_versions_number ON model_versions ((version::bigint));
