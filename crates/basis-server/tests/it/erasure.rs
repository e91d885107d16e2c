//! Erasure (Art. 17): the person leaves the store and every derived view; a legal hold stops it.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, event, spawn_app};

/// What the activity view holds about a person, in memory and in its stored snapshot.
async fn held(app: &TestApp, person: &str) -> Vec<i64> {
    let memory = app
        .engine
        .activity_held("acme", person)
        .into_iter()
        .map(|a| a.count);
    let stored = app
        .engine
        .store()
        .activity("acme", person)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.count);
    memory.chain(stored).collect()
}

#[tokio::test]
async fn erasure_removes_the_person_everywhere_and_is_refused_under_a_legal_hold() {
    let app = spawn_app().await;
    app.put_person("u-alice", json!({ "name": "Alice", "email": "Alice@Acme.example", "country": "DE", "identities": { "slack": "U1" } })).await;
    app.put_person("u-bob", json!({ "name": "Bob", "country": "US" }))
        .await;
    let mut mention = event("m1", "u-bob");
    mention["mentions"] = json!(["u-alice"]);
    let r = app
        .ingest(&json!([
            event("a1", "u-alice"),
            event("a2", "u-alice"),
            mention
        ]))
        .await;
    let seq = r.body["seq"].as_i64().unwrap();

    let activity = app
        .get(&format!("/v1/people/u-alice/activity?min_seq={seq}"))
        .await
        .body;
    assert_eq!(activity["personalized"], true, "{activity}");
    assert_eq!(activity["activity"][0]["count"], 2);
    let export = app.get("/v1/people/u-alice/export").await.body;
    assert_eq!(
        export["events"].as_array().unwrap().len(),
        3,
        "authored twice, mentioned once"
    );
    assert_eq!(export["derived"]["activity"][0]["count"], 2);

    // Under a legal hold: 409 with the reason, nothing removed.
    let hold = app
        .post(
            "/v1/legal-holds",
            json!({ "person": "u-alice", "reason": "case 2026-17" }),
        )
        .await;
    assert_eq!(hold.status, StatusCode::CREATED, "{}", hold.text);
    let refused = app
        .send(
            Method::DELETE,
            "/v1/people/u-alice",
            Some(&app.service),
            None,
        )
        .await;
    refused.assert_problem(StatusCode::CONFLICT, "legal_hold");
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("case 2026-17")
    );
    assert_eq!(app.get("/v1/people/u-alice").await.status, StatusCode::OK);

    let hold_id = hold.body["id"].as_i64().unwrap();
    let released = app
        .send(
            Method::DELETE,
            &format!("/v1/legal-holds/{hold_id}"),
            Some(&app.admin),
            None,
        )
        .await;
    assert_eq!(released.status, StatusCode::NO_CONTENT);
    let erased = app
        .send(
            Method::DELETE,
            "/v1/people/u-alice",
            Some(&app.service),
            None,
        )
        .await;
    assert_eq!(erased.status, StatusCode::NO_CONTENT, "{}", erased.text);

    app.get("/v1/people/u-alice")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "person_not_found");
    app.get("/v1/people/u-alice/export")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "person_not_found");
    let log = app.get("/v1/events").await;
    assert!(
        !log.text.contains("u-alice"),
        "the log still names the person: {}",
        log.text
    );
    assert_eq!(
        log.text.matches("203.0.113.7").count(),
        1,
        "only u-bob's request context is left"
    );
    assert_eq!(
        log.body["events"].as_array().unwrap().len(),
        3,
        "content stays, the person goes"
    );
    assert_eq!(log.body["events"][0]["event"]["actor"], "<erased>");
    assert_eq!(
        log.body["events"][0]["event"]["context"],
        serde_json::Value::Null,
        "request context of the erased person's actions is gone"
    );
    assert_eq!(log.body["events"][2]["event"]["actor"], "u-bob");
    assert!(
        held(&app, "u-alice").await.is_empty(),
        "the projection holds nothing about the person"
    );
    assert!(
        app.engine
            .store()
            .is_suppressed(
                "acme",
                &basis_engine::keys::email_hash("alice@acme.example")
            )
            .await
            .unwrap()
    );
    assert_eq!(
        app.engine
            .store()
            .person_by_identity("acme", "slack", "U1")
            .await
            .unwrap(),
        None
    );

    // A rebuild from the log does not bring the person back.
    app.post("/v1/admin/projections/activity/rebuild", json!({}))
        .await;
    assert!(held(&app, "u-alice").await.is_empty());
    let audit = app.get("/v1/audit").await.body;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"person.erased")
            && actions.contains(&"erasure.refused")
            && actions.contains(&"legal_hold.placed"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn an_objection_purges_the_projection_and_reads_say_why() {
    let app = spawn_app().await;
    app.put_person("u-kai", json!({ "country": "NL" })).await;
    let seq = app.ingest(&json!([event("k1", "u-kai")])).await.body["seq"]
        .as_i64()
        .unwrap();
    let before = app
        .get(&format!("/v1/people/u-kai/activity?min_seq={seq}"))
        .await
        .body;
    assert_eq!(before["activity"][0]["count"], 1);
    app.post(
        "/v1/people/u-kai/objections",
        json!({ "purpose": "functional.service.improve" }),
    )
    .await;
    app.clock.advance_millis(1);
    let after = app.get("/v1/people/u-kai/activity").await.body;
    assert_eq!(after["personalized"], false);
    assert_eq!(after["decision"]["reason"], "objected");
    assert!(
        held(&app, "u-kai").await.is_empty(),
        "purged, not just hidden"
    );
    // New events are not derived while the objection stands.
    let seq = app.ingest(&json!([event("k2", "u-kai")])).await.body["seq"]
        .as_i64()
        .unwrap();
    app.engine.wait_for(Some(seq)).await.unwrap();
    assert!(held(&app, "u-kai").await.is_empty());
    app.get("/v1/people/u-kai/activity?min_seq=999999")
        .await
        .assert_problem(StatusCode::SERVICE_UNAVAILABLE, "not_caught_up");
}
