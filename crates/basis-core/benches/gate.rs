//! Median gate decision time with the default policy and a subject with a realistic history:
//! a few years of account, consents given and withdrawn, objections (one overridden) and
//! opt-outs. Run: `cargo bench -p basis-core --bench gate`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use basis_core::subject::{
    AccountPeriod, AccountStatus, Consent, Objection, OptOut, Override, Span,
};
use basis_core::{Policy, SubjectState, Timestamp, decide};
use criterion::{Criterion, criterion_group, criterion_main};

fn day(d: i64) -> Timestamp {
    Timestamp(1_700_000_000_000).plus_days(d)
}

/// A subject with the history an active EEA user gathers over a few years.
pub fn realistic_subject(policy: &Policy) -> SubjectState {
    let id = |k: &str| policy.purpose_id(k).unwrap();
    let span = |from, until| Span {
        from: day(from),
        until,
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
            span: span(10, Some(day(90))),
            notice_version: 1,
        },
        Consent {
            id: 2,
            purpose: id("marketing.advertising.third_party.targeted"),
            span: span(20, Some(day(40))),
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
            span: span(400, Some(day(401))),
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
            span: span(70, Some(day(100))),
            overridden: None,
        },
    ];
    s.opt_outs = vec![
        OptOut {
            id: 9,
            purpose: id("personalize.content.feed"),
            span: span(80, Some(day(120))),
        },
        OptOut {
            id: 10,
            purpose: id("essential.service.notifications.onboarding"),
            span: span(90, None),
        },
    ];
    s
}

fn bench(c: &mut Criterion) {
    let policy = Policy::default_policy().unwrap();
    let subject = realistic_subject(&policy);
    let at = day(600);
    let mentions = policy
        .purpose_id("functional.service.improve.mentions")
        .unwrap();
    let search = policy.purpose_id("personalize.content.search").unwrap();
    let testimonials = policy.purpose_id("marketing.testimonials").unwrap();
    let all: Vec<_> = policy.purposes().iter().map(|p| p.id).collect();

    let mut g = c.benchmark_group("gate");
    g.bench_function("legitimate_interest_child", |b| {
        b.iter(|| {
            decide(
                black_box(&policy),
                black_box(&subject),
                black_box(mentions),
                black_box(at),
            )
            .allowed
        })
    });
    g.bench_function("contract_with_opt_outs", |b| {
        b.iter(|| {
            decide(
                black_box(&policy),
                black_box(&subject),
                black_box(search),
                black_box(at),
            )
            .allowed
        })
    });
    g.bench_function("consent", |b| {
        b.iter(|| {
            decide(
                black_box(&policy),
                black_box(&subject),
                black_box(testimonials),
                black_box(at),
            )
            .allowed
        })
    });
    g.bench_function("every_purpose_mean", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % all.len();
            decide(
                black_box(&policy),
                black_box(&subject),
                all[i],
                black_box(at),
            )
            .allowed
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
