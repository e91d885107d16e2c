//! `basis bench ingest`: events per second through `POST /v1/events` (batches over HTTP into the
//! embedded store, projections running) against a raw sqlx batched insert of the same rows into
//! a table of the same schema with the same pragmas, in the same run.

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use basis_core::clock::Clock as _;
use basis_server::{Application, ServerConfig};
use basis_store::Role;
use clap::Subcommand;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, SqlitePool};

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Ingest throughput against raw SQLite.
    Ingest {
        /// Events in total.
        #[arg(long, default_value_t = 200_000)]
        events: usize,
        /// Events per request (and per raw transaction).
        #[arg(long, default_value_t = 1_000)]
        batch: usize,
        /// Concurrent HTTP clients.
        #[arg(long, default_value_t = 1)]
        clients: usize,
    },
    /// @mention suggestions on a synthetic graph against a SQL aggregation in SQLite, memory per
    /// person and tie, update throughput.
    Mentions {
        /// People in the workspace.
        #[arg(long, default_value_t = 100_000)]
        people: usize,
        /// Interactions between them, over the past year.
        #[arg(long, default_value_t = 10_000_000)]
        interactions: usize,
        /// Suggestion requests timed on the graph.
        #[arg(long, default_value_t = 20_000)]
        queries: usize,
        /// Of those, how many are also timed as SQL.
        #[arg(long, default_value_t = 2_000)]
        sql_queries: usize,
    },
    /// Start-up: how long a restarted process takes to replay a log into the interaction graph
    /// (held in memory; `/readyz` says 503 until then) and into the activity view, against
    /// reading the same log alone, same run; then a clean stop writing the graph's snapshot and
    /// a restart taking it.
    Startup {
        /// Events in the log.
        #[arg(long, default_value_t = 1_000_000)]
        events: usize,
    },
    /// Webhook throughput (signed GitHub `issue_comment` deliveries) against `POST /v1/events`
    /// with the equivalent native events, one per request, same run.
    Hooks {
        /// Deliveries in total.
        #[arg(long, default_value_t = 20_000)]
        payloads: usize,
        /// Concurrent HTTP clients.
        #[arg(long, default_value_t = 1)]
        clients: usize,
    },
}

pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Ingest {
            events,
            batch,
            clients,
        } => ingest(events, batch, clients).await,
        BenchCommand::Hooks { payloads, clients } => hooks(payloads, clients).await,
        BenchCommand::Startup { events } => startup(events).await,
        BenchCommand::Mentions {
            people,
            interactions,
            queries,
            sql_queries,
        } => crate::bench_graph::mentions(people, interactions, queries, sql_queries).await,
    }
}

/// One request to send: path, headers, body.
type Request = (String, Vec<(&'static str, String)>, String);

const HOOK_SECRET: &str = "bench-secret-0123456789";

/// Starts a server on a fresh data directory with a key and a GitHub secret for workspace `bench`.
async fn bench_server() -> anyhow::Result<(
    SocketAddr,
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<(), basis_server::ServerError>>,
    tempfile::TempDir,
)> {
    let dir = tempfile::tempdir()?;
    let config = ServerConfig {
        data_dir: dir.path().to_path_buf(),
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..ServerConfig::default()
    };
    let app = Application::build(config).await?;
    let key = app
        .engine()
        .create_key("bench", Role::Admin, "bench")
        .await?;
    let actor = basis_engine::Actor {
        tenant: "bench",
        name: "bench",
    };
    app.engine()
        .set_hook(&actor, "github", HOOK_SECRET, None)
        .await?;
    let addr = app.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    Ok((addr, key, stop, server, dir))
}

async fn send_all(
    addr: SocketAddr,
    key: &str,
    requests: Vec<Request>,
    clients: usize,
) -> anyhow::Result<Duration> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let per_client = requests.len().div_ceil(clients.max(1)).max(1);
    let mut requests = requests;
    while !requests.is_empty() {
        let part: Vec<Request> = requests.drain(..per_client.min(requests.len())).collect();
        let (client, key) = (client.clone(), key.to_owned());
        tasks.spawn(async move {
            for (path, headers, body) in part {
                let mut req = client
                    .post(format!("http://{addr}{path}"))
                    .bearer_auth(&key)
                    .body(body);
                for (k, v) in headers {
                    req = req.header(k, v);
                }
                let response = req.send().await?;
                if !response.status().is_success() {
                    bail!(
                        "{path} answered {}: {}",
                        response.status(),
                        response.text().await.unwrap_or_default()
                    );
                }
            }
            Ok::<(), anyhow::Error>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.context("client task")??;
    }
    Ok(started.elapsed())
}

async fn hooks(payloads: usize, clients: usize) -> anyhow::Result<()> {
    use basis_connect::mapping::{Delivery, Mapped, Source, map};
    if payloads == 0 || clients == 0 {
        bail!("`--payloads` and `--clients` must be positive");
    }
    let mut hook_requests = Vec::with_capacity(payloads);
    let mut native_requests = Vec::with_capacity(payloads);
    for i in 0..payloads {
        let body = serde_json::json!({
            "action": "created", "sender": { "login": format!("dev{}", i % 500) },
            "repository": { "full_name": format!("acme/service-{}", i % 40), "private": false },
            "issue": { "number": i % 5_000, "title": "Latency regression after the last deploy", "html_url": format!("https://github.com/acme/service/issues/{}", i % 5_000),
                       "body": "Seeing p99 spikes since Tuesday.", "created_at": "2026-11-30T09:00:00Z", "updated_at": "2026-11-30T10:00:00Z" },
            "comment": { "id": i, "body": format!("@dev{} can you look? Traces attached, not `@code`.", (i + 1) % 500), "created_at": "2026-11-30T10:00:00Z" },
        })
        .to_string();
        let delivery = format!("{:08x}-bench-{i}", i * 2_654_435_761 % 4_294_967_291);
        let signature =
            basis_connect::signatures::github_header(HOOK_SECRET.as_bytes(), body.as_bytes());
        let headers = vec![
            ("x-github-event", "issue_comment".to_owned()),
            ("x-github-delivery", delivery.clone()),
            ("x-hub-signature-256", signature),
            ("content-type", "application/json".to_owned()),
        ];
        let payload: serde_json::Value = serde_json::from_str(&body)?;
        let Mapped::Events(events) = map(
            Source::Github,
            &Delivery {
                event: Some("issue_comment".into()),
                id: Some(delivery),
            },
            &payload,
            "2026-12-01T00:00:00Z",
        )?
        else {
            bail!("the benchmark payload did not map");
        };
        native_requests.push((
            "/v1/events".to_owned(),
            vec![("content-type", "application/json".to_owned())],
            serde_json::to_string(&events)?,
        ));
        hook_requests.push(("/v1/hooks/github?tenant=bench".to_owned(), headers, body));
    }
    let (addr, key, stop, server, _dir) = bench_server().await?;
    let native = send_all(addr, &key, native_requests, clients).await?;
    let _ = stop.send(());
    server.await.context("server task")??;
    let (addr, key, stop, server, _dir) = bench_server().await?;
    let hooks = send_all(addr, &key, hook_requests, clients).await?;
    let _ = stop.send(());
    server.await.context("server task")??;
    let rate = |d: Duration| payloads as f64 / d.as_secs_f64();
    let plural = if clients == 1 { "" } else { "s" };
    println!(
        "POST /v1/events, one native event per request ({clients} client{plural}): {:>8.0} events/s",
        rate(native)
    );
    println!(
        "POST /v1/hooks/github, signed deliveries ({clients} client{plural}):       {:>8.0} payloads/s",
        rate(hooks)
    );
    println!("ratio hooks/native: {:.2}", rate(hooks) / rate(native));
    Ok(())
}

struct Row {
    id: String,
    kind: &'static str,
    at: i64,
    actor: String,
    body: String,
}

/// Events with random (UUID-like) ids, as producers send them, about 300 bytes each.
fn generate(n: usize) -> Vec<Row> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let kinds = [
        "content.created",
        "comment.created",
        "content.viewed",
        "task.assigned",
        "search.performed",
    ];
    // Ending an hour ago, ten milliseconds apart: inside every retention period, so the graph
    // keeps them whenever the benchmark runs.
    let now = basis_core::clock::SystemClock.now().0;
    let start = now - 3_600_000 - n as i64 * 10;
    (0..n)
        .map(|i| {
            let id = format!("{:016x}{:016x}", next(), next());
            let kind = kinds[i % kinds.len()];
            let at = start + i as i64 * 10;
            let actor = format!("u-{}", next() % 5_000);
            let at_text = basis_core::Timestamp(at).to_rfc3339();
            let body = format!(
                r#"{{"id":"{id}","type":"{kind}","at":"{at_text}","source":"confluence","actor":"{actor}","object":{{"id":"page-{}","kind":"page","title":"Quarterly planning notes","container":"space-{}","visibility":{{"public":true}}}},"mentions":["u-{}"]}}"#,
                next() % 50_000,
                next() % 40,
                next() % 5_000
            );
            Row { id, kind, at, actor, body }
        })
        .collect()
}

async fn raw_insert(rows: &[Row], batch: usize) -> anyhow::Result<Duration> {
    let dir = tempfile::tempdir()?;
    let opts = SqliteConnectOptions::from_str(&format!(
        "sqlite://{}",
        dir.path().join("raw.db").display()
    ))?
    .create_if_missing(true)
    .journal_mode(SqliteJournalMode::Wal)
    .synchronous(SqliteSynchronous::Full)
    .pragma("cache_size", "-65536")
    .pragma("temp_store", "memory");
    let pool: SqlitePool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await?;
    sqlx::query("CREATE TABLE events (seq INTEGER PRIMARY KEY, tenant TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, at INTEGER NOT NULL, actor TEXT, body TEXT NOT NULL, UNIQUE (tenant, id))")
        .execute(&pool)
        .await?;
    let started = Instant::now();
    for chunk in rows.chunks(batch) {
        let mut tx = pool.begin().await?;
        for part in chunk.chunks(500) {
            let mut sql =
                String::from("INSERT INTO events (tenant, id, type, at, actor, body) VALUES ");
            sql.push_str(&vec!["(?,?,?,?,?,?)"; part.len()].join(","));
            sql.push_str(" ON CONFLICT (tenant, id) DO NOTHING");
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for r in part {
                q = q
                    .bind("bench")
                    .bind(r.id.as_str())
                    .bind(r.kind)
                    .bind(r.at)
                    .bind(r.actor.as_str())
                    .bind(r.body.as_str());
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }
    let took = started.elapsed();
    pool.close().await;
    Ok(took)
}

/// The store's own append (one JSON parameter per batch, unpacked by SQLite), without HTTP or
/// validation: shows what the API adds on top.
async fn store_append(rows: &[Row], batch: usize) -> anyhow::Result<Duration> {
    use basis_store::{SqliteStore, Store};
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(dir.path()).await?;
    let events = new_events(rows);
    let started = Instant::now();
    for chunk in events.chunks(batch) {
        store.append_events("bench", chunk).await?;
    }
    let took = started.elapsed();
    store.close().await;
    Ok(took)
}

fn new_events(rows: &[Row]) -> Vec<basis_store::NewEvent> {
    rows.iter()
        .map(|r| basis_store::NewEvent {
            id: r.id.clone(),
            kind: r.kind.to_owned(),
            at: basis_core::Timestamp(r.at),
            actor: Some(r.actor.clone()),
            body: r.body.clone(),
        })
        .collect()
}

/// Writes `events` generated events to a fresh store, then times, each from a cold open: reading
/// the whole log alone (the floor); the activity view's first build, snapshotted as the process
/// before would; a restart as the server runs it after a crash — the activity view resuming from
/// its snapshot, the graph (which has none) replaying the whole log — until ready; and after a
/// clean stop, which writes the graph, a restart taking it.
async fn startup(events: usize) -> anyhow::Result<()> {
    use basis_engine::projections::{BATCH, Outcome};
    use basis_store::{SqliteStore, Store};
    if events == 0 {
        bail!("`--events` must be positive");
    }
    let rows = generate(events);
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(dir.path()).await?;
    for chunk in new_events(&rows).chunks(1_000) {
        store.append_events("bench", chunk).await?;
    }
    store.close().await;
    drop(rows);
    eprintln!("{events} events in the log (one workspace, 5,000 people, 50,000 pages)");

    let store = SqliteStore::open(dir.path()).await?;
    let started = Instant::now();
    let (mut after, mut read) = (0, 0);
    loop {
        let batch = store.events_after(None, after, BATCH).await?;
        let Some(last) = batch.last() else { break };
        after = last.seq;
        read += batch.len();
    }
    let read_took = started.elapsed();
    store.close().await;

    let config = ServerConfig {
        data_dir: dir.path().to_path_buf(),
        ..ServerConfig::default()
    }
    .serving();
    let open =
        || basis_server::open_engine(&config, std::sync::Arc::new(basis_core::clock::SystemClock));
    // The process before: it built the activity view, which is snapshotted with its cursor.
    let (engine, store) = open().await?;
    let started = Instant::now();
    let activity = engine.projection_worker();
    while let Outcome::Applied { .. } = activity.try_execute_next().await? {}
    let activity_took = started.elapsed();
    activity.snapshot().await?;
    drop(engine);
    store.close().await;

    // The restart: the activity view resumes from its snapshot, the graph replays the whole
    // log; both workers run as the server runs them, each on its own task.
    let started = Instant::now();
    let (engine, store) = open().await?;
    let opened = started.elapsed();
    let timed = |worker: basis_engine::projections::GraphWorker| async move {
        while let Outcome::Applied { .. } = worker.try_execute_next().await? {}
        anyhow::Ok(started.elapsed())
    };
    let graph = tokio::spawn(timed(engine.graph_worker()));
    let activity = engine.projection_worker();
    let resumed = tokio::spawn(async move {
        while let Outcome::Applied { .. } = activity.try_execute_next().await? {}
        anyhow::Ok(started.elapsed())
    });
    let graph_done = graph.await??;
    let ready_after = graph_done.max(resumed.await??);
    let graph_took = graph_done - opened;
    let ready = engine.readiness();
    if !ready.ready || ready.graph_seq != after || read != events {
        bail!("the replay did not reach the log's end: {ready:?}, log at {after}");
    }
    // A clean stop writes the graph; the next start takes it.
    let started = Instant::now();
    let bytes = engine
        .save_graph()
        .await?
        .context("the clean stop wrote no graph snapshot")?;
    let saved = started.elapsed();
    drop(engine);
    store.close().await;
    let started = Instant::now();
    let (engine, store) = open().await?;
    let taken = started.elapsed();
    let ready = engine.readiness();
    store.close().await;
    if !ready.ready || ready.graph_seq != after {
        bail!("the snapshot did not stand for the log: {ready:?}, log at {after}");
    }
    let rate = |d: Duration| events as f64 / d.as_secs_f64();
    println!(
        "read the log alone:           {:>9.0} events/s ({:.2} s)",
        rate(read_took),
        read_took.as_secs_f64()
    );
    println!(
        "activity view, first build:   {:>9.0} events/s ({:.2} s), then snapshotted",
        rate(activity_took),
        activity_took.as_secs_f64()
    );
    println!("restart: open the engine     {:.3} s", opened.as_secs_f64());
    println!(
        "restart: graph replay        {:>9.0} events/s ({:.2} s); ready (`/readyz` 200) after {:.2} s",
        rate(graph_took),
        graph_took.as_secs_f64(),
        ready_after.as_secs_f64()
    );
    println!(
        "graph replay / reading alone: {:.2}",
        graph_took.as_secs_f64() / read_took.as_secs_f64()
    );
    println!(
        "clean stop: graph written in  {:.2} s ({:.0} MB)",
        saved.as_secs_f64(),
        bytes as f64 / 1e6
    );
    println!(
        "restart from the snapshot:    ready after {:.2} s (taken, checked, put to the gate again); {:.1}x faster than replaying",
        taken.as_secs_f64(),
        ready_after.as_secs_f64() / taken.as_secs_f64()
    );
    Ok(())
}

async fn basis_ingest(rows: &[Row], batch: usize, clients: usize) -> anyhow::Result<Duration> {
    let requests: Vec<Request> = rows
        .chunks(batch)
        .map(|chunk| {
            let mut body = String::with_capacity(chunk.len() * 320);
            body.push('[');
            for (i, r) in chunk.iter().enumerate() {
                if i > 0 {
                    body.push(',');
                }
                body.push_str(&r.body);
            }
            body.push(']');
            (
                "/v1/events".to_owned(),
                vec![("content-type", "application/json".to_owned())],
                body,
            )
        })
        .collect();
    let (addr, key, stop, server, _dir) = bench_server().await?;
    let took = send_all(addr, &key, requests, clients).await?;
    let _ = stop.send(());
    server.await.context("server task")??;
    Ok(took)
}

async fn ingest(events: usize, batch: usize, clients: usize) -> anyhow::Result<()> {
    if events == 0 || batch == 0 || batch > basis_engine::ingest::MAX_BATCH || clients == 0 {
        bail!("`--events`, `--batch` (at most 10000) and `--clients` must be positive");
    }
    let rows = generate(events);
    let bytes: usize = rows.iter().map(|r| r.body.len()).sum();
    eprintln!(
        "{events} events, {} bytes on average, random ids, batches of {batch}",
        bytes / events
    );
    let raw = raw_insert(&rows, batch).await?;
    let store = store_append(&rows, batch).await?;
    let basis = basis_ingest(&rows, batch, clients).await?;
    let rate = |d: Duration| events as f64 / d.as_secs_f64();
    let plural = if clients == 1 { "" } else { "s" };
    println!(
        "raw sqlx sqlite batched insert:   {:>9.0} events/s ({:.2} s)",
        rate(raw),
        raw.as_secs_f64()
    );
    println!(
        "basis store append (no HTTP):     {:>9.0} events/s ({:.2} s)",
        rate(store),
        store.as_secs_f64()
    );
    println!(
        "basis POST /v1/events ({clients} client{plural}): {:>9.0} events/s ({:.2} s)",
        rate(basis),
        basis.as_secs_f64()
    );
    println!("ratio basis/raw: {:.2}", rate(basis) / rate(raw));
    Ok(())
}
