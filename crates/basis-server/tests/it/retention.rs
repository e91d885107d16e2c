//! The event log's retention: a compaction drops who did what past the period and keeps what
//! content's permissions need, so a private page stays private after it.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app};

async fn events(app: &TestApp) -> Vec<Value> {
    let r = app.get("/v1/events?limit=100").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].clone())
        .collect()
}

fn find<'a>(log: &'a [Value], id: &str) -> Option<&'a Value> {
    log.iter().find(|e| e["id"] == id)
}

async fn searchable(app: &TestApp) {
    let experts = app.get("/v1/experts?topic=salary+bands&as=ann").await;
    assert_eq!(experts.body["documents_considered"], 0, "{}", experts.text);
    let experts = app.get("/v1/experts?topic=kafka&as=ann").await;
    assert_eq!(experts.body["documents_considered"], 1, "{}", experts.text);
}

fn context_used(s: &Value) -> bool {
    s["context_used"].as_bool().unwrap()
}

#[tokio::test]
async fn compaction_drops_who_did_what_and_keeps_who_may_see_content() {
    let app = spawn_app().await;
    for id in ["ann", "bob", "cat", "dan", "eve"] {
        let r = app
            .put_person(id, json!({ "name": id, "country": "DE" }))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let r = app
        .post(
            "/v1/legal-holds",
            json!({ "person": "dan", "reason": "case 2026-17" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    // The clock stands at 2026-11-01: the log keeps 730 days, so from 2024-11-01.
    let r = app
        .ingest(&json!([
            { "id": "old-private", "type": "content.created", "at": "2024-06-01T09:00:00Z",
              "actor": "ann", "mentions": ["bob"],
              "object": { "id": "hr-page", "kind": "page", "title": "Salary bands",
                          "body": "Bands per level", "container": "space-HR",
                          "visibility": { "members": ["ann"] } } },
            { "id": "old-comment", "type": "comment.created", "at": "2024-06-02T09:00:00Z",
              "actor": "bob", "object": { "id": "hr-page" }, "mentions": ["ann"] },
            { "id": "old-search", "type": "search.performed", "at": "2024-06-03T09:00:00Z",
              "actor": "cat", "query": "salary bands" },
            { "id": "old-public", "type": "content.created", "at": "2024-06-04T09:00:00Z",
              "actor": "ann",
              "object": { "id": "wiki", "kind": "page", "title": "Kafka wiki", "body": "Kafka",
                          "visibility": { "public": true } } },
            { "id": "dan-old", "type": "comment.created", "at": "2024-06-05T09:00:00Z",
              "actor": "dan", "object": { "id": "wiki" }, "mentions": ["eve"] },
            { "id": "recent-view", "type": "content.viewed", "at": "2026-10-30T09:00:00Z",
              "actor": "cat", "object": { "id": "wiki" } }
        ]))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let seq = r.body["seq"].as_i64().unwrap();
    let suggestions = |who: &str, seq: i64| {
        format!("/v1/people/{who}/mention-suggestions?context=hr-page&min_seq={seq}")
    };
    assert!(context_used(&app.get(&suggestions("ann", seq)).await.body));
    assert!(!context_used(&app.get(&suggestions("eve", seq)).await.body));

    let r = app.post("/v1/admin/retention/compact", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["before"], "2024-11-01T09:00:00Z", "{}", r.text);
    assert_eq!(
        (&r.body["deleted"], &r.body["rewritten"], &r.body["held"]),
        (&json!(2), &json!(2), &json!(1)),
        "{}",
        r.text
    );
    assert_eq!(
        r.body["content_forgotten"], 1,
        "the HR page's text: {}",
        r.text
    );

    let log = events(&app).await;
    assert!(find(&log, "old-comment").is_none() && find(&log, "old-search").is_none());
    let private = find(&log, "old-private").unwrap();
    assert_eq!(
        private,
        &json!({ "id": "old-private", "type": "content.created", "at": "2024-06-01T09:00:00Z",
                 "object": { "id": "hr-page", "kind": "page", "container": "space-HR",
                             "visibility": { "members": ["ann"] } } })
    );
    let public = find(&log, "old-public").unwrap();
    assert_eq!(
        public["object"]["title"], "Kafka wiki",
        "still read: {public}"
    );
    assert!(public.get("actor").is_none(), "{public}");
    let held = find(&log, "dan-old").unwrap();
    assert_eq!(
        (&held["actor"], &held["mentions"]),
        (&json!("dan"), &json!(["eve"]))
    );

    // The running graph forgot the dormant page's text with the log: it is not searchable; the
    // wiki, in use, still is.
    searchable(&app).await;

    // The page stays private: a thin comment arriving now (as Confluence sends them) and a
    // rebuild from the compacted log open it to nobody.
    let r = app
        .ingest(&json!([{ "id": "new-comment", "type": "comment.created",
            "at": "2026-10-31T09:00:00Z", "actor": "ann", "object": { "id": "hr-page" } }]))
        .await;
    let seq = r.body["seq"].as_i64().unwrap();
    assert!(context_used(&app.get(&suggestions("ann", seq)).await.body));
    assert!(!context_used(&app.get(&suggestions("eve", seq)).await.body));
    let r = app
        .send(
            Method::POST,
            "/v1/admin/projections/graph/rebuild",
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(context_used(&app.get(&suggestions("ann", seq)).await.body));
    assert!(!context_used(&app.get(&suggestions("eve", seq)).await.body));
    // Nor after a rebuild: the graph gives what the compacted log gives.
    searchable(&app).await;

    // On record; a second run finds nothing more to do.
    let audit = app.get("/v1/audit?limit=10").await;
    assert!(
        audit.text.contains("retention.log_compacted"),
        "{}",
        audit.text
    );
    let r = app.post("/v1/admin/retention/compact", json!({})).await;
    assert_eq!(
        (&r.body["deleted"], &r.body["rewritten"]),
        (&json!(0), &json!(0)),
        "{}",
        r.text
    );
    // Only an admin compacts.
    let r = app
        .send(
            Method::POST,
            "/v1/admin/retention/compact",
            Some(&app.service),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
}

/// The log's newest event is never deleted, even when nothing in it is needed: SQLite would
/// hand its number to the next event, which the projections, already past it, would skip.
#[tokio::test]
async fn the_newest_event_keeps_its_number() {
    let app = spawn_app().await;
    for id in ["ann", "cat"] {
        let r = app
            .put_person(id, json!({ "name": id, "country": "DE" }))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let r = app
        .ingest(&json!([
            { "id": "a", "type": "comment.created", "at": "2024-01-01T09:00:00Z", "actor": "ann",
              "mentions": ["bob"] },
            { "id": "b", "type": "comment.created", "at": "2024-01-02T09:00:00Z", "actor": "ann",
              "mentions": null }
        ]))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["seq"], 2);
    let r = app.post("/v1/admin/retention/compact", json!({})).await;
    assert_eq!(
        (
            &r.body["deleted"],
            &r.body["rewritten"],
            &r.body["unreadable"]
        ),
        (&json!(1), &json!(1), &json!(0)),
        "{}",
        r.text
    );
    let log = events(&app).await;
    assert_eq!(
        log,
        [json!({ "id": "b", "type": "comment.created", "at": "2024-01-02T09:00:00Z" })]
    );
    // The next event is numbered past it, and the graph applies it.
    let r = app
        .ingest(
            &json!([{ "id": "c", "type": "comment.created", "at": "2026-10-31T09:00:00Z",
            "actor": "ann", "mentions": ["cat"] }]),
        )
        .await;
    assert_eq!(r.body["seq"], 3, "{}", r.text);
    let s = app
        .get("/v1/people/ann/mention-suggestions?min_seq=3")
        .await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.text);
    assert_eq!(s.body["suggestions"][0]["person"], "cat", "{}", s.text);
}
