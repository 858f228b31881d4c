-- MLflow's webhooks on the same outbox and dispatcher as Modelog's (registry/http/mlflow_webhooks.py).
-- A subscription says which API registered it, and so which events, payloads and headers it gets:
-- 'modelog' (every webhook so far) or 'mlflow', which watches the models of one schema, the
-- `workspace` its MLflow names are relative to.
ALTER TABLE webhook_subscriptions
    ADD COLUMN flavor    text NOT NULL DEFAULT 'modelog' CHECK (flavor IN ('modelog', 'mlflow')),
    ADD COLUMN workspace text;

-- Catch-up projection `webhook_outbox`, continued: the models that are prompts (tagged
-- mlflow.prompt.is_prompt = 'true') as of its checkpoint; MLflow sends prompt events for them.
-- Every event that says whether a model is a prompt says it outright, so the rows are started from
-- the models' tags now and the events after the checkpoint, replayed over them, end the same.
CREATE TABLE webhook_prompt_models (
    model_id uuid PRIMARY KEY
);
INSERT INTO webhook_prompt_models
    SELECT model_id FROM read_model.model_tags
    WHERE key = 'mlflow.prompt.is_prompt' AND lower(value) = 'true';
