-- The event log: append-only, idempotent on (tenant, id), sequenced by rowid.
CREATE TABLE events (
    seq    INTEGER PRIMARY KEY,
    tenant TEXT NOT NULL,
    id     TEXT NOT NULL,
    type   TEXT NOT NULL,
    at     INTEGER NOT NULL,
    actor  TEXT,
    body   TEXT NOT NULL,
    UNIQUE (tenant, id)
);

CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
);

-- Keys are stored as SHA-256 hashes; the key itself is shown once.
CREATE TABLE api_keys (
    hash       TEXT PRIMARY KEY,
    tenant     TEXT NOT NULL REFERENCES tenants (id),
    role       TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE people (
    tenant     TEXT NOT NULL,
    id         TEXT NOT NULL,
    doc        TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;

CREATE TABLE identities (
    tenant      TEXT NOT NULL,
    source      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    person      TEXT NOT NULL,
    PRIMARY KEY (tenant, source, external_id)
) WITHOUT ROWID;
CREATE INDEX identities_person ON identities (tenant, person);

-- Account status over time: a row per change, never updated.
CREATE TABLE account_history (
    tenant  TEXT NOT NULL,
    person  TEXT NOT NULL,
    from_at INTEGER NOT NULL,
    status  TEXT NOT NULL
);
CREATE INDEX account_history_person ON account_history (tenant, person, from_at);

-- Consents, objections and opt-outs as time ranges: closed, never overwritten.
CREATE TABLE privacy_ranges (
    id               INTEGER PRIMARY KEY,
    tenant           TEXT NOT NULL,
    person           TEXT NOT NULL,
    kind             TEXT NOT NULL,
    purpose          TEXT NOT NULL,
    from_at          INTEGER NOT NULL,
    until_at         INTEGER,
    notice_version   INTEGER,
    detail           TEXT,
    override_at      INTEGER,
    override_grounds TEXT
);
CREATE INDEX privacy_ranges_person ON privacy_ranges (tenant, person);

CREATE TABLE ledger (
    tenant   TEXT NOT NULL,
    subject  TEXT NOT NULL,
    purpose  TEXT NOT NULL,
    basis    TEXT NOT NULL,
    day      INTEGER NOT NULL,
    allowed  INTEGER NOT NULL,
    denied   INTEGER NOT NULL,
    first_at INTEGER NOT NULL,
    last_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant, subject, purpose, basis, day)
) WITHOUT ROWID;

CREATE TABLE audit_log (
    seq     INTEGER PRIMARY KEY,
    tenant  TEXT NOT NULL,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    subject TEXT,
    action  TEXT NOT NULL,
    purpose TEXT,
    detail  TEXT NOT NULL
);
CREATE INDEX audit_log_subject ON audit_log (tenant, subject);

-- The audit log is append-only, enforced by the database itself.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE legal_holds (
    id          INTEGER PRIMARY KEY,
    tenant      TEXT NOT NULL,
    person      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    released_at INTEGER
);
CREATE INDEX legal_holds_person ON legal_holds (tenant, person);

-- Erased people whose e-mail must not come back into promotional mail (hash only).
CREATE TABLE suppressions (
    tenant     TEXT NOT NULL,
    email_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, email_hash)
) WITHOUT ROWID;

CREATE TABLE projection_cursors (
    name TEXT PRIMARY KEY,
    seq  INTEGER NOT NULL
);

-- The activity projection: events per person and type.
CREATE TABLE activity_counts (
    tenant  TEXT NOT NULL,
    person  TEXT NOT NULL,
    type    TEXT NOT NULL,
    count   INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, person, type)
) WITHOUT ROWID;
