//! Ingest: idempotency, all-or-nothing validation, limits, NDJSON, reading the log.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{event, spawn_app};

#[tokio::test]
async fn the_same_1000_events_posted_twice_are_stored_once() {
    let app = spawn_app().await;
    let batch: Value = (0..1000)
        .map(|i| event(&format!("evt-{i}"), "u-alice"))
        .collect::<Vec<_>>()
        .into();
    let first = app.ingest(&batch).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(
        (
            first.body["accepted"].as_u64(),
            first.body["duplicates"].as_u64()
        ),
        (Some(1000), Some(0))
    );
    let second = app.ingest(&batch).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(
        (
            second.body["accepted"].as_u64(),
            second.body["duplicates"].as_u64()
        ),
        (Some(0), Some(1000))
    );
    assert_eq!(
        second.body["seq"], first.body["seq"],
        "nothing new, the log position is unchanged"
    );
    let mut seen = 0;
    let mut after = 0;
    loop {
        let page = app
            .get(&format!("/v1/events?after={after}&limit=1000"))
            .await;
        let events = page.body["events"].as_array().unwrap();
        seen += events.len();
        match page.body["next_after"].as_i64() {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(seen, 1000);
}

#[tokio::test]
async fn bad_input_gets_a_documented_problem_and_leaves_the_log_unchanged() {
    let app = spawn_app().await;
    app.ingest(&json!([event("keep", "u-alice")])).await;
    let before = app.log_len().await;

    app.raw(
        "/v1/events",
        &app.service,
        "application/json",
        "[{\"id\": \"x\",",
    )
    .await
    .assert_problem(StatusCode::BAD_REQUEST, "malformed_json");

    let mut wrong_type = event("bad-1", "u-alice");
    wrong_type["at"] = json!(12);
    let r = app
        .ingest(&json!([event("fine", "u-alice"), wrong_type]))
        .await;
    r.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(r.body["errors"][0]["index"], 1);
    assert_eq!(r.body["errors"][0]["field"], "at");

    let mut missing = event("bad-2", "u-alice");
    missing.as_object_mut().unwrap().remove("type");
    let r = app.ingest(&json!([missing])).await;
    r.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(r.body["errors"][0]["field"], "type");

    app.send(
        Method::POST,
        "/v1/events",
        Some("basis_not_a_key"),
        Some(json!([event("k", "u")])),
    )
    .await
    .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    app.send(
        Method::POST,
        "/v1/events",
        None,
        Some(json!([event("k", "u")])),
    )
    .await
    .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");

    let huge = format!(
        "[{}]",
        vec![event("big", "u-alice").to_string(); 5_000].join(",")
    );
    assert!(huge.len() > 1 << 20);
    app.raw("/v1/events", &app.service, "application/json", huge)
        .await
        .assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");

    let many: Vec<String> = (0..10_001)
        .map(|i| format!("{{\"id\":\"{i}\",\"type\":\"a.b\",\"at\":\"2026-01-01T00:00:00Z\"}}"))
        .collect();
    let body = many.join("\n");
    assert!(body.len() < 1 << 20);
    app.raw("/v1/events", &app.service, "application/x-ndjson", body)
        .await
        .assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "batch_too_large");

    app.raw("/v1/events", &app.service, "image/png", "[]")
        .await
        .assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");

    assert_eq!(
        app.log_len().await,
        before,
        "no rejected request stored anything"
    );
}

#[tokio::test]
async fn ndjson_is_accepted_and_the_log_reads_back_in_order() {
    let app = spawn_app().await;
    let body = format!("{}\n{}\n", event("n1", "u-a"), event("n2", "u-b"));
    let r = app
        .raw("/v1/events", &app.service, "application/x-ndjson", body)
        .await;
    assert_eq!(r.body["accepted"], 2, "{}", r.text);
    let log = app.get("/v1/events").await;
    let ids: Vec<&str> = log.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["n1", "n2"]);
    app.send(Method::GET, "/v1/events", Some(&app.service), None)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    app.get("/v1/events?limit=0")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "bad_query");
    app.get("/v1/events?limit=abc")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "bad_query");
}
