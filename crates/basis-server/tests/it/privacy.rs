//! Privacy rights through the API: consent over time, objections and overrides, opt-outs, the
//! overview, the processing record and the audit trail.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn withdrawal_is_not_retroactive() {
    let app = spawn_app().await;
    app.put_person("u-eve", json!({ "name": "Eve", "country": "FR" }))
        .await;
    app.set_time("2026-11-02T10:00:00Z"); // t1
    let r = app
        .post(
            "/v1/people/u-eve/consents",
            json!({ "purpose": "marketing.testimonials", "detail": "story form" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let consent_id = r.body["id"].clone();
    app.set_time("2026-11-03T10:00:00Z");
    let during = app.decide("u-eve", "marketing.testimonials", None).await;
    assert_eq!(during["allowed"], true);
    assert_eq!(during["evidence"]["kind"], "consent");
    assert_eq!(during["evidence"]["id"], consent_id);

    app.set_time("2026-11-05T10:00:00Z"); // t2
    let r = app
        .send(
            Method::DELETE,
            "/v1/people/u-eve/consents/marketing.testimonials",
            Some(&app.service),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // A decision about a time between t1 and t2 is the same after the withdrawal.
    let between = app
        .decide(
            "u-eve",
            "marketing.testimonials",
            Some("2026-11-03T10:00:00Z"),
        )
        .await;
    assert_eq!(between["allowed"], true);
    assert_eq!(between["evidence"]["id"], consent_id);
    let after = app.decide("u-eve", "marketing.testimonials", None).await;
    assert_eq!(
        (after["allowed"].as_bool(), after["reason"].as_str()),
        (Some(false), Some("no_consent"))
    );

    let record = app.get("/v1/people/u-eve/processing").await.body;
    let lines = record["processing"].as_array().unwrap();
    let allowed_before: i64 = lines
        .iter()
        .filter(|l| l["purpose"] == "marketing.testimonials")
        .map(|l| l["allowed"].as_i64().unwrap())
        .sum();
    assert_eq!(
        allowed_before, 2,
        "the processing done under the consent stays on record: {record}"
    );
    let history = record["privacy_history"].as_array().unwrap();
    assert_eq!(history[0]["from"], "2026-11-02T10:00:00Z");
    assert_eq!(history[0]["until"], "2026-11-05T10:00:00Z");
    assert_eq!(history[0]["detail"], "story form");

    let r = app
        .send(
            Method::DELETE,
            "/v1/people/u-eve/consents/marketing.testimonials",
            Some(&app.service),
            None,
        )
        .await;
    r.assert_problem(StatusCode::CONFLICT, "nothing_to_close");
}

#[tokio::test]
async fn objection_to_a_parent_denies_its_children() {
    let app = spawn_app().await;
    app.put_person("u-ole", json!({ "country": "NO" })).await;
    for child in [
        "functional.service.improve.mentions",
        "functional.service.improve.search_terms",
    ] {
        assert_eq!(app.decide("u-ole", child, None).await["allowed"], true);
    }
    let r = app
        .post(
            "/v1/people/u-ole/objections",
            json!({ "purpose": "functional.service.improve", "reason": "no analytics" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    app.clock.advance_millis(1);
    for child in [
        "functional.service.improve",
        "functional.service.improve.mentions",
        "functional.service.improve.search_terms",
        "functional.service.improve.experiments",
    ] {
        let d = app.decide("u-ole", child, None).await;
        assert_eq!(
            (d["allowed"].as_bool(), d["reason"].as_str()),
            (Some(false), Some("objected")),
            "{child}"
        );
        assert_eq!(d["evidence"]["purpose"], "functional.service.improve");
    }
    // Lifting the objection restores the use from then on.
    app.send(
        Method::DELETE,
        "/v1/people/u-ole/objections/functional.service.improve",
        Some(&app.service),
        None,
    )
    .await;
    assert_eq!(
        app.decide("u-ole", "functional.service.improve.mentions", None)
            .await["allowed"],
        true
    );
}

#[tokio::test]
async fn a_security_objection_is_overridden_with_recorded_grounds() {
    let app = spawn_app().await;
    app.put_person("u-sam", json!({ "country": "DE" })).await;
    app.post(
        "/v1/people/u-sam/objections",
        json!({ "purpose": "essential.service.security" }),
    )
    .await;
    app.clock.advance_millis(1);
    assert_eq!(
        app.decide("u-sam", "essential.service.security", None)
            .await["reason"],
        "objected"
    );

    let path = "/v1/people/u-sam/objections/essential.service.security/override";
    let as_service = app
        .send(
            Method::POST,
            path,
            Some(&app.service),
            Some(json!({ "grounds": "x" })),
        )
        .await;
    as_service.assert_problem(StatusCode::FORBIDDEN, "forbidden");
    app.post(path, json!({ "grounds": "  " }))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let r = app
        .post(
            path,
            json!({ "grounds": "credential stuffing from this account" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body["override_grounds"],
        "credential stuffing from this account"
    );
    app.clock.advance_millis(1);
    let d = app
        .decide("u-sam", "essential.service.security", None)
        .await;
    assert_eq!(
        (d["allowed"].as_bool(), d["reason"].as_str()),
        (Some(true), Some("objection_overridden"))
    );
    assert_eq!(
        d["evidence"]["grounds"],
        "credential stuffing from this account"
    );

    let audit = app.get("/v1/people/u-sam/audit").await.body;
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["objection.overridden", "objection.recorded"]);
    assert_eq!(
        audit[0]["detail"]["grounds"],
        "credential stuffing from this account"
    );
    assert_eq!(audit[0]["actor"], "admin-key");
}

#[tokio::test]
async fn an_objection_to_marketing_email_cannot_be_overridden() {
    let app = spawn_app().await;
    app.put_person("u-mia", json!({ "country": "US" })).await;
    app.post(
        "/v1/people/u-mia/objections",
        json!({ "purpose": "marketing.communications.email" }),
    )
    .await;
    let r = app
        .post(
            "/v1/people/u-mia/objections/marketing.communications.email/override",
            json!({ "grounds": "we really want to" }),
        )
        .await;
    r.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "right_not_offered");
    app.clock.advance_millis(1);
    assert_eq!(
        app.decide("u-mia", "marketing.communications.email", None)
            .await["reason"],
        "objected"
    );
}

#[tokio::test]
async fn opt_out_and_back_in_and_the_overview_says_why() {
    let app = spawn_app().await;
    app.put_person("u-li", json!({ "country": "IE" })).await;
    let r = app
        .post(
            "/v1/people/u-li/opt-outs",
            json!({ "purpose": "personalize.content" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    app.clock.advance_millis(1);
    let view = app.get("/v1/people/u-li/privacy").await.body;
    assert_eq!(view["jurisdiction"], "eea");
    let search = view["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["purpose"] == "personalize.content.search")
        .unwrap();
    assert_eq!(
        (search["allowed"].as_bool(), search["reason"].as_str()),
        (Some(false), Some("opted_out"))
    );
    assert_eq!(search["rights"]["opt_out"], true);
    let security = view["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["purpose"] == "essential.service.security")
        .unwrap();
    assert_eq!(security["rights"]["object"], "overridable");

    app.post(
        "/v1/people/u-li/opt-outs",
        json!({ "purpose": "essential.service.authentication" }),
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "right_not_offered");
    app.post(
        "/v1/people/u-li/consents",
        json!({ "purpose": "personalize.content" }),
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "right_not_offered");
    app.post(
        "/v1/people/u-li/consents",
        json!({ "purpose": "no.such.purpose" }),
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "unknown_purpose");
    app.post("/v1/people/u-li/consents", json!({ "purpos": "x" }))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.post(
        "/v1/people/u-nobody/consents",
        json!({ "purpose": "marketing.testimonials" }),
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND, "person_not_found");

    app.send(
        Method::DELETE,
        "/v1/people/u-li/opt-outs/personalize.content",
        Some(&app.service),
        None,
    )
    .await;
    app.clock.advance_millis(1);
    assert_eq!(
        app.decide("u-li", "personalize.content.search", None).await["allowed"],
        true
    );
}

#[tokio::test]
async fn unknown_subjects_get_no_contract_or_consent_uses() {
    let app = spawn_app().await;
    assert_eq!(
        app.decide("U074VRHQ11T", "personalize.content.feed", None)
            .await["reason"],
        "no_account"
    );
    assert_eq!(
        app.decide("U074VRHQ11T", "marketing.testimonials", None)
            .await["reason"],
        "no_consent"
    );
    assert_eq!(
        app.decide("U074VRHQ11T", "essential.service.security", None)
            .await["allowed"],
        true
    );
    app.post("/v1/decisions", json!({ "person": "x", "purpose": "nope" }))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "unknown_purpose");
    app.post(
        "/v1/decisions",
        json!({ "person": "x", "purpose": "marketing.testimonials", "at": "yesterday" }),
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}
