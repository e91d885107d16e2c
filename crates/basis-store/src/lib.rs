//! Storage for Basis: the [`Store`] trait and its embedded SQLite implementation.
//!
//! The store keeps the event log (the source of truth), people, privacy state as time ranges,
//! the processing ledger, the append-only audit log, legal holds, API keys (hashed) and the
//! persistent part of projections. Callers only see the trait, so a PostgreSQL implementation
//! can follow without changing them; every method is scoped to one tenant.

use async_trait::async_trait;
use basis_core::Timestamp;
use basis_core::person::Person;
use basis_core::subject::{AccountPeriod, AccountStatus};

mod conformance;
mod sqlite;

pub use sqlite::SqliteStore;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored document could not be read back.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// A shared (group) write failed; the message is the underlying error.
    #[error("the write failed: {0}")]
    Write(String),
    /// The data directory cannot be used.
    #[error("cannot open the data directory `{path}`: {reason}")]
    DataDir {
        /// The directory.
        path: String,
        /// Why.
        reason: String,
    },
}

/// Store result.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An event ready to append: validated, with its indexed columns taken out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// Producer-chosen id.
    pub id: String,
    /// Type.
    pub kind: String,
    /// When it happened.
    pub at: Timestamp,
    /// Who did it.
    pub actor: Option<String>,
    /// The event as JSON.
    pub body: String,
}

/// An event in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Position in the log.
    pub seq: i64,
    /// Tenant.
    pub tenant: String,
    /// Producer-chosen id.
    pub id: String,
    /// Type.
    pub kind: String,
    /// When it happened.
    pub at: Timestamp,
    /// The event as JSON.
    pub body: String,
}

/// The indexed columns of a stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredHead {
    /// Position in the log.
    pub seq: i64,
    /// Tenant.
    pub tenant: String,
    /// Type.
    pub kind: String,
    /// When it happened.
    pub at: Timestamp,
    /// Who did it.
    pub actor: Option<String>,
}

/// A webhook's settings.
#[derive(Clone, PartialEq, Eq)]
pub struct HookSettings {
    /// The shared secret signatures are checked with.
    pub secret: String,
    /// Trello signs the callback URL too.
    pub callback_url: Option<String>,
}

impl std::fmt::Debug for HookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookSettings")
            .field("secret", &"<redacted>")
            .field("callback_url", &self.callback_url)
            .finish()
    }
}

/// Result of an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Newly stored events.
    pub accepted: u64,
    /// Events whose id the tenant had already stored (or that repeated within the batch).
    pub duplicates: u64,
    /// The log position after the append: read with `min_seq` this to see the batch.
    pub seq: i64,
}

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Everything in its tenant.
    Admin,
    /// What product backends need: ingest, people, privacy actions, decisions, reads.
    Service,
}

impl Role {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Service => "service",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "service" => Some(Role::Service),
            _ => None,
        }
    }
}

/// An API key's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// Tenant.
    pub tenant: String,
    /// Role.
    pub role: Role,
    /// Name given at creation.
    pub name: String,
}

/// Which kind of privacy range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrivacyKind {
    /// Consent granted .. withdrawn.
    Consent,
    /// Objection made .. lifted.
    Objection,
    /// Opted out .. opted back in.
    OptOut,
}

impl PrivacyKind {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            PrivacyKind::Consent => "consent",
            PrivacyKind::Objection => "objection",
            PrivacyKind::OptOut => "opt_out",
        }
    }

    fn parse(text: &str) -> Option<PrivacyKind> {
        match text {
            "consent" => Some(PrivacyKind::Consent),
            "objection" => Some(PrivacyKind::Objection),
            "opt_out" => Some(PrivacyKind::OptOut),
            _ => None,
        }
    }
}

/// A consent, objection or opt-out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivacyRecord {
    /// Record id.
    pub id: i64,
    /// Kind.
    pub kind: PrivacyKind,
    /// Purpose key.
    pub purpose: String,
    /// Start.
    pub from: Timestamp,
    /// End, if closed.
    pub until: Option<Timestamp>,
    /// Notice version (consents).
    pub notice_version: Option<u32>,
    /// How it was given (`web form`, `support ticket 1234`, the objection's reason).
    pub detail: Option<String>,
    /// When an administrator overrode the objection.
    pub override_at: Option<Timestamp>,
    /// The compelling grounds.
    pub override_grounds: Option<String>,
}

/// A new privacy range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPrivacyRecord {
    /// Kind.
    pub kind: PrivacyKind,
    /// Purpose key.
    pub purpose: String,
    /// Start.
    pub at: Timestamp,
    /// Notice version (consents).
    pub notice_version: Option<u32>,
    /// How it was given.
    pub detail: Option<String>,
}

/// Outcome of recording a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrivacyWrite {
    /// The open record now in force.
    pub id: i64,
    /// Whether a new record was opened (false: one was already open and is kept).
    pub created: bool,
}

/// One ledger cell: counted decisions for (tenant, subject, purpose, basis, day).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerRow {
    /// Tenant.
    pub tenant: String,
    /// The person.
    pub subject: String,
    /// Purpose key.
    pub purpose: String,
    /// Basis name.
    pub basis: String,
    /// Day number since the epoch.
    pub day: i64,
    /// Allowed decisions.
    pub allowed: i64,
    /// Denied decisions.
    pub denied: i64,
    /// First decision that day.
    pub first_at: Timestamp,
    /// Last decision that day.
    pub last_at: Timestamp,
}

/// Ledger totals for one purpose and basis across a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerTotal {
    /// Purpose key.
    pub purpose: String,
    /// Basis name.
    pub basis: String,
    /// Distinct subjects.
    pub subjects: i64,
    /// Allowed decisions.
    pub allowed: i64,
    /// Denied decisions.
    pub denied: i64,
}

/// A privacy action in the audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Position (0 before it is stored).
    pub seq: i64,
    /// Tenant.
    pub tenant: String,
    /// When.
    pub at: Timestamp,
    /// Who acted (an API key's name, `person`, `system`).
    pub actor: String,
    /// About whom.
    pub subject: Option<String>,
    /// `consent.granted`, `objection.overridden`, `person.erased`, ...
    pub action: String,
    /// The purpose concerned.
    pub purpose: Option<String>,
    /// Anything else worth keeping.
    pub detail: serde_json::Value,
}

/// A legal hold preventing erasure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalHold {
    /// Id.
    pub id: i64,
    /// Person held.
    pub person: String,
    /// Why (case reference).
    pub reason: String,
    /// Since.
    pub created_at: Timestamp,
    /// Released at.
    pub released_at: Option<Timestamp>,
}

/// The people generation: a counter the store moves with every row written to what projections
/// derive people from — profiles, identities, account history, and logged events rewritten or
/// deleted — whoever writes it (this build, an older one, a tool editing the database). Appends
/// to the log and privacy ranges do not move it: appends are replayed, and the gate is asked
/// again at every read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation {
    /// The counter now.
    pub value: i64,
    /// How much of it moved inside transactions made through this handle (and its clones) since
    /// it was opened: `value - own` moving means someone else wrote. An engine that keeps people
    /// data outside the store relies on this, so it must be the only engine on its handle.
    pub own: i64,
}

/// Outcome of storing a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PutPerson {
    /// The person did not exist before.
    pub created: bool,
}

/// A source identity claimed by two people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("identity `{tool}:{external_id}` already belongs to `{person}`")]
pub struct IdentityTaken {
    /// Source tool.
    pub tool: String,
    /// The id in that source.
    pub external_id: String,
    /// Who has it.
    pub person: String,
}

/// Rewrite of one event during erasure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRewrite {
    /// Event position.
    pub seq: i64,
    /// New actor column.
    pub actor: Option<String>,
    /// New JSON body.
    pub body: String,
}

/// Objects a compaction takes for unused, and since when (see [`Store::compact_events`]).
#[derive(Debug, Clone, Copy)]
pub struct StillUnused<'a> {
    /// Events after this position are checked.
    pub after: i64,
    /// Only those dated at or after this count as use.
    pub since: Timestamp,
    /// The objects.
    pub objects: &'a [String],
}

/// Activity counted for one person and event type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityCount {
    /// Tenant.
    pub tenant: String,
    /// Person.
    pub person: String,
    /// Event type.
    pub kind: String,
    /// Events counted.
    pub count: i64,
    /// Latest event time.
    pub last_at: Timestamp,
}

/// The storage interface every backend implements. All methods are scoped to a tenant.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Creates a tenant; `false` if it existed.
    async fn create_tenant(&self, tenant: &str, at: Timestamp) -> Result<bool>;
    /// Stores an API key hash.
    async fn insert_api_key(&self, hash: &str, key: &ApiKeyRecord, at: Timestamp) -> Result<()>;
    /// Sets (or replaces) a webhook secret for a workspace and source.
    async fn set_hook(
        &self,
        tenant: &str,
        source: &str,
        secret: &str,
        callback_url: Option<&str>,
    ) -> Result<()>;
    /// A workspace's webhook settings for a source.
    async fn hook(&self, tenant: &str, source: &str) -> Result<Option<HookSettings>>;
    /// Stores a setting unless one of that name exists; returns the value in force.
    async fn init_setting(&self, name: &str, value: &str) -> Result<String>;
    /// How many API keys exist (zero on a new store).
    async fn count_api_keys(&self) -> Result<i64>;
    /// Looks up an API key by hash.
    async fn api_key(&self, hash: &str) -> Result<Option<ApiKeyRecord>>;

    /// Appends events in one transaction; acknowledged only after commit.
    async fn append_events(&self, tenant: &str, events: &[NewEvent]) -> Result<AppendOutcome>;
    /// Appends several requests' batches in one transaction (group commit), one outcome each,
    /// in order. All or none are stored.
    async fn append_event_groups(
        &self,
        groups: &[(&str, &[NewEvent])],
    ) -> Result<Vec<AppendOutcome>>;
    /// Events after `after`, of one tenant or (for projections) of all.
    async fn events_after(
        &self,
        tenant: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>>;
    /// The indexed columns of events after `after`, of all tenants (projections that need no
    /// body read only these).
    async fn event_heads_after(&self, after: i64, limit: u32) -> Result<Vec<StoredHead>>;
    /// The newest log position (0 when empty).
    async fn last_seq(&self) -> Result<i64>;
    /// Events of a tenant whose body mentions `needle` anywhere (callers check precisely).
    async fn events_containing(&self, tenant: &str, needle: &str) -> Result<Vec<StoredEvent>>;
    /// A tenant's events dated before `before`, after position `after`, in log order (a
    /// retention compaction pages through them).
    async fn events_before(
        &self,
        tenant: &str,
        before: Timestamp,
        after: i64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>>;
    /// The ids of the objects a tenant's events after position `after`, dated at or after
    /// `since`, are about.
    async fn objects_since(
        &self,
        tenant: &str,
        since: Timestamp,
        after: i64,
    ) -> Result<Vec<String>>;
    /// Deletes and rewrites events in one transaction (a retention compaction), unless an
    /// event after `unused.after` dated at or after `unused.since` names one of
    /// `unused.objects` (whose text the rewrites drop): then nothing is written and the answer
    /// is `false`. Both move the people generation, counted as this handle's own.
    async fn compact_events(
        &self,
        tenant: &str,
        deletes: &[i64],
        rewrites: &[EventRewrite],
        unused: &StillUnused<'_>,
    ) -> Result<bool>;
    /// Makes what was deleted or rewritten leave the files now rather than at a later
    /// checkpoint (best effort: readers can hold it back).
    async fn release_deleted(&self) -> Result<()>;

    /// Creates or replaces a person; records an account-status change.
    async fn put_person(
        &self,
        tenant: &str,
        person: &Person,
        at: Timestamp,
    ) -> Result<Result<PutPerson, IdentityTaken>>;
    /// A person.
    async fn person(&self, tenant: &str, id: &str) -> Result<Option<Person>>;
    /// Account status changes, oldest first.
    async fn account_history(&self, tenant: &str, id: &str) -> Result<Vec<AccountPeriod>>;
    /// Every tenant's people in (tenant, id) order, after the pair `after` (`("", "")` to
    /// start): how views load the directory.
    async fn people_page(&self, after: (&str, &str), limit: u32) -> Result<Vec<(String, Person)>>;
    /// The person a source identity belongs to.
    async fn person_by_identity(
        &self,
        tenant: &str,
        source: &str,
        external_id: &str,
    ) -> Result<Option<String>>;

    /// Opens a privacy range. With `replace_open` an open range for the same kind and purpose is
    /// closed at `at` first (a new consent replaces the old); without, an open one is kept.
    async fn open_privacy_range(
        &self,
        tenant: &str,
        person: &str,
        record: &NewPrivacyRecord,
        replace_open: bool,
    ) -> Result<PrivacyWrite>;
    /// Closes the open range of a kind and purpose; the id closed, if any.
    async fn close_privacy_range(
        &self,
        tenant: &str,
        person: &str,
        kind: PrivacyKind,
        purpose: &str,
        at: Timestamp,
    ) -> Result<Option<i64>>;
    /// Records an override on the open objection to `purpose`; the objection's id, if any.
    async fn override_objection(
        &self,
        tenant: &str,
        person: &str,
        purpose: &str,
        at: Timestamp,
        grounds: &str,
    ) -> Result<Option<i64>>;
    /// Every privacy range of a person, oldest first.
    async fn privacy_records(&self, tenant: &str, person: &str) -> Result<Vec<PrivacyRecord>>;

    /// Adds ledger counts (upsert, summing).
    async fn add_ledger(&self, rows: &[LedgerRow]) -> Result<()>;
    /// A person's ledger rows, newest day first.
    async fn ledger_for(&self, tenant: &str, subject: &str) -> Result<Vec<LedgerRow>>;
    /// Totals per purpose and basis.
    async fn ledger_totals(&self, tenant: &str) -> Result<Vec<LedgerTotal>>;

    /// Appends to the audit log.
    async fn append_audit(&self, entry: &AuditEntry) -> Result<i64>;
    /// Audit entries, of one subject or all, newest first.
    async fn audit(
        &self,
        tenant: &str,
        subject: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>>;

    /// Places a legal hold.
    async fn create_legal_hold(
        &self,
        tenant: &str,
        person: &str,
        reason: &str,
        at: Timestamp,
    ) -> Result<LegalHold>;
    /// Releases a hold; `false` if there was no active hold with that id.
    async fn release_legal_hold(&self, tenant: &str, id: i64, at: Timestamp) -> Result<bool>;
    /// Holds of a tenant, or of one person, active ones only if asked.
    async fn legal_holds(
        &self,
        tenant: &str,
        person: Option<&str>,
        active_only: bool,
    ) -> Result<Vec<LegalHold>>;

    /// Erases a person in one transaction: profile, identities, account history, privacy
    /// ranges, ledger rows and projection rows go; events are rewritten; a suppression entry
    /// (an e-mail hash) is kept.
    async fn erase_person(
        &self,
        tenant: &str,
        person: &str,
        rewrites: &[EventRewrite],
        suppression: Option<&str>,
        at: Timestamp,
    ) -> Result<()>;
    /// Rewrites events in place (identity merges).
    async fn rewrite_events(&self, tenant: &str, rewrites: &[EventRewrite]) -> Result<()>;
    /// Moves ledger rows and activity counts of subject `from` onto `to`, summing where both
    /// have rows (a stub identity merged into a person).
    async fn merge_subject(&self, tenant: &str, from: &str, to: &str) -> Result<()>;
    /// The people generation (see [`Generation`]).
    async fn generation(&self) -> Result<Generation>;
    /// The `own` part of [`Generation`] alone: kept in memory, read without a query (so it
    /// cannot fail after a write has committed).
    fn own_generation_moves(&self) -> i64;
    /// Whether an e-mail hash is suppressed.
    async fn is_suppressed(&self, tenant: &str, email_hash: &str) -> Result<bool>;

    /// A projection's cursor (0 when new).
    async fn cursor(&self, name: &str) -> Result<i64>;
    /// Writes a snapshot of activity counts (absolute values, replacing stored ones) and the
    /// cursor they correspond to, atomically.
    async fn save_activity(
        &self,
        cursor_name: &str,
        cursor: i64,
        counts: &[ActivityCount],
    ) -> Result<()>;
    /// Every stored activity count (loaded at start-up).
    async fn load_activity(&self) -> Result<Vec<ActivityCount>>;
    /// A person's activity counts.
    async fn activity(&self, tenant: &str, person: &str) -> Result<Vec<ActivityCount>>;
    /// Drops a person's activity counts.
    async fn purge_activity(&self, tenant: &str, person: &str) -> Result<()>;
    /// Drops every activity count and resets the cursor, for a rebuild.
    async fn reset_activity(&self, cursor_name: &str) -> Result<()>;
}

pub(crate) fn parse_status(text: &str) -> Result<AccountStatus> {
    AccountStatus::parse(text)
        .ok_or_else(|| StoreError::Corrupt(format!("account status `{text}`")))
}
