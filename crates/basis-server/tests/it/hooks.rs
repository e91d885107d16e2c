//! Webhooks end to end: signatures, mapping, identity resolution, idempotent retries.

use basis_connect::signatures::{github_header, slack_header, trello_header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, spawn_app};

const SECRET: &str = "0123456789abcdef-secret";

async fn configure(app: &TestApp, source: &str, callback: Option<&str>) {
    let mut body = json!({ "secret": SECRET });
    if let Some(url) = callback {
        body["callback_url"] = json!(url);
    }
    let r = app
        .send(
            Method::PUT,
            &format!("/v1/hooks/{source}/secret"),
            Some(&app.admin),
            Some(body),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
}

async fn deliver(app: &TestApp, source: &str, body: &str, headers: &[(&str, String)]) -> Reply {
    let mut req = app
        .client
        .post(app.url(&format!("/v1/hooks/{source}?tenant=acme")))
        .body(body.to_owned());
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    Reply::from_response(req.send().await.unwrap()).await
}

fn github_issue_assigned() -> String {
    json!({ "action": "assigned", "sender": { "login": "octocat" }, "assignee": { "login": "hubot" },
        "repository": { "full_name": "acme/app", "private": false },
        "issue": { "number": 3, "title": "Crash on start", "body": "see @octocat", "html_url": "https://github.com/acme/app/issues/3",
                   "updated_at": "2026-11-30T10:00:00Z" } })
    .to_string()
}

#[tokio::test]
async fn a_signed_github_delivery_is_stored_once_and_resolves_known_people() {
    let app = spawn_app().await;
    configure(&app, "github", None).await;
    app.put_person(
        "u-hubot",
        json!({ "name": "Hubot", "identities": { "github": "hubot" } }),
    )
    .await;
    let body = github_issue_assigned();
    let headers = vec![
        ("x-github-event", "issues".to_owned()),
        (
            "x-github-delivery",
            "72d3162e-cc78-11e3-81ab-4c9367dc0958".to_owned(),
        ),
        (
            "x-hub-signature-256",
            github_header(SECRET.as_bytes(), body.as_bytes()),
        ),
    ];
    let first = deliver(&app, "github", &body, &headers).await;
    assert_eq!(
        (first.status, first.body["accepted"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{}",
        first.text
    );
    let retry = deliver(&app, "github", &body, &headers).await;
    assert_eq!(
        (
            retry.body["accepted"].as_u64(),
            retry.body["duplicates"].as_u64()
        ),
        (Some(0), Some(1)),
        "a retried delivery is stored once"
    );
    let log = app.get("/v1/events").await.body;
    let e = &log["events"][0]["event"];
    assert_eq!(e["type"], "task.assigned");
    assert_eq!(
        e["assignee"], "u-hubot",
        "a claimed identity resolves to the person"
    );
    assert_eq!(
        e["actor"], "github:octocat",
        "an unclaimed one stays a stub subject"
    );
    // A stub has no account: contract-based uses are denied for it.
    assert_eq!(
        app.decide("github:octocat", "personalize.content.feed", None)
            .await["reason"],
        "no_account"
    );

    let tampered = body.replace("Crash on start", "Crash on stop");
    deliver(&app, "github", &tampered, &headers)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "bad_signature");
    let unsigned: Vec<(&str, String)> = headers[..2].to_vec();
    deliver(&app, "github", &body, &unsigned)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "bad_signature");
    assert_eq!(app.log_len().await, 1, "nothing stored from a bad delivery");

    let mut star = headers.clone();
    star[0].1 = "star".into();
    let ignored = deliver(&app, "github", &body, &star).await;
    assert_eq!(
        ignored.status,
        StatusCode::ACCEPTED,
        "unknown event types are acknowledged"
    );
    let garbage = "not json";
    let signed = vec![
        headers[0].clone(),
        headers[1].clone(),
        (
            "x-hub-signature-256",
            github_header(SECRET.as_bytes(), garbage.as_bytes()),
        ),
    ];
    deliver(&app, "github", garbage, &signed)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "malformed_payload");
    deliver(&app, "jira", "{}", &[])
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "hook_not_configured");
    let r = app
        .client
        .post(app.url("/v1/hooks/github"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "the workspace must be named"
    );
    deliver(&app, "myspace", "{}", &[])
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
}

/// Rotating a webhook secret takes effect at once: the old one, cached by the delivery before,
/// is refused from the next delivery on.
#[tokio::test]
async fn a_rotated_webhook_secret_takes_effect_at_once() {
    let app = spawn_app().await;
    configure(&app, "github", None).await;
    let body = github_issue_assigned();
    let signed = |secret: &str, delivery: &str| {
        vec![
            ("x-github-event", "issues".to_owned()),
            ("x-github-delivery", delivery.to_owned()),
            (
                "x-hub-signature-256",
                github_header(secret.as_bytes(), body.as_bytes()),
            ),
        ]
    };
    let first = deliver(&app, "github", &body, &signed(SECRET, "d-1")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let rotated = "fedcba9876543210-rotated";
    let r = app
        .send(
            Method::PUT,
            "/v1/hooks/github/secret",
            Some(&app.admin),
            Some(json!({ "secret": rotated })),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    deliver(&app, "github", &body, &signed(SECRET, "d-2"))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "bad_signature");
    let fresh = deliver(&app, "github", &body, &signed(rotated, "d-3")).await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.text);
}

#[tokio::test]
async fn slack_challenge_messages_and_replay_window() {
    let app = spawn_app().await;
    configure(&app, "slack", None).await;
    app.put_person("u-ann", json!({ "identities": { "slack": "U2" } }))
        .await;
    let now = (app.engine.now().as_millis() / 1_000).to_string();
    let sign = |body: &str, ts: &str| {
        vec![
            ("x-slack-request-timestamp", ts.to_owned()),
            (
                "x-slack-signature",
                slack_header(SECRET.as_bytes(), ts, body.as_bytes()),
            ),
        ]
    };

    let challenge = json!({ "type": "url_verification", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" }).to_string();
    let r = deliver(&app, "slack", &challenge, &sign(&challenge, &now)).await;
    assert_eq!(
        r.body["challenge"],
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );

    let message = json!({ "type": "event_callback", "event_id": "Ev1", "event": { "type": "message", "user": "U1",
        "text": "hi <@U2> <@U3>", "ts": "1719209649.631399", "channel": "C1" } }).to_string();
    let r = deliver(&app, "slack", &message, &sign(&message, &now)).await;
    assert_eq!(r.body["accepted"], 1, "{}", r.text);
    let e: Value = app.get("/v1/events").await.body["events"][0]["event"].clone();
    assert_eq!(e["mentions"], json!(["u-ann", "slack:U3"]));

    let stale = (app.engine.now().as_millis() / 1_000 - 301).to_string();
    deliver(&app, "slack", &message, &sign(&message, &stale))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "bad_signature");
}

#[tokio::test]
async fn trello_signs_the_callback_url_and_is_checked_with_head() {
    let app = spawn_app().await;
    let callback = "https://basis.example/v1/hooks/trello?tenant=acme";
    let r = app
        .send(
            Method::PUT,
            "/v1/hooks/trello/secret",
            Some(&app.admin),
            Some(json!({ "secret": SECRET })),
        )
        .await;
    r.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    configure(&app, "trello", Some(callback)).await;
    let head = app
        .client
        .head(app.url("/v1/hooks/trello"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    let body = json!({ "action": { "id": "a1", "type": "addMemberToBoard", "date": "2026-11-30T10:00:00.000Z", "idMemberCreator": "m0",
        "data": { "board": { "id": "b1", "name": "Roadmap" }, "idMemberAdded": "m7" } } }).to_string();
    let good = vec![(
        "x-trello-webhook",
        trello_header(SECRET.as_bytes(), body.as_bytes(), callback),
    )];
    let r = deliver(&app, "trello", &body, &good).await;
    assert_eq!(r.body["accepted"], 1, "{}", r.text);
    let elsewhere = vec![(
        "x-trello-webhook",
        trello_header(SECRET.as_bytes(), body.as_bytes(), "https://evil.example/"),
    )];
    deliver(&app, "trello", &body, &elsewhere)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "bad_signature");
    let service = app
        .send(
            Method::PUT,
            "/v1/hooks/github/secret",
            Some(&app.service),
            Some(json!({ "secret": SECRET })),
        )
        .await;
    service.assert_problem(StatusCode::FORBIDDEN, "forbidden");
}

/// Arbitrary bytes and arbitrary JSON, correctly signed, to every connector: never a panic,
/// never a 5xx, nothing stored from garbage that does not map.
#[tokio::test]
async fn arbitrary_signed_deliveries_never_cause_a_server_error() {
    let app = spawn_app().await;
    let callback = "https://basis.example/v1/hooks/trello?tenant=acme";
    for source in ["jira", "confluence", "github", "slack"] {
        configure(&app, source, None).await;
    }
    configure(&app, "trello", Some(callback)).await;
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let atoms = [
        "null",
        "true",
        "7",
        "\"x\"",
        "\"<@U1>\"",
        "[]",
        "{}",
        "\"2026-11-30T10:00:00Z\"",
        "[1,\"a\"]",
    ];
    let keys = [
        "action",
        "type",
        "event",
        "issue",
        "comment",
        "page",
        "user",
        "webhookEvent",
        "data",
        "id",
        "event_id",
        "challenge",
        "repository",
        "sender",
        "number",
        "key",
        "fields",
        "text",
        "ts",
        "channel",
        "board",
        "card",
        "date",
    ];
    let now = (app.engine.now().as_millis() / 1_000).to_string();
    for round in 0..300 {
        let body = if round % 3 == 0 {
            (0..(next() % 64))
                .map(|_| char::from(u8::try_from(next() % 128).unwrap()))
                .collect::<String>()
        } else {
            let mut json = String::from("{");
            for i in 0..(next() % 6) {
                if i > 0 {
                    json.push(',');
                }
                let key = keys[usize::try_from(next()).unwrap() % keys.len()];
                let value = if next() % 3 == 0 {
                    format!(
                        "{{\"{}\": {}}}",
                        keys[usize::try_from(next()).unwrap() % keys.len()],
                        atoms[usize::try_from(next()).unwrap() % atoms.len()]
                    )
                } else {
                    atoms[usize::try_from(next()).unwrap() % atoms.len()].to_owned()
                };
                json.push_str(&format!("\"{key}\": {value}"));
            }
            json.push('}');
            json
        };
        for source in ["jira", "confluence", "trello", "github", "slack"] {
            let headers: Vec<(&str, String)> = match source {
                "github" => vec![
                    (
                        "x-github-event",
                        ["issues", "issue_comment", "pull_request", "push"]
                            [usize::try_from(next()).unwrap() % 4]
                            .to_owned(),
                    ),
                    ("x-github-delivery", format!("d-{round}")),
                    (
                        "x-hub-signature-256",
                        github_header(SECRET.as_bytes(), body.as_bytes()),
                    ),
                ],
                "slack" => vec![
                    ("x-slack-request-timestamp", now.clone()),
                    (
                        "x-slack-signature",
                        slack_header(SECRET.as_bytes(), &now, body.as_bytes()),
                    ),
                ],
                "trello" => vec![(
                    "x-trello-webhook",
                    trello_header(SECRET.as_bytes(), body.as_bytes(), callback),
                )],
                _ => vec![(
                    "x-hub-signature",
                    github_header(SECRET.as_bytes(), body.as_bytes()),
                )],
            };
            let r = deliver(&app, source, &body, &headers).await;
            assert!(
                r.status.as_u16() < 500,
                "{source} answered {} to {body:?}: {}",
                r.status,
                r.text
            );
        }
    }
}

/// A stub identity seen in webhooks is merged when a person claims it: earlier events, the
/// processing record and derived views become the person's.
#[tokio::test]
async fn claiming_an_identity_merges_the_stub_into_the_person() {
    let app = spawn_app().await;
    configure(&app, "github", None).await;
    let body = github_issue_assigned();
    let headers = vec![
        ("x-github-event", "issues".to_owned()),
        ("x-github-delivery", "d-merge".to_owned()),
        (
            "x-hub-signature-256",
            github_header(SECRET.as_bytes(), body.as_bytes()),
        ),
    ];
    let seq = deliver(&app, "github", &body, &headers).await.body["seq"]
        .as_i64()
        .unwrap();
    app.engine.wait_for(Some(seq)).await.unwrap();
    assert_eq!(
        app.engine.activity_held("acme", "github:octocat").len(),
        1,
        "the stub's activity is derived under legitimate interest"
    );

    let r = app
        .put_person(
            "u-octo",
            json!({ "name": "Octo", "country": "DE", "identities": { "github": "octocat" } }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let e = app.get("/v1/events").await.body["events"][0]["event"].clone();
    assert_eq!(e["actor"], "u-octo", "earlier events now name the person");
    assert!(
        app.engine
            .activity_held("acme", "github:octocat")
            .is_empty()
    );
    assert_eq!(app.engine.activity_held("acme", "u-octo")[0].count, 1);
    let record = app.get("/v1/people/u-octo/processing").await.body;
    assert!(
        record["processing"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["purpose"] == "functional.service.improve"),
        "{record}"
    );
    let audit = app.get("/v1/people/u-octo/audit").await.body;
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "identity.merged"),
        "{audit}"
    );
    // Updating the person without a new identity merges nothing again.
    assert_eq!(
        app.put_person(
            "u-octo",
            json!({ "name": "Octo Cat", "identities": { "github": "octocat" } })
        )
        .await
        .status,
        StatusCode::OK
    );
}
