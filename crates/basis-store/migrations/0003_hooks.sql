-- Webhook secrets per workspace and source (needed in the clear to check HMAC signatures;
-- never logged, never returned by the API).
CREATE TABLE hook_settings (
    tenant       TEXT NOT NULL,
    source       TEXT NOT NULL,
    secret       TEXT NOT NULL,
    callback_url TEXT,
    PRIMARY KEY (tenant, source)
) WITHOUT ROWID;
