//! A data subject's state as the gate sees it: account history, jurisdiction, and the consents,
//! objections and opt-outs they gave, each a time range that is closed, never overwritten.
//!
//! The engine builds it from the store for one person and keeps it in memory; the gate only
//! reads it.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::jurisdiction::JurisdictionId;
use crate::{PurposeId, Timestamp};

/// Account status of a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// The person uses the Services.
    #[default]
    Active,
    /// Temporarily switched off.
    Suspended,
    /// Closed.
    Closed,
}

impl AccountStatus {
    /// The snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Suspended => "suspended",
            AccountStatus::Closed => "closed",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(text: &str) -> Option<AccountStatus> {
        match text {
            "active" => Some(AccountStatus::Active),
            "suspended" => Some(AccountStatus::Suspended),
            "closed" => Some(AccountStatus::Closed),
            _ => None,
        }
    }
}

/// From `from` on, the account had `status` (until the next change).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountPeriod {
    /// When the status began.
    pub from: Timestamp,
    /// The status.
    pub status: AccountStatus,
}

/// A half-open time range `[from, until)`; `until = None` is still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Start, inclusive.
    pub from: Timestamp,
    /// End, exclusive.
    pub until: Option<Timestamp>,
}

impl Span {
    /// Whether `t` falls inside.
    #[inline]
    pub fn covers(&self, t: Timestamp) -> bool {
        self.from <= t && self.until.is_none_or(|u| t < u)
    }
}

/// A consent given for a purpose (and its children).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// Record id in the store.
    pub id: i64,
    /// The purpose consented to.
    pub purpose: PurposeId,
    /// Granted until withdrawn.
    pub span: Span,
    /// The notice version the person saw.
    pub notice_version: u32,
}

/// An objection to processing on legitimate interest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Objection {
    /// Record id.
    pub id: i64,
    /// The purpose objected to (and its children).
    pub purpose: PurposeId,
    /// In force until lifted.
    pub span: Span,
    /// An administrator's override on compelling grounds, where the purpose allows one.
    pub overridden: Option<Override>,
}

/// Compelling grounds recorded against an objection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// When the override was recorded; it counts from then.
    pub at: Timestamp,
    /// The grounds.
    pub grounds: Arc<str>,
}

/// An opt-out of a purpose that allows one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptOut {
    /// Record id.
    pub id: i64,
    /// The purpose (and its children).
    pub purpose: PurposeId,
    /// In force until the person opts back in.
    pub span: Span,
}

/// Everything the gate needs to know about one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectState {
    /// Whether Basis knows the person (a stub seen only in a mention is not known).
    pub known: bool,
    /// Jurisdiction from their country.
    pub jurisdiction: JurisdictionId,
    /// Account status changes, oldest first.
    pub account: Vec<AccountPeriod>,
    /// Consents, in any order.
    pub consents: Vec<Consent>,
    /// Objections.
    pub objections: Vec<Objection>,
    /// Opt-outs.
    pub opt_outs: Vec<OptOut>,
}

impl SubjectState {
    /// A person Basis has never heard of: no account, no consents.
    pub fn unknown() -> Self {
        SubjectState {
            known: false,
            jurisdiction: JurisdictionId::UNKNOWN,
            account: Vec::new(),
            consents: Vec::new(),
            objections: Vec::new(),
            opt_outs: Vec::new(),
        }
    }

    /// A known person whose account has been active since `since`.
    pub fn active(jurisdiction: JurisdictionId, since: Timestamp) -> Self {
        SubjectState {
            known: true,
            jurisdiction,
            account: vec![AccountPeriod {
                from: since,
                status: AccountStatus::Active,
            }],
            ..SubjectState::unknown()
        }
    }

    /// The account status at `t`, if the account existed then.
    #[inline]
    pub fn account_at(&self, t: Timestamp) -> Option<AccountPeriod> {
        if !self.known {
            return None;
        }
        self.account.iter().rev().find(|p| p.from <= t).copied()
    }
}
