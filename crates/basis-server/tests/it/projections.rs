//! The projection runtime: snapshots with their cursor, restart without double counting,
//! rebuild from the log.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;

use basis_core::clock::ManualClock;
use basis_engine::projections::Outcome;
use basis_server::{ServerConfig, open_engine};
use serde_json::json;

use crate::helpers::{T0, at};

fn config(dir: &std::path::Path) -> ServerConfig {
    ServerConfig {
        data_dir: dir.to_path_buf(),
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..ServerConfig::default()
    }
}

fn batch(from: usize, to: usize) -> Vec<basis_store::NewEvent> {
    let body: Vec<_> = (from..to)
        .map(|i| json!({ "id": format!("e{i}"), "type": if i % 2 == 0 { "content.viewed" } else { "comment.created" }, "at": "2026-10-30T10:00:00Z", "actor": format!("u-{}", i % 3) }))
        .collect();
    basis_engine::ingest::parse_batch(&serde_json::to_string(&body).unwrap(), false).unwrap()
}

/// The engine over the store in `dir`, its clock at [`T0`].
async fn open(dir: &std::path::Path) -> (basis_engine::Engine, basis_store::SqliteStore) {
    open_engine(&config(dir).serving(), Arc::new(ManualClock::new(at(T0))))
        .await
        .unwrap()
}

async fn drain(engine: &basis_engine::Engine) -> i64 {
    let worker = engine.projection_worker();
    let mut seq = 0;
    while let Outcome::Applied { seq: s, .. } = worker.try_execute_next().await.unwrap() {
        seq = s;
    }
    seq
}

fn total(engine: &basis_engine::Engine, person: &str) -> i64 {
    engine
        .activity_held("acme", person)
        .iter()
        .map(|a| a.count)
        .sum()
}

#[tokio::test]
async fn a_restart_resumes_from_the_snapshot_and_counts_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, store) = open(dir.path()).await;
    engine.ingest("acme", batch(0, 30)).await.unwrap();
    assert_eq!(drain(&engine).await, 30);
    engine.projection_worker().snapshot().await.unwrap();
    // Applied in memory but not yet snapshotted when the process stops.
    engine.ingest("acme", batch(30, 60)).await.unwrap();
    drain(&engine).await;
    assert_eq!(total(&engine, "u-0"), 20);
    drop(engine);
    store.close().await;

    let (engine, store) = open(dir.path()).await;
    assert_eq!(
        total(&engine, "u-0"),
        10,
        "the snapshot holds the first 30 events"
    );
    assert_eq!(
        engine.activity_watermark(),
        30,
        "and the cursor it was taken at"
    );
    assert_eq!(
        drain(&engine).await,
        60,
        "the rest is replayed from the log"
    );
    assert_eq!(total(&engine, "u-0"), 20);
    assert_eq!(
        engine.projection_worker().try_execute_next().await.unwrap(),
        Outcome::Idle
    );

    // A rebuild from the log gives the same view.
    let before = engine.activity_held("acme", "u-1");
    engine.rebuild_activity().await.unwrap();
    assert_eq!(engine.activity_held("acme", "u-1"), before);
    store.close().await;
}

/// Regression guard for group commit: concurrent batches share transactions but each gets its
/// own outcome, and nothing is stored twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_batches_each_get_their_own_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, store) = open(dir.path()).await;
    let mut tasks = tokio::task::JoinSet::new();
    // Sixteen batches of 100; batch k overlaps batch k-1 by half.
    for k in 0..16usize {
        let engine = engine.clone();
        tasks.spawn(async move {
            (
                k,
                engine
                    .ingest("acme", batch(k * 50, k * 50 + 100))
                    .await
                    .unwrap(),
            )
        });
    }
    let mut accepted = 0;
    while let Some(done) = tasks.join_next().await {
        let (_, outcome) = done.unwrap();
        assert_eq!(outcome.accepted + outcome.duplicates, 100);
        assert!(outcome.seq >= i64::try_from(outcome.accepted).unwrap());
        accepted += outcome.accepted;
    }
    assert_eq!(accepted, 15 * 50 + 100, "every distinct id once");
    let stored = engine.events("acme", 0, 10_000).await.unwrap();
    assert_eq!(stored.len(), 850);
    store.close().await;
}

/// Regression guard: a writer whose own batch is not in the first group it takes keeps writing
/// groups until its batch is answered (one commit holds at most 20,000 events).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_beyond_one_commit_are_all_written() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, store) = open(dir.path()).await;
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0..6usize {
        let engine = engine.clone();
        tasks.spawn(async move {
            engine
                .ingest("acme", batch(k * 9_000, (k + 1) * 9_000))
                .await
                .unwrap()
        });
    }
    let mut accepted = 0;
    while let Some(done) = tasks.join_next().await {
        accepted += done.unwrap().accepted;
    }
    assert_eq!(accepted, 54_000);
    store.close().await;
}

/// Readiness: a restarted process replays the log into its in-memory graph before it should take
/// traffic; `/readyz` says 503 with where the projections stand until both have applied the log
/// as it stood at start-up, then 200 — and stays 200 under ordinary lag afterwards.
#[tokio::test]
async fn readiness_waits_for_the_start_up_replay_then_stays_ready() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, store) = open(dir.path()).await;
    engine.ingest("acme", batch(0, 30)).await.unwrap();
    drop(engine);
    store.close().await;

    // Reopened and served without the background workers, so the replay is stepped by hand.
    let (engine, store) = open(dir.path()).await;
    let state = basis_server::AppState {
        engine: engine.clone(),
        config: Arc::new(config(dir.path())),
        metrics: basis_server::metrics_handle(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(axum::serve(listener, basis_server::Application::router(state)).into_future());
    let client = reqwest::Client::new();
    let get = |path: &'static str| {
        let request = client.get(format!("{url}{path}"));
        async move {
            let reply = request.send().await.unwrap();
            let status = reply.status();
            let retry = reply.headers().get("retry-after").cloned();
            (
                status,
                retry,
                reply.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };

    let (status, retry, body) = get("/readyz").await;
    assert_eq!(status, reqwest::StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(retry.unwrap(), "1");
    assert_eq!(body["status"], "starting");
    assert_eq!(body["seq_at_start"], 30);
    assert_eq!(body["graph_seq"], 0);

    // The activity view alone is not enough: the graph must have replayed too.
    drain(&engine).await;
    assert_eq!(
        get("/readyz").await.0,
        reqwest::StatusCode::SERVICE_UNAVAILABLE
    );
    let graph = engine.graph_worker();
    while let Outcome::Applied { .. } = graph.try_execute_next().await.unwrap() {}

    let (status, _, body) = get("/readyz").await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert_eq!(body["status"], "ready");
    assert_eq!(body["graph_seq"], 30);

    // New events the projections have not applied yet: still ready, and liveness shows each
    // one's position.
    engine.ingest("acme", batch(30, 40)).await.unwrap();
    assert_eq!(get("/readyz").await.0, reqwest::StatusCode::OK);
    let (_, _, health) = get("/healthz").await;
    assert_eq!(health["seq"], 40);
    assert_eq!(health["graph_seq"], 30);
    store.close().await;
}

/// The graph reads the next batch while it applies the last: a step applies up to four batches,
/// and every event once — none skipped at a batch edge, none applied twice.
#[tokio::test]
async fn the_graph_reads_ahead_without_skipping_or_repeating_an_event() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, store) = open(dir.path()).await;
    let batch = basis_engine::projections::BATCH as usize;
    let n = 4 * batch + 1;
    // Each event mentions someone new: a skipped event leaves a tie out, a repeated one
    // counts a mention twice.
    let body: Vec<_> = (0..n)
        .map(|i| json!({ "id": format!("m{i}"), "type": "comment.created", "at": "2026-10-30T10:00:00Z", "actor": "u-a", "mentions": [format!("u-{i}")] }))
        .collect();
    for chunk in body.chunks(5_000) {
        let events =
            basis_engine::ingest::parse_batch(&serde_json::to_string(chunk).unwrap(), false)
                .unwrap();
        engine.ingest("acme", events).await.unwrap();
    }
    let worker = engine.graph_worker();
    let seq = |k: usize| i64::try_from(k).unwrap();
    assert_eq!(
        worker.try_execute_next().await.unwrap(),
        Outcome::Applied {
            events: 4 * batch,
            seq: seq(4 * batch)
        },
        "four batches in one step, no more"
    );
    assert_eq!(
        worker.try_execute_next().await.unwrap(),
        Outcome::Applied {
            events: 1,
            seq: seq(n)
        },
        "the rest in the next"
    );
    engine.read_graph(|g| {
        let g = g.tenant("acme").unwrap();
        let ties = g.affinity.ties(g.index("u-a").unwrap());
        assert_eq!(ties.len(), n, "every event applied");
        assert!(
            ties.iter().all(|t| t.recent_mentions(at(T0)).out == 1),
            "none applied twice"
        );
    });
    assert_eq!(worker.try_execute_next().await.unwrap(), Outcome::Idle);
    store.close().await;
}

/// One server per data directory: a second is refused with a clear error (both would run the
/// projections and snapshot over each other), and the directory is free again once the first
/// is gone.
#[tokio::test]
async fn a_second_server_on_the_same_data_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first = basis_server::Application::build(config(dir.path()))
        .await
        .unwrap();
    let Err(error) = basis_server::Application::build(config(dir.path())).await else {
        panic!("a second server started on the same data directory");
    };
    assert!(
        error
            .to_string()
            .contains("in use by another `basis serve`"),
        "{error}"
    );
    drop(first);
    basis_server::Application::build(config(dir.path()))
        .await
        .unwrap();
}

fn mentions(from: usize, to: usize, who: &str) -> Vec<basis_store::NewEvent> {
    let body: Vec<_> = (from..to)
        .map(|i| json!({ "id": format!("mn{i}"), "type": "comment.created", "at": "2026-10-30T10:00:00Z", "actor": "u-ann", "mentions": [who] }))
        .collect();
    basis_engine::ingest::parse_batch(&serde_json::to_string(&body).unwrap(), false).unwrap()
}

fn bob() -> basis_core::person::PersonInput {
    basis_core::person::PersonInput {
        name: Some("Bob Brown".into()),
        ..basis_core::person::PersonInput::default()
    }
}

fn mentioned(engine: &basis_engine::Engine, who: &str) -> Option<u32> {
    engine.read_graph(|g| {
        let g = g.tenant("acme")?;
        let tie = g.affinity.tie(g.index("u-ann")?, g.index(who)?)?;
        Some(tie.recent_mentions(at(T0)).out)
    })
}

/// Stops cleanly with the graph at seq 3 and adds one event to the log while stopped. Bob is
/// registered by this process while it runs (its own people write).
async fn stopped_with_a_snapshot(dir: &std::path::Path) {
    let (engine, store) = open(dir).await;
    engine
        .ingest("acme", mentions(0, 3, "u-bob"))
        .await
        .unwrap();
    engine.put_person("acme", "u-bob", bob()).await.unwrap();
    let worker = engine.graph_worker();
    while let Outcome::Applied { .. } = worker.try_execute_next().await.unwrap() {}
    assert!(engine.save_graph().await.unwrap().unwrap() > 0);
    drop(engine);
    store.close().await;
    // While stopped, the log grows (as `basis import` writes it).
    let store = basis_store::SqliteStore::open(dir).await.unwrap();
    basis_store::Store::append_events(&store, "acme", &mentions(3, 4, "u-cat"))
        .await
        .unwrap();
    store.close().await;
}

/// A clean stop writes the graph; the next start takes it (deleting the file before anything
/// else) and replays only the log after it — to the same graph a full replay gives.
#[tokio::test]
async fn a_restart_takes_the_graph_from_its_snapshot_and_replays_only_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    stopped_with_a_snapshot(dir.path()).await;
    let (engine, store) = open(dir.path()).await;
    assert!(
        !dir.path().join(basis_engine::GRAPH_SNAPSHOT).exists(),
        "taken: gone once read"
    );
    assert_eq!(engine.readiness().graph_seq, 3, "starts where it stopped");
    assert_eq!(mentioned(&engine, "u-bob"), Some(3));
    assert_eq!(
        engine.graph_worker().try_execute_next().await.unwrap(),
        Outcome::Applied { events: 1, seq: 4 },
        "only what came after"
    );
    assert_eq!(mentioned(&engine, "u-cat"), Some(1));
    drop(engine);
    store.close().await;

    // A snapshot that cannot be read is dropped and the whole log replayed.
    std::fs::write(
        dir.path().join(basis_engine::GRAPH_SNAPSHOT),
        b"{\"format\":1,",
    )
    .unwrap();
    let (engine, store) = open(dir.path()).await;
    assert!(!dir.path().join(basis_engine::GRAPH_SNAPSHOT).exists());
    assert_eq!(engine.readiness().graph_seq, 0);
    assert_eq!(
        engine.graph_worker().try_execute_next().await.unwrap(),
        Outcome::Applied { events: 4, seq: 4 }
    );
    assert_eq!(mentioned(&engine, "u-bob"), Some(3));
    store.close().await;
}

/// A snapshot is put to the gate again when taken: under a policy changed while the process
/// was stopped — the purposes that use ties now need consent nobody gave — it brings no ties
/// back, as a replay would not.
#[tokio::test]
async fn a_snapshot_taken_under_a_changed_policy_is_gated_again() {
    let dir = tempfile::tempdir().unwrap();
    stopped_with_a_snapshot(dir.path()).await;
    let mut policy = basis_core::policy::DEFAULT_POLICY_TOML.to_owned();
    for key in [
        "functional.service.improve.mentions",
        "personalize.content.connections",
        "personalize.content.recommendations",
    ] {
        let line = format!("key = \"{key}\"\n");
        assert!(policy.contains(&line), "{key}");
        policy = policy.replace(
            &line,
            &format!("{line}basis = {{ default = \"consent\" }}\n"),
        );
    }
    let file = dir.path().join("policy.toml");
    std::fs::write(&file, policy).unwrap();
    let config = ServerConfig {
        policy_path: Some(file),
        ..config(dir.path())
    }
    .serving();
    let (engine, store) = open_engine(&config, Arc::new(ManualClock::new(at(T0))))
        .await
        .unwrap();
    assert_eq!(engine.readiness().graph_seq, 3, "the snapshot was taken");
    assert_eq!(
        mentioned(&engine, "u-bob"),
        None,
        "but its ties were refused"
    );
    store.close().await;
}

/// A snapshot swept to a shorter horizon than the policy now keeps is not used: a replay brings
/// back what it dropped.
#[tokio::test]
async fn a_snapshot_swept_to_another_horizon_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    stopped_with_a_snapshot(dir.path()).await;
    let line = "key = \"functional.service.improve.mentions\"\n";
    let policy = basis_core::policy::DEFAULT_POLICY_TOML.to_owned();
    assert!(policy.contains(line));
    let file = dir.path().join("policy.toml");
    std::fs::write(
        &file,
        policy.replace(line, &format!("{line}retention_days = 730\n")),
    )
    .unwrap();
    let config = ServerConfig {
        policy_path: Some(file),
        ..config(dir.path())
    }
    .serving();
    let (engine, store) = open_engine(&config, Arc::new(ManualClock::new(at(T0))))
        .await
        .unwrap();
    assert_eq!(engine.readiness().graph_seq, 0, "the whole log is replayed");
    store.close().await;
}

/// A snapshot from another log (another store, a restored backup) is not used: the event at
/// its position is not the one it names.
#[tokio::test]
async fn a_snapshot_of_another_log_is_not_used() {
    let first = tempfile::tempdir().unwrap();
    stopped_with_a_snapshot(first.path()).await;
    let other = tempfile::tempdir().unwrap();
    let store = basis_store::SqliteStore::open(other.path()).await.unwrap();
    basis_store::Store::append_events(&store, "acme", &mentions(10, 14, "u-dan"))
        .await
        .unwrap();
    store.close().await;
    std::fs::copy(
        first.path().join(basis_engine::GRAPH_SNAPSHOT),
        other.path().join(basis_engine::GRAPH_SNAPSHOT),
    )
    .unwrap();
    let (engine, store) = open(other.path()).await;
    assert!(!other.path().join(basis_engine::GRAPH_SNAPSHOT).exists());
    assert_eq!(engine.readiness().graph_seq, 0, "replays its own log");
    assert_eq!(mentioned(&engine, "u-bob"), None);
    store.close().await;
}

/// The snapshot holds personal data: only the service's user may read it, and a half-written
/// one (a stop interrupted) is removed at the next start.
#[cfg(unix)]
#[tokio::test]
async fn the_snapshot_is_private_and_a_half_written_one_is_removed() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    stopped_with_a_snapshot(dir.path()).await;
    let file = dir.path().join(basis_engine::GRAPH_SNAPSHOT);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "{mode:o}");
    let half = dir.path().join("graph.snapshot.tmp");
    std::fs::write(&half, b"{\"format\":1,\"graph\":").unwrap();
    let (_engine, store) = open(dir.path()).await;
    assert!(!half.exists());
    store.close().await;
}

fn name_in_graph(engine: &basis_engine::Engine, who: &str) -> Option<String> {
    engine.read_graph(|g| {
        let g = g.tenant("acme")?;
        g.profile(g.index(who)?)?.name.as_deref().map(str::to_owned)
    })
}

/// Another process on the same store renames Bob while the server is stopped (`basis demo`, or
/// a second server on a shared store): the people generation moves, so the next start does not
/// take the snapshot that still holds his old profile — it replays the log with the directory
/// as the store has it. A command that opens the engine for a moment leaves the file alone.
#[tokio::test]
async fn a_snapshot_is_not_used_once_another_process_changed_people() {
    let dir = tempfile::tempdir().unwrap();
    stopped_with_a_snapshot(dir.path()).await;
    let file = dir.path().join(basis_engine::GRAPH_SNAPSHOT);
    let (other, store) = open_engine(&config(dir.path()), Arc::new(ManualClock::new(at(T0))))
        .await
        .unwrap();
    assert!(
        file.exists(),
        "a command does not take the server's snapshot"
    );
    let mut renamed = bob();
    renamed.name = Some("Robert Brown".into());
    other.put_person("acme", "u-bob", renamed).await.unwrap();
    drop(other);
    store.close().await;

    let (engine, store) = open(dir.path()).await;
    assert!(!file.exists());
    assert_eq!(engine.readiness().graph_seq, 0, "replays the whole log");
    assert_eq!(
        name_in_graph(&engine, "u-bob").as_deref(),
        Some("Robert Brown")
    );
    let worker = engine.graph_worker();
    while let Outcome::Applied { .. } = worker.try_execute_next().await.unwrap() {}
    assert_eq!(mentioned(&engine, "u-bob"), Some(3));
    store.close().await;
}

/// An erasure by any process on the data directory discards a snapshot left there, and a
/// half-written one: no copy of the person stays at rest until the next server start.
#[tokio::test]
async fn an_erasure_discards_a_snapshot_left_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    stopped_with_a_snapshot(dir.path()).await;
    let file = dir.path().join(basis_engine::GRAPH_SNAPSHOT);
    let half = dir.path().join("graph.snapshot.tmp");
    std::fs::copy(&file, &half).unwrap();
    let (other, store) = open_engine(&config(dir.path()), Arc::new(ManualClock::new(at(T0))))
        .await
        .unwrap();
    let actor = basis_engine::Actor {
        tenant: "acme",
        name: "cli",
    };
    other.erase_person(&actor, "u-bob").await.unwrap();
    assert!(!file.exists() && !half.exists());
    drop(other);
    store.close().await;
}

/// A people write committed through the server's own store handle that its graph never applied
/// (a write stopped between the two by an error or a dropped request) stops the snapshot, as a
/// write by another process does.
#[tokio::test]
async fn no_snapshot_is_written_when_a_people_write_stopped_before_the_graph() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, store) = open(dir.path()).await;
    engine.put_person("acme", "u-bob", bob()).await.unwrap();
    let mut renamed = basis_store::Store::person(&store, "acme", "u-bob")
        .await
        .unwrap()
        .unwrap();
    renamed.name = Some("Robert Brown".into());
    basis_store::Store::put_person(engine.store(), "acme", &renamed, at(T0))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(engine.save_graph().await.unwrap(), None);
    assert!(!dir.path().join(basis_engine::GRAPH_SNAPSHOT).exists());
    store.close().await;
}

/// A server that sees another writer change people while it runs writes no snapshot: its graph
/// never applied that write. Its own people writes do not stop it.
#[tokio::test]
async fn no_snapshot_is_written_when_people_changed_behind_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, store) = open(dir.path()).await;
    engine
        .ingest("acme", mentions(0, 2, "u-bob"))
        .await
        .unwrap();
    engine
        .ingest("acme", mentions(2, 3, "slack:U9"))
        .await
        .unwrap();
    let worker = engine.graph_worker();
    while let Outcome::Applied { .. } = worker.try_execute_next().await.unwrap() {}
    // Its own people writes of every kind: a profile, a claimed identity (the stub's events
    // rewritten and merged), an erasure.
    engine.put_person("acme", "u-bob", bob()).await.unwrap();
    let cy = basis_core::person::PersonInput {
        name: Some("Cy Clark".into()),
        identities: [("slack".to_owned(), "U9".to_owned())].into(),
        ..basis_core::person::PersonInput::default()
    };
    engine.put_person("acme", "u-cy", cy).await.unwrap();
    assert_eq!(mentioned(&engine, "u-cy"), Some(1), "the stub was merged");
    engine.put_person("acme", "u-dan", bob()).await.unwrap();
    let actor = basis_engine::Actor {
        tenant: "acme",
        name: "cli",
    };
    engine.erase_person(&actor, "u-dan").await.unwrap();
    assert!(
        engine.save_graph().await.unwrap().is_some(),
        "its own writes are in its graph"
    );
    // Taken again, as the next start would, to leave the directory as a running server has it.
    drop(engine);
    store.close().await;
    let (engine, store) = open(dir.path()).await;
    let other = basis_store::SqliteStore::open(dir.path()).await.unwrap();
    let mut renamed = basis_store::Store::person(&other, "acme", "u-bob")
        .await
        .unwrap()
        .unwrap();
    renamed.name = Some("Robert Brown".into());
    basis_store::Store::put_person(&other, "acme", &renamed, at(T0))
        .await
        .unwrap()
        .unwrap();
    other.close().await;
    assert_eq!(engine.save_graph().await.unwrap(), None);
    assert!(!dir.path().join(basis_engine::GRAPH_SNAPSHOT).exists());
    store.close().await;
}

/// A snapshot whose indices do not hold together (a damaged or edited file that still parses)
/// is refused, and the log replayed, instead of being read out of bounds later.
#[tokio::test]
async fn a_snapshot_with_broken_indices_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    stopped_with_a_snapshot(dir.path()).await;
    let file = dir.path().join(basis_engine::GRAPH_SNAPSHOT);
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let ties = &mut doc["graph"]["tenants"]["acme"]["affinity"]["ties"];
    let list = ties
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|l| !l.as_array().unwrap().is_empty())
        .unwrap();
    list[0]["to"] = json!(4_000_000);
    std::fs::write(&file, serde_json::to_vec(&doc).unwrap()).unwrap();
    let (engine, store) = open(dir.path()).await;
    assert_eq!(engine.readiness().graph_seq, 0, "replays the log");
    store.close().await;
}

/// A registered person whose id looks like a source identity (`slack:U1`) is not a stub: when
/// they list that identity themselves, or when someone else claims it, nothing of theirs moves —
/// their counts and their place in the graph stay.
#[tokio::test]
async fn a_registered_person_with_an_identity_shaped_id_is_not_merged() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, store) = open(dir.path()).await;
    let body = json!([
        { "id": "s1", "type": "comment.created", "at": "2026-10-30T10:00:00Z", "actor": "slack:U1", "mentions": ["u-ann"] },
        { "id": "s2", "type": "comment.created", "at": "2026-10-30T11:00:00Z", "actor": "slack:U1", "mentions": ["u-ann"] }
    ]);
    let events = basis_engine::ingest::parse_batch(&body.to_string(), false).unwrap();
    engine.ingest("acme", events).await.unwrap();
    drain(&engine).await;
    let worker = engine.graph_worker();
    while let Outcome::Applied { .. } = worker.try_execute_next().await.unwrap() {}
    let me = basis_core::person::PersonInput {
        name: Some("Una Slack".into()),
        identities: [("slack".to_owned(), "U1".to_owned())].into(),
        ..basis_core::person::PersonInput::default()
    };
    let una = |identities: bool| basis_core::person::PersonInput {
        identities: if identities {
            me.identities.clone()
        } else {
            Default::default()
        },
        ..me.clone()
    };
    let counted = || async {
        let view = engine.activity("acme", "slack:U1", None).await.unwrap();
        view.activity.iter().map(|l| l.count).sum::<i64>()
    };
    engine
        .put_person("acme", "slack:U1", una(false))
        .await
        .unwrap();
    engine.put_person("acme", "u-ann", una(true)).await.unwrap();
    assert_eq!(counted().await, 2, "another's claim takes nothing");
    engine.put_person("acme", "u-ann", bob()).await.unwrap();
    engine
        .put_person("acme", "slack:U1", una(true))
        .await
        .unwrap();
    assert_eq!(counted().await, 2, "their own claim moves nothing");
    engine.read_graph(|g| {
        let g = g.tenant("acme").unwrap();
        let me = g.index("slack:U1").expect("still in the graph");
        assert!(g.profile(me).is_some());
        assert!(g.affinity.tie(me, g.index("u-ann").unwrap()).is_some());
    });
    assert!(engine.save_graph().await.unwrap().is_some());
    store.close().await;
}

/// The whole server lifecycle: `basis serve` (Application::build) catches up, stops cleanly on
/// its shutdown signal — the graph worker writes the snapshot on the way out — and the next
/// server starts ready at once from it, with nothing left to replay.
#[tokio::test]
async fn a_served_graph_survives_a_clean_restart() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(basis_engine::GRAPH_SNAPSHOT);
    let app = basis_server::Application::build(config(dir.path()))
        .await
        .unwrap();
    let engine = app.engine().clone();
    engine
        .ingest("acme", mentions(0, 3, "u-bob"))
        .await
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    engine.wait_for_graph(Some(3)).await.unwrap();
    stop.send(()).unwrap();
    served.await.unwrap().unwrap();
    drop(engine);
    assert!(file.exists(), "the clean stop wrote the graph");

    let app = basis_server::Application::build(config(dir.path()))
        .await
        .unwrap();
    assert!(!file.exists(), "taken by the next server");
    let ready = app.engine().readiness();
    assert!(ready.ready && ready.graph_seq == 3, "{ready:?}");
    assert_eq!(mentioned(app.engine(), "u-bob"), Some(3));
}

/// What people did before the longest retention of the purposes that read the graph (395 days
/// in the default policy) is not held: a start-up replay brings it back only until it catches
/// up, a tie that ages past it goes within the hour, a snapshot never carries it, and a rebuild
/// does not bring it back.
#[tokio::test]
async fn the_graph_forgets_what_lies_past_its_retention() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(at(T0)));
    let (engine, store) = open_engine(&config(dir.path()).serving(), clock.clone())
        .await
        .unwrap();
    let body = json!([
        { "id": "old", "type": "comment.created", "at": "2025-09-27T09:00:00Z", "actor": "u-ann",
          "object": { "id": "page-old" }, "mentions": ["u-bob"] },
        { "id": "new", "type": "comment.created", "at": "2026-10-31T09:00:00Z", "actor": "u-ann",
          "object": { "id": "page-new" }, "mentions": ["u-cat"] },
    ]);
    let events = basis_engine::ingest::parse_batch(&body.to_string(), false).unwrap();
    engine.ingest("acme", events).await.unwrap();
    let worker = engine.graph_worker();
    assert!(matches!(
        worker.try_execute_next().await.unwrap(),
        Outcome::Applied { events: 2, .. }
    ));
    assert_eq!(
        mentioned(&engine, "u-bob"),
        Some(0),
        "replayed, 400 days old"
    );
    assert_eq!(worker.try_execute_next().await.unwrap(), Outcome::Idle);
    assert_eq!(
        mentioned(&engine, "u-bob"),
        None,
        "forgotten once caught up"
    );
    assert_eq!(mentioned(&engine, "u-cat"), Some(1));
    let content = |engine: &basis_engine::Engine| -> Vec<String> {
        engine
            .graph_held("acme", "u-ann")
            .map(|h| h.content.into_iter().map(|c| c.object).collect())
            .unwrap_or_default()
    };
    assert_eq!(content(&engine), ["page-new"]);
    // A year and a month later Cat's tie is past it too: it does not go into the snapshot.
    clock.advance_millis(395 * 86_400_000);
    engine.save_graph().await.unwrap();
    assert_eq!(
        mentioned(&engine, "u-cat"),
        None,
        "swept before the snapshot"
    );
    assert!(content(&engine).is_empty());
    // Dan, mentioned the day before; more than a year later, the hourly sweep forgets him.
    let body = json!([{ "id": "dan", "type": "comment.created", "at": "2027-11-30T09:00:00Z",
                        "actor": "u-ann", "mentions": ["u-dan"] }]);
    let events = basis_engine::ingest::parse_batch(&body.to_string(), false).unwrap();
    engine.ingest("acme", events).await.unwrap();
    while let Outcome::Applied { .. } = worker.try_execute_next().await.unwrap() {}
    assert!(mentioned(&engine, "u-dan").is_some(), "tied");
    // Under steady traffic the worker is never idle: the sweep runs before a step's apply.
    clock.advance_millis(395 * 86_400_000);
    let body = json!([{ "id": "eve", "type": "comment.created", "at": "2028-11-29T09:00:00Z",
                        "actor": "u-ann", "mentions": ["u-eve"] }]);
    let events = basis_engine::ingest::parse_batch(&body.to_string(), false).unwrap();
    engine.ingest("acme", events).await.unwrap();
    assert!(matches!(
        worker.try_execute_next().await.unwrap(),
        Outcome::Applied { events: 1, .. }
    ));
    assert_eq!(mentioned(&engine, "u-dan"), None, "the hourly sweep");
    assert!(mentioned(&engine, "u-eve").is_some());
    // A rebuild replays the whole log, and forgets again.
    let rebuilt = engine.rebuild_graph("acme").await.unwrap();
    assert_eq!(rebuilt.events, 4);
    for who in ["u-bob", "u-cat", "u-dan"] {
        assert_eq!(mentioned(&engine, who), None, "{who}");
    }
    drop(engine);
    store.close().await;
}

/// A compaction of the log is this process's own write: the graph snapshot is still written
/// after it, and the next start takes it.
#[tokio::test]
async fn a_compaction_still_allows_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, store) = open(dir.path()).await;
    let body = json!([
        { "id": "old", "type": "comment.created", "at": "2024-01-10T09:00:00Z", "actor": "u-ann",
          "mentions": ["u-bob"] },
        { "id": "new", "type": "comment.created", "at": "2026-10-31T09:00:00Z", "actor": "u-ann",
          "mentions": ["u-cat"] },
    ]);
    let events = basis_engine::ingest::parse_batch(&body.to_string(), false).unwrap();
    engine.ingest("acme", events).await.unwrap();
    let worker = engine.graph_worker();
    while let Outcome::Applied { .. } = worker.try_execute_next().await.unwrap() {}
    let actor = basis_engine::Actor {
        tenant: "acme",
        name: "test",
    };
    let done = engine.compact_log(&actor).await.unwrap();
    assert_eq!((done.deleted, done.rewritten), (1, 0));
    assert!(engine.save_graph().await.unwrap().is_some(), "written");
    drop(engine);
    store.close().await;
    let (engine, store) = open(dir.path()).await;
    assert_eq!(engine.readiness().graph_seq, 2, "taken");
    assert!(mentioned(&engine, "u-cat").is_some());
    store.close().await;
}
