//! A subject with the history an active EEA user gathers over a few years, shared by the gate
//! benchmark and the Cedar comparison so both decide about the same person.

use crate::subject::{AccountPeriod, AccountStatus, Consent, Objection, OptOut, Override, Span};
use crate::{Policy, PurposeId, SubjectState, Timestamp};

/// Day `d` of the fixture's timeline.
pub fn day(d: i64) -> Timestamp {
    Timestamp(1_700_000_000_000).plus_days(d)
}

/// The time the benchmarks decide at: after the whole history.
pub fn decision_time() -> Timestamp {
    day(600)
}

/// A German user with an account suspended once, five consents (some withdrawn), three
/// objections (one overridden on recorded grounds, one lifted) and two opt-outs. Purposes the
/// policy lacks are skipped.
pub fn realistic_subject(policy: &Policy) -> SubjectState {
    let id = |k: &str| policy.purpose_id(k).unwrap_or(PurposeId(u16::MAX));
    let span = |from, until: Option<i64>| Span {
        from: day(from),
        until: until.map(day),
    };
    let mut s = SubjectState::active(policy.jurisdiction_of(Some("DE")), day(0));
    s.account.push(AccountPeriod {
        from: day(200),
        status: AccountStatus::Suspended,
    });
    s.account.push(AccountPeriod {
        from: day(210),
        status: AccountStatus::Active,
    });
    s.consents = vec![
        Consent {
            id: 1,
            purpose: id("marketing.testimonials"),
            span: span(10, Some(90)),
            notice_version: 1,
        },
        Consent {
            id: 2,
            purpose: id("marketing.advertising.third_party.targeted"),
            span: span(20, Some(40)),
            notice_version: 1,
        },
        Consent {
            id: 3,
            purpose: id("marketing.advertising.third_party.targeted"),
            span: span(300, None),
            notice_version: 1,
        },
        Consent {
            id: 4,
            purpose: id("third_party_sharing.support_expert"),
            span: span(400, Some(401)),
            notice_version: 1,
        },
        Consent {
            id: 5,
            purpose: id("marketing.testimonials"),
            span: span(500, None),
            notice_version: 1,
        },
    ];
    s.objections = vec![
        Objection {
            id: 6,
            purpose: id("marketing.measurement"),
            span: span(50, None),
            overridden: None,
        },
        Objection {
            id: 7,
            purpose: id("essential.service.security"),
            span: span(60, None),
            overridden: Some(Override {
                at: day(61),
                grounds: "active fraud investigation".into(),
            }),
        },
        Objection {
            id: 8,
            purpose: id("functional.service.improve.experiments"),
            span: span(70, Some(100)),
            overridden: None,
        },
    ];
    s.opt_outs = vec![
        OptOut {
            id: 9,
            purpose: id("personalize.content.feed"),
            span: span(80, Some(120)),
        },
        OptOut {
            id: 10,
            purpose: id("essential.service.notifications.onboarding"),
            span: span(90, None),
        },
    ];
    s
}
