//! Person-scoped privacy-center tokens: a person sees and exercises their own rights, and
//! nothing else.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_privacy_center_token_opens_only_the_persons_own_rights() {
    let app = spawn_app().await;
    app.put_person("u-ana", json!({ "name": "Ana", "country": "PT" }))
        .await;
    app.put_person("u-ben", json!({ "name": "Ben", "country": "PT" }))
        .await;
    let minted = app
        .send(
            Method::POST,
            "/v1/people/u-ana/privacy-token",
            Some(&app.service),
            None,
        )
        .await;
    assert_eq!(minted.status, StatusCode::CREATED, "{}", minted.text);
    let token = minted.body["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("bpt_"));

    // Their own rights.
    assert_eq!(
        app.send(Method::GET, "/v1/people/u-ana/privacy", Some(&token), None)
            .await
            .status,
        StatusCode::OK
    );
    let consent = app
        .send(
            Method::POST,
            "/v1/people/u-ana/consents",
            Some(&token),
            Some(json!({ "purpose": "marketing.testimonials" })),
        )
        .await;
    assert_eq!(consent.status, StatusCode::CREATED, "{}", consent.text);
    app.clock.advance_millis(1);
    let withdrawn = app
        .send(
            Method::DELETE,
            "/v1/people/u-ana/consents/marketing.testimonials",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(withdrawn.status, StatusCode::OK);
    assert_eq!(
        app.send(Method::GET, "/v1/people/u-ana/export", Some(&token), None)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.send(Method::GET, "/v1/policy", Some(&token), None)
            .await
            .status,
        StatusCode::OK
    );
    let audit = app.get("/v1/people/u-ana/audit").await.body;
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "consent.granted" && a["actor"] == "person"),
        "{audit}"
    );

    // Nothing else.
    for (method, path, body) in [
        (Method::GET, "/v1/people/u-ben/privacy", None),
        (
            Method::POST,
            "/v1/people/u-ben/objections",
            Some(json!({ "purpose": "functional.service.improve" })),
        ),
        (
            Method::PUT,
            "/v1/people/u-ana",
            Some(json!({ "account": "active" })),
        ),
        (Method::POST, "/v1/events", Some(json!([]))),
        (
            Method::POST,
            "/v1/decisions",
            Some(json!({ "person": "u-ben", "purpose": "marketing.testimonials" })),
        ),
        (Method::GET, "/v1/people/u-ana/audit", None),
        (Method::POST, "/v1/people/u-ana/privacy-token", None),
        (Method::GET, "/v1/records", None),
    ] {
        app.send(method.clone(), path, Some(&token), body)
            .await
            .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    }

    // Tampered or expired tokens are not credentials at all.
    // (Change the last character to one it is not: a fixed replacement would sometimes equal it.)
    let flipped = if token.ends_with('0') { '1' } else { '0' };
    let tampered = format!("{}{flipped}", &token[..token.len() - 1]);
    app.send(
        Method::GET,
        "/v1/people/u-ana/privacy",
        Some(&tampered),
        None,
    )
    .await
    .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");
    app.clock.advance_millis(15 * 60 * 1_000);
    app.send(Method::GET, "/v1/people/u-ana/privacy", Some(&token), None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthorized");

    // Minting checks the person and the lifetime.
    app.send(
        Method::POST,
        "/v1/people/u-nobody/privacy-token",
        Some(&app.service),
        None,
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND, "person_not_found");
    app.send(
        Method::POST,
        "/v1/people/u-ana/privacy-token",
        Some(&app.service),
        Some(json!({ "ttl_seconds": 0 })),
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let long = app
        .send(
            Method::POST,
            "/v1/people/u-ana/privacy-token",
            Some(&app.service),
            Some(json!({ "ttl_seconds": 3600 })),
        )
        .await;
    assert_eq!(long.status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_token_is_bound_to_its_workspace() {
    let app = spawn_app().await;
    let other = app
        .engine
        .create_key("globex", basis_store::Role::Admin, "globex")
        .await
        .unwrap();
    app.put_person("u-ana", json!({ "name": "Ana" })).await;
    app.send(
        Method::PUT,
        "/v1/people/u-ana",
        Some(&other),
        Some(json!({ "name": "Other Ana" })),
    )
    .await;
    let token = app
        .send(
            Method::POST,
            "/v1/people/u-ana/privacy-token",
            Some(&other),
            None,
        )
        .await
        .body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let seen = app
        .send(Method::GET, "/v1/people/u-ana", Some(&token), None)
        .await;
    assert_eq!(
        seen.body["name"], "Other Ana",
        "the token speaks for the person in the workspace that minted it"
    );
}
