//! The purpose gate: may this person's data be used for this purpose at this time?
//!
//! [`decide`] is a pure function of the policy, the subject's state, the purpose and the time of
//! processing. It does no IO, reads no clock and allocates nothing; the decision borrows its
//! evidence from the state. The rules are DESIGN §1:
//!
//! - `contract`: allowed while the account is active, unless the person opted out of a purpose
//!   that allows it;
//! - `legitimate_interest`: allowed unless the person objected (to the purpose or an ancestor);
//!   an `overridable` objection can be overridden on recorded grounds, an `absolute` one never;
//!   opt-outs apply as for contract;
//! - `consent`: allowed while a consent to the purpose or an ancestor covers the time and was
//!   given to the current notice version or later;
//! - `legal_obligation` (and vital interests, public task): allowed.
//!
//! Because state is kept as time ranges, a decision about time `t` never changes when something
//! happens after `t`: withdrawal is not retroactive.

use serde::Serialize;

use crate::Timestamp;
use crate::policy::{Basis, ObjectionRule, Policy, Purpose, PurposeId};
use crate::subject::{AccountStatus, SubjectState};

/// Why the gate decided as it did; stable snake_case codes in the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Contract: the account is active.
    AccountActive,
    /// Contract: the person has no account (yet) at that time.
    NoAccount,
    /// Contract: the account is suspended or closed.
    AccountInactive,
    /// The person opted out of the purpose or an ancestor.
    OptedOut,
    /// Legitimate interest, no objection.
    LegitimateInterest,
    /// The person objected.
    Objected,
    /// The person objected and an administrator recorded compelling grounds.
    ObjectionOverridden,
    /// A consent covers the time.
    Consented,
    /// No consent covers the time.
    NoConsent,
    /// A consent covers the time but was given to an older notice.
    ConsentOutdated,
    /// Legal obligation (or vital interests, public task).
    BasisApplies,
    /// The purpose is not in the policy.
    UnknownPurpose,
}

impl Reason {
    /// The stable code.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::AccountActive => "account_active",
            Reason::NoAccount => "no_account",
            Reason::AccountInactive => "account_inactive",
            Reason::OptedOut => "opted_out",
            Reason::LegitimateInterest => "legitimate_interest",
            Reason::Objected => "objected",
            Reason::ObjectionOverridden => "objection_overridden",
            Reason::Consented => "consented",
            Reason::NoConsent => "no_consent",
            Reason::ConsentOutdated => "consent_outdated",
            Reason::BasisApplies => "basis_applies",
            Reason::UnknownPurpose => "unknown_purpose",
        }
    }
}

/// The record a decision rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence<'a> {
    /// Nothing beyond the basis itself.
    None,
    /// The account status in force.
    Account {
        /// Since when.
        since: Timestamp,
        /// Which status.
        status: AccountStatus,
    },
    /// The consent that covers the time (or the outdated one).
    Consent {
        /// Consent record id.
        id: i64,
        /// The purpose it was given for (may be an ancestor).
        purpose: &'a str,
        /// When it was given.
        granted_at: Timestamp,
        /// The notice version it was given to.
        notice_version: u32,
    },
    /// The objection in force.
    Objection {
        /// Objection record id.
        id: i64,
        /// The purpose objected to.
        purpose: &'a str,
        /// When.
        at: Timestamp,
    },
    /// The objection and the override that set it aside.
    Override {
        /// Objection record id.
        id: i64,
        /// The purpose objected to.
        purpose: &'a str,
        /// When the override was recorded.
        at: Timestamp,
        /// The compelling grounds.
        grounds: &'a str,
    },
    /// The opt-out in force.
    OptOut {
        /// Opt-out record id.
        id: i64,
        /// The purpose opted out of.
        purpose: &'a str,
        /// Since when.
        at: Timestamp,
    },
}

/// The gate's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Decision<'a> {
    /// May the data be used.
    pub allowed: bool,
    /// The legal basis that applies.
    pub basis: Basis,
    /// Why.
    pub reason: Reason,
    /// What it rests on.
    pub evidence: Evidence<'a>,
    /// The policy version decided under.
    pub policy_version: &'a str,
}

/// Decides whether `subject`'s data may be used for `purpose` at `at`.
#[inline]
pub fn decide<'a>(
    policy: &'a Policy,
    subject: &'a SubjectState,
    purpose: PurposeId,
    at: Timestamp,
) -> Decision<'a> {
    let Some(p) = policy.purpose(purpose) else {
        return Decision {
            allowed: false,
            basis: Basis::Consent,
            reason: Reason::UnknownPurpose,
            evidence: Evidence::None,
            policy_version: &policy.version,
        };
    };
    let basis = p.basis_in(subject.jurisdiction);
    let (allowed, reason, evidence) = match basis {
        Basis::Contract => contract(policy, p, subject, at),
        Basis::LegitimateInterest => legitimate_interest(policy, p, subject, at),
        Basis::Consent => consent(policy, p, subject, at),
        Basis::LegalObligation | Basis::VitalInterests | Basis::PublicTask => {
            (true, Reason::BasisApplies, Evidence::None)
        }
    };
    Decision {
        allowed,
        basis,
        reason,
        evidence,
        policy_version: &policy.version,
    }
}

type Outcome<'a> = (bool, Reason, Evidence<'a>);

fn contract<'a>(
    policy: &'a Policy,
    p: &Purpose,
    s: &'a SubjectState,
    at: Timestamp,
) -> Outcome<'a> {
    let Some(period) = s.account_at(at) else {
        return (false, Reason::NoAccount, Evidence::None);
    };
    let account = Evidence::Account {
        since: period.from,
        status: period.status,
    };
    if period.status != AccountStatus::Active {
        return (false, Reason::AccountInactive, account);
    }
    if let Some(denied) = opted_out(policy, p, s, at) {
        return denied;
    }
    (true, Reason::AccountActive, account)
}

fn legitimate_interest<'a>(
    policy: &'a Policy,
    p: &Purpose,
    s: &'a SubjectState,
    at: Timestamp,
) -> Outcome<'a> {
    // Every objection in force that covers the purpose (to it or to an ancestor) must have been
    // set aside for the processing to go ahead; one that stands decides, whatever the order
    // the objections were recorded in.
    let mut set_aside = None;
    for o in s
        .objections
        .iter()
        .filter(|o| o.span.covers(at) && p.lineage.contains(&o.purpose))
    {
        let purpose = key_of(policy, o.purpose);
        match (p.objection, &o.overridden) {
            (ObjectionRule::Overridable, Some(ov)) if ov.at <= at => {
                set_aside.get_or_insert(Evidence::Override {
                    id: o.id,
                    purpose,
                    at: ov.at,
                    grounds: &ov.grounds,
                });
            }
            _ => {
                return (
                    false,
                    Reason::Objected,
                    Evidence::Objection {
                        id: o.id,
                        purpose,
                        at: o.span.from,
                    },
                );
            }
        }
    }
    if let Some(evidence) = set_aside {
        return (true, Reason::ObjectionOverridden, evidence);
    }
    if let Some(denied) = opted_out(policy, p, s, at) {
        return denied;
    }
    (true, Reason::LegitimateInterest, Evidence::None)
}

fn consent<'a>(policy: &'a Policy, p: &Purpose, s: &'a SubjectState, at: Timestamp) -> Outcome<'a> {
    let mut outdated = None;
    for c in &s.consents {
        if !c.span.covers(at) || !p.lineage.contains(&c.purpose) {
            continue;
        }
        let evidence = Evidence::Consent {
            id: c.id,
            purpose: key_of(policy, c.purpose),
            granted_at: c.span.from,
            notice_version: c.notice_version,
        };
        if c.notice_version >= p.notice_version {
            return (true, Reason::Consented, evidence);
        }
        outdated = Some(evidence);
    }
    match outdated {
        Some(evidence) => (false, Reason::ConsentOutdated, evidence),
        None => (false, Reason::NoConsent, Evidence::None),
    }
}

#[inline]
fn opted_out<'a>(
    policy: &'a Policy,
    p: &Purpose,
    s: &'a SubjectState,
    at: Timestamp,
) -> Option<Outcome<'a>> {
    if !p.opt_out {
        return None;
    }
    s.opt_outs
        .iter()
        .find(|o| o.span.covers(at) && p.lineage.contains(&o.purpose))
        .map(|o| {
            (
                false,
                Reason::OptedOut,
                Evidence::OptOut {
                    id: o.id,
                    purpose: key_of(policy, o.purpose),
                    at: o.span.from,
                },
            )
        })
}

fn key_of(policy: &Policy, id: PurposeId) -> &str {
    policy.purpose(id).map_or("", |p| p.key.as_str())
}

#[cfg(test)]
mod tests;
