-- modelog:read-model
-- MLflow's latest_versions: the newest and the first version of a model in each stage, each one
-- index probe, however many versions the model has.
CREATE INDEX model_versions_stage ON model_versions (model_id, stage, version);
