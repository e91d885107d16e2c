//! The same decisions by the Basis gate and by Cedar, in one run.
//!
//! - `basis`: `decide(policy, subject, purpose, at)`.
//! - `cedar_prebuilt`: `is_authorized` with the person's entities and the request built in
//!   advance (Cedar's best case).
//! - `cedar_per_request`: flattening the subject's state at `at` into entities, building the
//!   request and deciding — what a Cedar-based gate pays per person per request.

#![allow(missing_docs)]

use std::hint::black_box;

use basis_cedar_bench::{CedarGate, person_entity, person_uid};
use basis_core::fixtures::{decision_time, realistic_subject};
use basis_core::{Policy, decide};
use cedar_policy::{Authorizer, Decision};
use criterion::{Criterion, criterion_group, criterion_main};

const PURPOSE: &str = "functional.service.improve.mentions";

fn bench(c: &mut Criterion) {
    let policy = Policy::default_policy().unwrap();
    let subject = realistic_subject(&policy);
    let at = decision_time();
    let cedar = CedarGate::new(&policy);
    let authorizer = Authorizer::new();
    let uid = person_uid("u-1");
    let entities = cedar.entities(person_entity(&policy, "u-1", &subject, at));

    // The two gates must agree on every purpose before their speed means anything.
    for p in policy.purposes() {
        let ours = decide(&policy, &subject, p.id, at).allowed;
        let theirs = authorizer
            .is_authorized(&cedar.request(&uid, &p.key), &cedar.policies, &entities)
            .decision()
            == Decision::Allow;
        assert_eq!(ours, theirs, "gates disagree on {}", p.key);
    }

    let purpose = policy.purpose_id(PURPOSE).unwrap();
    let request = cedar.request(&uid, PURPOSE);
    let mut g = c.benchmark_group("gate_vs_cedar");
    g.bench_function("basis", |b| {
        b.iter(|| {
            decide(
                black_box(&policy),
                black_box(&subject),
                black_box(purpose),
                black_box(at),
            )
            .allowed
        })
    });
    g.bench_function("cedar_prebuilt", |b| {
        b.iter(|| {
            authorizer
                .is_authorized(
                    black_box(&request),
                    black_box(&cedar.policies),
                    black_box(&entities),
                )
                .decision()
        })
    });
    g.bench_function("cedar_per_request", |b| {
        b.iter(|| {
            let entities = cedar.entities(person_entity(&policy, "u-1", black_box(&subject), at));
            let request = cedar.request(&uid, PURPOSE);
            authorizer
                .is_authorized(&request, &cedar.policies, &entities)
                .decision()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
