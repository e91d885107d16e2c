-- Installation settings, such as the key that signs person-scoped privacy-center tokens.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
