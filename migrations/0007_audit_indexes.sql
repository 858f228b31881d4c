-- modelog:read-model
-- The name a model bore at a given position (GET /audit/events names each event's object so):
-- one index probe per event instead of a scan of model_names.
CREATE INDEX model_names_by_model ON model_names (model_id, position);
