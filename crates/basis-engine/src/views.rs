//! What the engine answers with: owned, serializable views of decisions, privacy state, the
//! processing record, exports and records of processing.

use basis_core::gate::{Decision, Reason};
use basis_core::person::Person;
use basis_core::{Basis, Timestamp};
use basis_store::{ActivityCount, AuditEntry, LedgerRow, LegalHold, PrivacyRecord};
use serde::Serialize;
use serde_json::Value;

/// A gate decision, owned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionView {
    /// About whom.
    pub person: String,
    /// For what.
    pub purpose: String,
    /// Time of processing.
    pub at: Timestamp,
    /// May the data be used.
    pub allowed: bool,
    /// Basis that applies.
    pub basis: Basis,
    /// Why.
    pub reason: Reason,
    /// What it rests on.
    pub evidence: Value,
    /// Policy version.
    pub policy_version: String,
}

impl DecisionView {
    pub(crate) fn new(person: &str, purpose: &str, at: Timestamp, d: &Decision<'_>) -> Self {
        DecisionView {
            person: person.to_owned(),
            purpose: purpose.to_owned(),
            at,
            allowed: d.allowed,
            basis: d.basis,
            reason: d.reason,
            evidence: serde_json::to_value(d.evidence).unwrap_or(Value::Null),
            policy_version: d.policy_version.to_owned(),
        }
    }
}

/// Which rights a purpose offers a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rights {
    /// May opt out.
    pub opt_out: bool,
    /// May object (and what the objection does: `honored`, `overridable`, `absolute`).
    pub object: Option<&'static str>,
    /// May give and withdraw consent.
    pub consent: bool,
}

/// One purpose in a person's privacy overview.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PurposeStatus {
    /// Purpose key.
    pub purpose: String,
    /// Title.
    pub title: String,
    /// Basis for this person.
    pub basis: Basis,
    /// Allowed now.
    pub allowed: bool,
    /// Why.
    pub reason: Reason,
    /// Evidence.
    pub evidence: Value,
    /// What the person can do.
    pub rights: Rights,
}

/// `GET /v1/people/{id}/privacy`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrivacyView {
    /// The person.
    pub person: String,
    /// Their country.
    pub country: Option<String>,
    /// The jurisdiction it puts them in.
    pub jurisdiction: String,
    /// When evaluated.
    pub at: Timestamp,
    /// Policy version.
    pub policy_version: String,
    /// Each purpose.
    pub purposes: Vec<PurposeStatus>,
}

/// A privacy range, for history and export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrivacyRecordView {
    /// Record id.
    pub id: i64,
    /// `consent`, `objection` or `opt_out`.
    pub kind: &'static str,
    /// Purpose.
    pub purpose: String,
    /// From.
    pub from: Timestamp,
    /// Until (open when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<Timestamp>,
    /// Notice version (consents).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice_version: Option<u32>,
    /// How it was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Override of an objection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overridden_at: Option<Timestamp>,
    /// Grounds of the override.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_grounds: Option<String>,
}

impl From<PrivacyRecord> for PrivacyRecordView {
    fn from(r: PrivacyRecord) -> Self {
        PrivacyRecordView {
            id: r.id,
            kind: r.kind.as_str(),
            purpose: r.purpose,
            from: r.from,
            until: r.until,
            notice_version: r.notice_version,
            detail: r.detail,
            overridden_at: r.override_at,
            override_grounds: r.override_grounds,
        }
    }
}

/// One line of a processing record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessingLine {
    /// Purpose.
    pub purpose: String,
    /// Basis.
    pub basis: String,
    /// Date (UTC).
    pub day: String,
    /// Uses allowed.
    pub allowed: i64,
    /// Uses refused by the gate.
    pub denied: i64,
    /// First that day.
    pub first_at: Timestamp,
    /// Last that day.
    pub last_at: Timestamp,
}

impl From<LedgerRow> for ProcessingLine {
    fn from(r: LedgerRow) -> Self {
        ProcessingLine {
            purpose: r.purpose,
            basis: r.basis,
            day: Timestamp::day_to_date(r.day),
            allowed: r.allowed,
            denied: r.denied,
            first_at: r.first_at,
            last_at: r.last_at,
        }
    }
}

/// `GET /v1/people/{id}/processing`: what was done with the person's data, and on what
/// consents, objections and opt-outs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessingView {
    /// The person.
    pub person: String,
    /// Ledger lines, newest day first.
    pub processing: Vec<ProcessingLine>,
    /// Consents, objections and opt-outs, oldest first.
    pub privacy_history: Vec<PrivacyRecordView>,
}

/// A purpose in an export or the records of processing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PurposeSummary {
    /// Key.
    pub purpose: String,
    /// Title.
    pub title: String,
    /// Basis per jurisdiction name.
    pub bases: serde_json::Map<String, Value>,
    /// Data categories.
    pub data_categories: Vec<String>,
    /// Retention.
    pub retention_days: u32,
}

/// An activity count, for views and export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActivityLine {
    /// Event type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Count.
    pub count: i64,
    /// Latest.
    pub last_at: Timestamp,
}

impl From<ActivityCount> for ActivityLine {
    fn from(c: ActivityCount) -> Self {
        ActivityLine {
            kind: c.kind,
            count: c.count,
            last_at: c.last_at,
        }
    }
}

/// An audit entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditView {
    /// Position.
    pub seq: i64,
    /// When.
    pub at: Timestamp,
    /// Who acted.
    pub actor: String,
    /// About whom.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// What.
    pub action: String,
    /// Purpose.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Detail.
    pub detail: Value,
}

impl From<AuditEntry> for AuditView {
    fn from(a: AuditEntry) -> Self {
        AuditView {
            seq: a.seq,
            at: a.at,
            actor: a.actor,
            subject: a.subject,
            action: a.action,
            purpose: a.purpose,
            detail: a.detail,
        }
    }
}

/// `GET /v1/people/{id}/export` (GDPR Art. 15 and 20).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportBundle {
    /// Format marker.
    pub format: &'static str,
    /// When produced.
    pub generated_at: Timestamp,
    /// Controller and contact.
    pub controller: Value,
    /// The profile.
    pub person: Person,
    /// Events the person authored or appears in.
    pub events: Vec<Value>,
    /// Consents, objections, opt-outs.
    pub privacy_history: Vec<PrivacyRecordView>,
    /// The processing record.
    pub processing: Vec<ProcessingLine>,
    /// Derived data held about the person.
    pub derived: Value,
    /// Privacy actions about the person.
    pub audit: Vec<AuditView>,
    /// Every purpose, its bases and retention.
    pub purposes: Vec<PurposeSummary>,
}

/// A purpose in the records of processing with live counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordOfProcessing {
    /// The purpose.
    #[serde(flatten)]
    pub purpose: PurposeSummary,
    /// Categories of data subjects.
    pub subject_categories: Vec<String>,
    /// Recipients.
    pub recipients: Vec<String>,
    /// Transfers to third countries.
    pub transfers: Vec<String>,
    /// Distinct subjects in the ledger.
    pub subjects: i64,
    /// Uses allowed.
    pub allowed: i64,
    /// Uses refused.
    pub denied: i64,
}

/// `GET /v1/records` (GDPR Art. 30).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordsView {
    /// Controller, contact, DPO.
    pub controller: Value,
    /// Policy version.
    pub policy_version: String,
    /// Security measures (Art. 30(1)(g)).
    pub security_measures: Vec<String>,
    /// Each purpose.
    pub purposes: Vec<RecordOfProcessing>,
}

/// A legal hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HoldView {
    /// Id.
    pub id: i64,
    /// Person.
    pub person: String,
    /// Reason.
    pub reason: String,
    /// Since.
    pub created_at: Timestamp,
    /// Released.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub released_at: Option<Timestamp>,
}

impl From<LegalHold> for HoldView {
    fn from(h: LegalHold) -> Self {
        HoldView {
            id: h.id,
            person: h.person,
            reason: h.reason,
            created_at: h.created_at,
            released_at: h.released_at,
        }
    }
}

/// A personalized read: either the data, or why it cannot be used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActivityView {
    /// The person.
    pub person: String,
    /// Whether the gate allowed using the person's data now.
    pub personalized: bool,
    /// The decision behind it.
    pub decision: DecisionView,
    /// Counts (empty when not allowed).
    pub activity: Vec<ActivityLine>,
}
