//! Projections: background workers that tail the event log from a cursor into derived views,
//! asking the gate per subject before deriving anything.
//!
//! A worker exposes one step, [`ProjectionWorker::try_execute_next`], so tests drive it by hand;
//! [`run`] is the loop around it. Views live in memory (reads are a hash lookup) and are
//! snapshotted to the store together with the cursor they correspond to — after a quiet moment,
//! every half minute under load, and on shutdown — so a restart resumes from the snapshot
//! instead of replaying the whole log. Each applied step publishes a watermark that reads with
//! `min_seq` wait on.
//!
//! The first projection, [`Activity`], counts events per person and type under
//! `functional.service.improve` ("usage and activity patterns"). It proves the mechanism: purge on
//! objection or erasure, rebuild from the log. It reads only the log's indexed columns, never
//! event bodies.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use basis_core::Timestamp;
use basis_core::person::ERASED;
use basis_store::{ActivityCount, Store, StoreError};
use tokio::sync::watch;

use crate::graph::{GraphEvent, GraphState, TIE_PURPOSES};
use crate::{Engine, EngineError};

/// Events read per step.
pub const BATCH: u32 = 5_000;
/// Most batches the graph applies per step, reading each next one while applying the last.
const PIPELINE: usize = 4;

/// Longest time applied changes stay only in memory while events keep arriving.
const SNAPSHOT_EVERY: Duration = Duration::from_secs(30);

/// How long a woken worker waits for more appends before reading.
const COALESCE: Duration = Duration::from_millis(20);

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing new in the log.
    Idle,
    /// Applied events up to `seq`.
    Applied {
        /// Events read.
        events: usize,
        /// New cursor.
        seq: i64,
    },
}

/// The activity-count projection.
#[derive(Debug, Clone, Copy, Default)]
pub struct Activity;

impl Activity {
    /// Cursor name.
    pub const NAME: &'static str = "activity";
    /// The purpose it derives data for.
    pub const PURPOSE: &'static str = "functional.service.improve";
}

type PersonKey = (String, String);

/// The activity view in memory: counts per (tenant, person) and event type.
#[derive(Debug, Default)]
pub(crate) struct ActivityState {
    counts: HashMap<PersonKey, HashMap<String, (i64, Timestamp)>>,
    /// People whose counts changed since the last snapshot.
    dirty: HashSet<PersonKey>,
    /// Log position applied in memory.
    applied: i64,
    /// Log position of the stored snapshot.
    saved: i64,
}

impl ActivityState {
    /// Loads the stored snapshot.
    pub(crate) async fn load(store: &dyn Store) -> Result<ActivityState, StoreError> {
        let cursor = store.cursor(Activity::NAME).await?;
        let mut state = ActivityState {
            applied: cursor,
            saved: cursor,
            ..ActivityState::default()
        };
        for c in store.load_activity().await? {
            state
                .counts
                .entry((c.tenant, c.person))
                .or_default()
                .insert(c.kind, (c.count, c.last_at));
        }
        Ok(state)
    }

    pub(crate) fn applied(&self) -> i64 {
        self.applied
    }

    /// A person's counts, by type.
    pub(crate) fn of(&self, tenant: &str, person: &str) -> Vec<ActivityCount> {
        let key = (tenant.to_owned(), person.to_owned());
        let mut out: Vec<ActivityCount> = self
            .counts
            .get(&key)
            .map(|types| {
                types
                    .iter()
                    .map(|(kind, (count, last_at))| ActivityCount {
                        tenant: tenant.to_owned(),
                        person: person.to_owned(),
                        kind: kind.clone(),
                        count: *count,
                        last_at: *last_at,
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort_by(|a, b| a.kind.cmp(&b.kind));
        out
    }

    /// Forgets a person (objection, erasure); the caller deletes the stored rows.
    pub(crate) fn purge(&mut self, tenant: &str, person: &str) {
        let key = (tenant.to_owned(), person.to_owned());
        self.counts.remove(&key);
        self.dirty.remove(&key);
    }

    /// Moves a stub subject's counts onto the person who claimed it; whether there were any.
    pub(crate) fn merge(&mut self, tenant: &str, from: &str, to: &str) -> bool {
        let Some(moved) = self.counts.remove(&(tenant.to_owned(), from.to_owned())) else {
            return false;
        };
        self.dirty.remove(&(tenant.to_owned(), from.to_owned()));
        let key = (tenant.to_owned(), to.to_owned());
        let target = self.counts.entry(key.clone()).or_default();
        for (kind, (count, last_at)) in moved {
            let slot = target.entry(kind).or_insert((0, last_at));
            slot.0 += count;
            slot.1 = slot.1.max(last_at);
        }
        self.dirty.insert(key);
        true
    }

    /// Forgets everything, for a rebuild.
    pub(crate) fn reset(&mut self) {
        *self = ActivityState::default();
    }

    /// What a snapshot must write, and the cursor it corresponds to.
    fn snapshot(&mut self) -> (i64, Vec<ActivityCount>) {
        let dirty: Vec<PersonKey> = self.dirty.drain().collect();
        let rows = dirty
            .iter()
            .flat_map(|(tenant, person)| self.of(tenant, person))
            .collect();
        (self.applied, rows)
    }
}

/// A worker for the activity projection.
#[derive(Clone)]
pub struct ProjectionWorker {
    engine: Engine,
    watermark: Arc<watch::Sender<i64>>,
}

impl ProjectionWorker {
    pub(crate) fn new(engine: Engine, watermark: Arc<watch::Sender<i64>>) -> Self {
        ProjectionWorker { engine, watermark }
    }

    /// Reads the next events after the cursor and applies them in memory; snapshots when due.
    ///
    /// # Errors
    /// When the store fails; nothing is applied then.
    pub async fn try_execute_next(&self) -> Result<Outcome, EngineError> {
        // Serialized with purges and erasure so a step never re-adds what they removed.
        let _guard = self.engine.inner.projection_lock.lock().await;
        let applied = self.engine.with_activity(|a| a.applied());
        let heads = self
            .engine
            .store()
            .event_heads_after(applied, BATCH)
            .await?;
        let Some(last) = heads.last().map(|e| e.seq) else {
            publish(&self.engine, &self.watermark, applied);
            return Ok(Outcome::Idle);
        };
        let now = self.engine.now();
        let count = heads.len();
        let mut allowed: HashMap<PersonKey, bool> = HashMap::new();
        let mut increments: HashMap<(PersonKey, String), (i64, Timestamp)> = HashMap::new();
        for head in heads {
            let Some(actor) = head.actor.filter(|a| a != ERASED) else {
                continue;
            };
            let person = (head.tenant, actor);
            let ok = match allowed.get(&person) {
                Some(ok) => *ok,
                None => {
                    // Processing happens now: the gate decides at the time of processing, and
                    // every decision is counted in the ledger.
                    let ok = self
                        .engine
                        .allowed_now(&person.0, &person.1, Activity::PURPOSE, now)
                        .await?;
                    allowed.insert(person.clone(), ok);
                    ok
                }
            };
            if ok {
                let entry = increments
                    .entry((person, head.kind))
                    .or_insert((0, head.at));
                entry.0 += 1;
                entry.1 = entry.1.max(head.at);
            }
        }
        self.engine.with_activity(|a| {
            for ((person, kind), (count, last_at)) in increments {
                let slot = a
                    .counts
                    .entry(person.clone())
                    .or_default()
                    .entry(kind)
                    .or_insert((0, last_at));
                slot.0 += count;
                slot.1 = slot.1.max(last_at);
                a.dirty.insert(person);
            }
            a.applied = last;
        });
        publish(&self.engine, &self.watermark, last);
        if self
            .engine
            .inner
            .last_snapshot
            .lock()
            .map(|t| t.elapsed() >= SNAPSHOT_EVERY)
            .unwrap_or(true)
        {
            self.snapshot_locked().await?;
        }
        Ok(Outcome::Applied {
            events: count,
            seq: last,
        })
    }

    /// Writes the snapshot now (shutdown, tests).
    ///
    /// # Errors
    /// When the store fails; the changes stay dirty for the next try.
    pub async fn snapshot(&self) -> Result<(), EngineError> {
        let _guard = self.engine.inner.projection_lock.lock().await;
        self.snapshot_locked().await
    }

    async fn snapshot_locked(&self) -> Result<(), EngineError> {
        let (cursor, rows) = self.engine.with_activity(|a| {
            if a.saved == a.applied && a.dirty.is_empty() {
                (None, Vec::new())
            } else {
                let (cursor, rows) = a.snapshot();
                (Some(cursor), rows)
            }
        });
        let Some(cursor) = cursor else { return Ok(()) };
        if let Err(e) = self
            .engine
            .store()
            .save_activity(Activity::NAME, cursor, &rows)
            .await
        {
            self.engine.with_activity(|a| {
                a.dirty
                    .extend(rows.into_iter().map(|r| (r.tenant, r.person)))
            });
            return Err(e.into());
        }
        self.engine.with_activity(|a| a.saved = cursor);
        if let Ok(mut t) = self.engine.inner.last_snapshot.lock() {
            *t = Instant::now();
        }
        Ok(())
    }
}

/// Runs a worker until `shutdown` turns true: steps while there is work, then waits to be woken
/// by an append; after a quiet second, and before returning, it snapshots.
pub async fn run(worker: ProjectionWorker, shutdown: watch::Receiver<bool>) {
    drive(&worker, shutdown).await;
    if let Err(e) = worker.snapshot().await {
        tracing::error!(projection = Activity::NAME, error = %e, "final snapshot failed; the view will catch up from the log");
    }
}

/// Publishes a worker's position (reads with `min_seq` wait on it) and latches readiness once
/// both projections have replayed the log as it stood at start-up.
fn publish(engine: &Engine, watermark: &watch::Sender<i64>, seq: i64) {
    watermark.send_replace(seq);
    engine.readiness();
}

/// Steps a worker until the log has nothing new for it; the position reached.
pub(crate) async fn catch_up<W: Step>(worker: &W) -> Result<i64, EngineError> {
    let mut seq = 0;
    while let Outcome::Applied { seq: s, .. } = worker.step().await? {
        seq = s;
    }
    Ok(seq)
}

/// What the loop around a projection needs of it.
pub(crate) trait Step: Sync {
    /// For logs.
    const NAME: &'static str;
    fn engine(&self) -> &Engine;
    /// Applies the next batch.
    fn step(&self) -> impl Future<Output = Result<Outcome, EngineError>> + Send;
    /// After a quiet second.
    fn quiet(&self) -> impl Future<Output = ()> + Send;
}

impl Step for ProjectionWorker {
    const NAME: &'static str = Activity::NAME;
    fn engine(&self) -> &Engine {
        &self.engine
    }
    fn step(&self) -> impl Future<Output = Result<Outcome, EngineError>> + Send {
        self.try_execute_next()
    }
    async fn quiet(&self) {
        if let Err(e) = self.snapshot().await {
            tracing::error!(projection = Self::NAME, error = %e, "snapshot failed; retrying later");
        }
    }
}

/// The loop around a projection step: step while there is work; when idle, wait to be woken by
/// an append (then let appends coalesce: fewer, larger reads disturb ingest less) or for a quiet
/// second; after a failure, retry in a second.
async fn drive<W: Step>(worker: &W, mut shutdown: watch::Receiver<bool>) {
    let wake = worker.engine().inner.appended.clone();
    loop {
        if *shutdown.borrow() {
            break;
        }
        match worker.step().await {
            Ok(Outcome::Applied { .. }) => continue,
            Ok(Outcome::Idle) => {
                tokio::select! {
                    () = wake.notified() => tokio::time::sleep(COALESCE).await,
                    () = tokio::time::sleep(Duration::from_secs(1)) => worker.quiet().await,
                    _ = shutdown.changed() => {}
                }
            }
            Err(e) => {
                tracing::error!(projection = W::NAME, error = %e, "projection step failed; retrying");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
    }
}

/// A worker for the interaction graph: reads whole events (it needs mentions, objects and
/// visibility), asks the gate once per person and batch, and applies them in memory.
#[derive(Clone)]
pub struct GraphWorker {
    engine: Engine,
    watermark: Arc<watch::Sender<i64>>,
}

impl GraphWorker {
    pub(crate) fn new(engine: Engine, watermark: Arc<watch::Sender<i64>>) -> Self {
        GraphWorker { engine, watermark }
    }

    /// Reads the next events after the graph's position and applies them. While a full batch
    /// is applied, the next one is already being read (up to [`PIPELINE`] batches per step): at
    /// start-up, when the whole log is replayed, the store and the apply then overlap instead
    /// of taking turns. The projection lock is held throughout, so an erasure or a merge never
    /// falls between a read and its apply.
    ///
    /// # Errors
    /// When the store fails; the batches applied before it stay applied.
    pub async fn try_execute_next(&self) -> Result<Outcome, EngineError> {
        let _guard = self.engine.inner.projection_lock.lock().await;
        if self.engine.graph_sweep_due(false) {
            self.engine.sweep_graph().await;
        }
        let mut applied = self.engine.read_graph(|g| g.applied);
        let mut stored = self
            .engine
            .store()
            .events_after(None, applied, BATCH)
            .await?;
        if stored.is_empty() {
            publish(&self.engine, &self.watermark, applied);
            // Caught up: the first time since opening, what the replay brought back from past
            // the retention goes.
            if self.engine.graph_sweep_due(true) {
                self.engine.sweep_graph().await;
                self.engine
                    .inner
                    .swept_caught_up
                    .store(true, std::sync::atomic::Ordering::SeqCst);
            }
            return Ok(Outcome::Idle);
        }
        let mut count = 0;
        for round in 1..=PIPELINE {
            let Some(last) = stored.last().map(|e| e.seq) else {
                break;
            };
            // A full batch means more is likely waiting: read it while this one is applied.
            let next = (stored.len() == BATCH as usize && round < PIPELINE).then(|| {
                let store = Arc::clone(&self.engine.inner.store);
                AbortOnDrop(tokio::spawn(async move {
                    store.events_after(None, last, BATCH).await
                }))
            });
            if next.is_some() {
                // Let the read start now (a task spawned from a worker waits in that worker's
                // next-task slot, which nothing else takes, until this task yields).
                tokio::task::yield_now().await;
            }
            let events = graph_events(&stored, self.engine.now());
            let allowed = ties_allowed(&self.engine, &events).await?;
            self.engine.write_graph(|g| {
                apply_gated(g, &events, &allowed);
                g.applied = last;
                publish_sizes(g);
            });
            publish(&self.engine, &self.watermark, last);
            count += stored.len();
            applied = last;
            let Some(mut next) = next else { break };
            stored = match (&mut next.0).await {
                Ok(read) => read?,
                // A read-ahead that did not finish is read again by the next step.
                Err(error) => {
                    tracing::warn!(%error, "graph: reading ahead failed; the next step reads again");
                    break;
                }
            };
        }
        Ok(Outcome::Applied {
            events: count,
            seq: applied,
        })
    }
}

/// The graph's size in the metrics (after an apply or a sweep).
pub(crate) fn publish_sizes(g: &GraphState) {
    let (ties, objects) = g.sizes();
    metrics::gauge!("basis_graph_ties").set(ties as f64);
    metrics::gauge!("basis_graph_objects").set(objects as f64);
}

/// A spawned read that stops when the step that started it returns early (a gate or store
/// error, the step dropped at shutdown), instead of running on with its result thrown away.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Step for GraphWorker {
    const NAME: &'static str = "graph";
    fn engine(&self) -> &Engine {
        &self.engine
    }
    fn step(&self) -> impl Future<Output = Result<Outcome, EngineError>> + Send {
        self.try_execute_next()
    }
    /// The graph is written only on a clean stop of the server (`snapshot`), not while idle.
    async fn quiet(&self) {}
}

/// Parses stored events for the graph; an unreadable one is counted and skipped.
/// An event dated after `now` counts as happening `now`: an interaction cannot come from the
/// future, and one that claims to would hold its tie's decay and burst, and move its weekly
/// mention counts, past every real one.
pub(crate) fn graph_events(
    stored: &[basis_store::StoredEvent],
    now: Timestamp,
) -> Vec<(&str, GraphEvent<'_>)> {
    stored
        .iter()
        .filter_map(|e| match serde_json::from_str::<GraphEvent<'_>>(&e.body) {
            Ok(mut event) => {
                event.at = event.at.min(now);
                Some((e.tenant.as_str(), event))
            }
            Err(error) => {
                metrics::counter!("basis_graph_unreadable_events_total").increment(1);
                tracing::warn!(seq = e.seq, %error, "graph: event not readable; skipped");
                None
            }
        })
        .collect()
}

/// Applies parsed events to their tenants' graphs, deriving ties only where `allowed` (from
/// [`ties_allowed`]) says so.
pub(crate) fn apply_gated(
    graph: &mut GraphState,
    events: &[(&str, GraphEvent<'_>)],
    allowed: &HashMap<(&str, &str), bool>,
) {
    for (tenant, event) in events {
        let ties_allowed = |p: &str| allowed.get(&(*tenant, p)).copied().unwrap_or(false);
        graph.tenant_mut(tenant).apply_view(event, &ties_allowed);
    }
}

/// The gate's answer, per (tenant, person) in the events, to whether ties may be derived: only
/// for people who allow at least one purpose that uses them. Asked once per person.
pub(crate) async fn ties_allowed<'e>(
    engine: &Engine,
    events: &'e [(&str, GraphEvent<'_>)],
) -> Result<HashMap<(&'e str, &'e str), bool>, EngineError> {
    let now = engine.now();
    let mut allowed: HashMap<(&str, &str), bool> = HashMap::new();
    for (tenant, event) in events {
        for person in event.people().filter(|p| *p != ERASED) {
            if allowed.contains_key(&(*tenant, person)) {
                continue;
            }
            let ok = engine
                .allows_any(tenant, person, &TIE_PURPOSES, now)
                .await?;
            allowed.insert((tenant, person), ok);
        }
    }
    Ok(allowed)
}

/// Runs the graph worker until `shutdown` turns true: steps while there is work, then waits to
/// be woken by an append; on the way out it writes the graph for the next start to take.
pub async fn run_graph(worker: GraphWorker, shutdown: watch::Receiver<bool>) {
    drive(&worker, shutdown).await;
    match worker.engine.save_graph().await {
        Ok(Some(bytes)) => tracing::info!(bytes, "interaction graph written for the next start"),
        Ok(None) => {}
        Err(e) => {
            tracing::error!(error = %e, "graph snapshot not written; the next start replays the log");
        }
    }
}
