//! Tenancy, the notice and records, the OpenAPI document, metrics, health.

use basis_core::Policy;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{event, spawn_app};

#[tokio::test]
async fn a_key_of_one_tenant_can_neither_read_nor_write_another() {
    let app = spawn_app().await;
    let other = app
        .engine
        .create_key("globex", basis_store::Role::Admin, "globex-admin")
        .await
        .unwrap();
    app.put_person("u-alice", json!({ "name": "Alice" })).await;
    app.ingest(&json!([event("a1", "u-alice")])).await;

    let r = app
        .send(Method::GET, "/v1/people/u-alice", Some(&other), None)
        .await;
    r.assert_problem(StatusCode::NOT_FOUND, "person_not_found");
    let log = app
        .send(Method::GET, "/v1/events", Some(&other), None)
        .await;
    assert_eq!(log.body["events"].as_array().unwrap().len(), 0);
    app.send(Method::DELETE, "/v1/people/u-alice", Some(&other), None)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "person_not_found");
    app.send(
        Method::POST,
        "/v1/people/u-alice/consents",
        Some(&other),
        Some(json!({ "purpose": "marketing.testimonials" })),
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND, "person_not_found");
    app.send(Method::GET, "/v1/people/u-alice/export", Some(&other), None)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "person_not_found");

    // Writing the same ids in the other tenant creates separate records.
    let r = app
        .send(
            Method::PUT,
            "/v1/people/u-alice",
            Some(&other),
            Some(json!({ "name": "Other Alice" })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = app
        .send(
            Method::POST,
            "/v1/events",
            Some(&other),
            Some(json!([event("a1", "u-alice")])),
        )
        .await;
    assert_eq!(r.body["accepted"], 1, "event ids are per tenant");
    assert_eq!(app.get("/v1/people/u-alice").await.body["name"], "Alice");
    assert_eq!(app.log_len().await, 1);
}

#[tokio::test]
async fn the_notice_renders_every_purpose_and_the_legal_bases() {
    let app = spawn_app().await;
    let md = app.send(Method::GET, "/v1/policy/notice", None, None).await;
    assert_eq!(md.status, StatusCode::OK);
    assert!(md.content_type.starts_with("text/markdown"));
    let html = app
        .send(Method::GET, "/v1/policy/notice?format=html", None, None)
        .await;
    assert!(html.content_type.starts_with("text/html"));
    for p in Policy::default_policy().unwrap().purposes() {
        assert!(
            md.text.contains(&p.key) && html.text.contains(&p.key),
            "{} missing",
            p.key
        );
    }
    assert!(
        md.text
            .contains("## Legal bases for processing (for EEA users)")
    );
    assert!(
        html.text
            .contains("<h2>Legal bases for processing (for EEA users)</h2>")
    );
    app.send(Method::GET, "/v1/policy/notice?format=pdf", None, None)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "bad_query");
    let policy = app.get("/v1/policy").await.body;
    assert_eq!(
        policy["purposes"].as_array().unwrap().len(),
        Policy::default_policy().unwrap().purposes().len()
    );
}

#[tokio::test]
async fn records_of_processing_carry_live_counts() {
    let app = spawn_app().await;
    app.put_person("u-a", json!({ "country": "DE" })).await;
    app.decide("u-a", "marketing.testimonials", None).await;
    app.decide("u-a", "personalize.content.search", None).await;
    let records = app.get("/v1/records").await;
    assert_eq!(records.status, StatusCode::OK);
    let purposes = records.body["purposes"].as_array().unwrap();
    let t = purposes
        .iter()
        .find(|p| p["purpose"] == "marketing.testimonials")
        .unwrap();
    assert_eq!(
        (t["denied"].as_i64(), t["subjects"].as_i64()),
        (Some(1), Some(1))
    );
    assert_eq!(t["bases"]["eea"], "consent");
    assert!(t["recipients"].as_array().is_some() && t["retention_days"].as_u64().is_some());
    assert_eq!(records.body["controller"]["contact"], "privacy@example.com");
    app.send(Method::GET, "/v1/records", Some(&app.service), None)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn every_documented_operation_exists_and_unknown_ones_do_not() {
    let app = spawn_app().await;
    let doc = app
        .send(Method::GET, "/openapi.json", None, None)
        .await
        .body;
    assert_eq!(doc["openapi"], "3.1.0");
    for op in basis_server::openapi::OPERATIONS {
        let path = op
            .path
            .replace("{id}", "u-x")
            .replace("{purpose}", "marketing.testimonials")
            .replace("{hold}", "1")
            .replace("{source}", "github");
        let method = Method::from_bytes(op.method.to_uppercase().as_bytes()).unwrap();
        let r = app.send(method, &path, None, None).await;
        assert_ne!(
            r.status,
            StatusCode::NOT_FOUND,
            "{} {} is documented but not routed",
            op.method,
            op.path
        );
        assert_ne!(
            r.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{} {}",
            op.method,
            op.path
        );
        if op.access != "public" {
            assert_eq!(
                r.status,
                StatusCode::UNAUTHORIZED,
                "{} {} must need a key",
                op.method,
                op.path
            );
        }
        assert!(doc["paths"][op.path][op.method].is_object());
    }
    app.send(Method::GET, "/v1/nothing", None, None)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    app.send(Method::PATCH, "/v1/events", None, None)
        .await
        .assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

#[tokio::test]
async fn metrics_and_health_report_what_happened() {
    let app = spawn_app().await;
    app.ingest(&json!([event("x1", "u-a")])).await;
    app.decide("u-a", "essential.service.security", None).await;
    let health = app.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.body["status"], "ok");
    let metrics = app.send(Method::GET, "/metrics", None, None).await.text;
    for name in [
        "basis_http_requests_total",
        "basis_http_request_duration_seconds_bucket",
        "basis_events_ingested_total",
        "basis_gate_decisions_total",
        "basis_projection_lag_events",
    ] {
        assert!(metrics.contains(name), "{name} missing");
    }
    assert!(
        metrics.contains("route=\"/v1/events\""),
        "routes are labelled by template"
    );
    assert!(
        !metrics.contains("u-a"),
        "no personal data in metric labels"
    );
}

#[tokio::test]
async fn people_are_validated_and_identities_are_unique() {
    let app = spawn_app().await;
    let r = app
        .put_person(
            "u-1",
            json!({ "email": "nope", "country": "Germany", "account": "frozen" }),
        )
        .await;
    r.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let r = app
        .put_person("u-1", json!({ "email": "nope", "country": "Germany" }))
        .await;
    let fields: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["email", "country"]);
    assert_eq!(
        app.put_person("u-1", json!({ "identities": { "github": "octocat" } }))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.put_person("u-1", json!({ "identities": { "github": "octocat" } }))
            .await
            .status,
        StatusCode::OK
    );
    app.put_person("u-2", json!({ "identities": { "github": "octocat" } }))
        .await
        .assert_problem(StatusCode::CONFLICT, "identity_taken");
    app.raw("/v1/people/u-3", &app.admin, "application/json", "{")
        .await
        .assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let r = app
        .client
        .put(app.url("/v1/people/u-3"))
        .bearer_auth(&app.admin)
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
