-- modelog:read-model
-- MLflow's search_model_versions lists the newest updates first by default: a page walks this
-- index and stops, rather than sorting every version.
CREATE INDEX model_versions_updated ON model_versions (updated_at DESC, version DESC);
