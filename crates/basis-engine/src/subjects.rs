//! The subject-state cache the gate reads: one [`SubjectState`] per (tenant, person), built from
//! the store on first use and replaced when the person's privacy state changes.
//!
//! An epoch counter guards against a slow load putting back state older than a change made
//! while it ran: a load only fills the cache if no change happened since it started.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use foldhash::fast::RandomState;

use basis_core::subject::{Consent, Objection, OptOut, Override, Span};
use basis_core::{Policy, SubjectState};
use basis_store::{PrivacyKind, Store};

use crate::EngineError;

/// One tenant's cached states. Keys come from clients, so the hasher is seeded per process.
type States = HashMap<String, Arc<SubjectState>, RandomState>;

/// Cached subject states by tenant, then person: a hit is two lookups by `&str`, no allocation.
#[derive(Debug, Default)]
pub struct SubjectCache {
    states: RwLock<HashMap<String, States, RandomState>>,
    len: AtomicU64,
    epoch: AtomicU64,
}

/// Most states kept before the cache is cleared (a crude bound; states reload on demand).
const MAX_CACHED: usize = 200_000;

impl SubjectCache {
    /// The cached states of `people`, in order (`None` where not cached), under one read.
    pub fn cached_many(&self, tenant: &str, people: &[String]) -> Vec<Option<Arc<SubjectState>>> {
        let Ok(map) = self.states.read() else {
            return vec![None; people.len()];
        };
        let Some(states) = map.get(tenant) else {
            return vec![None; people.len()];
        };
        people
            .iter()
            .map(|p| states.get(p.as_str()).cloned())
            .collect()
    }

    /// Puts a state in the cache as a load would (benchmarks fill it this way).
    pub fn put(&self, tenant: &str, person: &str, state: SubjectState) {
        if let Ok(mut map) = self.states.write() {
            let replaced = map
                .entry(tenant.to_owned())
                .or_default()
                .insert(person.to_owned(), Arc::new(state));
            if replaced.is_none() {
                self.len.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub(crate) async fn get(
        &self,
        store: &dyn Store,
        policy: &Policy,
        tenant: &str,
        person: &str,
    ) -> Result<Arc<SubjectState>, EngineError> {
        if let Some(s) = self
            .states
            .read()
            .ok()
            .and_then(|m| m.get(tenant)?.get(person).cloned())
        {
            return Ok(s);
        }
        let epoch = self.epoch.load(Ordering::SeqCst);
        let state = Arc::new(load(store, policy, tenant, person).await?);
        if let Ok(mut map) = self.states.write()
            && self.epoch.load(Ordering::SeqCst) == epoch
        {
            if self.len.load(Ordering::Relaxed) >= MAX_CACHED as u64 {
                map.clear();
                self.len.store(0, Ordering::Relaxed);
            }
            let replaced = map
                .entry(tenant.to_owned())
                .or_default()
                .insert(person.to_owned(), state.clone());
            if replaced.is_none() {
                self.len.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(state)
    }

    /// Forgets a person's state after a change.
    pub(crate) fn invalidate(&self, tenant: &str, person: &str) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut map) = self.states.write()
            && map.get_mut(tenant).and_then(|m| m.remove(person)).is_some()
        {
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Builds a person's state from the store. Records for purposes the policy no longer has are
/// left out: the gate cannot be asked about them.
pub(crate) async fn load(
    store: &dyn Store,
    policy: &Policy,
    tenant: &str,
    person: &str,
) -> Result<SubjectState, EngineError> {
    let Some(profile) = store.person(tenant, person).await? else {
        return Ok(SubjectState::unknown());
    };
    let mut state = SubjectState {
        known: true,
        jurisdiction: policy.jurisdiction_of(profile.country.as_deref()),
        account: store.account_history(tenant, person).await?,
        ..SubjectState::unknown()
    };
    for r in store.privacy_records(tenant, person).await? {
        let Some(purpose) = policy.purpose_id(&r.purpose) else {
            continue;
        };
        let span = Span {
            from: r.from,
            until: r.until,
        };
        match r.kind {
            PrivacyKind::Consent => state.consents.push(Consent {
                id: r.id,
                purpose,
                span,
                notice_version: r.notice_version.unwrap_or(1),
            }),
            PrivacyKind::Objection => state.objections.push(Objection {
                id: r.id,
                purpose,
                span,
                overridden: r.override_at.map(|at| Override {
                    at,
                    grounds: Arc::from(r.override_grounds.unwrap_or_default()),
                }),
            }),
            PrivacyKind::OptOut => state.opt_outs.push(OptOut {
                id: r.id,
                purpose,
                span,
            }),
        }
    }
    Ok(state)
}
