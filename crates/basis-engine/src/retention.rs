//! Retention of the event log. The log is kept to provide the service (`essential.service`),
//! and never for less than the interaction graph keeps what it derives (a replay must give
//! what the graph holds); an event older than that is compacted: what says who did what
//! (actor, mentions, assignee, search text, request context, extension data) goes, and so does
//! the event unless it carries what content still needs for its permissions — an object's
//! kind, container and visibility, whether it was created or deleted, who was added to a space.
//! The text of content nobody has touched inside the period goes too; content still in use
//! keeps it. People under a legal hold keep their events whole.
//!
//! What is derived from the log stays what a replay would give: the graph forgot ties and parts
//! older than its own, shorter horizon already, and the text of untouched content is dropped
//! from it in the same step (unless the graph saw it used). The activity view keeps its counts
//! (per person and kind of event, with the last time only).

use std::collections::HashSet;

use basis_core::Timestamp;
use basis_core::event::{Event, Object};
use basis_store::EventRewrite;
use serde::Serialize;

use crate::graph::TenantGraph;
use crate::{Actor, Engine, EngineError};

/// The purpose the event log is kept for.
pub const LOG_PURPOSE: &str = "essential.service";

/// Events read per page of a compaction.
const PAGE: u32 = 5_000;

/// What a compaction of one workspace's log did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Compaction {
    /// Events dated before this were compacted.
    pub before: Timestamp,
    /// Events deleted.
    pub deleted: usize,
    /// Events kept without their personal fields.
    pub rewritten: usize,
    /// Events kept whole: they involve someone under a legal hold.
    pub held: usize,
    /// Events left as they are because they could not be read.
    pub unreadable: usize,
    /// Stopped between pages (the server is stopping); what was done stays done.
    pub stopped: bool,
    /// Pieces of content whose text the graph dropped (untouched inside the period).
    pub content_forgotten: usize,
}

/// What becomes of an event past the log's retention.
#[derive(Debug, PartialEq)]
pub(crate) enum Fate {
    /// Nothing in it is needed any more.
    Delete,
    /// It is already what would be kept.
    Keep,
    /// Kept as this: content's permissions and place, nothing about who did what.
    Rewrite(Box<Event>),
}

/// The event without who did what (and without the text of content not `live`).
fn stripped(event: &Event, live: bool) -> Event {
    let object = event.object.as_ref().map(|o| Object {
        id: o.id.clone(),
        kind: o.kind.clone(),
        title: o.title.clone().filter(|_| live),
        body: o.body.clone().filter(|_| live),
        url: o.url.clone().filter(|_| live),
        container: o.container.clone(),
        visibility: o.visibility.clone(),
    });
    // Who was added to a space decides who may see it, for as long as the space is there.
    let member = event
        .member
        .clone()
        .filter(|_| event.kind == "member.added" && object.is_some());
    Event {
        id: event.id.clone(),
        kind: event.kind.clone(),
        at: event.at,
        source: event.source.clone(),
        actor: None,
        object,
        mentions: Vec::new(),
        assignee: None,
        member,
        query: None,
        context: None,
        data: None,
    }
}

/// Decides an old event's fate; `live`: its object has an event inside the period.
pub(crate) fn fate(event: &Event, live: bool) -> Fate {
    let kept = stripped(event, live);
    let needed = kept.member.is_some()
        || kept.object.as_ref().is_some_and(|o| {
            matches!(&*kept.kind, "content.created" | "content.deleted")
                || o.kind.is_some()
                || o.container.is_some()
                || o.visibility.is_some()
                || o.title.is_some()
                || o.body.is_some()
                || o.url.is_some()
        });
    if !needed {
        Fate::Delete
    } else if kept == *event {
        Fate::Keep
    } else {
        Fate::Rewrite(Box::new(kept))
    }
}

impl Engine {
    /// Compacts the tenant's log: every event dated before the log's retention period loses
    /// what says who did what, and goes unless content still needs it (see the module).
    /// Recorded in the audit log.
    ///
    /// # Errors
    /// Store failure (pages compacted before it stay compacted).
    pub async fn compact_log(&self, actor: &Actor<'_>) -> Result<Compaction, EngineError> {
        self.compact_log_until(actor, &|| false).await
    }

    /// [`Engine::compact_log`], stopping between pages once `stop` says so (a server shutting
    /// down); what was compacted stays compacted.
    ///
    /// Each page is read and written under the projection lock, with which objects are in use
    /// and who is under a legal hold brought up to date first: the graph never applies an
    /// event half-way through its compaction, and an event appended meanwhile keeps its
    /// object's text. The log's newest event at the start is never deleted, so SQLite never
    /// hands its number out again to an event the projections would then skip.
    pub(crate) async fn compact_log_until(
        &self,
        actor: &Actor<'_>,
        stop: &(dyn Fn() -> bool + Sync),
    ) -> Result<Compaction, EngineError> {
        let _one_at_a_time = self.inner.compacting.lock().await;
        let now = self.now();
        let Some(purpose) = self.policy().purpose_by_key(LOG_PURPOSE) else {
            // A policy without the purpose declares no period for the log.
            return Ok(Compaction::default());
        };
        // Never shorter than what the graph keeps: a replay must give what it holds.
        let before = purpose
            .retained_since(now)
            .min(self.inner.config.affinity.horizon_before(now));
        let mut done = Compaction {
            before,
            ..Compaction::default()
        };
        let outcome = self
            .compact_pages(actor.tenant, before, stop, &mut done)
            .await;
        if done.deleted + done.rewritten > 0 {
            metrics::counter!("basis_log_compacted_events_total")
                .increment((done.deleted + done.rewritten) as u64);
            self.release_deleted("compaction").await;
        }
        if done.deleted + done.rewritten + done.content_forgotten + done.unreadable > 0
            || outcome.is_err()
        {
            tracing::info!(
                tenant = actor.tenant,
                deleted = done.deleted,
                rewritten = done.rewritten,
                held = done.held,
                unreadable = done.unreadable,
                stopped = done.stopped,
                %before,
                "event log: compacted what lies past its retention"
            );
        }
        // On record whatever happened, a failure half-way included: the pages written stay.
        let audited = self
            .audit(
                actor,
                None,
                "retention.log_compacted",
                Some(LOG_PURPOSE),
                serde_json::json!({
                    "before": before,
                    "deleted": done.deleted,
                    "rewritten": done.rewritten,
                    "held": done.held,
                    "unreadable": done.unreadable,
                    "content_forgotten": done.content_forgotten,
                    "stopped": done.stopped,
                    "error": outcome.as_ref().err().map(ToString::to_string),
                }),
            )
            .await;
        // The compaction's own failure is the one to report; an audit failure besides it is
        // logged.
        if let (Err(_), Err(error)) = (&outcome, &audited) {
            tracing::error!(%error, "compaction failed, and so did its audit entry");
        }
        outcome?;
        audited?;
        Ok(done)
    }

    /// The pages of a compaction (see [`Engine::compact_log_until`]), counted in `done`.
    async fn compact_pages(
        &self,
        tenant: &str,
        before: Timestamp,
        stop: &(dyn Fn() -> bool + Sync),
        done: &mut Compaction,
    ) -> Result<(), EngineError> {
        // Which objects are in use: a scan of the period before any lock, then what was
        // appended since (once more under the lock for each page, and checked again in the
        // page's write).
        let mut live = HashSet::new();
        let newest = self.objects_in_use(tenant, before, 0, &mut live).await?;
        let mut live_upto = newest;
        let mut after = 0;
        loop {
            if stop() {
                done.stopped = true;
                return Ok(());
            }
            live_upto = self
                .objects_in_use(tenant, before, live_upto, &mut live)
                .await?;
            let guard = self.inner.projection_lock.lock().await;
            live_upto = self
                .objects_in_use(tenant, before, live_upto, &mut live)
                .await?;
            let held: HashSet<String> = self
                .store()
                .legal_holds(tenant, None, true)
                .await?
                .into_iter()
                .map(|h| h.person)
                .collect();
            let page = self
                .store()
                .events_before(tenant, before, after, PAGE)
                .await?;
            let Some(last) = page.last().map(|e| e.seq) else {
                break;
            };
            let (mut deletes, mut rewrites, mut unused) = (Vec::new(), Vec::new(), Vec::new());
            let (mut held_here, mut unreadable_here) = (0, 0);
            for stored in &page {
                // An event that cannot be read is left as it is: nothing here can tell what
                // it holds. It is counted, so it does not go unseen.
                let Ok(event) = serde_json::from_str::<Event>(&stored.body) else {
                    unreadable_here += 1;
                    continue;
                };
                if held.iter().any(|p| event.involves(p)) {
                    held_here += 1;
                    continue;
                }
                let live = event.object.as_ref().is_some_and(|o| live.contains(&o.id));
                let kept = match fate(&event, live) {
                    // The newest event at the start keeps its number (see above), compacted
                    // as far as it can be.
                    Fate::Delete if stored.seq >= newest => {
                        Some(stripped(&event, live)).filter(|kept| *kept != event)
                    }
                    Fate::Delete => {
                        deletes.push(stored.seq);
                        None
                    }
                    Fate::Keep => None,
                    Fate::Rewrite(kept) => Some(*kept),
                };
                // Its text goes, rewritten or deleted: checked again in the write.
                let o = event.object.as_ref();
                if o.is_some_and(|o| o.title.is_some() || o.body.is_some() || o.url.is_some())
                    && !live
                {
                    unused.extend(o.map(|o| o.id.clone()));
                }
                if let Some(kept) = kept {
                    rewrites.push(rewrite(stored.seq, &kept)?);
                }
            }
            if !deletes.is_empty() || !rewrites.is_empty() {
                let write = self.people_write();
                let still = basis_store::StillUnused {
                    after: live_upto,
                    since: before,
                    objects: &unused,
                };
                match self
                    .store()
                    .compact_events(tenant, &deletes, &rewrites, &still)
                    .await
                {
                    Err(e) => {
                        write.nothing_written();
                        return Err(e.into());
                    }
                    // Content came into use meanwhile: read the page again.
                    Ok(false) => {
                        write.nothing_written();
                        continue;
                    }
                    Ok(true) => {}
                }
                // The graph holds nothing these events gave that it may still use: ties and
                // parts this old were swept, and the text goes below. A rebuild replaying aside
                // meanwhile starts again.
                self.write_graph(|g| g.tenant_if_any(tenant).map(TenantGraph::note_edit));
                write.applied();
                done.deleted += deletes.len();
                done.rewritten += rewrites.len();
            }
            done.held += held_here;
            done.unreadable += unreadable_here;
            drop(guard);
            after = last;
        }
        let _guard = self.inner.projection_lock.lock().await;
        self.objects_in_use(tenant, before, live_upto, &mut live)
            .await?;
        done.content_forgotten = self.write_graph(|g| {
            g.tenant_if_any(tenant).map_or(0, |t| {
                t.forget_content_before(before, &|id| live.contains(id))
            })
        });
        Ok(())
    }

    /// Adds to `live` the objects of the tenant's events after `after` dated at or after
    /// `since`; the log position they were read up to (read first: what is appended while
    /// they are read is counted again next time, never missed).
    async fn objects_in_use(
        &self,
        tenant: &str,
        since: Timestamp,
        after: i64,
        live: &mut HashSet<String>,
    ) -> Result<i64, EngineError> {
        let upto = self.store().last_seq().await?;
        live.extend(self.store().objects_since(tenant, since, after).await?);
        Ok(upto)
    }
}

fn rewrite(seq: i64, kept: &Event) -> Result<EventRewrite, EngineError> {
    Ok(EventRewrite {
        seq,
        actor: None,
        body: serde_json::to_string(kept)
            .map_err(|e| EngineError::invalid("event", e.to_string()))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: serde_json::Value) -> Event {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn who_did_what_goes_and_what_content_needs_stays() {
        // A comment that says nothing of its page: nothing left to keep.
        let comment = event(serde_json::json!({ "id": "c", "type": "comment.created",
            "at": "2024-01-01T00:00:00Z", "actor": "ann", "object": { "id": "p" },
            "mentions": ["bob"] }));
        assert_eq!(fate(&comment, true), Fate::Delete);
        let search = event(serde_json::json!({ "id": "s", "type": "search.performed",
            "at": "2024-01-01T00:00:00Z", "actor": "ann", "query": "salary bands" }));
        assert_eq!(fate(&search, false), Fate::Delete);
        // A private page's creation keeps its place and who may see it; its text only while
        // the page is in use.
        let created = event(serde_json::json!({ "id": "p", "type": "content.created",
            "at": "2024-01-01T00:00:00Z", "actor": "ann", "source": "confluence",
            "object": { "id": "p", "kind": "page", "title": "Salary bands", "body": "…",
                        "container": "HR", "visibility": { "members": ["ann", "hr-team"] } },
            "mentions": ["bob"], "context": { "ip": "10.0.0.1" } }));
        let Fate::Rewrite(dormant) = fate(&created, false) else {
            panic!("rewritten")
        };
        assert_eq!(dormant.actor, None);
        assert!(dormant.mentions.is_empty() && dormant.context.is_none());
        let o = dormant.object.as_ref().unwrap();
        assert_eq!((o.title.as_deref(), o.body.as_deref()), (None, None));
        assert_eq!(o.visibility, created.object.as_ref().unwrap().visibility);
        assert_eq!(o.container.as_deref(), Some("HR"));
        assert_eq!(dormant.source.as_deref(), Some("confluence"));
        let Fate::Rewrite(live) = fate(&created, true) else {
            panic!("rewritten")
        };
        assert_eq!(live.object.unwrap().title.as_deref(), Some("Salary bands"));
        // Who was added to a space stays; who added them does not.
        let added = event(serde_json::json!({ "id": "m", "type": "member.added",
            "at": "2024-01-01T00:00:00Z", "actor": "ann", "member": "bob",
            "object": { "id": "HR" } }));
        let Fate::Rewrite(kept) = fate(&added, false) else {
            panic!("rewritten")
        };
        assert_eq!((kept.actor, kept.member.as_deref()), (None, Some("bob")));
        // A deletion stays, and once compacted is left alone.
        let deleted = event(serde_json::json!({ "id": "d", "type": "content.deleted",
            "at": "2024-01-01T00:00:00Z", "object": { "id": "p" } }));
        assert_eq!(fate(&deleted, false), Fate::Keep);
    }
}
