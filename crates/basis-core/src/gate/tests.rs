//! One unit test per rule, then a property test comparing the gate with a deliberately simple
//! reference model that replays the person's actions up to the time of processing.

use std::collections::HashMap;
use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use crate::jurisdiction::JurisdictionId;
use crate::subject::{AccountPeriod, Consent, Objection, OptOut, Override, Span};

fn policy() -> Policy {
    Policy::default_policy().unwrap()
}

fn t(day: i64) -> Timestamp {
    Timestamp(1_700_000_000_000).plus_days(day)
}

fn pid(policy: &Policy, key: &str) -> PurposeId {
    policy.purpose_id(key).unwrap()
}

/// Actions a person (or an administrator) takes, in time order.
#[derive(Debug, Clone)]
enum Action {
    Account(AccountStatus),
    Grant(PurposeId, u32),
    Withdraw(PurposeId),
    Object(PurposeId),
    Lift(PurposeId),
    Override(PurposeId),
    OptOut(PurposeId),
    OptIn(PurposeId),
}

/// Builds range state the way the store does: an action closes the open range it ends and
/// opens a new one; nothing is overwritten.
fn build(jurisdiction: JurisdictionId, history: &[(Timestamp, Action)]) -> SubjectState {
    let mut s = SubjectState {
        known: true,
        jurisdiction,
        ..SubjectState::unknown()
    };
    for (next_id, (at, action)) in (1..).zip(history.iter()) {
        let at = *at;
        let open = |span: &Span| span.until.is_none();
        match action {
            Action::Account(status) => s.account.push(AccountPeriod {
                from: at,
                status: *status,
            }),
            Action::Grant(p, v) => {
                for c in s
                    .consents
                    .iter_mut()
                    .filter(|c| c.purpose == *p && open(&c.span))
                {
                    c.span.until = Some(at);
                }
                s.consents.push(Consent {
                    id: next_id,
                    purpose: *p,
                    span: Span {
                        from: at,
                        until: None,
                    },
                    notice_version: *v,
                });
            }
            Action::Withdraw(p) => {
                for c in s
                    .consents
                    .iter_mut()
                    .filter(|c| c.purpose == *p && open(&c.span))
                {
                    c.span.until = Some(at);
                }
            }
            Action::Object(p) => {
                if !s
                    .objections
                    .iter()
                    .any(|o| o.purpose == *p && open(&o.span))
                {
                    s.objections.push(Objection {
                        id: next_id,
                        purpose: *p,
                        span: Span {
                            from: at,
                            until: None,
                        },
                        overridden: None,
                    });
                }
            }
            Action::Lift(p) => {
                for o in s
                    .objections
                    .iter_mut()
                    .filter(|o| o.purpose == *p && open(&o.span))
                {
                    o.span.until = Some(at);
                }
            }
            Action::Override(p) => {
                for o in s
                    .objections
                    .iter_mut()
                    .filter(|o| o.purpose == *p && open(&o.span) && o.overridden.is_none())
                {
                    o.overridden = Some(Override {
                        at,
                        grounds: Arc::from("grounds"),
                    });
                }
            }
            Action::OptOut(p) => {
                if !s.opt_outs.iter().any(|o| o.purpose == *p && open(&o.span)) {
                    s.opt_outs.push(OptOut {
                        id: next_id,
                        purpose: *p,
                        span: Span {
                            from: at,
                            until: None,
                        },
                    });
                }
            }
            Action::OptIn(p) => {
                for o in s
                    .opt_outs
                    .iter_mut()
                    .filter(|o| o.purpose == *p && open(&o.span))
                {
                    o.span.until = Some(at);
                }
            }
        }
    }
    s
}

/// The reference: replay every action up to `at` into plain sets, then apply DESIGN §1 as
/// literally as possible. Returns (allowed, reason).
fn reference(
    policy: &Policy,
    jurisdiction: JurisdictionId,
    history: &[(Timestamp, Action)],
    purpose: PurposeId,
    at: Timestamp,
) -> (bool, Reason) {
    let mut account = None;
    let mut consents: HashMap<PurposeId, u32> = HashMap::new();
    let mut objections: HashMap<PurposeId, bool> = HashMap::new(); // -> overridden
    let mut opt_outs: Vec<PurposeId> = Vec::new();
    for (when, action) in history.iter().filter(|(when, _)| *when <= at) {
        let _ = when;
        match action {
            Action::Account(s) => account = Some(*s),
            Action::Grant(p, v) => {
                consents.insert(*p, *v);
            }
            Action::Withdraw(p) => {
                consents.remove(p);
            }
            Action::Object(p) => {
                objections.entry(*p).or_insert(false);
            }
            Action::Lift(p) => {
                objections.remove(p);
            }
            Action::Override(p) => {
                if let Some(o) = objections.get_mut(p) {
                    *o = true;
                }
            }
            Action::OptOut(p) => {
                if !opt_outs.contains(p) {
                    opt_outs.push(*p);
                }
            }
            Action::OptIn(p) => opt_outs.retain(|x| x != p),
        }
    }
    let p = policy.purpose(purpose).unwrap();
    // Ancestors by walking parents, not the precomputed lineage.
    let mut covered_by = vec![purpose];
    let mut cur = p.parent;
    while let Some(a) = cur {
        covered_by.push(a);
        cur = policy.purpose(a).unwrap().parent;
    }
    let opted_out = p.opt_out && covered_by.iter().any(|a| opt_outs.contains(a));
    match p.basis_in(jurisdiction) {
        Basis::Contract => match account {
            None => (false, Reason::NoAccount),
            Some(AccountStatus::Active) if opted_out => (false, Reason::OptedOut),
            Some(AccountStatus::Active) => (true, Reason::AccountActive),
            Some(_) => (false, Reason::AccountInactive),
        },
        Basis::LegitimateInterest => {
            // Every covering objection must be overridden (and overridable) to go ahead.
            let found: Vec<bool> = covered_by
                .iter()
                .filter_map(|a| objections.get(a).copied())
                .collect();
            if found.is_empty() {
                if opted_out {
                    (false, Reason::OptedOut)
                } else {
                    (true, Reason::LegitimateInterest)
                }
            } else if found.iter().all(|o| *o) && p.objection == ObjectionRule::Overridable {
                (true, Reason::ObjectionOverridden)
            } else {
                (false, Reason::Objected)
            }
        }
        Basis::Consent => {
            let versions: Vec<u32> = covered_by
                .iter()
                .filter_map(|a| consents.get(a).copied())
                .collect();
            if versions.iter().any(|v| *v >= p.notice_version) {
                (true, Reason::Consented)
            } else if versions.is_empty() {
                (false, Reason::NoConsent)
            } else {
                (false, Reason::ConsentOutdated)
            }
        }
        _ => (true, Reason::BasisApplies),
    }
}

#[test]
fn contract_needs_an_active_account() {
    let policy = policy();
    let p = pid(&policy, "essential.service.authentication");
    let mut s = SubjectState::active(JurisdictionId::EEA, t(0));
    assert_eq!(decide(&policy, &s, p, t(-1)).reason, Reason::NoAccount);
    let d = decide(&policy, &s, p, t(1));
    assert!(d.allowed);
    assert_eq!(
        (d.basis, d.reason),
        (Basis::Contract, Reason::AccountActive)
    );
    s.account.push(AccountPeriod {
        from: t(5),
        status: AccountStatus::Suspended,
    });
    assert!(decide(&policy, &s, p, t(4)).allowed);
    assert_eq!(decide(&policy, &s, p, t(5)).reason, Reason::AccountInactive);
}

#[test]
fn unknown_subject_has_no_contract_and_no_consent_but_legitimate_interest_applies() {
    let policy = policy();
    let s = SubjectState::unknown();
    assert_eq!(
        decide(&policy, &s, pid(&policy, "personalize.content"), t(0)).reason,
        Reason::NoAccount
    );
    assert_eq!(
        decide(&policy, &s, pid(&policy, "marketing.testimonials"), t(0)).reason,
        Reason::NoConsent
    );
    let d = decide(
        &policy,
        &s,
        pid(&policy, "essential.service.security"),
        t(0),
    );
    assert!(d.allowed);
    assert_eq!(d.reason, Reason::LegitimateInterest);
}

#[test]
fn unknown_country_takes_the_most_protective_basis() {
    let policy = policy();
    let ads = pid(&policy, "marketing.advertising.third_party.targeted");
    let us = SubjectState::active(JurisdictionId::DEFAULT, t(0));
    let nowhere = SubjectState::active(JurisdictionId::UNKNOWN, t(0));
    assert_eq!(
        decide(&policy, &us, ads, t(1)).basis,
        Basis::LegitimateInterest
    );
    assert_eq!(decide(&policy, &nowhere, ads, t(1)).basis, Basis::Consent);
}

#[test]
fn opt_out_of_a_parent_covers_children_and_ends_on_opt_in() {
    let policy = policy();
    let parent = pid(&policy, "personalize.content");
    let search = pid(&policy, "personalize.content.search");
    let s = build(
        JurisdictionId::EEA,
        &[
            (t(0), Action::Account(AccountStatus::Active)),
            (t(2), Action::OptOut(parent)),
            (t(4), Action::OptIn(parent)),
        ],
    );
    assert!(decide(&policy, &s, search, t(1)).allowed);
    let d = decide(&policy, &s, search, t(3));
    assert_eq!(d.reason, Reason::OptedOut);
    assert!(matches!(
        d.evidence,
        Evidence::OptOut {
            purpose: "personalize.content",
            ..
        }
    ));
    assert!(decide(&policy, &s, search, t(4)).allowed);
}

#[test]
fn opt_out_is_ignored_where_the_purpose_offers_none() {
    let policy = policy();
    let auth = pid(&policy, "essential.service.authentication");
    let s = build(
        JurisdictionId::EEA,
        &[
            (t(0), Action::Account(AccountStatus::Active)),
            (t(1), Action::OptOut(auth)),
        ],
    );
    assert!(decide(&policy, &s, auth, t(2)).allowed);
}

#[test]
fn objection_to_a_parent_denies_its_children() {
    let policy = policy();
    let improve = pid(&policy, "functional.service.improve");
    let s = build(
        JurisdictionId::EEA,
        &[
            (t(0), Action::Account(AccountStatus::Active)),
            (t(1), Action::Object(improve)),
        ],
    );
    for child in [
        "functional.service.improve.mentions",
        "functional.service.improve.search_terms",
        "functional.service.improve.experiments",
    ] {
        let d = decide(&policy, &s, pid(&policy, child), t(2));
        assert!(!d.allowed, "{child}");
        assert_eq!(d.reason, Reason::Objected);
        assert!(
            decide(&policy, &s, pid(&policy, child), t(0)).allowed,
            "before the objection"
        );
    }
}

#[test]
fn overridable_objection_is_overridden_only_from_the_recorded_grounds_on() {
    let policy = policy();
    let security = pid(&policy, "essential.service.security");
    let s = build(
        JurisdictionId::EEA,
        &[
            (t(0), Action::Account(AccountStatus::Active)),
            (t(1), Action::Object(security)),
            (t(3), Action::Override(security)),
        ],
    );
    assert_eq!(decide(&policy, &s, security, t(2)).reason, Reason::Objected);
    let d = decide(&policy, &s, security, t(4));
    assert!(d.allowed);
    assert_eq!(d.reason, Reason::ObjectionOverridden);
    assert!(matches!(
        d.evidence,
        Evidence::Override {
            grounds: "grounds",
            ..
        }
    ));
}

#[test]
fn an_override_sets_aside_only_its_own_objection() {
    // Objections to the purpose and to its parent, in both recording orders; only the one to
    // the purpose is overridden: the parent's still stands.
    let policy = policy();
    let security = pid(&policy, "essential.service.security");
    let parent = policy.purpose(security).unwrap().parent.unwrap();
    for order in [[parent, security], [security, parent]] {
        let s = build(
            JurisdictionId::EEA,
            &[
                (t(0), Action::Account(AccountStatus::Active)),
                (t(1), Action::Object(order[0])),
                (t(1), Action::Object(order[1])),
                (t(2), Action::Override(security)),
            ],
        );
        let d = decide(&policy, &s, security, t(3));
        assert_eq!(
            (d.allowed, d.reason),
            (false, Reason::Objected),
            "{order:?}"
        );
    }
}

#[test]
fn absolute_objection_cannot_be_overridden() {
    let policy = policy();
    let email = pid(&policy, "marketing.communications.email");
    let s = build(
        JurisdictionId::EEA,
        &[
            (t(0), Action::Account(AccountStatus::Active)),
            (t(1), Action::Object(email)),
            (t(2), Action::Override(email)),
        ],
    );
    let d = decide(&policy, &s, email, t(3));
    assert!(!d.allowed);
    assert_eq!(d.reason, Reason::Objected);
}

#[test]
fn withdrawal_is_not_retroactive() {
    let policy = policy();
    let testimonials = pid(&policy, "marketing.testimonials");
    let before = build(
        JurisdictionId::EEA,
        &[
            (t(0), Action::Account(AccountStatus::Active)),
            (t(1), Action::Grant(testimonials, 1)),
        ],
    );
    let after = build(
        JurisdictionId::EEA,
        &[
            (t(0), Action::Account(AccountStatus::Active)),
            (t(1), Action::Grant(testimonials, 1)),
            (t(3), Action::Withdraw(testimonials)),
        ],
    );
    let during_before = decide(&policy, &before, testimonials, t(2));
    let during_after = decide(&policy, &after, testimonials, t(2));
    assert!(during_after.allowed);
    assert_eq!(
        during_before, during_after,
        "a later withdrawal changes nothing about t(2)"
    );
    assert!(
        matches!(during_after.evidence, Evidence::Consent { granted_at, .. } if granted_at == t(1))
    );
    assert_eq!(
        decide(&policy, &after, testimonials, t(3)).reason,
        Reason::NoConsent
    );
}

#[test]
fn consent_to_an_older_notice_no_longer_counts() {
    let text = crate::policy::DEFAULT_POLICY_TOML.replace(
        "key = \"marketing.testimonials\"",
        "key = \"marketing.testimonials\"\nnotice_version = 2",
    );
    let policy = Policy::from_toml(&text).unwrap();
    let testimonials = pid(&policy, "marketing.testimonials");
    let s = build(
        JurisdictionId::EEA,
        &[
            (t(0), Action::Account(AccountStatus::Active)),
            (t(1), Action::Grant(testimonials, 1)),
        ],
    );
    assert_eq!(
        decide(&policy, &s, testimonials, t(2)).reason,
        Reason::ConsentOutdated
    );
    let s = build(
        JurisdictionId::EEA,
        &[
            (t(0), Action::Account(AccountStatus::Active)),
            (t(1), Action::Grant(testimonials, 1)),
            (t(2), Action::Grant(testimonials, 2)),
        ],
    );
    assert!(decide(&policy, &s, testimonials, t(3)).allowed);
}

#[test]
fn consent_basis_depends_on_jurisdiction() {
    let policy = policy();
    let ads = pid(&policy, "marketing.advertising.third_party.targeted");
    let eea = SubjectState::active(JurisdictionId::EEA, t(0));
    let us = SubjectState::active(JurisdictionId::DEFAULT, t(0));
    assert_eq!(decide(&policy, &eea, ads, t(1)).reason, Reason::NoConsent);
    assert_eq!(
        decide(&policy, &us, ads, t(1)).reason,
        Reason::LegitimateInterest
    );
}

#[test]
fn legal_obligation_is_always_allowed() {
    let policy = policy();
    let nobody = SubjectState::unknown();
    let d = decide(
        &policy,
        &nobody,
        pid(&policy, "essential.legal_obligation"),
        t(0),
    );
    assert!(d.allowed);
    assert_eq!(d.reason, Reason::BasisApplies);
}

#[test]
fn unknown_purpose_is_denied() {
    let policy = policy();
    let nobody = SubjectState::unknown();
    let d = decide(&policy, &nobody, PurposeId(u16::MAX), t(0));
    assert_eq!((d.allowed, d.reason), (false, Reason::UnknownPurpose));
}

fn modulo(action: Action, purposes: u16) -> Action {
    let m = |p: PurposeId| PurposeId(p.0 % purposes);
    match action {
        Action::Account(s) => Action::Account(s),
        Action::Grant(p, v) => Action::Grant(m(p), v),
        Action::Withdraw(p) => Action::Withdraw(m(p)),
        Action::Object(p) => Action::Object(m(p)),
        Action::Lift(p) => Action::Lift(m(p)),
        Action::Override(p) => Action::Override(m(p)),
        Action::OptOut(p) => Action::OptOut(m(p)),
        Action::OptIn(p) => Action::OptIn(m(p)),
    }
}

fn action_strategy(purposes: u16) -> impl Strategy<Value = Action> {
    let p = (0..purposes).prop_map(PurposeId);
    prop_oneof![
        prop_oneof![
            Just(AccountStatus::Active),
            Just(AccountStatus::Suspended),
            Just(AccountStatus::Closed)
        ]
        .prop_map(Action::Account),
        (p.clone(), 1u32..3).prop_map(|(p, v)| Action::Grant(p, v)),
        p.clone().prop_map(Action::Withdraw),
        p.clone().prop_map(Action::Object),
        p.clone().prop_map(Action::Lift),
        p.clone().prop_map(Action::Override),
        p.clone().prop_map(Action::OptOut),
        p.prop_map(Action::OptIn),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn gate_agrees_with_the_reference_model(
        steps in proptest::collection::vec((1i64..5, action_strategy(64)), 0..40),
        jurisdiction in 0u8..3,
        probes in proptest::collection::vec((0i64..200, 0u16..64), 1..20),
        bump_testimonials in any::<bool>(),
    ) {
        let text = if bump_testimonials {
            crate::policy::DEFAULT_POLICY_TOML.replace("key = \"marketing.testimonials\"", "key = \"marketing.testimonials\"\nnotice_version = 2")
        } else {
            crate::policy::DEFAULT_POLICY_TOML.to_owned()
        };
        let policy = Policy::from_toml(&text).unwrap();
        let purposes = u16::try_from(policy.purposes().len()).unwrap();
        let mut at = 0;
        let history: Vec<(Timestamp, Action)> = steps
            .into_iter()
            .map(|(gap, a)| (gap, modulo(a, purposes)))
            .map(|(gap, a)| { at += gap; (Timestamp(at), a) })
            .collect();
        let jurisdiction = JurisdictionId(jurisdiction);
        let state = build(jurisdiction, &history);
        for (probe, purpose) in probes {
            let purpose = PurposeId(purpose % purposes);
            let probe = Timestamp(probe);
            let got = decide(&policy, &state, purpose, probe);
            let want = reference(&policy, jurisdiction, &history, purpose, probe);
            prop_assert_eq!((got.allowed, got.reason), want, "purpose {} at {}", policy.purpose(purpose).unwrap().key, probe.0);
        }
    }
}
