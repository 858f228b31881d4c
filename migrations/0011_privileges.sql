-- modelog:read-model
-- Current grants, one row per privilege a principal holds on a securable (named by its stream, so
-- a model's grants follow it through renames). The write model loads them at start; the log keeps
-- every change (PrivilegesChanged; OwnerChanged updates the owner columns of the object's table).
CREATE TABLE grants (
    stream_id  text NOT NULL,  -- 'catalog:<name>', 'schema:<c>.<s>', 'model:<uuid>'
    principal  text NOT NULL,
    privilege  text NOT NULL,
    PRIMARY KEY (stream_id, principal, privilege)
);
