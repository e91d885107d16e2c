//! The `basis` binary end to end: init, policy, import, demo, and crash safety under SIGKILL.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashSet;
use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use basis_store::{SqliteStore, Store};
use serde_json::{Value, json};

fn basis() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_basis"));
    c.env("RUST_LOG", "warn");
    c
}

fn run_ok(args: &[&str]) -> (String, String) {
    let out = basis().args(args).output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    assert!(out.status.success(), "basis {args:?} failed: {stderr}");
    (stdout, stderr)
}

async fn stored_ids(dir: &Path, tenant: &str) -> Vec<String> {
    let store = SqliteStore::open(dir).await.unwrap();
    let mut ids = Vec::new();
    let mut after = 0;
    loop {
        let page = store.events_after(Some(tenant), after, 1000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        ids.extend(page.into_iter().map(|e| e.id));
    }
    store.close().await;
    ids
}

#[test]
fn init_prints_only_the_admin_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (stdout, stderr) = run_ok(&["init", "--data", data.to_str().unwrap()]);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(lines[0].starts_with("basis_") && lines[0].len() > 40);
    assert!(!stderr.contains(lines[0]), "the key goes to stdout only");
    assert!(data.join("basis.db").exists());
}

#[test]
fn policy_check_names_the_purpose_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    let bad = basis_core::policy::DEFAULT_POLICY_TOML.replace(
        "key = \"marketing.testimonials\"\ntitle = \"Testimonials and customer stories\"\ngroup = \"consent\"",
        "key = \"marketing.testimonials\"\ntitle = \"Testimonials and customer stories\"\ngroup = \"consent\"\nobjection = \"absolute\"",
    );
    assert_ne!(bad, basis_core::policy::DEFAULT_POLICY_TOML);
    std::fs::write(&file, bad).unwrap();
    let out = basis()
        .args(["policy", "check", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("purpose `marketing.testimonials`: field `objection`"),
        "{stderr}"
    );

    std::fs::write(&file, basis_core::policy::DEFAULT_POLICY_TOML).unwrap();
    let (stdout, _) = run_ok(&["policy", "check", file.to_str().unwrap()]);
    assert!(stdout.starts_with("ok:"));
    let (html, _) = run_ok(&["policy", "render", "--format", "html"]);
    assert!(html.contains("<h2>How we use information we collect</h2>"));
}

#[tokio::test]
async fn import_is_resumable_and_reports_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("events.ndjson");
    let mut f = std::fs::File::create(&file).unwrap();
    for i in 0..2_500 {
        writeln!(f, "{}", json!({ "id": format!("imp-{i}"), "type": "content.viewed", "at": "2026-11-30T10:00:00Z", "actor": format!("u-{}", i % 7) })).unwrap();
    }
    drop(f);
    let (_, stderr) = run_ok(&[
        "import",
        file.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--tenant",
        "acme",
    ]);
    assert!(
        stderr.contains("2500 new events, 0 already stored"),
        "{stderr}"
    );
    let (_, stderr) = run_ok(&[
        "import",
        file.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--tenant",
        "acme",
    ]);
    assert!(
        stderr.contains("0 new events, 2500 already stored"),
        "{stderr}"
    );
    assert_eq!(stored_ids(&data, "acme").await.len(), 2_500);

    let bad = dir.path().join("bad.ndjson");
    std::fs::write(&bad, "{\"id\":\"ok\",\"type\":\"a.b\",\"at\":\"2026-11-30T10:00:00Z\"}\n{\"id\":\"x\",\"type\":\"a.b\",\"at\":\"never\"}\n").unwrap();
    let out = basis()
        .args([
            "import",
            bad.to_str().unwrap(),
            "--data",
            data.to_str().unwrap(),
            "--tenant",
            "acme",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("line 2: `at`")
    );
    assert_eq!(
        stored_ids(&data, "acme").await.len(),
        2_500,
        "a bad batch stores nothing"
    );
}

#[tokio::test]
async fn demo_seeds_a_realistic_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (_, stderr) = run_ok(&["demo", "--data", data.to_str().unwrap(), "--people", "40"]);
    assert!(
        stderr.contains("demo workspace `default`: 40 people"),
        "{stderr}"
    );
    let ids = stored_ids(&data, "default").await;
    assert!(ids.len() > 1_000, "{}", ids.len());
    let store = SqliteStore::open(&data).await.unwrap();
    let people = store.people_page(("", ""), 1000).await.unwrap();
    assert_eq!(people.len(), 40);
    let holds = store.legal_holds("default", None, true).await.unwrap();
    assert_eq!(holds.len(), 1);
    store.close().await;
    // The same seed gives the same workspace: re-running stores nothing new.
    let (_, stderr) = run_ok(&["demo", "--data", data.to_str().unwrap(), "--people", "40"]);
    assert!(stderr.contains(" 0 new events"), "{stderr}");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_server(data: &Path, port: u16) -> Child {
    basis()
        .args([
            "serve",
            "--data",
            data.to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_healthy(client: &reqwest::Client, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server did not come up");
}

/// Regression guard for the durability promise: an event is acknowledged only after commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_event_survives_sigkill_and_none_is_stored_twice() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (key, _) = run_ok(&[
        "key",
        "create",
        "--data",
        data.to_str().unwrap(),
        "--tenant",
        "acme",
        "--role",
        "admin",
    ]);
    let key = key.trim().to_owned();
    let port = free_port();
    let mut server = start_server(&data, port);
    let client = reqwest::Client::new();
    wait_healthy(&client, port).await;

    let url = format!("http://127.0.0.1:{port}/v1/events");
    let mut acknowledged: Vec<String> = Vec::new();
    let mut unacknowledged: Vec<Value> = Vec::new();
    let mut killer = None;
    for batch in 0..400 {
        let events: Vec<Value> = (0..200)
            .map(|i| json!({ "id": format!("crash-{batch}-{i}"), "type": "content.created", "at": "2026-11-30T10:00:00Z", "actor": "u-a" }))
            .collect();
        // Kill from another thread while this request is in flight.
        if batch == 40 {
            let pid = server.id();
            killer = Some(std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(3));
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }));
        }
        match client
            .post(&url)
            .bearer_auth(&key)
            .json(&events)
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => {
                acknowledged.extend(events.iter().map(|e| e["id"].as_str().unwrap().to_owned()));
            }
            _ => {
                unacknowledged.push(Value::Array(events));
            }
        }
        if killer.is_some() {
            break;
        }
    }
    if let Some(k) = killer {
        k.join().unwrap();
    }
    let status = server.wait().unwrap();
    assert!(!status.success(), "the server was killed, not stopped");
    assert!(acknowledged.len() >= 40 * 200);

    let port = free_port();
    let mut server = start_server(&data, port);
    wait_healthy(&client, port).await;
    // The producer retries what was not acknowledged; it is stored once.
    for events in &unacknowledged {
        let r = client
            .post(format!("http://127.0.0.1:{port}/v1/events"))
            .bearer_auth(&key)
            .json(events)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    server.kill().unwrap();
    let _ = server.wait();

    let stored = stored_ids(&data, "acme").await;
    let distinct: HashSet<&String> = stored.iter().collect();
    assert_eq!(distinct.len(), stored.len(), "an event was stored twice");
    for id in &acknowledged {
        assert!(distinct.contains(id), "acknowledged event {id} was lost");
    }
    let expected = acknowledged.len()
        + unacknowledged
            .iter()
            .map(|b| b.as_array().unwrap().len())
            .sum::<usize>();
    assert_eq!(stored.len(), expected);
}

/// Regression guard: the ledger is buffered in memory, so a graceful stop must write it out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_gracefully_and_flushes_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (key, _) = run_ok(&[
        "key",
        "create",
        "--data",
        data.to_str().unwrap(),
        "--tenant",
        "acme",
    ]);
    let port = free_port();
    let mut server = start_server(&data, port);
    let client = reqwest::Client::new();
    wait_healthy(&client, port).await;
    for _ in 0..3 {
        let r = client
            .post(format!("http://127.0.0.1:{port}/v1/decisions"))
            .bearer_auth(key.trim())
            .json(&json!({ "person": "u-z", "purpose": "essential.service.security" }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    let _ = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let status = server.wait().unwrap();
    assert!(status.success(), "graceful stop exits 0: {status:?}");
    let store = SqliteStore::open(&data).await.unwrap();
    let ledger = store.ledger_for("acme", "u-z").await.unwrap();
    store.close().await;
    assert_eq!(
        ledger.iter().map(|r| r.allowed).sum::<i64>(),
        3,
        "{ledger:?}"
    );
}

#[test]
fn hooks_set_stores_a_secret_and_prints_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (stdout, stderr) = run_ok(&[
        "hooks",
        "set",
        "github",
        "--data",
        data.to_str().unwrap(),
        "--tenant",
        "acme",
        "--public-url",
        "https://basis.example/",
    ]);
    assert_eq!(
        stdout.trim(),
        "https://basis.example/v1/hooks/github?tenant=acme"
    );
    assert!(stderr.contains("secret (paste it into github"), "{stderr}");
    let out = basis()
        .args([
            "hooks",
            "set",
            "myspace",
            "--data",
            data.to_str().unwrap(),
            "--secret",
            "0123456789abcdef",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr).unwrap().contains("myspace"));
}

/// The CI floor for @mention suggestion quality on Enron (issue 4: target 0.70, CI fails below
/// 0.66), and Basis must beat both baselines computed in the same run.
#[test]
fn enron_mention_suggestions_beat_the_baselines() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/enron");
    if !dir.exists() {
        eprintln!("skipping: ../shared/data/enron is absent (it is present in CI)");
        return;
    }
    let (stdout, _) = run_ok(&["eval", "mentions", "--enron", dir.to_str().unwrap()]);
    let mrr = |name: &str| -> f64 {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} missing: {stdout}"));
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    assert!(stdout.contains("(4327 test messages)"), "{stdout}");
    let (basis, recency, frequency) = (mrr("basis "), mrr("recency"), mrr("frequency"));
    assert!(basis >= 0.66, "MRR {basis} below the CI floor: {stdout}");
    assert!(basis > recency && basis > frequency, "{stdout}");
    // The thread as the context (outside the protocol) adds the participant signal.
    let thread = mrr("basis+thread");
    assert!(thread >= 0.69 && thread > basis, "{stdout}");
    // Weights are chosen on the validation part, which the product ranks too.
    let (validation, _) = run_ok(&[
        "eval",
        "mentions",
        "--enron",
        dir.to_str().unwrap(),
        "--part",
        "validation",
    ]);
    assert!(
        validation.contains("validation messages") && !validation.contains("test messages"),
        "{validation}"
    );
    assert_ne!(validation, stdout);
}
