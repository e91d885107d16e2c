//! Median gate decision time with the default policy and a subject with a realistic history
//! (see `basis_core::fixtures`). Run: `cargo bench -p basis-core --bench gate`.
//! The Cedar comparison runs the same decisions in `bench/cedar` (its own workspace).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use basis_core::fixtures::{decision_time, realistic_subject};
use basis_core::{Policy, decide};
use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let policy = Policy::default_policy().unwrap();
    let subject = realistic_subject(&policy);
    let at = decision_time();
    let key = |k: &str| policy.purpose_id(k).unwrap();
    let cases = [
        (
            "legitimate_interest_child",
            key("functional.service.improve.mentions"),
        ),
        ("contract_with_opt_outs", key("personalize.content.search")),
        ("consent", key("marketing.testimonials")),
        ("overridden_objection", key("essential.service.security")),
    ];
    let mut g = c.benchmark_group("gate");
    for (name, purpose) in cases {
        g.bench_function(name, |b| {
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
    }
    let all: Vec<_> = policy.purposes().iter().map(|p| p.id).collect();
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
