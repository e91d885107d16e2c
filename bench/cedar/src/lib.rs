//! The default policy expressed in Cedar, and the subject's state flattened for it.
//!
//! Cedar has no quantifiers over sets of records, so time ranges cannot be evaluated inside a
//! Cedar policy: the application first flattens the subject's consents, objections and opt-outs
//! at the time of processing into sets of purpose keys, then Cedar checks bases, ancestry and
//! overrides. Building those entities is part of what a Cedar-based gate pays per request.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use basis_core::jurisdiction::JurisdictionId;
use basis_core::subject::AccountStatus;
use basis_core::{Policy, Purpose, SubjectState, Timestamp};
use cedar_policy::{
    Context, Entities, Entity, EntityUid, PolicySet, Request, RestrictedExpression,
};

/// The Cedar policies equivalent to DESIGN §1's rules.
pub const POLICIES: &str = r#"
permit(principal, action == Action::"process", resource) when {
  (if principal.jurisdiction == "eea" then resource.basis_eea else if principal.jurisdiction == "unknown" then resource.basis_unknown else resource.basis_default) == "contract"
  && principal.active
};
permit(principal, action == Action::"process", resource) when {
  (if principal.jurisdiction == "eea" then resource.basis_eea else if principal.jurisdiction == "unknown" then resource.basis_unknown else resource.basis_default) == "legitimate_interest"
};
permit(principal, action == Action::"process", resource) when {
  (if principal.jurisdiction == "eea" then resource.basis_eea else if principal.jurisdiction == "unknown" then resource.basis_unknown else resource.basis_default) == "consent"
  && principal.consented.containsAny(resource.lineage)
};
permit(principal, action == Action::"process", resource) when {
  (if principal.jurisdiction == "eea" then resource.basis_eea else if principal.jurisdiction == "unknown" then resource.basis_unknown else resource.basis_default) == "legal_obligation"
};
forbid(principal, action == Action::"process", resource) when {
  (if principal.jurisdiction == "eea" then resource.basis_eea else if principal.jurisdiction == "unknown" then resource.basis_unknown else resource.basis_default) == "legitimate_interest"
  && principal.objected.containsAny(resource.lineage)
  && !(resource.objection == "overridable" && principal.overridden.containsAny(resource.lineage))
};
forbid(principal, action == Action::"process", resource) when {
  resource.opt_out
  && principal.opted_out.containsAny(resource.lineage)
  && ["contract", "legitimate_interest"].contains(if principal.jurisdiction == "eea" then resource.basis_eea else if principal.jurisdiction == "unknown" then resource.basis_unknown else resource.basis_default)
};
"#;

fn s(v: &str) -> RestrictedExpression {
    RestrictedExpression::new_string(v.to_owned())
}

fn set(items: impl IntoIterator<Item = String>) -> RestrictedExpression {
    RestrictedExpression::new_set(items.into_iter().map(RestrictedExpression::new_string))
}

/// The resource entity for a purpose.
pub fn purpose_entity(policy: &Policy, p: &Purpose) -> Entity {
    let lineage = p
        .lineage
        .iter()
        .filter_map(|id| policy.purpose(*id))
        .map(|a| a.key.clone());
    let attrs = HashMap::from([
        (
            "basis_eea".to_owned(),
            s(p.basis_in(JurisdictionId::EEA).as_str()),
        ),
        (
            "basis_default".to_owned(),
            s(p.basis_in(JurisdictionId::DEFAULT).as_str()),
        ),
        (
            "basis_unknown".to_owned(),
            s(p.basis_in(JurisdictionId::UNKNOWN).as_str()),
        ),
        (
            "opt_out".to_owned(),
            RestrictedExpression::new_bool(p.opt_out),
        ),
        ("objection".to_owned(), s(p.objection.as_str())),
        ("lineage".to_owned(), set(lineage)),
    ]);
    Entity::new(purpose_uid(&p.key), attrs, HashSet::new()).expect("valid purpose entity")
}

/// `Purpose::"key"`.
pub fn purpose_uid(key: &str) -> EntityUid {
    EntityUid::from_str(&format!("Purpose::\"{key}\"")).expect("valid uid")
}

/// The principal entity: the subject's state at `at`, flattened into sets.
pub fn person_entity(policy: &Policy, id: &str, state: &SubjectState, at: Timestamp) -> Entity {
    let key = |p| {
        policy
            .purpose(p)
            .map(|p: &Purpose| p.key.clone())
            .unwrap_or_default()
    };
    let active = state
        .account_at(at)
        .is_some_and(|a| a.status == AccountStatus::Active);
    let consented = state
        .consents
        .iter()
        .filter(|c| {
            c.span.covers(at)
                && policy
                    .purpose(c.purpose)
                    .is_some_and(|p| c.notice_version >= p.notice_version)
        })
        .map(|c| key(c.purpose));
    let objected = state
        .objections
        .iter()
        .filter(|o| o.span.covers(at))
        .map(|o| key(o.purpose));
    let overridden = state
        .objections
        .iter()
        .filter(|o| o.span.covers(at) && o.overridden.as_ref().is_some_and(|ov| ov.at <= at))
        .map(|o| key(o.purpose));
    let opted_out = state
        .opt_outs
        .iter()
        .filter(|o| o.span.covers(at))
        .map(|o| key(o.purpose));
    let attrs = HashMap::from([
        (
            "jurisdiction".to_owned(),
            s(policy.jurisdiction_name(state.jurisdiction)),
        ),
        ("active".to_owned(), RestrictedExpression::new_bool(active)),
        ("consented".to_owned(), set(consented)),
        ("objected".to_owned(), set(objected)),
        ("overridden".to_owned(), set(overridden)),
        ("opted_out".to_owned(), set(opted_out)),
    ]);
    Entity::new(person_uid(id), attrs, HashSet::new()).expect("valid person entity")
}

/// `Person::"id"`.
pub fn person_uid(id: &str) -> EntityUid {
    EntityUid::from_str(&format!("Person::\"{id}\"")).expect("valid uid")
}

/// Everything Cedar needs, built once.
pub struct CedarGate {
    /// Policies.
    pub policies: PolicySet,
    /// Purpose entities.
    pub purposes: Vec<Entity>,
    /// `Action::"process"`.
    pub action: EntityUid,
}

impl CedarGate {
    /// Parses the policies and builds the purpose entities.
    pub fn new(policy: &Policy) -> CedarGate {
        CedarGate {
            policies: PolicySet::from_str(POLICIES).expect("valid Cedar policies"),
            purposes: policy
                .purposes()
                .iter()
                .map(|p| purpose_entity(policy, p))
                .collect(),
            action: EntityUid::from_str("Action::\"process\"").expect("valid uid"),
        }
    }

    /// Entities for one person plus every purpose.
    pub fn entities(&self, person: Entity) -> Entities {
        Entities::from_entities(self.purposes.iter().cloned().chain([person]), None)
            .expect("valid entities")
    }

    /// A request.
    pub fn request(&self, person: &EntityUid, purpose: &str) -> Request {
        Request::new(
            person.clone(),
            self.action.clone(),
            purpose_uid(purpose),
            Context::empty(),
            None,
        )
        .expect("valid request")
    }
}
