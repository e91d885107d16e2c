//! The storage conformance suite: every backend runs these tests through the [`Store`] trait
//! alone, so a PostgreSQL implementation proves itself against the same expectations as SQLite.
//! A backend opts in with `store_conformance_suite!(async { /* a fresh, empty store */ });`.

/// Generates the suite for a backend. `$make` is an async block giving a fresh, empty store.
#[macro_export]
#[doc(hidden)]
macro_rules! store_conformance_suite {
    ($make:expr) => {
        mod conformance {
            use super::*;
            use basis_core::Timestamp;
            use basis_core::person::Person;
            use basis_core::subject::AccountStatus;
            use $crate::{
                ActivityCount, EventRewrite, LedgerRow, NewEvent, NewPrivacyRecord, PrivacyKind,
                Store,
            };

            fn ev(id: &str, actor: &str) -> NewEvent {
                NewEvent {
                    id: id.into(),
                    kind: "content.created".into(),
                    at: Timestamp(1),
                    actor: Some(actor.into()),
                    body: format!("{{\"id\":\"{id}\",\"actor\":\"{actor}\"}}"),
                }
            }

            fn person(id: &str, account: AccountStatus) -> Person {
                Person {
                    id: id.into(),
                    name: Some("N".into()),
                    email: Some("n@acme.example".into()),
                    job_title: None,
                    department: None,
                    teams: vec![],
                    country: Some("DE".into()),
                    account,
                    timezone: None,
                    locale: None,
                    identities: [("github".to_owned(), format!("gh-{id}"))].into(),
                }
            }

            #[tokio::test]
            async fn append_is_idempotent_per_tenant_and_groups_keep_their_outcomes() {
                let store = $make.await;
                let first = store
                    .append_events("a", &[ev("1", "u"), ev("2", "u"), ev("1", "u")])
                    .await
                    .unwrap();
                assert_eq!((first.accepted, first.duplicates), (2, 1));
                let again = store
                    .append_events("a", &[ev("1", "u"), ev("2", "u")])
                    .await
                    .unwrap();
                assert_eq!(
                    (again.accepted, again.duplicates, again.seq),
                    (0, 2, first.seq)
                );
                let groups = store
                    .append_event_groups(&[
                        ("b", &[ev("1", "u")][..]),
                        ("a", &[ev("3", "u"), ev("1", "u")][..]),
                    ])
                    .await
                    .unwrap();
                assert_eq!(
                    (groups[0].accepted, groups[1].accepted, groups[1].duplicates),
                    (1, 1, 1)
                );
                assert!(groups[1].seq > groups[0].seq);
                assert_eq!(store.events_after(Some("a"), 0, 10).await.unwrap().len(), 3);
                assert_eq!(store.events_after(None, 0, 10).await.unwrap().len(), 4);
                assert_eq!(store.event_heads_after(0, 10).await.unwrap().len(), 4);
                assert_eq!(store.last_seq().await.unwrap(), groups[1].seq);
            }

            #[tokio::test]
            async fn people_identities_and_account_history() {
                let store = $make.await;
                let created = store
                    .put_person("t", &person("p1", AccountStatus::Active), Timestamp(1))
                    .await
                    .unwrap()
                    .unwrap();
                assert!(created.created);
                let again = store
                    .put_person("t", &person("p1", AccountStatus::Suspended), Timestamp(5))
                    .await
                    .unwrap()
                    .unwrap();
                assert!(!again.created);
                let history: Vec<_> = store
                    .account_history("t", "p1")
                    .await
                    .unwrap()
                    .iter()
                    .map(|a| (a.from.0, a.status))
                    .collect();
                assert_eq!(
                    history,
                    vec![(1, AccountStatus::Active), (5, AccountStatus::Suspended)]
                );
                assert_eq!(
                    store
                        .person_by_identity("t", "github", "gh-p1")
                        .await
                        .unwrap()
                        .as_deref(),
                    Some("p1")
                );
                let mut other = person("p2", AccountStatus::Active);
                other.identities = person("p1", AccountStatus::Active).identities;
                let taken = store
                    .put_person("t", &other, Timestamp(6))
                    .await
                    .unwrap()
                    .unwrap_err();
                assert_eq!(taken.person, "p1");
                assert_eq!(store.person("other-tenant", "p1").await.unwrap(), None);
                store
                    .put_person("a", &person("p0", AccountStatus::Active), Timestamp(1))
                    .await
                    .unwrap()
                    .unwrap();
                let page = |after: (&'static str, &'static str)| {
                    let store = &store;
                    async move {
                        store
                            .people_page(after, 10)
                            .await
                            .unwrap()
                            .into_iter()
                            .map(|(t, p)| (t, p.id))
                            .collect::<Vec<_>>()
                    }
                };
                assert_eq!(
                    page(("", "")).await,
                    vec![("a".into(), "p0".into()), ("t".into(), "p1".into())]
                );
                assert_eq!(page(("a", "p0")).await, vec![("t".into(), "p1".into())]);
            }

            #[tokio::test]
            async fn privacy_ranges_are_closed_not_overwritten() {
                let store = $make.await;
                let rec = |kind, at| NewPrivacyRecord {
                    kind,
                    purpose: "x.y".into(),
                    at: Timestamp(at),
                    notice_version: Some(1),
                    detail: None,
                };
                let first = store
                    .open_privacy_range("t", "p", &rec(PrivacyKind::Consent, 10), true)
                    .await
                    .unwrap();
                let second = store
                    .open_privacy_range("t", "p", &rec(PrivacyKind::Consent, 20), true)
                    .await
                    .unwrap();
                assert!(second.created && second.id != first.id);
                assert_eq!(
                    store
                        .close_privacy_range("t", "p", PrivacyKind::Consent, "x.y", Timestamp(30))
                        .await
                        .unwrap(),
                    Some(second.id)
                );
                assert_eq!(
                    store
                        .close_privacy_range("t", "p", PrivacyKind::Consent, "x.y", Timestamp(31))
                        .await
                        .unwrap(),
                    None
                );
                let objection = store
                    .open_privacy_range("t", "p", &rec(PrivacyKind::Objection, 40), false)
                    .await
                    .unwrap();
                let kept = store
                    .open_privacy_range("t", "p", &rec(PrivacyKind::Objection, 41), false)
                    .await
                    .unwrap();
                assert_eq!(
                    (kept.id, kept.created),
                    (objection.id, false),
                    "an open objection is kept, not replaced"
                );
                assert_eq!(
                    store
                        .override_objection("t", "p", "x.y", Timestamp(42), "grounds")
                        .await
                        .unwrap(),
                    Some(objection.id)
                );
                assert_eq!(
                    store
                        .override_objection("t", "p", "x.y", Timestamp(43), "again")
                        .await
                        .unwrap(),
                    None
                );
                let records = store.privacy_records("t", "p").await.unwrap();
                let spans: Vec<_> = records
                    .iter()
                    .map(|r| (r.kind, r.from.0, r.until.map(|u| u.0)))
                    .collect();
                assert_eq!(
                    spans,
                    vec![
                        (PrivacyKind::Consent, 10, Some(20)),
                        (PrivacyKind::Consent, 20, Some(30)),
                        (PrivacyKind::Objection, 40, None)
                    ]
                );
                assert_eq!(records[2].override_grounds.as_deref(), Some("grounds"));
            }

            #[tokio::test]
            async fn ledger_sums_and_totals() {
                let store = $make.await;
                let row = |subject: &str, allowed, at| LedgerRow {
                    tenant: "t".into(),
                    subject: subject.into(),
                    purpose: "x".into(),
                    basis: "consent".into(),
                    day: 3,
                    allowed,
                    denied: 1,
                    first_at: Timestamp(at),
                    last_at: Timestamp(at),
                };
                store
                    .add_ledger(&[row("a", 2, 10), row("b", 1, 11)])
                    .await
                    .unwrap();
                store.add_ledger(&[row("a", 3, 5)]).await.unwrap();
                let a = store.ledger_for("t", "a").await.unwrap();
                assert_eq!(
                    (a[0].allowed, a[0].denied, a[0].first_at.0, a[0].last_at.0),
                    (5, 2, 5, 10)
                );
                let totals = store.ledger_totals("t").await.unwrap();
                assert_eq!(
                    (totals[0].subjects, totals[0].allowed, totals[0].denied),
                    (2, 6, 3)
                );
            }

            #[tokio::test]
            async fn legal_holds_and_erasure() {
                let store = $make.await;
                store
                    .put_person("t", &person("p1", AccountStatus::Active), Timestamp(1))
                    .await
                    .unwrap()
                    .unwrap();
                let hold = store
                    .create_legal_hold("t", "p1", "case", Timestamp(2))
                    .await
                    .unwrap();
                assert_eq!(
                    store
                        .legal_holds("t", Some("p1"), true)
                        .await
                        .unwrap()
                        .len(),
                    1
                );
                assert!(
                    store
                        .release_legal_hold("t", hold.id, Timestamp(3))
                        .await
                        .unwrap()
                );
                assert!(
                    !store
                        .release_legal_hold("t", hold.id, Timestamp(4))
                        .await
                        .unwrap()
                );
                assert!(
                    store
                        .legal_holds("t", Some("p1"), true)
                        .await
                        .unwrap()
                        .is_empty()
                );
                assert_eq!(store.legal_holds("t", None, false).await.unwrap().len(), 1);

                let out = store.append_events("t", &[ev("e1", "p1")]).await.unwrap();
                store
                    .save_activity(
                        "activity",
                        out.seq,
                        &[ActivityCount {
                            tenant: "t".into(),
                            person: "p1".into(),
                            kind: "k".into(),
                            count: 1,
                            last_at: Timestamp(1),
                        }],
                    )
                    .await
                    .unwrap();
                let rewrite = EventRewrite {
                    seq: out.seq,
                    actor: Some("<erased>".into()),
                    body: "{\"id\":\"e1\",\"actor\":\"<erased>\"}".into(),
                };
                store
                    .erase_person("t", "p1", &[rewrite], Some("hash"), Timestamp(5))
                    .await
                    .unwrap();
                assert_eq!(store.person("t", "p1").await.unwrap(), None);
                assert_eq!(
                    store
                        .person_by_identity("t", "github", "gh-p1")
                        .await
                        .unwrap(),
                    None
                );
                assert!(store.account_history("t", "p1").await.unwrap().is_empty());
                assert!(store.activity("t", "p1").await.unwrap().is_empty());
                assert!(store.events_containing("t", "p1").await.unwrap().is_empty());
                assert!(store.is_suppressed("t", "hash").await.unwrap());
                assert!(!store.is_suppressed("other", "hash").await.unwrap());
            }

            #[tokio::test]
            async fn activity_snapshots_with_their_cursor() {
                let store = $make.await;
                assert_eq!(store.cursor("activity").await.unwrap(), 0);
                let c = |count| ActivityCount {
                    tenant: "t".into(),
                    person: "p".into(),
                    kind: "k".into(),
                    count,
                    last_at: Timestamp(count),
                };
                store.save_activity("activity", 7, &[c(2)]).await.unwrap();
                store.save_activity("activity", 9, &[c(5)]).await.unwrap();
                assert_eq!(store.cursor("activity").await.unwrap(), 9);
                assert_eq!(
                    store.load_activity().await.unwrap(),
                    vec![c(5)],
                    "snapshots replace, they do not add"
                );
                store.purge_activity("t", "p").await.unwrap();
                assert!(store.activity("t", "p").await.unwrap().is_empty());
                store.save_activity("activity", 10, &[c(1)]).await.unwrap();
                store.reset_activity("activity").await.unwrap();
                assert_eq!(store.cursor("activity").await.unwrap(), 0);
                assert!(store.load_activity().await.unwrap().is_empty());
            }

            #[tokio::test]
            async fn merging_a_subject_sums_its_ledger_and_activity() {
                let store = $make.await;
                let row = |subject: &str, allowed| LedgerRow {
                    tenant: "t".into(),
                    subject: subject.into(),
                    purpose: "x".into(),
                    basis: "legitimate_interest".into(),
                    day: 1,
                    allowed,
                    denied: 0,
                    first_at: Timestamp(1),
                    last_at: Timestamp(2),
                };
                store
                    .add_ledger(&[row("slack:U1", 2), row("p", 3)])
                    .await
                    .unwrap();
                let c = |person: &str, count| ActivityCount {
                    tenant: "t".into(),
                    person: person.into(),
                    kind: "k".into(),
                    count,
                    last_at: Timestamp(count),
                };
                store
                    .save_activity("activity", 1, &[c("slack:U1", 4), c("p", 1)])
                    .await
                    .unwrap();
                store.merge_subject("t", "slack:U1", "p").await.unwrap();
                assert_eq!(store.ledger_for("t", "p").await.unwrap()[0].allowed, 5);
                assert!(store.ledger_for("t", "slack:U1").await.unwrap().is_empty());
                assert_eq!(store.activity("t", "p").await.unwrap()[0].count, 5);
                assert!(store.activity("t", "slack:U1").await.unwrap().is_empty());
                let out = store
                    .append_events("t", &[ev("e1", "slack:U1")])
                    .await
                    .unwrap();
                store
                    .rewrite_events(
                        "t",
                        &[EventRewrite {
                            seq: out.seq,
                            actor: Some("p".into()),
                            body: "{\"id\":\"e1\",\"actor\":\"p\"}".into(),
                        }],
                    )
                    .await
                    .unwrap();
                assert!(
                    store
                        .events_containing("t", "slack:U1")
                        .await
                        .unwrap()
                        .is_empty()
                );
            }

            /// Every write that changes what projections derive about people moves the
            /// generation, and the handle that wrote it counts the move as its own; appends,
            /// privacy ranges and a refused write do not move it (the gate is asked again on
            /// reads).
            #[tokio::test]
            async fn people_writes_move_the_generation() {
                let store = $make.await;
                let g = |store| async move {
                    let g = Store::generation(store).await.unwrap();
                    (g.value, g.own)
                };
                let (base, _) = g(&store).await;
                store
                    .put_person("t", &person("p", AccountStatus::Active), Timestamp(1))
                    .await
                    .unwrap()
                    .unwrap();
                let (after_profile, own) = g(&store).await;
                assert!(after_profile > base, "a profile");
                assert_eq!(after_profile - base, own, "all of it this handle's");
                let mut thief = person("q", AccountStatus::Active);
                thief.identities = [("github".to_owned(), "gh-p".to_owned())].into();
                assert!(
                    store
                        .put_person("t", &thief, Timestamp(2))
                        .await
                        .unwrap()
                        .is_err()
                );
                store.append_events("t", &[ev("1", "p")]).await.unwrap();
                let record = NewPrivacyRecord {
                    kind: PrivacyKind::Objection,
                    purpose: "x".into(),
                    at: Timestamp(3),
                    notice_version: None,
                    detail: None,
                };
                store
                    .open_privacy_range("t", "p", &record, true)
                    .await
                    .unwrap();
                assert_eq!(
                    g(&store).await,
                    (after_profile, own),
                    "a refused write, appends and privacy ranges do not"
                );
                let seq = store.last_seq().await.unwrap();
                let rewrite = EventRewrite {
                    seq,
                    actor: Some("p2".into()),
                    body: "{}".into(),
                };
                store.rewrite_events("t", &[rewrite]).await.unwrap();
                let (after_rewrite, own) = g(&store).await;
                assert!(after_rewrite > after_profile, "an event rewritten");
                store
                    .erase_person("t", "p", &[], None, Timestamp(4))
                    .await
                    .unwrap();
                let (after_erasure, own_now) = g(&store).await;
                assert!(after_erasure > after_rewrite, "an erasure");
                assert_eq!(after_erasure - base, own_now, "all of it this handle's");
                assert!(own_now > own);
            }

            #[tokio::test]
            async fn api_keys_and_audit() {
                let store = $make.await;
                assert!(store.create_tenant("t", Timestamp(1)).await.unwrap());
                assert!(!store.create_tenant("t", Timestamp(1)).await.unwrap());
                let key = $crate::ApiKeyRecord {
                    tenant: "t".into(),
                    role: $crate::Role::Service,
                    name: "k".into(),
                };
                store.insert_api_key("h", &key, Timestamp(1)).await.unwrap();
                assert_eq!(store.api_key("h").await.unwrap(), Some(key));
                assert_eq!(store.count_api_keys().await.unwrap(), 1);
                assert_eq!(store.init_setting("k", "first").await.unwrap(), "first");
                assert_eq!(store.hook("t", "github").await.unwrap(), None);
                store.set_hook("t", "github", "s1", None).await.unwrap();
                store
                    .set_hook("t", "github", "s2", Some("https://x.example/h"))
                    .await
                    .unwrap();
                let hook = store.hook("t", "github").await.unwrap().unwrap();
                assert_eq!(
                    (hook.secret.as_str(), hook.callback_url.as_deref()),
                    ("s2", Some("https://x.example/h"))
                );
                assert!(
                    !format!("{hook:?}").contains("s2"),
                    "secrets stay out of debug output"
                );
                assert_eq!(store.hook("other", "github").await.unwrap(), None);
                assert_eq!(
                    store.init_setting("k", "second").await.unwrap(),
                    "first",
                    "a setting is kept"
                );
                for action in ["a", "b"] {
                    store
                        .append_audit(&$crate::AuditEntry {
                            seq: 0,
                            tenant: "t".into(),
                            at: Timestamp(1),
                            actor: "k".into(),
                            subject: Some("p".into()),
                            action: action.into(),
                            purpose: None,
                            detail: serde_json::json!({}),
                        })
                        .await
                        .unwrap();
                }
                let audit: Vec<String> = store
                    .audit("t", Some("p"), 10)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|a| a.action)
                    .collect();
                assert_eq!(audit, vec!["b".to_owned(), "a".to_owned()], "newest first");
            }
        }
    };
}
