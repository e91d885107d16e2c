//! What the engine can refuse or fail with. The server maps each variant to a stable code and an
//! HTTP status.

use basis_core::event::FieldError;
use basis_store::StoreError;

/// An engine error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// Input failed validation; each problem is listed.
    #[error("the input is not valid: {}", describe(.0))]
    Invalid(Vec<FieldError>),
    /// No such person in this workspace.
    #[error("no person `{0}` in this workspace")]
    PersonNotFound(String),
    /// The purpose is not in the policy.
    #[error("`{0}` is not a purpose of the policy")]
    UnknownPurpose(String),
    /// The purpose does not offer the requested right.
    #[error("purpose `{purpose}` does not allow {right}")]
    RightNotOffered {
        /// The purpose.
        purpose: String,
        /// `consent`, `objection`, `opt_out`, `override`.
        right: &'static str,
    },
    /// Nothing open to close (no consent to withdraw, no objection to lift).
    #[error("{0}")]
    NothingToClose(String),
    /// Erasure refused while a legal hold applies.
    #[error("`{person}` is under legal hold {hold}: {reason}")]
    LegalHold {
        /// The person.
        person: String,
        /// The hold id.
        hold: i64,
        /// The hold's reason.
        reason: String,
    },
    /// A source identity already belongs to someone else.
    #[error("{0}")]
    IdentityTaken(#[from] basis_store::IdentityTaken),
    /// No such legal hold.
    #[error("no active legal hold {0}")]
    HoldNotFound(i64),
    /// Projections did not reach the requested sequence in time.
    #[error("views have not caught up with seq {wanted} yet (at {reached})")]
    NotCaughtUp {
        /// Requested.
        wanted: i64,
        /// Reached.
        reached: i64,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl EngineError {
    pub(crate) fn invalid(field: &str, reason: impl Into<String>) -> Self {
        EngineError::Invalid(vec![FieldError {
            index: 0,
            field: field.to_owned(),
            reason: reason.into(),
        }])
    }
}

/// `field: reason; field: reason` (the first few).
fn describe(errors: &[FieldError]) -> String {
    let mut parts: Vec<String> = errors
        .iter()
        .take(5)
        .map(|e| {
            if e.field.is_empty() {
                e.reason.clone()
            } else {
                format!("`{}`: {}", e.field, e.reason)
            }
        })
        .collect();
    if errors.len() > 5 {
        parts.push(format!("and {} more", errors.len() - 5));
    }
    parts.join("; ")
}
