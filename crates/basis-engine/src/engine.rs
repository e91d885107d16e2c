//! [`Engine`]: the services the API calls. Cheap to clone (one `Arc`).

use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use basis_core::clock::Clock;
use basis_core::event::Event;
use basis_core::person::{ERASED, Person, PersonInput};
use basis_core::policy::ObjectionRule;
use basis_core::{Policy, Purpose, Timestamp, decide};
use basis_store::{
    ApiKeyRecord, AppendOutcome, AuditEntry, EventRewrite, NewEvent, NewPrivacyRecord, PrivacyKind,
    PutPerson, Role, Store, StoredEvent,
};
use serde_json::{Value, json};
use tokio::sync::{Mutex, Notify, oneshot, watch};

use crate::cache::ReadThrough;
use crate::error::EngineError;
use crate::graph::GraphState;
use crate::keys;
use crate::ledger::{Counted, Ledger};
use crate::projections::{Activity, ActivityState, GraphWorker, ProjectionWorker};
use crate::subjects::SubjectCache;
use crate::views::{
    ActivityView, AuditView, DecisionView, ExportBundle, HoldView, PrivacyRecordView, PrivacyView,
    ProcessingLine, ProcessingView, PurposeStatus, PurposeSummary, RecordOfProcessing, RecordsView,
    Rights,
};

/// Settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Longest a `min_seq` read waits for the views.
    pub max_wait: Duration,
    /// How often buffered ledger counts are written.
    pub ledger_flush_every: Duration,
    /// Ranking parameters of the interaction graph (the half-life of an interaction's weight).
    pub affinity: basis_core::affinity::AffinityParams,
    /// Where the interaction graph's snapshot lives (see `snapshot`), for every engine opened on
    /// a data directory: an erasure discards a file left there.
    pub graph_snapshot: Option<std::path::PathBuf>,
    /// Whether this engine takes the snapshot at start and writes it on a clean stop. Only the
    /// server does: a command that opens the engine for a moment has no graph worth writing and
    /// must not take the server's. Without it every start replays the whole log.
    pub keep_graph_snapshot: bool,
    /// How often the interaction graph forgets what lies past the retention of every purpose
    /// that reads it (also once after start-up replay, and before a snapshot is written).
    pub graph_sweep_every: Duration,
    /// How often every workspace's event log is compacted (see `retention`); the first run is
    /// a minute after the background work starts.
    pub log_compact_every: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            max_wait: Duration::from_secs(5),
            ledger_flush_every: Duration::from_secs(10),
            affinity: basis_core::affinity::AffinityParams::default(),
            graph_snapshot: None,
            keep_graph_snapshot: false,
            graph_sweep_every: Duration::from_secs(3_600),
            log_compact_every: Duration::from_secs(86_400),
        }
    }
}

/// Bounds of the read-through caches (cleared whole when full; entries reload on demand) and
/// how long an entry is trusted (changes by another process are seen within that).
const MAX_CACHED_KEYS: usize = 10_000;
const MAX_CACHED_HOOKS: usize = 10_000;
const MAX_CACHED_IDENTITIES: usize = 200_000;
const CACHE_TTL: Duration = Duration::from_secs(30);

/// Most events one group commit writes.
const MAX_EVENTS_PER_COMMIT: usize = 20_000;

/// A batch waiting for the writer.
struct IngestJob {
    tenant: String,
    events: Vec<NewEvent>,
    reply: oneshot::Sender<Result<AppendOutcome, EngineError>>,
}

pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    policy: Arc<Policy>,
    clock: Arc<dyn Clock>,
    pub(crate) config: EngineConfig,
    subjects: SubjectCache,
    ledger: Ledger,
    keys: ReadThrough<String, ApiKeyRecord>,
    pub(crate) appended: Arc<Notify>,
    pub(crate) projection_lock: Mutex<()>,
    queue: std::sync::Mutex<Vec<IngestJob>>,
    writer: Mutex<()>,
    activity: std::sync::Mutex<ActivityState>,
    pub(crate) graph: RwLock<GraphState>,
    pub(crate) graph_watermark: Arc<watch::Sender<i64>>,
    pub(crate) last_snapshot: std::sync::Mutex<std::time::Instant>,
    /// The log's end when the engine opened: ready once both projections have applied it.
    seq_at_start: i64,
    /// A random id kept in the store: a graph snapshot names the store it was taken from.
    store_id: String,
    /// People-generation bumps by other writers when the engine opened; if that moves, the
    /// graph misses their writes and no snapshot of it is written (see `snapshot`).
    foreign_bumps_at_open: i64,
    /// People writes of this engine between their store write and the graph applying them; one
    /// that stopped in between (an error, a dropped request) stays counted, and no snapshot of
    /// this graph is written (see [`PeopleWrite`]).
    people_pending: std::sync::atomic::AtomicI64,
    /// The store's count of this handle's own generation moves as last seen by a people write
    /// the graph applied: a move beyond it was made through the handle without the engine (and
    /// the graph) knowing, and no snapshot is written.
    own_accounted: std::sync::atomic::AtomicI64,
    /// Set when the server stops waiting for the snapshot to be written: it is then not put in
    /// place (see [`Engine::abandon_graph_snapshot`]).
    graph_snapshot_abandoned: std::sync::atomic::AtomicBool,
    /// Latched on the first time the projections reached `seq_at_start`, so ordinary lag under
    /// load does not take the process out of rotation.
    ready: std::sync::atomic::AtomicBool,
    /// When the graph last forgot what lies past its retention (the engine's clock, ms), and
    /// whether it has since it first caught up with the log (see [`Engine::graph_sweep_due`]).
    swept_at: std::sync::atomic::AtomicI64,
    pub(crate) swept_caught_up: std::sync::atomic::AtomicBool,
    /// One compaction of the log at a time (the daily one and one asked for).
    pub(crate) compacting: Mutex<()>,
    token_key: Vec<u8>,
    /// Webhook settings per (tenant, source); cleared when one is set.
    pub(crate) hook_cache: ReadThrough<(String, String), Option<basis_store::HookSettings>>,
    /// Source identity (`tenant`, `slack:U1`) -> person, or none yet; cleared on people writes.
    pub(crate) identity_cache: ReadThrough<(String, String), Option<String>>,
    watermark: Arc<watch::Sender<i64>>,
}

/// A people write in flight, from before its store write until the graph has applied it. Dropped
/// without [`PeopleWrite::applied`] — an error or a dropped request between the two — it stays
/// counted, and no snapshot of this graph is written.
#[must_use]
pub(crate) struct PeopleWrite<'a>(&'a Inner);

impl PeopleWrite<'_> {
    /// Nothing was written (the store refused it).
    pub(crate) fn nothing_written(self) {
        self.0.people_pending.fetch_sub(1, Ordering::SeqCst);
    }

    /// The graph has applied the write: the store's count of this handle's own generation moves
    /// as it stands now is accounted for, then the write leaves the in-flight count. Cannot
    /// fail: the write it follows has committed.
    pub(crate) fn applied(self) {
        let own = self.0.store.own_generation_moves();
        self.0.own_accounted.fetch_max(own, Ordering::SeqCst);
        self.0.people_pending.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The engine.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("policy", &self.inner.policy.version)
            .finish_non_exhaustive()
    }
}

/// Who performs an action, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor<'a> {
    /// Tenant.
    pub tenant: &'a str,
    /// API key name (or `cli`).
    pub name: &'a str,
}

impl Engine {
    /// Builds an engine over a store. Call [`Engine::start_background`] to run projections and
    /// ledger flushes.
    ///
    /// # Errors
    /// When the store cannot be read.
    pub async fn new(
        store: Arc<dyn Store>,
        policy: Arc<Policy>,
        clock: Arc<dyn Clock>,
        mut config: EngineConfig,
    ) -> Result<Engine, EngineError> {
        // The graph keeps what people did for the longest retention of the purposes that read
        // it; a snapshot taken under another horizon is refused with the other parameters.
        if let Some(days) = crate::graph::GRAPH_PURPOSES
            .iter()
            .filter_map(|key| policy.purpose_by_key(key))
            .map(|p| p.retention_days)
            .max()
        {
            config.affinity.horizon_days = f64::from(days);
        }
        let activity = ActivityState::load(store.as_ref()).await?;
        let fresh = keys::generate().map_err(|e| EngineError::invalid("key", e.to_string()))?;
        let token_key = store
            .init_setting("privacy_token_key", &fresh)
            .await?
            .into_bytes();
        let cursor = activity.applied();
        let (watermark, _) = watch::channel(cursor);
        let seq_at_start = store.last_seq().await?;
        let store_id = {
            // A plain random id (not shaped like a key: it is written into the snapshot).
            let mut id = [0u8; 16];
            getrandom::fill(&mut id)
                .map_err(|e| EngineError::invalid("store_id", e.to_string()))?;
            store.init_setting("store_id", &hex::encode(id)).await?
        };
        // Read before the people are: a write landing in between shows as another writer's.
        let generation = store.generation().await?;
        let taken = match config.graph_snapshot.as_deref() {
            Some(path) if config.keep_graph_snapshot => {
                let expected = crate::snapshot::Expected {
                    store_id: &store_id,
                    params: &config.affinity,
                    last_seq: seq_at_start,
                    generation: generation.value,
                };
                crate::snapshot::load(path, store.as_ref(), &expected).await?
            }
            _ => None,
        };
        let from_snapshot = taken.is_some();
        let graph = match taken {
            Some(graph) => graph,
            None => load_people(store.as_ref(), config.affinity, None).await?,
        };
        let (graph_watermark, _) = watch::channel(graph.applied);
        let opened = clock.now();
        let engine = Engine {
            inner: Arc::new(Inner {
                store,
                policy,
                clock,
                config,
                subjects: SubjectCache::default(),
                ledger: Ledger::default(),
                keys: ReadThrough::new(MAX_CACHED_KEYS, CACHE_TTL),
                appended: Arc::new(Notify::new()),
                projection_lock: Mutex::new(()),
                queue: std::sync::Mutex::new(Vec::new()),
                writer: Mutex::new(()),
                activity: std::sync::Mutex::new(activity),
                graph: RwLock::new(graph),
                graph_watermark: Arc::new(graph_watermark),
                last_snapshot: std::sync::Mutex::new(std::time::Instant::now()),
                seq_at_start,
                store_id,
                foreign_bumps_at_open: generation.value - generation.own,
                people_pending: std::sync::atomic::AtomicI64::new(0),
                own_accounted: std::sync::atomic::AtomicI64::new(generation.own),
                graph_snapshot_abandoned: std::sync::atomic::AtomicBool::new(false),
                ready: std::sync::atomic::AtomicBool::new(false),
                swept_at: std::sync::atomic::AtomicI64::new(opened.0),
                swept_caught_up: std::sync::atomic::AtomicBool::new(false),
                compacting: Mutex::new(()),
                token_key,
                hook_cache: ReadThrough::new(MAX_CACHED_HOOKS, CACHE_TTL),
                identity_cache: ReadThrough::new(MAX_CACHED_IDENTITIES, CACHE_TTL),
                watermark: Arc::new(watermark),
            }),
        };
        if from_snapshot && let Err(error) = engine.regate_graph().await {
            // Whatever failed, the log is still there: replay it as without a snapshot.
            tracing::warn!(%error, "graph snapshot could not be gated again; replaying the log");
            let fresh = load_people(engine.store(), engine.inner.config.affinity, None).await?;
            let applied = fresh.applied;
            engine.write_graph(|g| *g = fresh);
            engine.inner.graph_watermark.send_replace(applied);
        }
        Ok(engine)
    }

    /// After a snapshot is loaded: everyone with ties is put to the gate again, as a replay
    /// would do, and the ties of those now refused are dropped (a policy changed while the
    /// process was stopped takes effect).
    async fn regate_graph(&self) -> Result<(), EngineError> {
        let now = self.now();
        let tied = self.read_graph(GraphState::tied_people);
        let mut refused = Vec::new();
        for (tenant, person) in tied {
            if !self
                .allows_any(&tenant, &person, &crate::graph::TIE_PURPOSES, now)
                .await?
            {
                refused.push((tenant, person));
            }
        }
        self.write_graph(|g| {
            for (tenant, person) in &refused {
                g.tenant_mut(tenant).forget_ties(person);
            }
        });
        let applied = self.read_graph(|g| g.applied);
        tracing::info!(
            seq = applied,
            refused = refused.len(),
            "interaction graph taken from its snapshot; replaying the log after it"
        );
        Ok(())
    }

    /// Writes the interaction graph for the next start to take (a clean stop); `None` when this
    /// engine keeps no snapshot, or when its graph may not match the store: another process
    /// changed people while this one ran, or one of its own people writes stopped before the
    /// graph applied it.
    ///
    /// # Errors
    /// Store or file-system failures (then the next start replays the log).
    pub async fn save_graph(&self) -> Result<Option<u64>, EngineError> {
        let path = match &self.inner.config.graph_snapshot {
            Some(path) if self.inner.config.keep_graph_snapshot => path.clone(),
            _ => return Ok(None),
        };
        let _guard = self.inner.projection_lock.lock().await;
        // Nothing past its retention goes into the file.
        self.sweep_graph().await;
        // The generation first, then the writes in flight: a write committed before the first
        // read is still counted in flight unless the graph has applied it (which needs this
        // lock, so it happened before); one that starts later commits after the generation named,
        // and the next start refuses the snapshot.
        let generation = self.store().generation().await?;
        let pending = self.inner.people_pending.load(Ordering::SeqCst);
        let accounted = self.inner.own_accounted.load(Ordering::SeqCst);
        // Own writes first: one still in flight can look like another writer's for a moment.
        if pending != 0 || generation.own != accounted {
            tracing::warn!(
                "a people write of this process is unfinished or stopped before the graph applied it; no graph snapshot, the next start replays the log"
            );
            return Ok(None);
        }
        if generation.value - generation.own != self.inner.foreign_bumps_at_open {
            tracing::warn!(
                "another process changed people while this one ran; no graph snapshot, the next start replays the log"
            );
            return Ok(None);
        }
        let seq = self.read_graph(|g| g.applied);
        let anchor = crate::snapshot::anchor(self.store(), seq).await?;
        let engine = self.clone();
        let written = tokio::task::spawn_blocking(move || {
            engine.read_graph(|g| {
                crate::snapshot::write(
                    &path,
                    g,
                    &engine.inner.store_id,
                    generation.value,
                    anchor.as_deref(),
                    &engine.inner.graph_snapshot_abandoned,
                )
                .map_err(|e| (path, e))
            })
        })
        .await
        .map_err(|e| EngineError::Store(basis_store::StoreError::Write(e.to_string())))?;
        written.map(Some).map_err(|(path, e)| {
            EngineError::Store(basis_store::StoreError::DataDir {
                path: path.display().to_string(),
                reason: e.to_string(),
            })
        })
    }

    /// Whether the graph should forget what lies past its retention now: once when it first
    /// catches up with the log after opening (`idle`), then every `graph_sweep_every` (and at
    /// once should the clock have gone back past the last sweep).
    pub(crate) fn graph_sweep_due(&self, idle: bool) -> bool {
        let every =
            i64::try_from(self.inner.config.graph_sweep_every.as_millis()).unwrap_or(i64::MAX);
        let since = self.now().0 - self.inner.swept_at.load(Ordering::SeqCst);
        (idle && !self.inner.swept_caught_up.load(Ordering::SeqCst)) || since >= every || since < 0
    }

    /// Forgets what the graph holds from before the retention of every purpose that reads it:
    /// ties last touched and parts in content last played before then. Reads leave those out
    /// already; this keeps them from being held (in memory and in a snapshot) at all. It goes
    /// in slices of [`crate::graph::SWEEP_SLICE`] ties or parts, letting reads in between, so
    /// a large graph is not locked for the whole pass. The caller holds the projection lock.
    pub(crate) async fn sweep_graph(&self) -> crate::graph::Swept {
        let now = self.now();
        self.inner.swept_at.store(now.0, Ordering::SeqCst);
        let mut swept = crate::graph::Swept::default();
        let cutoff = self.inner.config.affinity.horizon_before(now);
        for tenant in self.read_graph(GraphState::tenant_names) {
            let mut at = crate::graph::SweepAt::default();
            while !self.write_graph(|g| {
                g.tenant_if_any(&tenant).is_none_or(|t| {
                    t.forget_some_before(cutoff, &mut at, crate::graph::SWEEP_SLICE, &mut swept)
                })
            }) {
                tokio::task::yield_now().await;
            }
        }
        if swept != crate::graph::Swept::default() {
            self.read_graph(crate::projections::publish_sizes);
            metrics::counter!("basis_graph_swept_ties_total").increment(swept.ties as u64);
            metrics::counter!("basis_graph_swept_parts_total").increment(swept.parts as u64);
            tracing::info!(
                ties = swept.ties,
                parts = swept.parts,
                before = %cutoff,
                "interaction graph: forgot what lies past its retention"
            );
        }
        swept
    }

    /// A server that stops waiting for the graph's snapshot (its deadline passed) calls this
    /// before it lets go of the data directory: a snapshot still being written is then dropped
    /// instead of put in place while another server may already run.
    pub fn abandon_graph_snapshot(&self) {
        self.inner
            .graph_snapshot_abandoned
            .store(true, Ordering::SeqCst);
    }

    /// Marks a people write in flight until [`PeopleWrite::applied`] (see `people_pending`).
    pub(crate) fn people_write(&self) -> PeopleWrite<'_> {
        self.inner.people_pending.fetch_add(1, Ordering::SeqCst);
        PeopleWrite(&self.inner)
    }

    /// The store.
    pub fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// Now, by the injected clock.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// Runs `f` on the in-memory activity view (short, never across an await).
    pub(crate) fn with_activity<R>(&self, f: impl FnOnce(&mut ActivityState) -> R) -> R {
        let mut guard = self
            .inner
            .activity
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    /// The activity counts held about a person, without asking the gate (what an export or an
    /// audit must see).
    pub fn activity_held(&self, tenant: &str, person: &str) -> Vec<crate::views::ActivityLine> {
        self.with_activity(|a| a.of(tenant, person))
            .into_iter()
            .map(Into::into)
            .collect()
    }

    /// Runs `f` on the interaction graph for reading (short, never across an await).
    pub fn read_graph<R>(&self, f: impl FnOnce(&GraphState) -> R) -> R {
        let guard = self
            .inner
            .graph
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&guard)
    }

    /// Runs `f` on the interaction graph for writing (short, never across an await).
    pub(crate) fn write_graph<R>(&self, f: impl FnOnce(&mut GraphState) -> R) -> R {
        let mut guard = self
            .inner
            .graph
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }

    /// A step-by-step worker for the interaction graph (tests drive it by hand).
    pub fn graph_worker(&self) -> GraphWorker {
        GraphWorker::new(self.clone(), self.inner.graph_watermark.clone())
    }

    /// The buffered ledger.
    pub fn ledger(&self) -> &Ledger {
        &self.inner.ledger
    }

    /// A step-by-step worker for the activity projection (tests drive it by hand).
    pub fn projection_worker(&self) -> ProjectionWorker {
        ProjectionWorker::new(self.clone(), self.inner.watermark.clone())
    }

    /// Starts the projection worker and the periodic ledger flush; both stop when `shutdown`
    /// turns true. Returns their join handles.
    pub fn start_background(
        &self,
        shutdown: watch::Receiver<bool>,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        let worker = tokio::spawn(crate::projections::run(
            self.projection_worker(),
            shutdown.clone(),
        ));
        let graph = tokio::spawn(crate::projections::run_graph(
            self.graph_worker(),
            shutdown.clone(),
        ));
        let shutdown_for_compaction = shutdown.clone();
        let engine = self.clone();
        let mut stop = shutdown;
        let flusher = tokio::spawn(async move {
            let every = engine.inner.config.ledger_flush_every;
            loop {
                tokio::select! {
                    () = tokio::time::sleep(every) => {}
                    _ = stop.changed() => {}
                }
                if let Err(e) = engine.flush_ledger().await {
                    tracing::error!(error = %e, "ledger flush failed; counts kept for the next try");
                }
                if *stop.borrow() {
                    return;
                }
            }
        });
        let engine = self.clone();
        let mut stop = shutdown_for_compaction;
        let compactor = tokio::spawn(async move {
            let mut wait = Duration::from_secs(60);
            loop {
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => return,
                }
                wait = engine.inner.config.log_compact_every;
                for tenant in engine.read_graph(GraphState::tenant_names) {
                    if *stop.borrow() {
                        return;
                    }
                    let actor = Actor {
                        tenant: &tenant,
                        name: "retention",
                    };
                    let stopping = || *stop.borrow();
                    if let Err(e) = engine.compact_log_until(&actor, &stopping).await {
                        tracing::error!(tenant, error = %e, "event log compaction failed; retried at the next run");
                    }
                }
            }
        });
        vec![worker, graph, flusher, compactor]
    }

    /// Writes buffered ledger counts.
    ///
    /// # Errors
    /// When the store fails (counts are kept).
    pub async fn flush_ledger(&self) -> Result<usize, EngineError> {
        Ok(self.inner.ledger.flush(self.store()).await?)
    }

    /// The activity projection's position in the log (restored from its snapshot at start).
    pub fn activity_watermark(&self) -> i64 {
        *self.inner.watermark.borrow()
    }

    /// The projections' position in the log (the one furthest behind).
    pub fn watermark(&self) -> i64 {
        (*self.inner.watermark.borrow()).min(*self.inner.graph_watermark.borrow())
    }

    /// Whether the projections have replayed the log as it stood when the engine opened. The
    /// interaction graph lives in memory and is rebuilt from the log at start-up (or from a
    /// snapshot and the rest of the log); until then
    /// its answers would be partial, so a load balancer should hold traffic back. Latched here,
    /// and by the workers each time they advance, so a later rebuild of the activity view does
    /// not take the process out of rotation whether or not a probe came in between.
    pub fn readiness(&self) -> Readiness {
        let activity_seq = self.activity_watermark();
        let graph_seq = *self.inner.graph_watermark.borrow();
        let start = self.inner.seq_at_start;
        let ready = self.inner.ready.load(Ordering::Relaxed)
            || (activity_seq >= start && graph_seq >= start);
        if ready {
            self.inner.ready.store(true, Ordering::Relaxed);
        }
        Readiness {
            ready,
            seq_at_start: start,
            activity_seq,
            graph_seq,
        }
    }

    /// Waits (bounded by the configured maximum) until the views have applied `min_seq`.
    ///
    /// # Errors
    /// [`EngineError::NotCaughtUp`] when they have not in time.
    pub async fn wait_for(&self, min_seq: Option<i64>) -> Result<(), EngineError> {
        Self::wait_on(&self.inner.watermark, min_seq, self.inner.config.max_wait).await
    }

    /// Like [`Engine::wait_for`], for the interaction graph (which replays the log at start-up,
    /// so reads of the other views do not wait for it).
    ///
    /// # Errors
    /// [`EngineError::NotCaughtUp`] when it has not in time.
    pub async fn wait_for_graph(&self, min_seq: Option<i64>) -> Result<(), EngineError> {
        Self::wait_on(
            &self.inner.graph_watermark,
            min_seq,
            self.inner.config.max_wait,
        )
        .await
    }

    async fn wait_on(
        watermark: &watch::Sender<i64>,
        min_seq: Option<i64>,
        max_wait: Duration,
    ) -> Result<(), EngineError> {
        let Some(wanted) = min_seq.filter(|s| *s > 0) else {
            return Ok(());
        };
        let mut rx = watermark.subscribe();
        let reached = tokio::time::timeout(max_wait, rx.wait_for(|seq| *seq >= wanted)).await;
        match reached {
            Ok(Ok(_)) => Ok(()),
            _ => Err(EngineError::NotCaughtUp {
                wanted,
                reached: *watermark.borrow(),
            }),
        }
    }

    // --- tenants and keys ------------------------------------------------------------------

    /// Creates a key for `tenant` (creating the tenant if new) and returns it; only its hash is
    /// stored.
    ///
    /// # Errors
    /// When the store fails or there is no randomness.
    pub async fn create_key(
        &self,
        tenant: &str,
        role: Role,
        name: &str,
    ) -> Result<String, EngineError> {
        if !basis_core::event::is_identifier(tenant) {
            return Err(EngineError::invalid(
                "tenant",
                format!("`{tenant}` is not an identifier"),
            ));
        }
        let now = self.now();
        self.store().create_tenant(tenant, now).await?;
        let key = keys::generate().map_err(|e| EngineError::invalid("key", e.to_string()))?;
        let record = ApiKeyRecord {
            tenant: tenant.to_owned(),
            role,
            name: name.to_owned(),
        };
        self.store()
            .insert_api_key(&keys::hash(&key), &record, now)
            .await?;
        Ok(key)
    }

    /// The owner of a key, if it is valid.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn authenticate(&self, key: &str) -> Result<Option<ApiKeyRecord>, EngineError> {
        let hash = keys::hash(key);
        if let Some(found) = self.inner.keys.get(&hash) {
            return Ok(Some(found));
        }
        let epoch = self.inner.keys.epoch();
        let found = self.store().api_key(&hash).await?;
        if let Some(record) = &found {
            self.inner.keys.put(hash, record.clone(), epoch);
        }
        Ok(found)
    }

    /// Mints a privacy-center token for a person (default 15 minutes, at most a day).
    ///
    /// # Errors
    /// Unknown person; a lifetime out of range; store failure.
    pub async fn privacy_token(
        &self,
        tenant: &str,
        person: &str,
        ttl_seconds: Option<u32>,
    ) -> Result<(String, Timestamp), EngineError> {
        self.person(tenant, person).await?;
        let ttl = ttl_seconds.unwrap_or(crate::tokens::DEFAULT_TTL_SECONDS);
        if ttl == 0 || ttl > crate::tokens::MAX_TTL_SECONDS {
            return Err(EngineError::invalid(
                "ttl_seconds",
                format!("between 1 and {}", crate::tokens::MAX_TTL_SECONDS),
            ));
        }
        let expires_at = self.now().plus_millis(i64::from(ttl) * 1_000);
        let grant = crate::tokens::PersonGrant {
            tenant: tenant.to_owned(),
            person: person.to_owned(),
            expires_at,
        };
        Ok((
            crate::tokens::issue(&self.inner.token_key, &grant),
            expires_at,
        ))
    }

    /// The person a privacy-center token speaks for, if it is valid now.
    ///
    /// # Errors
    /// Why the token is refused.
    pub fn verify_privacy_token(
        &self,
        token: &str,
    ) -> Result<crate::tokens::PersonGrant, crate::tokens::TokenError> {
        crate::tokens::verify(&self.inner.token_key, token, self.now())
    }

    // --- events --------------------------------------------------------------------------

    /// Appends validated events, acknowledged only once committed; wakes the projections.
    ///
    /// Concurrent requests share transactions (group commit): a request that finds the writer
    /// busy queues its batch, and whoever holds the writer next commits every queued batch at
    /// once, each keeping its own outcome.
    ///
    /// # Errors
    /// When the store fails (nothing of the batch is stored then).
    pub async fn ingest(
        &self,
        tenant: &str,
        events: Vec<NewEvent>,
    ) -> Result<AppendOutcome, EngineError> {
        let (reply, mut answer) = oneshot::channel();
        self.queue().push(IngestJob {
            tenant: tenant.to_owned(),
            events,
            reply,
        });
        let _writer = self.inner.writer.lock().await;
        // Earlier batches come first: keep writing groups until this one is answered.
        loop {
            if let Ok(result) = answer.try_recv() {
                return result;
            }
            let jobs = self.take_queued();
            if jobs.is_empty() {
                return Err(EngineError::Store(basis_store::StoreError::Write(
                    "the batch left the queue unwritten".into(),
                )));
            }
            // Written by a task of its own so a caller that goes away mid-write cannot cancel
            // the transaction the other queued requests are waiting on.
            let engine = self.clone();
            let _ = tokio::spawn(async move { engine.write_jobs(jobs).await }).await;
        }
    }

    async fn write_jobs(&self, jobs: Vec<IngestJob>) {
        let groups: Vec<(&str, &[NewEvent])> = jobs
            .iter()
            .map(|j| (j.tenant.as_str(), j.events.as_slice()))
            .collect();
        match self.store().append_event_groups(&groups).await {
            Ok(outcomes) => {
                if outcomes.iter().any(|o| o.accepted > 0) {
                    self.inner.appended.notify_waiters();
                }
                for (job, outcome) in jobs.into_iter().zip(outcomes) {
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                let message = e.to_string();
                for job in jobs {
                    let _ =
                        job.reply
                            .send(Err(EngineError::Store(basis_store::StoreError::Write(
                                message.clone(),
                            ))));
                }
            }
        }
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Vec<IngestJob>> {
        self.inner
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queued batches up to a bounded transaction size; the rest waits for the next writer.
    fn take_queued(&self) -> Vec<IngestJob> {
        let mut queue = self.queue();
        let mut total = 0;
        let mut take = 0;
        for job in queue.iter() {
            if take > 0 && total + job.events.len() > MAX_EVENTS_PER_COMMIT {
                break;
            }
            total += job.events.len();
            take += 1;
        }
        queue.drain(..take).collect()
    }

    /// A page of the tenant's log.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn events(
        &self,
        tenant: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, EngineError> {
        Ok(self
            .store()
            .events_after(Some(tenant), after, limit)
            .await?)
    }

    // --- people --------------------------------------------------------------------------

    /// Creates or replaces a person.
    ///
    /// # Errors
    /// Invalid fields; an identity owned by someone else; store failure.
    pub async fn put_person(
        &self,
        tenant: &str,
        id: &str,
        input: PersonInput,
    ) -> Result<(Person, PutPerson), EngineError> {
        let person = input.into_person(id).map_err(EngineError::Invalid)?;
        let before = self.store().person(tenant, id).await?;
        let write = self.people_write();
        let outcome = match self.store().put_person(tenant, &person, self.now()).await? {
            Ok(outcome) => outcome,
            Err(taken) => {
                // Refused: nothing was written.
                write.nothing_written();
                return Err(taken.into());
            }
        };
        self.inner.subjects.invalidate(tenant, id);
        self.forget_identities();
        {
            // Under the projection lock: an erasure or a rebuild in progress is not undone.
            let _guard = self.inner.projection_lock.lock().await;
            if self.store().person(tenant, id).await?.is_some() {
                self.write_graph(|g| g.tenant_mut(tenant).put_person(&person));
            }
        }
        // Identities claimed now: what their stub subjects did becomes the person's.
        for (source, external) in &person.identities {
            let known = before
                .as_ref()
                .is_some_and(|b| b.identities.get(source) == Some(external));
            if !known {
                self.merge_stub(tenant, &format!("{source}:{external}"), id)
                    .await?;
            }
        }
        write.applied();
        Ok((person, outcome))
    }

    /// The rewrites `edit` makes to the tenant's events that contain `needle` (an event `edit`
    /// leaves unchanged, or that cannot be read, is not rewritten).
    async fn event_rewrites(
        &self,
        tenant: &str,
        needle: &str,
        edit: impl Fn(&mut Event) -> bool,
    ) -> Result<Vec<EventRewrite>, EngineError> {
        let mut rewrites = Vec::new();
        for stored in self.store().events_containing(tenant, needle).await? {
            let Ok(mut event) = serde_json::from_str::<Event>(&stored.body) else {
                continue;
            };
            if edit(&mut event) {
                let body = serde_json::to_string(&event)
                    .map_err(|e| EngineError::invalid("event", e.to_string()))?;
                rewrites.push(EventRewrite {
                    seq: stored.seq,
                    actor: event.actor.clone(),
                    body,
                });
            }
        }
        Ok(rewrites)
    }

    /// Merges the stub subject `alias` (a source identity seen before anyone claimed it) into
    /// `person`: events name the person, and the processing record and derived views move over.
    async fn merge_stub(&self, tenant: &str, alias: &str, person: &str) -> Result<(), EngineError> {
        // A registered person is not a stub, even with an id shaped like one (`slack:U1`
        // claiming its own identity): nothing of theirs moves.
        if alias == person || self.store().person(tenant, alias).await?.is_some() {
            return Ok(());
        }
        self.flush_ledger().await?;
        let _guard = self.inner.projection_lock.lock().await;
        let rewrites = self
            .event_rewrites(tenant, alias, |e| e.rename_person(alias, person))
            .await?;
        let moved = self.with_activity(|a| a.merge(tenant, alias, person));
        if rewrites.is_empty() && !moved {
            return Ok(());
        }
        self.store().rewrite_events(tenant, &rewrites).await?;
        self.store().merge_subject(tenant, alias, person).await?;
        self.write_graph(|g| g.tenant_mut(tenant).merge(alias, person));
        self.inner.subjects.invalidate(tenant, alias);
        self.inner.subjects.invalidate(tenant, person);
        drop(_guard);
        let actor = Actor {
            tenant,
            name: "system",
        };
        self.audit(
            &actor,
            Some(person),
            "identity.merged",
            None,
            json!({ "identity": alias, "events": rewrites.len() }),
        )
        .await?;
        Ok(())
    }

    /// A person.
    ///
    /// # Errors
    /// [`EngineError::PersonNotFound`]; store failure.
    pub async fn person(&self, tenant: &str, id: &str) -> Result<Person, EngineError> {
        self.store()
            .person(tenant, id)
            .await?
            .ok_or_else(|| EngineError::PersonNotFound(id.to_owned()))
    }

    /// Refuses an erasure while a legal hold applies to the person, on record in the audit log.
    async fn refuse_if_held(&self, actor: &Actor<'_>, id: &str) -> Result<(), EngineError> {
        let Some(hold) = self
            .store()
            .legal_holds(actor.tenant, Some(id), true)
            .await?
            .into_iter()
            .next()
        else {
            return Ok(());
        };
        self.audit(
            actor,
            Some(id),
            "erasure.refused",
            None,
            json!({ "legal_hold": hold.id }),
        )
        .await?;
        Err(EngineError::LegalHold {
            person: id.to_owned(),
            hold: hold.id,
            reason: hold.reason,
        })
    }

    /// Erases a person (GDPR Art. 17): profile, identities, privacy state, processing record and
    /// derived views go; events keep their content but lose the person; a hash of the e-mail is
    /// kept so promotional mail does not come back. Refused under a legal hold.
    ///
    /// # Errors
    /// [`EngineError::LegalHold`], [`EngineError::PersonNotFound`], store failure.
    pub async fn erase_person(&self, actor: &Actor<'_>, id: &str) -> Result<(), EngineError> {
        let tenant = actor.tenant;
        let person = self.person(tenant, id).await?;
        self.refuse_if_held(actor, id).await?;
        // A graph snapshot left by a stopped server may hold the person: it goes first, and if it
        // cannot, the erasure is not done (and can be retried) rather than done but for a copy.
        if let Some(path) = &self.inner.config.graph_snapshot {
            crate::snapshot::discard(path).map_err(|e| {
                EngineError::Store(basis_store::StoreError::DataDir {
                    path: path.display().to_string(),
                    reason: format!("the graph snapshot could not be removed: {e}"),
                })
            })?;
        }
        // Hold the projection lock so no batch re-derives data about the person mid-erasure.
        let _guard = self.inner.projection_lock.lock().await;
        // Asked again under the lock a hold is placed under: one placed since the first check
        // stops the erasure too.
        self.refuse_if_held(actor, id).await?;
        let rewrites = self
            .event_rewrites(tenant, id, |e| e.redact_person(id, ERASED))
            .await?;
        let suppression = person.email.as_deref().map(keys::email_hash);
        self.inner.ledger.forget(tenant, id);
        let write = self.people_write();
        self.store()
            .erase_person(tenant, id, &rewrites, suppression.as_deref(), self.now())
            .await?;
        self.with_activity(|a| a.purge(tenant, id));
        self.write_graph(|g| g.tenant_mut(tenant).erase(id));
        write.applied();
        if let Some(path) = &self.inner.config.graph_snapshot
            && let Err(error) = crate::snapshot::discard(path)
        {
            // Written since the first discard (a server stopping meanwhile): said loudly; the
            // generation this erasure moved keeps the next start from using it.
            tracing::error!(%error, "a graph snapshot written during an erasure could not be removed");
        }
        self.inner.subjects.invalidate(tenant, id);
        self.forget_identities();
        drop(_guard);
        self.audit(
            actor,
            Some(id),
            "person.erased",
            None,
            json!({ "events_rewritten": rewrites.len(), "suppressed": suppression.is_some() }),
        )
        .await?;
        self.release_deleted("erasure").await;
        Ok(())
    }

    /// What `after` deleted or rewrote leaves the files now, not at some later checkpoint (best
    /// effort: a refusal is logged, and the next checkpoint releases it).
    pub(crate) async fn release_deleted(&self, after: &str) {
        if let Err(error) = self.store().release_deleted().await {
            tracing::warn!(%error, after, "checkpoint refused; the next one releases it");
        }
    }

    // --- the gate ------------------------------------------------------------------------

    pub(crate) fn purpose(&self, key: &str) -> Result<&Purpose, EngineError> {
        self.policy()
            .purpose_by_key(key)
            .ok_or_else(|| EngineError::UnknownPurpose(key.to_owned()))
    }

    /// Asks the gate and counts the decision in the ledger (for the product's other services:
    /// `POST /v1/decisions`).
    ///
    /// # Errors
    /// [`EngineError::UnknownPurpose`]; store failure.
    pub async fn decide(
        &self,
        tenant: &str,
        person: &str,
        purpose: &str,
        at: Option<Timestamp>,
    ) -> Result<DecisionView, EngineError> {
        let at = at.unwrap_or_else(|| self.now());
        self.gate(tenant, person, purpose, at, |d| {
            DecisionView::new(person, purpose, at, d)
        })
        .await
    }

    /// Asks the gate on behalf of a projection or read path and counts the decision; only the
    /// answer is needed, so no view is built.
    pub(crate) async fn allowed_now(
        &self,
        tenant: &str,
        person: &str,
        purpose: &str,
        at: Timestamp,
    ) -> Result<bool, EngineError> {
        self.gate(tenant, person, purpose, at, |d| d.allowed).await
    }

    /// Whether the gate allows any of `purposes` (asked in order, stopping at the first yes).
    pub(crate) async fn allows_any(
        &self,
        tenant: &str,
        person: &str,
        purposes: &[&str],
        at: Timestamp,
    ) -> Result<bool, EngineError> {
        for purpose in purposes {
            if self.allowed_now(tenant, person, purpose, at).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Whether the gate allows `purpose` for each of `people`, in order: the same decisions as
    /// [`Engine::allowed_now`] one by one, counted in the ledger as one batch.
    pub(crate) async fn allowed_many(
        &self,
        tenant: &str,
        people: &[String],
        purpose: &str,
        at: Timestamp,
    ) -> Result<Vec<bool>, EngineError> {
        let p = self.purpose(purpose)?;
        let mut decided = Vec::with_capacity(people.len());
        let cached = self.inner.subjects.cached_many(tenant, people);
        for (person, state) in people.iter().zip(cached) {
            let state = match state {
                Some(state) => state,
                None => {
                    self.inner
                        .subjects
                        .get(self.store(), self.policy(), tenant, person)
                        .await?
                }
            };
            let d = decide(self.policy(), &state, p.id, at);
            decided.push((d.allowed, d.basis));
        }
        let counted: Vec<Counted<'_>> = people
            .iter()
            .zip(&decided)
            .map(|(person, &(allowed, basis))| Counted {
                subject: person,
                basis,
                allowed,
            })
            .collect();
        self.count(tenant, purpose, at, &counted).await;
        Ok(decided.into_iter().map(|(allowed, _)| allowed).collect())
    }

    /// Decides with the person's cached state, counts the decision in the ledger, and lets the
    /// caller take what it needs from it.
    async fn gate<R>(
        &self,
        tenant: &str,
        person: &str,
        purpose: &str,
        at: Timestamp,
        take: impl FnOnce(&basis_core::Decision<'_>) -> R,
    ) -> Result<R, EngineError> {
        let p = self.purpose(purpose)?;
        let state = self
            .inner
            .subjects
            .get(self.store(), self.policy(), tenant, person)
            .await?;
        let d = decide(self.policy(), &state, p.id, at);
        let counted = Counted {
            subject: person,
            basis: d.basis,
            allowed: d.allowed,
        };
        self.count(tenant, purpose, at, &[counted]).await;
        Ok(take(&d))
    }

    /// Counts decisions for one purpose: the metrics, and the ledger as one batch (flushed
    /// when it asks to be).
    async fn count(&self, tenant: &str, purpose: &str, at: Timestamp, decisions: &[Counted<'_>]) {
        let allowed = decisions.iter().filter(|d| d.allowed).count() as u64;
        let denied = decisions.len() as u64 - allowed;
        if allowed > 0 {
            metrics::counter!("basis_gate_decisions_total", "result" => "allowed")
                .increment(allowed);
        }
        if denied > 0 {
            metrics::counter!("basis_gate_decisions_total", "result" => "denied").increment(denied);
        }
        if self
            .inner
            .ledger
            .record_many(tenant, purpose, at, decisions.iter().copied())
            && let Err(e) = self.flush_ledger().await
        {
            tracing::error!(error = %e, "ledger flush failed; counts kept for the next try");
        }
    }

    // --- privacy rights ------------------------------------------------------------------

    /// Appends an audit entry for an action taken outside the engine's own services.
    ///
    /// # Errors
    /// Store failure.
    pub async fn record_audit(
        &self,
        actor: &Actor<'_>,
        subject: Option<&str>,
        action: &str,
        detail: Value,
    ) -> Result<i64, EngineError> {
        self.audit(actor, subject, action, None, detail).await
    }

    pub(crate) async fn audit(
        &self,
        actor: &Actor<'_>,
        subject: Option<&str>,
        action: &str,
        purpose: Option<&str>,
        detail: Value,
    ) -> Result<i64, EngineError> {
        Ok(self
            .store()
            .append_audit(&AuditEntry {
                seq: 0,
                tenant: actor.tenant.to_owned(),
                at: self.now(),
                actor: actor.name.to_owned(),
                subject: subject.map(str::to_owned),
                action: action.to_owned(),
                purpose: purpose.map(str::to_owned),
                detail,
            })
            .await?)
    }

    /// Records a consent to `purpose` (and its children) from now on. Without a notice version
    /// the current one is assumed.
    ///
    /// # Errors
    /// Unknown person or purpose, a purpose not based on consent anywhere, store failure.
    pub async fn grant_consent(
        &self,
        actor: &Actor<'_>,
        person: &str,
        purpose: &str,
        notice_version: Option<u32>,
        detail: Option<String>,
    ) -> Result<PrivacyRecordView, EngineError> {
        self.person(actor.tenant, person).await?;
        let p = self.offering(purpose, PrivacyKind::Consent, detail.as_deref())?;
        let version = notice_version.unwrap_or(p.notice_version);
        let record = NewPrivacyRecord {
            kind: PrivacyKind::Consent,
            purpose: purpose.to_owned(),
            at: self.now(),
            notice_version: Some(version),
            detail,
        };
        let write = self
            .store()
            .open_privacy_range(actor.tenant, person, &record, true)
            .await?;
        self.changed(actor.tenant, person, None).await;
        self.audit(
            actor,
            Some(person),
            "consent.granted",
            Some(purpose),
            json!({ "record": write.id, "notice_version": version, "detail": record.detail }),
        )
        .await?;
        self.record_view(actor.tenant, person, write.id).await
    }

    /// Withdraws the open consent to `purpose` from now on; what was done before stays lawful
    /// and stays in the ledger.
    ///
    /// # Errors
    /// No open consent; unknown person or purpose; store failure.
    pub async fn withdraw_consent(
        &self,
        actor: &Actor<'_>,
        person: &str,
        purpose: &str,
    ) -> Result<PrivacyRecordView, EngineError> {
        self.close(
            actor,
            person,
            purpose,
            PrivacyKind::Consent,
            "consent.withdrawn",
        )
        .await
    }

    /// Records an objection to `purpose` (and its children).
    ///
    /// # Errors
    /// A purpose not on legitimate interest anywhere; unknown person or purpose; store failure.
    pub async fn object(
        &self,
        actor: &Actor<'_>,
        person: &str,
        purpose: &str,
        reason: Option<String>,
    ) -> Result<PrivacyRecordView, EngineError> {
        self.open(
            actor,
            person,
            purpose,
            PrivacyKind::Objection,
            reason,
            "objection.recorded",
        )
        .await
    }

    /// Lifts an objection from now on.
    ///
    /// # Errors
    /// No open objection; unknown person or purpose; store failure.
    pub async fn lift_objection(
        &self,
        actor: &Actor<'_>,
        person: &str,
        purpose: &str,
    ) -> Result<PrivacyRecordView, EngineError> {
        self.close(
            actor,
            person,
            purpose,
            PrivacyKind::Objection,
            "objection.lifted",
        )
        .await
    }

    /// Overrides an objection on compelling grounds, where the purpose allows it (admin).
    ///
    /// # Errors
    /// The purpose's objection is not overridable; no open objection; empty grounds.
    pub async fn override_objection(
        &self,
        actor: &Actor<'_>,
        person: &str,
        purpose: &str,
        grounds: &str,
    ) -> Result<PrivacyRecordView, EngineError> {
        self.person(actor.tenant, person).await?;
        let p = self.purpose(purpose)?;
        if p.objection != ObjectionRule::Overridable {
            return Err(EngineError::RightNotOffered {
                purpose: purpose.to_owned(),
                right: "an override of an objection",
            });
        }
        let grounds = grounds.trim();
        if grounds.is_empty() || grounds.len() > 4_096 {
            return Err(EngineError::invalid(
                "grounds",
                "state the compelling grounds (1 to 4096 bytes)",
            ));
        }
        let Some(id) = self
            .store()
            .override_objection(actor.tenant, person, purpose, self.now(), grounds)
            .await?
        else {
            return Err(EngineError::NothingToClose(format!(
                "`{person}` has no open, unoverridden objection to `{purpose}`"
            )));
        };
        self.inner.subjects.invalidate(actor.tenant, person);
        self.audit(
            actor,
            Some(person),
            "objection.overridden",
            Some(purpose),
            json!({ "record": id, "grounds": grounds }),
        )
        .await?;
        self.record_view(actor.tenant, person, id).await
    }

    /// Opts out of `purpose` (and its children).
    ///
    /// # Errors
    /// The purpose offers no opt-out; unknown person or purpose; store failure.
    pub async fn opt_out(
        &self,
        actor: &Actor<'_>,
        person: &str,
        purpose: &str,
    ) -> Result<PrivacyRecordView, EngineError> {
        self.open(
            actor,
            person,
            purpose,
            PrivacyKind::OptOut,
            None,
            "opt_out.recorded",
        )
        .await
    }

    /// Opts back in.
    ///
    /// # Errors
    /// Not opted out; unknown person or purpose; store failure.
    pub async fn opt_in(
        &self,
        actor: &Actor<'_>,
        person: &str,
        purpose: &str,
    ) -> Result<PrivacyRecordView, EngineError> {
        self.close(actor, person, purpose, PrivacyKind::OptOut, "opt_out.ended")
            .await
    }

    async fn open(
        &self,
        actor: &Actor<'_>,
        person: &str,
        purpose: &str,
        kind: PrivacyKind,
        detail: Option<String>,
        action: &str,
    ) -> Result<PrivacyRecordView, EngineError> {
        self.person(actor.tenant, person).await?;
        let p = self.offering(purpose, kind, detail.as_deref())?;
        let record = NewPrivacyRecord {
            kind,
            purpose: purpose.to_owned(),
            at: self.now(),
            notice_version: None,
            detail,
        };
        let write = self
            .store()
            .open_privacy_range(actor.tenant, person, &record, false)
            .await?;
        self.changed(actor.tenant, person, Some(p)).await;
        if write.created {
            self.audit(
                actor,
                Some(person),
                action,
                Some(purpose),
                json!({ "record": write.id, "detail": record.detail }),
            )
            .await?;
        }
        self.record_view(actor.tenant, person, write.id).await
    }

    /// The purpose, if it offers the right `kind` opens, with the person's free text in bounds.
    fn offering(
        &self,
        purpose: &str,
        kind: PrivacyKind,
        detail: Option<&str>,
    ) -> Result<&Purpose, EngineError> {
        let p = self.purpose(purpose)?;
        let (offered, right) = match kind {
            PrivacyKind::Objection => (
                p.objectable(),
                "objection (it does not rest on legitimate interest)",
            ),
            PrivacyKind::OptOut => (p.opt_out, "an opt-out"),
            PrivacyKind::Consent => (p.consentable(), "consent"),
        };
        if !offered {
            return Err(EngineError::RightNotOffered {
                purpose: purpose.to_owned(),
                right,
            });
        }
        if detail.is_some_and(|d| d.len() > 4_096) {
            let field = if kind == PrivacyKind::Consent {
                "detail"
            } else {
                "reason"
            };
            return Err(EngineError::invalid(field, "longer than 4096 bytes"));
        }
        Ok(p)
    }

    async fn close(
        &self,
        actor: &Actor<'_>,
        person: &str,
        purpose: &str,
        kind: PrivacyKind,
        action: &str,
    ) -> Result<PrivacyRecordView, EngineError> {
        self.person(actor.tenant, person).await?;
        self.purpose(purpose)?;
        let Some(id) = self
            .store()
            .close_privacy_range(actor.tenant, person, kind, purpose, self.now())
            .await?
        else {
            return Err(EngineError::NothingToClose(format!(
                "`{person}` has no open {} for `{purpose}`",
                kind.as_str().replace('_', "-")
            )));
        };
        self.changed(actor.tenant, person, None).await;
        self.audit(
            actor,
            Some(person),
            action,
            Some(purpose),
            json!({ "record": id }),
        )
        .await?;
        self.record_view(actor.tenant, person, id).await
    }

    /// After a privacy change: forget the cached state; if the change restricts a purpose a
    /// projection derives data for, purge what the projection holds about the person.
    async fn changed(&self, tenant: &str, person: &str, restricted: Option<&Purpose>) {
        self.inner.subjects.invalidate(tenant, person);
        let Some(p) = restricted else { return };
        let covers_activity = self
            .policy()
            .purpose_by_key(Activity::PURPOSE)
            .is_some_and(|a| a.lineage.contains(&p.id));
        if covers_activity {
            let _guard = self.inner.projection_lock.lock().await;
            self.with_activity(|a| a.purge(tenant, person));
            if let Err(e) = self.store().purge_activity(tenant, person).await {
                tracing::error!(error = %e, "purging activity after an objection failed");
            }
        }
        // The graph keeps a person's ties only while some purpose that uses them is allowed (a
        // gate that cannot answer keeps them: reads ask again).
        let keeps_ties = self
            .allows_any(tenant, person, &crate::graph::TIE_PURPOSES, self.now())
            .await
            .unwrap_or(true);
        if !keeps_ties {
            let _guard = self.inner.projection_lock.lock().await;
            self.write_graph(|g| g.tenant_mut(tenant).forget_ties(person));
        }
    }

    async fn record_view(
        &self,
        tenant: &str,
        person: &str,
        id: i64,
    ) -> Result<PrivacyRecordView, EngineError> {
        self.store()
            .privacy_records(tenant, person)
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .map(PrivacyRecordView::from)
            .ok_or_else(|| EngineError::NothingToClose(format!("record {id} vanished")))
    }

    /// Jurisdiction and, for every purpose, the basis, whether allowed now and why. Not counted
    /// in the ledger: showing a person their state is not a use of their data.
    ///
    /// # Errors
    /// Unknown person; store failure.
    pub async fn privacy(&self, tenant: &str, person: &str) -> Result<PrivacyView, EngineError> {
        let profile = self.person(tenant, person).await?;
        let state = self
            .inner
            .subjects
            .get(self.store(), self.policy(), tenant, person)
            .await?;
        let now = self.now();
        let policy = self.policy();
        let purposes = policy
            .purposes()
            .iter()
            .map(|p| {
                let d = decide(policy, &state, p.id, now);
                PurposeStatus {
                    purpose: p.key.clone(),
                    title: p.title.clone(),
                    basis: d.basis,
                    allowed: d.allowed,
                    reason: d.reason,
                    evidence: serde_json::to_value(d.evidence).unwrap_or(Value::Null),
                    rights: Rights {
                        opt_out: p.opt_out,
                        object: p.objectable().then(|| p.objection.as_str()),
                        consent: p.consentable(),
                    },
                }
            })
            .collect();
        Ok(PrivacyView {
            person: person.to_owned(),
            country: profile.country,
            jurisdiction: policy.jurisdiction_name(state.jurisdiction).to_owned(),
            at: now,
            policy_version: policy.version.clone(),
            purposes,
        })
    }

    /// What was done with the person's data and on which consents, objections and opt-outs.
    ///
    /// # Errors
    /// Unknown person; store failure.
    pub async fn processing(
        &self,
        tenant: &str,
        person: &str,
    ) -> Result<ProcessingView, EngineError> {
        self.person(tenant, person).await?;
        self.flush_ledger().await?;
        Ok(ProcessingView {
            person: person.to_owned(),
            processing: self
                .store()
                .ledger_for(tenant, person)
                .await?
                .into_iter()
                .map(ProcessingLine::from)
                .collect(),
            privacy_history: self
                .store()
                .privacy_records(tenant, person)
                .await?
                .into_iter()
                .map(PrivacyRecordView::from)
                .collect(),
        })
    }

    /// The access and portability bundle (Art. 15 and 20).
    ///
    /// # Errors
    /// Unknown person; store failure.
    pub async fn export(
        &self,
        actor: &Actor<'_>,
        person: &str,
    ) -> Result<ExportBundle, EngineError> {
        let tenant = actor.tenant;
        let profile = self.person(tenant, person).await?;
        let processing = self.processing(tenant, person).await?;
        let mut events = Vec::new();
        for stored in self.store().events_containing(tenant, person).await? {
            let Ok(event) = serde_json::from_str::<Event>(&stored.body) else {
                continue;
            };
            if event.involves(person) {
                let mut value = serde_json::to_value(&event).unwrap_or(Value::Null);
                if let Value::Object(map) = &mut value {
                    map.insert("seq".into(), json!(stored.seq));
                }
                events.push(value);
            }
        }
        let activity = self.activity_held(tenant, person);
        let audit = self
            .store()
            .audit(tenant, Some(person), 10_000)
            .await?
            .into_iter()
            .map(AuditView::from)
            .collect();
        self.audit(
            actor,
            Some(person),
            "person.exported",
            None,
            json!({ "events": events.len() }),
        )
        .await?;
        Ok(ExportBundle {
            format: "basis-export/1",
            generated_at: self.now(),
            controller: self.controller_json(),
            person: profile,
            events,
            privacy_history: processing.privacy_history,
            processing: processing.processing,
            derived: json!({
                "activity": activity,
                "interaction_graph": self.graph_held(tenant, person),
            }),
            audit,
            purposes: self
                .policy()
                .purposes()
                .iter()
                .map(|p| self.summary(p))
                .collect(),
        })
    }

    fn controller_json(&self) -> Value {
        let c = &self.policy().controller;
        json!({ "name": c.name, "contact": c.contact, "dpo": c.dpo })
    }

    fn summary(&self, p: &Purpose) -> PurposeSummary {
        let policy = self.policy();
        let bases = policy
            .jurisdictions
            .iter()
            .map(|j| (j.name.clone(), json!(p.basis_in(j.id))))
            .collect();
        PurposeSummary {
            purpose: p.key.clone(),
            title: p.title.clone(),
            bases,
            data_categories: p.data_categories.clone(),
            retention_days: p.retention_days,
        }
    }

    /// Records of processing (Art. 30) with live counts from the ledger.
    ///
    /// # Errors
    /// Store failure.
    pub async fn records(&self, tenant: &str) -> Result<RecordsView, EngineError> {
        self.flush_ledger().await?;
        let totals = self.store().ledger_totals(tenant).await?;
        let policy = self.policy();
        let purposes = policy
            .purposes()
            .iter()
            .map(|p| {
                let mine = totals.iter().filter(|t| t.purpose == p.key);
                let (subjects, allowed, denied) = mine.fold((0, 0, 0), |(s, a, d), t| {
                    (s.max(t.subjects), a + t.allowed, d + t.denied)
                });
                RecordOfProcessing {
                    purpose: self.summary(p),
                    subject_categories: p.subject_categories.clone(),
                    recipients: p.recipients.clone(),
                    transfers: p.transfers.clone(),
                    subjects,
                    allowed,
                    denied,
                }
            })
            .collect();
        Ok(RecordsView {
            controller: self.controller_json(),
            policy_version: policy.version.clone(),
            security_measures: policy.controller.security_measures.clone(),
            purposes,
        })
    }

    /// The audit log, of one person or all.
    ///
    /// # Errors
    /// Store failure.
    pub async fn audit_log(
        &self,
        tenant: &str,
        person: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AuditView>, EngineError> {
        Ok(self
            .store()
            .audit(tenant, person, limit)
            .await?
            .into_iter()
            .map(AuditView::from)
            .collect())
    }

    // --- legal holds ---------------------------------------------------------------------

    /// Places a legal hold on a person: erasure is refused until it is released.
    ///
    /// # Errors
    /// Unknown person; empty reason; store failure.
    pub async fn create_legal_hold(
        &self,
        actor: &Actor<'_>,
        person: &str,
        reason: &str,
    ) -> Result<HoldView, EngineError> {
        self.person(actor.tenant, person).await?;
        let reason = reason.trim();
        if reason.is_empty() || reason.len() > 4_096 {
            return Err(EngineError::invalid(
                "reason",
                "give the case or reason (1 to 4096 bytes)",
            ));
        }
        // Under the projection lock: a compaction reads the holds for each page under it, so
        // a hold placed now is honoured from its next page on.
        let guard = self.inner.projection_lock.lock().await;
        let hold = self
            .store()
            .create_legal_hold(actor.tenant, person, reason, self.now())
            .await?;
        drop(guard);
        self.audit(
            actor,
            Some(person),
            "legal_hold.placed",
            None,
            json!({ "hold": hold.id, "reason": reason }),
        )
        .await?;
        Ok(hold.into())
    }

    /// Releases a hold.
    ///
    /// # Errors
    /// [`EngineError::HoldNotFound`]; store failure.
    pub async fn release_legal_hold(&self, actor: &Actor<'_>, id: i64) -> Result<(), EngineError> {
        let hold = self
            .store()
            .legal_holds(actor.tenant, None, true)
            .await?
            .into_iter()
            .find(|h| h.id == id)
            .ok_or(EngineError::HoldNotFound(id))?;
        if !self
            .store()
            .release_legal_hold(actor.tenant, id, self.now())
            .await?
        {
            return Err(EngineError::HoldNotFound(id));
        }
        self.audit(
            actor,
            Some(&hold.person),
            "legal_hold.released",
            None,
            json!({ "hold": id }),
        )
        .await?;
        Ok(())
    }

    /// Holds of the tenant.
    ///
    /// # Errors
    /// Store failure.
    pub async fn legal_holds(
        &self,
        tenant: &str,
        person: Option<&str>,
    ) -> Result<Vec<HoldView>, EngineError> {
        Ok(self
            .store()
            .legal_holds(tenant, person, false)
            .await?
            .into_iter()
            .map(HoldView::from)
            .collect())
    }

    // --- derived views -------------------------------------------------------------------

    /// A person's activity counts, if the gate allows using them now; otherwise says why.
    ///
    /// # Errors
    /// Unknown person; views not caught up with `min_seq`; store failure.
    pub async fn activity(
        &self,
        tenant: &str,
        person: &str,
        min_seq: Option<i64>,
    ) -> Result<ActivityView, EngineError> {
        self.person(tenant, person).await?;
        self.wait_for(min_seq).await?;
        let decision = self.decide(tenant, person, Activity::PURPOSE, None).await?;
        let activity = if decision.allowed {
            self.activity_held(tenant, person)
        } else {
            Vec::new()
        };
        Ok(ActivityView {
            person: person.to_owned(),
            personalized: decision.allowed,
            decision,
            activity,
        })
    }

    /// Drops the activity view and replays the log into it.
    ///
    /// # Errors
    /// Store failure.
    pub async fn rebuild_activity(&self) -> Result<i64, EngineError> {
        {
            let _guard = self.inner.projection_lock.lock().await;
            self.store().reset_activity(Activity::NAME).await?;
            self.with_activity(ActivityState::reset);
            self.inner.watermark.send_replace(0);
        }
        let worker = self.projection_worker();
        let seq = crate::projections::catch_up(&worker).await?;
        worker.snapshot().await?;
        Ok(seq)
    }

    /// Rebuilds one tenant's interaction graph from its directory and its events, aside, and
    /// swaps it in: other tenants are neither touched nor left empty meanwhile. The bulk is
    /// replayed without holding up the projections; the lock is taken only to replay what came
    /// since and swap. Should a profile, merge, erasure or purge have changed the tenant's graph
    /// in place during the replay, it starts again under the lock, so nothing it removed comes
    /// back.
    ///
    /// # Errors
    /// Store failure.
    pub async fn rebuild_graph(&self, tenant: &str) -> Result<GraphRebuild, EngineError> {
        let edits =
            || self.read_graph(|g| g.tenant(tenant).map_or(0, crate::graph::TenantGraph::edits));
        let before = edits();
        let upto = self.read_graph(|g| g.applied);
        let params = self.inner.config.affinity;
        let mut fresh = load_people(self.store(), params, Some(tenant)).await?;
        let mut events = self.replay_tenant(tenant, &mut fresh, 0, upto).await?;
        let _guard = self.inner.projection_lock.lock().await;
        let mut from = upto;
        if edits() != before {
            fresh = load_people(self.store(), params, Some(tenant)).await?;
            from = 0;
            events = 0;
        }
        let applied = self.read_graph(|g| g.applied);
        events += self
            .replay_tenant(tenant, &mut fresh, from, applied)
            .await?;
        let mut rebuilt = fresh.take(tenant);
        // Swept as the live graph is: a replay brings back what retention let go.
        rebuilt.forget_before(self.inner.config.affinity.horizon_before(self.now()));
        self.write_graph(|g| g.put_tenant(tenant, rebuilt));
        Ok(GraphRebuild {
            seq: applied,
            events,
        })
    }

    /// Replays a tenant's events in `(after, upto]` into `graph`; how many.
    async fn replay_tenant(
        &self,
        tenant: &str,
        graph: &mut GraphState,
        mut after: i64,
        upto: i64,
    ) -> Result<usize, EngineError> {
        let mut events = 0;
        while after < upto {
            let mut stored = self
                .store()
                .events_after(Some(tenant), after, crate::projections::BATCH)
                .await?;
            stored.retain(|e| e.seq <= upto);
            let Some(last) = stored.last().map(|e| e.seq) else {
                break;
            };
            let parsed = crate::projections::graph_events(&stored, self.now());
            let allowed = crate::projections::ties_allowed(self, &parsed).await?;
            crate::projections::apply_gated(graph, &parsed, &allowed);
            events += stored.len();
            after = last;
        }
        Ok(events)
    }
}

/// [`Engine::readiness`]: whether start-up replay is done, and where each projection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Readiness {
    /// Both projections have applied the log as it stood at start-up (stays true after).
    pub ready: bool,
    /// The log's last sequence number when the engine opened.
    pub seq_at_start: i64,
    /// The activity projection's position.
    pub activity_seq: i64,
    /// The interaction graph's position.
    pub graph_seq: i64,
}

/// What a graph rebuild did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphRebuild {
    /// The log position the rebuilt graph stands at.
    pub seq: i64,
    /// The tenant's events replayed.
    pub events: usize,
}

/// A graph holding the registered people, of one tenant or of all, and nothing else yet.
async fn load_people(
    store: &dyn Store,
    params: basis_core::affinity::AffinityParams,
    tenant: Option<&str>,
) -> Result<GraphState, EngineError> {
    let mut graph = GraphState::new(params);
    let mut after = (tenant.unwrap_or_default().to_owned(), String::new());
    loop {
        let page = store.people_page((&after.0, &after.1), 1_000).await?;
        let Some((last_tenant, last)) = page.last() else {
            break;
        };
        after = (last_tenant.clone(), last.id.clone());
        for (t, person) in &page {
            if tenant.is_some_and(|only| only != t) {
                return Ok(graph);
            }
            graph.tenant_mut(t).put_person(person);
        }
    }
    Ok(graph)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projections::Outcome;

    /// The workers latch readiness as they catch up: when the activity view's position goes
    /// back to 0 later (a rebuild does that for a while), the process stays ready although no
    /// probe asked in between.
    #[tokio::test]
    async fn the_workers_latch_readiness_as_they_catch_up() {
        let store = basis_store::SqliteStore::open_url("sqlite::memory:")
            .await
            .unwrap();
        let clock =
            basis_core::clock::ManualClock::new(Timestamp::parse("2026-11-01T00:00:00Z").unwrap());
        let engine = Engine::new(
            Arc::new(store),
            Arc::new(Policy::default_policy().unwrap()),
            Arc::new(clock),
            EngineConfig::default(),
        )
        .await
        .unwrap();
        let events = crate::ingest::parse_batch(
            r#"[{"id":"e1","type":"comment.created","at":"2026-10-30T10:00:00Z","actor":"u-a","mentions":["u-b"]}]"#,
            false,
        )
        .unwrap();
        engine.ingest("acme", events).await.unwrap();
        // Reopened over the same store, so the event lies before the start.
        let engine = Engine::new(
            Arc::clone(&engine.inner.store),
            Arc::clone(&engine.inner.policy),
            Arc::clone(&engine.inner.clock),
            EngineConfig::default(),
        )
        .await
        .unwrap();
        assert!(!engine.readiness().ready);
        let activity = engine.projection_worker();
        while let Outcome::Applied { .. } = activity.try_execute_next().await.unwrap() {}
        let graph = engine.graph_worker();
        while let Outcome::Applied { .. } = graph.try_execute_next().await.unwrap() {}
        // What rebuilding the activity view does for a while; nobody asked before it.
        engine.inner.watermark.send_replace(0);
        let r = engine.readiness();
        assert!(r.ready, "{r:?}");
        assert_eq!(r.activity_seq, 0);
    }
}
