//! Projections: background workers that tail the event log from a stored cursor into derived
//! views, asking the gate per subject before deriving anything.
//!
//! A worker exposes one step, [`ProjectionWorker::try_execute_next`], so tests drive it by hand;
//! [`run`] is the loop around it. Each applied batch moves the cursor in the same transaction as
//! the view's rows, and publishes a watermark that reads with `min_seq` wait on.
//!
//! The first projection, [`Activity`], counts events per person and type under
//! `functional.service.improve` ("usage and activity patterns"). It proves the mechanism:
//! purge on objection or erasure, rebuild from the log.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use basis_core::Timestamp;
use basis_core::event::Event;
use basis_core::person::ERASED;
use basis_store::{ActivityCount, StoredEvent};
use tokio::sync::watch;

use crate::{Engine, EngineError};

/// Events read per step.
pub const BATCH: u32 = 1_000;

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

    /// Reads the next batch after the cursor and applies it.
    ///
    /// # Errors
    /// When the store fails; the cursor does not move.
    pub async fn try_execute_next(&self) -> Result<Outcome, EngineError> {
        // Serialized with purges and erasure so a batch never re-adds what they removed.
        let _guard = self.engine.inner.projection_lock.lock().await;
        let store = self.engine.store();
        let cursor = store.cursor(Activity::NAME).await?;
        let events = store.events_after(None, cursor, BATCH).await?;
        let Some(last) = events.last().map(|e| e.seq) else {
            // Read first: holding a borrow while sending would deadlock the watch channel.
            let current = *self.watermark.borrow();
            self.watermark.send_replace(cursor.max(current));
            return Ok(Outcome::Idle);
        };
        let counts = self.count(&events).await?;
        store.apply_activity(Activity::NAME, last, &counts).await?;
        self.watermark.send_replace(last);
        Ok(Outcome::Applied {
            events: events.len(),
            seq: last,
        })
    }

    async fn count(&self, events: &[StoredEvent]) -> Result<Vec<ActivityCount>, EngineError> {
        let now = self.engine.now();
        let mut counts: HashMap<(String, String, String), (i64, Timestamp)> = HashMap::new();
        let mut allowed: HashMap<(String, String), bool> = HashMap::new();
        for stored in events {
            let Ok(event) = serde_json::from_str::<Event>(&stored.body) else {
                tracing::warn!(
                    seq = stored.seq,
                    "event body does not parse; skipped by activity"
                );
                continue;
            };
            let Some(actor) = event.actor.as_deref().filter(|a| *a != ERASED) else {
                continue;
            };
            let key = (stored.tenant.clone(), actor.to_owned());
            let ok = match allowed.get(&key) {
                Some(ok) => *ok,
                None => {
                    // Processing happens now: the gate decides at the time of processing, and
                    // every decision is counted in the ledger.
                    let d = self
                        .engine
                        .decide_for_processing(&stored.tenant, actor, Activity::PURPOSE, now)
                        .await?;
                    allowed.insert(key, d);
                    d
                }
            };
            if !ok {
                continue;
            }
            let entry = counts
                .entry((stored.tenant.clone(), actor.to_owned(), stored.kind.clone()))
                .or_insert((0, stored.at));
            entry.0 += 1;
            entry.1 = entry.1.max(stored.at);
        }
        Ok(counts
            .into_iter()
            .map(|((tenant, person, kind), (count, last_at))| ActivityCount {
                tenant,
                person,
                kind,
                count,
                last_at,
            })
            .collect())
    }
}

/// Runs a worker until `shutdown` resolves: steps while there is work, then waits to be woken
/// by an append (or a second, whichever comes first).
pub async fn run(worker: ProjectionWorker, mut shutdown: watch::Receiver<bool>) {
    let wake = worker.engine.inner.appended.clone();
    loop {
        if *shutdown.borrow() {
            return;
        }
        match worker.try_execute_next().await {
            Ok(Outcome::Applied { .. }) => continue,
            Ok(Outcome::Idle) => {
                tokio::select! {
                    () = wake.notified() => {}
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.changed() => return,
                }
            }
            Err(e) => {
                tracing::error!(projection = Activity::NAME, error = %e, "projection step failed; retrying");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.changed() => return,
                }
            }
        }
    }
}
