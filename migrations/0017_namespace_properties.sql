-- modelog:read-model
-- Catalogs' and schemas' key-value properties, as Unity Catalog keeps them.
ALTER TABLE catalogs ADD COLUMN properties jsonb NOT NULL DEFAULT '{}';
ALTER TABLE schemas ADD COLUMN properties jsonb NOT NULL DEFAULT '{}';
