//! The embedded store: SQLite in WAL mode with `synchronous = FULL`, one writer connection and a
//! small pool of readers. Events go in as multi-row inserts inside one transaction per batch, so
//! an acknowledged batch survives `kill -9` and a crash mid-batch leaves nothing of it.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use basis_core::Timestamp;
use basis_core::person::Person;
use basis_core::subject::AccountPeriod;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row, SqlitePool};

use crate::{
    ActivityCount, ApiKeyRecord, AppendOutcome, AuditEntry, EventRewrite, Generation, HookSettings,
    IdentityTaken, LedgerRow, LedgerTotal, LegalHold, NewEvent, NewPrivacyRecord, PrivacyKind,
    PrivacyRecord, PrivacyWrite, PutPerson, Result, Role, StillUnused, Store, StoreError,
    StoredEvent, StoredHead, parse_status,
};

/// Schema migrations, applied in order, each once.
const MIGRATIONS: [(i64, &str); 6] = [
    (1, include_str!("../migrations/0001_initial.sql")),
    (2, include_str!("../migrations/0002_settings.sql")),
    (3, include_str!("../migrations/0003_hooks.sql")),
    (4, include_str!("../migrations/0004_generation.sql")),
    (
        5,
        include_str!("../migrations/0005_generation_triggers.sql"),
    ),
    (6, include_str!("../migrations/0006_events_by_tenant.sql")),
];

/// Rows per multi-row INSERT (SQLite allows 32,766 bound parameters).
const ROWS_PER_INSERT: usize = 500;

/// Appends between explicit WAL checkpoints.
const APPENDS_PER_CHECKPOINT: u32 = 16;

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    appends: Arc<AtomicU32>,
    /// Generation bumps committed through this handle and its clones.
    bumped: Arc<AtomicI64>,
}

fn options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
        .pragma("cache_size", "-65536")
        .pragma("temp_store", "memory")
}

impl SqliteStore {
    /// Opens (creating if needed) the store in `dir` and migrates it.
    ///
    /// # Errors
    /// When the directory cannot be created or the database cannot be opened or migrated.
    pub async fn open(dir: &Path) -> Result<SqliteStore> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::DataDir {
            path: dir.display().to_string(),
            reason: e.to_string(),
        })?;
        let path = dir.join("basis.db");
        // The writer checkpoints the WAL itself (see `checkpoint_if_due`): automatic passive
        // checkpoints cannot finish while projections read, and then retry on every commit.
        // What an erasure or a compaction deletes or rewrites is overwritten with zeros in the
        // file, not just unlinked (`secure_delete`; appends write nothing more).
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(
                options(&path)
                    .pragma("wal_autocheckpoint", "10000")
                    .pragma("secure_delete", "on"),
            )
            .await?;
        migrate(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options(&path).read_only(true))
            .await?;
        Ok(SqliteStore {
            writer,
            reader,
            appends: Arc::default(),
            bumped: Arc::default(),
        })
    }

    /// Opens a store on a database URL such as `sqlite::memory:` (tests, benchmarks).
    ///
    /// # Errors
    /// When the database cannot be opened or migrated.
    pub async fn open_url(url: &str) -> Result<SqliteStore> {
        let opts = SqliteConnectOptions::from_str(url)?.create_if_missing(true);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await?;
        migrate(&writer).await?;
        Ok(SqliteStore {
            reader: writer.clone(),
            writer,
            appends: Arc::default(),
            bumped: Arc::default(),
        })
    }

    /// Every few appends, a RESTART checkpoint: it waits for the (short) reads in progress,
    /// copies the WAL into the database and starts the WAL over, so it stays small and commits
    /// stay fast.
    async fn checkpoint_if_due(&self) {
        if self.appends.fetch_add(1, Ordering::Relaxed) + 1 < APPENDS_PER_CHECKPOINT {
            return;
        }
        self.appends.store(0, Ordering::Relaxed);
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(RESTART)")
            .execute(&self.writer)
            .await
        {
            tracing::warn!(error = %e, "wal checkpoint failed; sqlite retries on its own");
        }
    }

    /// Starts a transaction that may change people, and reads the generation (moved by triggers,
    /// see migration 0005) once it holds the write lock: no other writer can commit before it
    /// ends, so the difference at its end is this transaction's own.
    async fn begin_people(&self) -> Result<(sqlx::Transaction<'static, sqlx::Sqlite>, i64)> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("UPDATE generation SET value = value WHERE id = 0")
            .execute(&mut *tx)
            .await?;
        let start = sqlx::query_scalar("SELECT value FROM generation WHERE id = 0")
            .fetch_one(&mut *tx)
            .await?;
        Ok((tx, start))
    }

    /// Commits a transaction from [`SqliteStore::begin_people`], counting its generation moves
    /// as this handle's own.
    async fn commit_people(
        &self,
        mut tx: sqlx::Transaction<'static, sqlx::Sqlite>,
        start: i64,
    ) -> Result<()> {
        let end: i64 = sqlx::query_scalar("SELECT value FROM generation WHERE id = 0")
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        self.bumped.fetch_add(end - start, Ordering::SeqCst);
        Ok(())
    }

    /// Closes both pools, checkpointing the WAL.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

async fn migrate(pool: &SqlitePool) -> Result<()> {
    sqlx::query("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")
        .execute(pool)
        .await?;
    for (version, sql) in MIGRATIONS {
        let done: Option<i64> =
            sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = ?")
                .bind(version)
                .fetch_optional(pool)
                .await?;
        if done.is_some() {
            continue;
        }
        // Some build an index over the whole log: on a large one that takes a while.
        tracing::info!(version, "applying migration");
        let mut tx = pool.begin().await?;
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?, strftime('%s','now'))",
        )
        .bind(version)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(version, "applied migration");
    }
    Ok(())
}

fn ts(row: &SqliteRow, col: &str) -> Result<Timestamp> {
    Ok(Timestamp(row.try_get::<i64, _>(col)?))
}

fn opt_ts(row: &SqliteRow, col: &str) -> Result<Option<Timestamp>> {
    Ok(row.try_get::<Option<i64>, _>(col)?.map(Timestamp))
}

fn event_row(row: &SqliteRow) -> Result<StoredEvent> {
    Ok(StoredEvent {
        seq: row.try_get("seq")?,
        tenant: row.try_get("tenant")?,
        id: row.try_get("id")?,
        kind: row.try_get("type")?,
        at: ts(row, "at")?,
        body: row.try_get("body")?,
    })
}

fn privacy_row(row: &SqliteRow) -> Result<PrivacyRecord> {
    let kind: String = row.try_get("kind")?;
    Ok(PrivacyRecord {
        id: row.try_get("id")?,
        kind: PrivacyKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("privacy kind `{kind}`")))?,
        purpose: row.try_get("purpose")?,
        from: ts(row, "from_at")?,
        until: opt_ts(row, "until_at")?,
        notice_version: row
            .try_get::<Option<i64>, _>("notice_version")?
            .and_then(|v| u32::try_from(v).ok()),
        detail: row.try_get("detail")?,
        override_at: opt_ts(row, "override_at")?,
        override_grounds: row.try_get("override_grounds")?,
    })
}

fn ledger_row(row: &SqliteRow) -> Result<LedgerRow> {
    Ok(LedgerRow {
        tenant: row.try_get("tenant")?,
        subject: row.try_get("subject")?,
        purpose: row.try_get("purpose")?,
        basis: row.try_get("basis")?,
        day: row.try_get("day")?,
        allowed: row.try_get("allowed")?,
        denied: row.try_get("denied")?,
        first_at: ts(row, "first_at")?,
        last_at: ts(row, "last_at")?,
    })
}

fn activity_row(r: &SqliteRow) -> Result<ActivityCount> {
    Ok(ActivityCount {
        tenant: r.try_get("tenant")?,
        person: r.try_get("person")?,
        kind: r.try_get("type")?,
        count: r.try_get("count")?,
        last_at: ts(r, "last_at")?,
    })
}

fn hold_row(row: &SqliteRow) -> Result<LegalHold> {
    Ok(LegalHold {
        id: row.try_get("id")?,
        person: row.try_get("person")?,
        reason: row.try_get("reason")?,
        created_at: ts(row, "created_at")?,
        released_at: opt_ts(row, "released_at")?,
    })
}

/// Rewrites event bodies (and the actor column) inside a transaction.
async fn apply_rewrites(
    tx: &mut sqlx::SqliteConnection,
    tenant: &str,
    rewrites: &[EventRewrite],
) -> Result<()> {
    for r in rewrites {
        sqlx::query("UPDATE events SET actor = ?, body = ? WHERE tenant = ? AND seq = ?")
            .bind(r.actor.as_deref())
            .bind(&r.body)
            .bind(tenant)
            .bind(r.seq)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// The ids of the objects a tenant's events after position `after`, dated at or after `since`,
/// are about (read by the (tenant, seq) index).
async fn object_ids<'e>(
    ex: impl sqlx::SqliteExecutor<'e>,
    tenant: &str,
    since: Timestamp,
    after: i64,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT json_extract(body, '$.object.id') FROM events INDEXED BY events_tenant_seq
         WHERE tenant = ? AND seq > ? AND at >= ? AND json_valid(body)
           AND json_extract(body, '$.object.id') IS NOT NULL",
    )
    .bind(tenant)
    .bind(after)
    .bind(since.0)
    .fetch_all(ex)
    .await?)
}

/// Builds `INSERT ... VALUES (?,?,..),(..)` for `rows` rows of `cols` columns.
fn multi_row_insert(head: &str, cols: usize, rows: usize, tail: &str) -> String {
    let tuple = format!("({})", vec!["?"; cols].join(","));
    let mut sql = String::with_capacity(head.len() + rows * (tuple.len() + 1) + tail.len());
    sql.push_str(head);
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(&tuple);
    }
    sql.push_str(tail);
    sql
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_tenant(&self, tenant: &str, at: Timestamp) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO tenants (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
        )
        .bind(tenant)
        .bind(at.0)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_api_key(&self, hash: &str, key: &ApiKeyRecord, at: Timestamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO api_keys (hash, tenant, role, name, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(hash)
        .bind(&key.tenant)
        .bind(key.role.as_str())
        .bind(&key.name)
        .bind(at.0)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn set_hook(
        &self,
        tenant: &str,
        source: &str,
        secret: &str,
        callback_url: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO hook_settings (tenant, source, secret, callback_url) VALUES (?, ?, ?, ?)
             ON CONFLICT (tenant, source) DO UPDATE SET secret = excluded.secret, callback_url = excluded.callback_url",
        )
        .bind(tenant)
        .bind(source)
        .bind(secret)
        .bind(callback_url)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn hook(&self, tenant: &str, source: &str) -> Result<Option<HookSettings>> {
        let row = sqlx::query(
            "SELECT secret, callback_url FROM hook_settings WHERE tenant = ? AND source = ?",
        )
        .bind(tenant)
        .bind(source)
        .fetch_optional(&self.reader)
        .await?;
        row.map(|r| {
            Ok(HookSettings {
                secret: r.try_get("secret")?,
                callback_url: r.try_get("callback_url")?,
            })
        })
        .transpose()
    }

    async fn init_setting(&self, name: &str, value: &str) -> Result<String> {
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(value)
        .execute(&self.writer)
        .await?;
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE name = ?")
                .bind(name)
                .fetch_one(&self.writer)
                .await?,
        )
    }

    async fn count_api_keys(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM api_keys")
            .fetch_one(&self.reader)
            .await?)
    }

    async fn api_key(&self, hash: &str) -> Result<Option<ApiKeyRecord>> {
        let row = sqlx::query("SELECT tenant, role, name FROM api_keys WHERE hash = ?")
            .bind(hash)
            .fetch_optional(&self.reader)
            .await?;
        row.map(|row| {
            let role: String = row.try_get("role")?;
            Ok(ApiKeyRecord {
                tenant: row.try_get("tenant")?,
                role: Role::parse(&role)
                    .ok_or_else(|| StoreError::Corrupt(format!("role `{role}`")))?,
                name: row.try_get("name")?,
            })
        })
        .transpose()
    }

    async fn append_events(&self, tenant: &str, events: &[NewEvent]) -> Result<AppendOutcome> {
        let mut outcomes = self.append_event_groups(&[(tenant, events)]).await?;
        outcomes
            .pop()
            .ok_or_else(|| StoreError::Corrupt("append returned no outcome".into()))
    }

    async fn append_event_groups(
        &self,
        groups: &[(&str, &[NewEvent])],
    ) -> Result<Vec<AppendOutcome>> {
        let mut tx = self.writer.begin().await?;
        let mut outcomes = Vec::with_capacity(groups.len());
        for (tenant, events) in groups {
            let mut accepted = 0u64;
            let mut max_seq = 0i64;
            for chunk in events.chunks(ROWS_PER_INSERT) {
                let sql = multi_row_insert(
                    "INSERT INTO events (tenant, id, type, at, actor, body) VALUES ",
                    6,
                    chunk.len(),
                    " ON CONFLICT (tenant, id) DO NOTHING",
                );
                let mut query = sqlx::query(AssertSqlSafe(sql));
                for e in chunk {
                    // Bound as `&str` so sqlx borrows instead of copying each string.
                    query = query
                        .bind(*tenant)
                        .bind(e.id.as_str())
                        .bind(e.kind.as_str())
                        .bind(e.at.0)
                        .bind(e.actor.as_deref())
                        .bind(e.body.as_str());
                }
                // Counting rows instead of RETURNING them: the one writer connection appends
                // in rowid order, so the last inserted rowid is the batch's highest seq.
                let done = query.execute(&mut *tx).await?;
                if done.rows_affected() > 0 {
                    accepted += done.rows_affected();
                    max_seq = max_seq.max(done.last_insert_rowid());
                }
            }
            outcomes.push(AppendOutcome {
                accepted,
                duplicates: events.len() as u64 - accepted,
                seq: max_seq,
            });
        }
        // A batch of only duplicates reports the log position after this transaction.
        if outcomes.iter().any(|o| o.seq == 0) {
            let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events")
                .fetch_one(&mut *tx)
                .await?;
            for o in outcomes.iter_mut().filter(|o| o.seq == 0) {
                o.seq = last;
            }
        }
        tx.commit().await?;
        self.checkpoint_if_due().await;
        Ok(outcomes)
    }

    async fn events_after(
        &self,
        tenant: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>> {
        let rows = match tenant {
            Some(tenant) => {
                // By the (tenant, seq) index: one page read, not the tenant's log sorted.
                sqlx::query("SELECT seq, tenant, id, type, at, body FROM events INDEXED BY events_tenant_seq WHERE tenant = ? AND seq > ? ORDER BY seq LIMIT ?")
                    .bind(tenant)
                    .bind(after)
                    .bind(i64::from(limit))
                    .fetch_all(&self.reader)
                    .await?
            }
            None => {
                sqlx::query("SELECT seq, tenant, id, type, at, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?")
                    .bind(after)
                    .bind(i64::from(limit))
                    .fetch_all(&self.reader)
                    .await?
            }
        };
        rows.iter().map(event_row).collect()
    }

    async fn event_heads_after(&self, after: i64, limit: u32) -> Result<Vec<StoredHead>> {
        let rows = sqlx::query(
            "SELECT seq, tenant, type, at, actor FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredHead {
                    seq: r.try_get("seq")?,
                    tenant: r.try_get("tenant")?,
                    kind: r.try_get("type")?,
                    at: ts(r, "at")?,
                    actor: r.try_get("actor")?,
                })
            })
            .collect()
    }

    async fn last_seq(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events")
                .fetch_one(&self.reader)
                .await?,
        )
    }

    async fn events_containing(&self, tenant: &str, needle: &str) -> Result<Vec<StoredEvent>> {
        let rows = sqlx::query("SELECT seq, tenant, id, type, at, body FROM events WHERE tenant = ? AND instr(body, ?) > 0 ORDER BY seq")
            .bind(tenant)
            .bind(needle)
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(event_row).collect()
    }

    async fn events_before(
        &self,
        tenant: &str,
        before: Timestamp,
        after: i64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>> {
        // By the (tenant, seq) index, as in `events_after`.
        let rows = sqlx::query("SELECT seq, tenant, id, type, at, body FROM events INDEXED BY events_tenant_seq WHERE tenant = ? AND seq > ? AND at < ? ORDER BY seq LIMIT ?")
            .bind(tenant)
            .bind(after)
            .bind(before.0)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(event_row).collect()
    }

    async fn objects_since(
        &self,
        tenant: &str,
        since: Timestamp,
        after: i64,
    ) -> Result<Vec<String>> {
        object_ids(&self.reader, tenant, since, after).await
    }

    async fn compact_events(
        &self,
        tenant: &str,
        deletes: &[i64],
        rewrites: &[EventRewrite],
        unused: &StillUnused<'_>,
    ) -> Result<bool> {
        let (mut tx, start) = self.begin_people().await?;
        // Under the write lock: an event appended since the caller looked would otherwise lose
        // its page's text. Only what was appended since is read (by position).
        if !unused.objects.is_empty() {
            let used = object_ids(&mut *tx, tenant, unused.since, unused.after).await?;
            let unused: std::collections::HashSet<&str> =
                unused.objects.iter().map(String::as_str).collect();
            if used.iter().any(|o| unused.contains(o.as_str())) {
                return Ok(false);
            }
        }
        for seq in deletes {
            sqlx::query("DELETE FROM events WHERE tenant = ? AND seq = ?")
                .bind(tenant)
                .bind(seq)
                .execute(&mut *tx)
                .await?;
        }
        apply_rewrites(&mut tx, tenant, rewrites).await?;
        self.commit_people(tx, start).await?;
        Ok(true)
    }

    async fn release_deleted(&self) -> Result<()> {
        // A checkpoint that readers hold back answers `busy = 1` rather than an error.
        let busy: i64 = sqlx::query_scalar("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&self.writer)
            .await?;
        if busy != 0 {
            return Err(StoreError::Write(
                "the checkpoint was held back by another connection".into(),
            ));
        }
        Ok(())
    }

    async fn put_person(
        &self,
        tenant: &str,
        person: &Person,
        at: Timestamp,
    ) -> Result<Result<PutPerson, IdentityTaken>> {
        let doc = serde_json::to_string(person).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let (mut tx, start) = self.begin_people().await?;
        for (source, external) in &person.identities {
            let owner: Option<String> = sqlx::query_scalar(
                "SELECT person FROM identities WHERE tenant = ? AND source = ? AND external_id = ?",
            )
            .bind(tenant)
            .bind(source)
            .bind(external)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(owner) = owner.filter(|o| o != &person.id) {
                return Ok(Err(IdentityTaken {
                    tool: source.clone(),
                    external_id: external.clone(),
                    person: owner,
                }));
            }
        }
        let existed: Option<String> =
            sqlx::query_scalar("SELECT doc FROM people WHERE tenant = ? AND id = ?")
                .bind(tenant)
                .bind(&person.id)
                .fetch_optional(&mut *tx)
                .await?;
        sqlx::query(
            "INSERT INTO people (tenant, id, doc, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (tenant, id) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at",
        )
        .bind(tenant)
        .bind(&person.id)
        .bind(&doc)
        .bind(at.0)
        .bind(at.0)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM identities WHERE tenant = ? AND person = ?")
            .bind(tenant)
            .bind(&person.id)
            .execute(&mut *tx)
            .await?;
        for (source, external) in &person.identities {
            sqlx::query(
                "INSERT INTO identities (tenant, source, external_id, person) VALUES (?, ?, ?, ?)",
            )
            .bind(tenant)
            .bind(source)
            .bind(external)
            .bind(&person.id)
            .execute(&mut *tx)
            .await?;
        }
        let last_status: Option<String> = sqlx::query_scalar(
            "SELECT status FROM account_history WHERE tenant = ? AND person = ? ORDER BY from_at DESC, rowid DESC LIMIT 1",
        )
        .bind(tenant)
        .bind(&person.id)
        .fetch_optional(&mut *tx)
        .await?;
        if last_status.as_deref() != Some(person.account.as_str()) {
            sqlx::query(
                "INSERT INTO account_history (tenant, person, from_at, status) VALUES (?, ?, ?, ?)",
            )
            .bind(tenant)
            .bind(&person.id)
            .bind(at.0)
            .bind(person.account.as_str())
            .execute(&mut *tx)
            .await?;
        }
        self.commit_people(tx, start).await?;
        Ok(Ok(PutPerson {
            created: existed.is_none(),
        }))
    }

    async fn person(&self, tenant: &str, id: &str) -> Result<Option<Person>> {
        let doc: Option<String> =
            sqlx::query_scalar("SELECT doc FROM people WHERE tenant = ? AND id = ?")
                .bind(tenant)
                .bind(id)
                .fetch_optional(&self.reader)
                .await?;
        doc.map(|d| {
            serde_json::from_str(&d).map_err(|e| StoreError::Corrupt(format!("person `{id}`: {e}")))
        })
        .transpose()
    }

    async fn account_history(&self, tenant: &str, id: &str) -> Result<Vec<AccountPeriod>> {
        let rows = sqlx::query("SELECT from_at, status FROM account_history WHERE tenant = ? AND person = ? ORDER BY from_at, rowid")
            .bind(tenant)
            .bind(id)
            .fetch_all(&self.reader)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(AccountPeriod {
                    from: ts(r, "from_at")?,
                    status: parse_status(&r.try_get::<String, _>("status")?)?,
                })
            })
            .collect()
    }

    async fn people_page(&self, after: (&str, &str), limit: u32) -> Result<Vec<(String, Person)>> {
        let rows = sqlx::query(
            "SELECT tenant, id, doc FROM people WHERE (tenant, id) > (?, ?) ORDER BY tenant, id LIMIT ?",
        )
        .bind(after.0)
        .bind(after.1)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                let doc: String = r.try_get("doc")?;
                let person = serde_json::from_str(&doc)
                    .map_err(|e| StoreError::Corrupt(format!("person `{id}`: {e}")))?;
                Ok((r.try_get("tenant")?, person))
            })
            .collect()
    }

    async fn person_by_identity(
        &self,
        tenant: &str,
        source: &str,
        external_id: &str,
    ) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT person FROM identities WHERE tenant = ? AND source = ? AND external_id = ?",
        )
        .bind(tenant)
        .bind(source)
        .bind(external_id)
        .fetch_optional(&self.reader)
        .await?)
    }

    async fn open_privacy_range(
        &self,
        tenant: &str,
        person: &str,
        record: &NewPrivacyRecord,
        replace_open: bool,
    ) -> Result<PrivacyWrite> {
        let mut tx = self.writer.begin().await?;
        let open: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM privacy_ranges WHERE tenant = ? AND person = ? AND kind = ? AND purpose = ? AND until_at IS NULL",
        )
        .bind(tenant)
        .bind(person)
        .bind(record.kind.as_str())
        .bind(&record.purpose)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = open {
            if !replace_open {
                tx.commit().await?;
                return Ok(PrivacyWrite { id, created: false });
            }
            sqlx::query("UPDATE privacy_ranges SET until_at = ? WHERE id = ?")
                .bind(record.at.0)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO privacy_ranges (tenant, person, kind, purpose, from_at, notice_version, detail) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(tenant)
        .bind(person)
        .bind(record.kind.as_str())
        .bind(&record.purpose)
        .bind(record.at.0)
        .bind(record.notice_version.map(i64::from))
        .bind(record.detail.as_deref())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(PrivacyWrite { id, created: true })
    }

    async fn close_privacy_range(
        &self,
        tenant: &str,
        person: &str,
        kind: PrivacyKind,
        purpose: &str,
        at: Timestamp,
    ) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "UPDATE privacy_ranges SET until_at = ? WHERE tenant = ? AND person = ? AND kind = ? AND purpose = ? AND until_at IS NULL RETURNING id",
        )
        .bind(at.0)
        .bind(tenant)
        .bind(person)
        .bind(kind.as_str())
        .bind(purpose)
        .fetch_optional(&self.writer)
        .await?)
    }

    async fn override_objection(
        &self,
        tenant: &str,
        person: &str,
        purpose: &str,
        at: Timestamp,
        grounds: &str,
    ) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "UPDATE privacy_ranges SET override_at = ?, override_grounds = ?
             WHERE tenant = ? AND person = ? AND kind = 'objection' AND purpose = ? AND until_at IS NULL AND override_at IS NULL
             RETURNING id",
        )
        .bind(at.0)
        .bind(grounds)
        .bind(tenant)
        .bind(person)
        .bind(purpose)
        .fetch_optional(&self.writer)
        .await?)
    }

    async fn privacy_records(&self, tenant: &str, person: &str) -> Result<Vec<PrivacyRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM privacy_ranges WHERE tenant = ? AND person = ? ORDER BY from_at, id",
        )
        .bind(tenant)
        .bind(person)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(privacy_row).collect()
    }

    async fn add_ledger(&self, rows: &[LedgerRow]) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let sql = multi_row_insert(
                "INSERT INTO ledger (tenant, subject, purpose, basis, day, allowed, denied, first_at, last_at) VALUES ",
                9,
                chunk.len(),
                " ON CONFLICT (tenant, subject, purpose, basis, day) DO UPDATE SET
                   allowed = allowed + excluded.allowed, denied = denied + excluded.denied,
                   first_at = MIN(first_at, excluded.first_at), last_at = MAX(last_at, excluded.last_at)",
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for r in chunk {
                query = query
                    .bind(&r.tenant)
                    .bind(&r.subject)
                    .bind(&r.purpose)
                    .bind(&r.basis)
                    .bind(r.day)
                    .bind(r.allowed)
                    .bind(r.denied)
                    .bind(r.first_at.0)
                    .bind(r.last_at.0);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn ledger_for(&self, tenant: &str, subject: &str) -> Result<Vec<LedgerRow>> {
        let rows = sqlx::query("SELECT * FROM ledger WHERE tenant = ? AND subject = ? ORDER BY day DESC, purpose, basis")
            .bind(tenant)
            .bind(subject)
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(ledger_row).collect()
    }

    async fn ledger_totals(&self, tenant: &str) -> Result<Vec<LedgerTotal>> {
        let rows = sqlx::query(
            "SELECT purpose, basis, COUNT(DISTINCT subject) AS subjects, SUM(allowed) AS allowed, SUM(denied) AS denied
             FROM ledger WHERE tenant = ? GROUP BY purpose, basis ORDER BY purpose, basis",
        )
        .bind(tenant)
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LedgerTotal {
                    purpose: r.try_get("purpose")?,
                    basis: r.try_get("basis")?,
                    subjects: r.try_get("subjects")?,
                    allowed: r.try_get("allowed")?,
                    denied: r.try_get("denied")?,
                })
            })
            .collect()
    }

    async fn append_audit(&self, entry: &AuditEntry) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO audit_log (tenant, at, actor, subject, action, purpose, detail) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq",
        )
        .bind(&entry.tenant)
        .bind(entry.at.0)
        .bind(&entry.actor)
        .bind(entry.subject.as_deref())
        .bind(&entry.action)
        .bind(entry.purpose.as_deref())
        .bind(entry.detail.to_string())
        .fetch_one(&self.writer)
        .await?)
    }

    async fn audit(
        &self,
        tenant: &str,
        subject: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT * FROM audit_log WHERE tenant = ? AND (? IS NULL OR subject = ?) ORDER BY seq DESC LIMIT ?",
        )
        .bind(tenant)
        .bind(subject)
        .bind(subject)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                let detail: String = r.try_get("detail")?;
                Ok(AuditEntry {
                    seq: r.try_get("seq")?,
                    tenant: r.try_get("tenant")?,
                    at: ts(r, "at")?,
                    actor: r.try_get("actor")?,
                    subject: r.try_get("subject")?,
                    action: r.try_get("action")?,
                    purpose: r.try_get("purpose")?,
                    detail: serde_json::from_str(&detail)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                })
            })
            .collect()
    }

    async fn create_legal_hold(
        &self,
        tenant: &str,
        person: &str,
        reason: &str,
        at: Timestamp,
    ) -> Result<LegalHold> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO legal_holds (tenant, person, reason, created_at) VALUES (?, ?, ?, ?) RETURNING id",
        )
        .bind(tenant)
        .bind(person)
        .bind(reason)
        .bind(at.0)
        .fetch_one(&self.writer)
        .await?;
        Ok(LegalHold {
            id,
            person: person.to_owned(),
            reason: reason.to_owned(),
            created_at: at,
            released_at: None,
        })
    }

    async fn release_legal_hold(&self, tenant: &str, id: i64, at: Timestamp) -> Result<bool> {
        let done = sqlx::query("UPDATE legal_holds SET released_at = ? WHERE tenant = ? AND id = ? AND released_at IS NULL")
            .bind(at.0)
            .bind(tenant)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn legal_holds(
        &self,
        tenant: &str,
        person: Option<&str>,
        active_only: bool,
    ) -> Result<Vec<LegalHold>> {
        let rows = sqlx::query(
            "SELECT * FROM legal_holds WHERE tenant = ? AND (? IS NULL OR person = ?) AND (? = 0 OR released_at IS NULL) ORDER BY id",
        )
        .bind(tenant)
        .bind(person)
        .bind(person)
        .bind(i64::from(active_only))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(hold_row).collect()
    }

    async fn erase_person(
        &self,
        tenant: &str,
        person: &str,
        rewrites: &[EventRewrite],
        suppression: Option<&str>,
        at: Timestamp,
    ) -> Result<()> {
        let (mut tx, start) = self.begin_people().await?;
        for table in [
            "people WHERE tenant = ? AND id = ?",
            "identities WHERE tenant = ? AND person = ?",
            "account_history WHERE tenant = ? AND person = ?",
            "privacy_ranges WHERE tenant = ? AND person = ?",
            "ledger WHERE tenant = ? AND subject = ?",
            "activity_counts WHERE tenant = ? AND person = ?",
        ] {
            sqlx::query(AssertSqlSafe(format!("DELETE FROM {table}")))
                .bind(tenant)
                .bind(person)
                .execute(&mut *tx)
                .await?;
        }
        apply_rewrites(&mut tx, tenant, rewrites).await?;
        if let Some(hash) = suppression {
            sqlx::query("INSERT INTO suppressions (tenant, email_hash, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
                .bind(tenant)
                .bind(hash)
                .bind(at.0)
                .execute(&mut *tx)
                .await?;
        }
        self.commit_people(tx, start).await?;
        Ok(())
    }

    async fn rewrite_events(&self, tenant: &str, rewrites: &[EventRewrite]) -> Result<()> {
        let (mut tx, start) = self.begin_people().await?;
        apply_rewrites(&mut tx, tenant, rewrites).await?;
        self.commit_people(tx, start).await?;
        Ok(())
    }

    async fn merge_subject(&self, tenant: &str, from: &str, to: &str) -> Result<()> {
        let (mut tx, start) = self.begin_people().await?;
        sqlx::query(
            "INSERT INTO ledger (tenant, subject, purpose, basis, day, allowed, denied, first_at, last_at)
             SELECT tenant, ?, purpose, basis, day, allowed, denied, first_at, last_at FROM ledger WHERE tenant = ? AND subject = ? AND true
             ON CONFLICT (tenant, subject, purpose, basis, day) DO UPDATE SET
               allowed = allowed + excluded.allowed, denied = denied + excluded.denied,
               first_at = MIN(first_at, excluded.first_at), last_at = MAX(last_at, excluded.last_at)",
        )
        .bind(to)
        .bind(tenant)
        .bind(from)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO activity_counts (tenant, person, type, count, last_at)
             SELECT tenant, ?, type, count, last_at FROM activity_counts WHERE tenant = ? AND person = ? AND true
             ON CONFLICT (tenant, person, type) DO UPDATE SET count = count + excluded.count, last_at = MAX(last_at, excluded.last_at)",
        )
        .bind(to)
        .bind(tenant)
        .bind(from)
        .execute(&mut *tx)
        .await?;
        for table in [
            "ledger WHERE tenant = ? AND subject = ?",
            "activity_counts WHERE tenant = ? AND person = ?",
        ] {
            sqlx::query(AssertSqlSafe(format!("DELETE FROM {table}")))
                .bind(tenant)
                .bind(from)
                .execute(&mut *tx)
                .await?;
        }
        self.commit_people(tx, start).await?;
        Ok(())
    }

    fn own_generation_moves(&self) -> i64 {
        self.bumped.load(Ordering::SeqCst)
    }

    async fn generation(&self) -> Result<Generation> {
        // Own bumps first: one committed between the two reads makes `value - own` larger,
        // which reads as another writer (the safe mistake).
        let own = self.bumped.load(Ordering::SeqCst);
        let value = sqlx::query_scalar("SELECT value FROM generation WHERE id = 0")
            .fetch_one(&self.writer)
            .await?;
        Ok(Generation { value, own })
    }

    async fn is_suppressed(&self, tenant: &str, email_hash: &str) -> Result<bool> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM suppressions WHERE tenant = ? AND email_hash = ?")
                .bind(tenant)
                .bind(email_hash)
                .fetch_optional(&self.reader)
                .await?;
        Ok(found.is_some())
    }

    async fn cursor(&self, name: &str) -> Result<i64> {
        let seq: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM projection_cursors WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.reader)
                .await?;
        Ok(seq.unwrap_or(0))
    }

    async fn save_activity(
        &self,
        cursor_name: &str,
        cursor: i64,
        counts: &[ActivityCount],
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        for chunk in counts.chunks(ROWS_PER_INSERT) {
            let sql = multi_row_insert(
                "INSERT INTO activity_counts (tenant, person, type, count, last_at) VALUES ",
                5,
                chunk.len(),
                " ON CONFLICT (tenant, person, type) DO UPDATE SET count = excluded.count, last_at = excluded.last_at",
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for c in chunk {
                query = query
                    .bind(&c.tenant)
                    .bind(&c.person)
                    .bind(&c.kind)
                    .bind(c.count)
                    .bind(c.last_at.0);
            }
            query.execute(&mut *tx).await?;
        }
        sqlx::query("INSERT INTO projection_cursors (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq")
            .bind(cursor_name)
            .bind(cursor)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn load_activity(&self) -> Result<Vec<ActivityCount>> {
        let rows = sqlx::query("SELECT * FROM activity_counts")
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(activity_row).collect()
    }

    async fn activity(&self, tenant: &str, person: &str) -> Result<Vec<ActivityCount>> {
        let rows = sqlx::query(
            "SELECT * FROM activity_counts WHERE tenant = ? AND person = ? ORDER BY type",
        )
        .bind(tenant)
        .bind(person)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(activity_row).collect()
    }

    async fn purge_activity(&self, tenant: &str, person: &str) -> Result<()> {
        sqlx::query("DELETE FROM activity_counts WHERE tenant = ? AND person = ?")
            .bind(tenant)
            .bind(person)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn reset_activity(&self, cursor_name: &str) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM activity_counts")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM projection_cursors WHERE name = ?")
            .bind(cursor_name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: &str) -> NewEvent {
        NewEvent {
            id: id.into(),
            kind: "content.created".into(),
            at: Timestamp(1),
            actor: Some("u-1".into()),
            body: format!("{{\"id\":\"{id}\"}}"),
        }
    }

    crate::store_conformance_suite!(async {
        SqliteStore::open_url("sqlite::memory:").await.unwrap()
    });

    /// Another handle on the same file (another process) moves the generation without owning
    /// the move, and so does a write that bypasses this code altogether (an older build, a tool
    /// editing the database): the triggers see every row. Reopening keeps the value.
    #[tokio::test]
    async fn another_writer_shows_in_the_generation() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        let other = SqliteStore::open(dir.path()).await.unwrap();
        let base = store.generation().await.unwrap().value;
        let person = Person {
            id: "p".into(),
            name: Some("P".into()),
            email: None,
            job_title: None,
            department: None,
            teams: vec![],
            country: None,
            account: basis_core::subject::AccountStatus::Active,
            timezone: None,
            locale: None,
            identities: Default::default(),
        };
        other
            .put_person("a", &person, Timestamp(1))
            .await
            .unwrap()
            .unwrap();
        let seen = store.generation().await.unwrap();
        assert!(seen.value > base && seen.own == 0, "{seen:?}");
        // Raw SQL, as an older build or a tool would write it.
        sqlx::query("UPDATE people SET doc = doc WHERE id = 'p'")
            .execute(&other.writer)
            .await
            .unwrap();
        let raw = store.generation().await.unwrap();
        assert!(raw.value > seen.value && raw.own == 0, "{raw:?}");
        store
            .put_person("a", &person, Timestamp(2))
            .await
            .unwrap()
            .unwrap();
        let mine = store.generation().await.unwrap();
        assert_eq!(mine.value - raw.value, mine.own, "{mine:?}");
        store.close().await;
        other.close().await;
        let store = SqliteStore::open(dir.path()).await.unwrap();
        let again = store.generation().await.unwrap();
        assert_eq!((again.value, again.own), (mine.value, 0));
        store.close().await;
    }

    /// What a compaction (or an erasure) deletes or rewrites does not linger in the file's free
    /// space: once checkpointed, its bytes are gone from the database and its write-ahead log.
    #[tokio::test]
    async fn deleted_and_rewritten_events_leave_no_bytes_behind() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        let secret = |k: u32| format!("salary-of-ann-{k}-{}", "x".repeat(200));
        let events: Vec<NewEvent> = (0..3)
            .map(|k| NewEvent {
                body: format!("{{\"id\":\"{k}\",\"note\":\"{}\"}}", secret(k)),
                ..ev(&k.to_string())
            })
            .collect();
        store.append_events("a", &events).await.unwrap();
        // Kept past any reuse of its space: one more event after them.
        store.append_events("a", &[ev("last")]).await.unwrap();
        let rewrite = EventRewrite {
            seq: 2,
            actor: None,
            body: "{\"id\":\"1\"}".into(),
        };
        let files = || {
            let mut bytes = std::fs::read(dir.path().join("basis.db")).unwrap();
            if let Ok(wal) = std::fs::read(dir.path().join("basis.db-wal")) {
                bytes.extend(wal);
            }
            bytes
        };
        let found = |bytes: &[u8], k: u32| {
            let needle = secret(k).into_bytes();
            bytes.windows(needle.len()).any(|w| w == needle)
        };
        store.release_deleted().await.unwrap();
        assert!((0..3).all(|k| found(&files(), k)), "there to begin with");
        let unused = StillUnused {
            after: 4,
            since: Timestamp(0),
            objects: &[],
        };
        let written = store
            .compact_events("a", &[1, 3], &[rewrite], &unused)
            .await
            .unwrap();
        assert!(written);
        store.release_deleted().await.unwrap();
        let bytes = files();
        for k in 0..3 {
            assert!(!found(&bytes, k), "event {k} is still in the file");
        }
        store.close().await;
    }

    /// A compaction that would drop an object's text writes nothing once an event using the
    /// object arrived after it looked: it reads the page again.
    #[tokio::test]
    async fn a_compaction_yields_to_content_coming_back_into_use() {
        let store = SqliteStore::open_url("sqlite::memory:").await.unwrap();
        let page = |id: &str, at: i64| NewEvent {
            at: Timestamp(at),
            body: format!("{{\"id\":\"{id}\",\"object\":{{\"id\":\"p\",\"title\":\"T\"}}}}"),
            ..ev(id)
        };
        store.append_events("a", &[page("old", 1)]).await.unwrap();
        let rewrite = || EventRewrite {
            seq: 1,
            actor: None,
            body: "{\"id\":\"old\",\"object\":{\"id\":\"p\"}}".into(),
        };
        let objects = ["p".to_owned()];
        let unused = StillUnused {
            after: 1,
            since: Timestamp(100),
            objects: &objects,
        };
        // An event dated before the period does not count as use.
        store
            .append_events("a", &[page("older", 50)])
            .await
            .unwrap();
        assert!(
            store
                .compact_events("a", &[], &[rewrite()], &unused)
                .await
                .unwrap()
        );
        store.append_events("a", &[page("new", 200)]).await.unwrap();
        let before = store.events_after(Some("a"), 0, 10).await.unwrap();
        assert!(
            !store
                .compact_events("a", &[2], &[rewrite()], &unused)
                .await
                .unwrap()
        );
        assert_eq!(store.events_after(Some("a"), 0, 10).await.unwrap(), before);
    }

    #[tokio::test]
    async fn a_store_on_disk_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        let first = store.append_events("a", &[ev("1")]).await.unwrap();
        store.close().await;
        let store = SqliteStore::open(dir.path()).await.unwrap();
        let again = store.append_events("a", &[ev("1")]).await.unwrap();
        assert_eq!((again.duplicates, again.seq), (1, first.seq));
    }

    #[tokio::test]
    async fn audit_log_refuses_updates() {
        let store = SqliteStore::open_url("sqlite::memory:").await.unwrap();
        let entry = AuditEntry {
            seq: 0,
            tenant: "t".into(),
            at: Timestamp(1),
            actor: "admin".into(),
            subject: Some("p".into()),
            action: "consent.granted".into(),
            purpose: None,
            detail: serde_json::json!({}),
        };
        store.append_audit(&entry).await.unwrap();
        let err = sqlx::query("DELETE FROM audit_log")
            .execute(&store.writer)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
    }
}
