//! The interaction graph through the API: @mention suggestions, connections, experts,
//! recommendations and affiliation — ranked by interactions only where the gate allows, never
//! revealing content or people the asker may not see, forgetting erased people.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, spawn_app};

const MENTIONS: &str = "functional.service.improve.mentions";

/// Ann (team eng, acme.com) mentions Bob three times and Dan once; Bob wrote a public Kafka
/// guide Dan commented on; Cat wrote a Kafka payroll page only Ann and Cat may see; Eve is in
/// team eng; Fay is at acme.com too.
async fn workspace() -> (TestApp, i64) {
    let app = spawn_app().await;
    for (id, name, email, teams, dept) in [
        (
            "ann",
            "Ann Arbor",
            "ann@acme.com",
            vec!["eng"],
            "Engineering",
        ),
        (
            "bob",
            "Bob Åkesson",
            "bob@mail.acme.com",
            vec![],
            "Engineering",
        ),
        ("cat", "Cat Clark", "cat@gmail.com", vec![], "Finance"),
        (
            "dan",
            "Dan Dorsey",
            "dan@partner.io",
            vec!["ops"],
            "Operations",
        ),
        ("eve", "Eve Evans", "eve@acme.com", vec!["eng"], "Support"),
        ("fay", "Fay Fox", "fay@acme.com", vec![], "Legal"),
    ] {
        let r = app
            .put_person(
                id,
                json!({ "name": name, "email": email, "teams": teams, "department": dept, "country": "DE" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let mut events = vec![
        json!({ "id": "g1", "type": "content.created", "at": "2026-10-20T09:00:00Z", "actor": "bob",
                "object": { "id": "guide", "kind": "page", "title": "Kafka tuning guide",
                            "body": "Partitions, consumer lag and retention for Kafka clusters.",
                            "container": "space-ENG", "visibility": { "public": true } } }),
        json!({ "id": "g2", "type": "comment.created", "at": "2026-10-21T09:00:00Z", "actor": "dan",
                "object": { "id": "guide", "container": "space-ENG" } }),
        json!({ "id": "s1", "type": "content.created", "at": "2026-10-22T09:00:00Z", "actor": "cat",
                "object": { "id": "payroll", "kind": "page", "title": "Kafka payroll migration",
                            "body": "Moving payroll events to Kafka.", "container": "space-FIN",
                            "visibility": { "members": ["ann", "cat"] } } }),
        json!({ "id": "d1", "type": "comment.created", "at": "2026-10-28T09:00:00Z", "actor": "ann",
                "object": { "id": "plan", "kind": "page", "title": "Q4 plan", "container": "space-ENG" },
                "mentions": ["dan"] }),
    ];
    for k in 0..3 {
        events.push(json!({ "id": format!("m{k}"), "type": "comment.created",
            "at": format!("2026-10-{}T09:00:00Z", 29 + k), "actor": "ann",
            "object": { "id": "plan", "container": "space-ENG" }, "mentions": ["bob"] }));
    }
    let r = app.ingest(&Value::Array(events)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let seq = r.body["seq"].as_i64().unwrap();
    (app, seq)
}

fn people(list: &Value, field: &str) -> Vec<String> {
    list[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["person"].as_str().unwrap().to_owned())
        .collect()
}

fn signals(list: &Value, person: &str) -> Vec<String> {
    list["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["person"] == person)
        .map(|s| {
            s["signals"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["signal"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn service_reply(app: &TestApp, path: &str) -> Reply {
    app.send(Method::GET, path, Some(&app.service), None).await
}

async fn service_get(app: &TestApp, path: &str) -> Value {
    let r = service_reply(app, path).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    r.body
}

#[tokio::test]
async fn suggestions_rank_by_interactions_explain_and_match_names_loosely() {
    let (app, seq) = workspace().await;
    let s = service_get(
        &app,
        &format!("/v1/people/ann/mention-suggestions?min_seq={seq}"),
    )
    .await;
    assert_eq!(s["personalized"], true, "{s}");
    let order = people(&s, "suggestions");
    // Dan's one mention four days ago (×0.4 at a 3-day half-life) still counts a share of
    // Bob's recent ones, above Eve's team (0.05).
    assert_eq!(order[..3], ["bob", "dan", "eve"], "{s}");
    let detail = s["suggestions"][0]["signals"][0]["detail"]
        .as_str()
        .unwrap();
    assert!(detail.contains("you mentioned them 3 times"), "{detail}");
    // A prefix does not change the scale: Dan's share is of Bob's tie (asked about at the
    // gate with Dan's though Bob does not match "d"), not of his own.
    let share = |s: &Value| s["suggestions"][0]["signals"][0]["score"].as_f64().unwrap();
    let all = share(
        &s["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["person"] == "dan")
            .map(|d| json!({ "suggestions": [d] }))
            .unwrap(),
    );
    let s = service_get(&app, "/v1/people/ann/mention-suggestions?prefix=d").await;
    assert_eq!(people(&s, "suggestions")[0], "dan", "{s}");
    assert!(
        (share(&s) - all).abs() < 1e-9 && all < 0.5,
        "{all} then {}",
        share(&s)
    );
    // Case- and accent-insensitive prefix on name, id and e-mail.
    let s = service_get(&app, "/v1/people/ann/mention-suggestions?prefix=AKE").await;
    assert_eq!(people(&s, "suggestions"), ["bob"]);
    let s = service_get(&app, "/v1/people/ann/mention-suggestions?prefix=e").await;
    assert_eq!(
        people(&s, "suggestions"),
        ["eve"],
        "team signal, no one else starts with e"
    );
    assert!(signals(&s, "eve").contains(&"team".to_owned()));
    // Fay shares Ann's e-mail organization: the boost says so.
    let s = service_get(&app, "/v1/people/ann/mention-suggestions?prefix=fa").await;
    assert!(
        signals(&s, "fay").contains(&"organization".to_owned()),
        "{s}"
    );
    // Bad input is a 400, an unknown person a 404, a privacy token is refused.
    service_reply(&app, "/v1/people/ann/mention-suggestions?limit=0")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "bad_query");
    service_reply(&app, "/v1/people/nobody/mention-suggestions")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "person_not_found");
    let token = app
        .send(
            Method::POST,
            "/v1/people/ann/privacy-token",
            Some(&app.service),
            None,
        )
        .await
        .body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.send(
        Method::GET,
        "/v1/people/ann/mention-suggestions",
        Some(&token),
        None,
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn an_objection_by_either_person_removes_the_edge_but_not_the_name() {
    let (app, seq) = workspace().await;
    let path = format!("/v1/people/ann/mention-suggestions?prefix=bo&min_seq={seq}");
    assert!(signals(&service_get(&app, &path).await, "bob").contains(&"affinity".to_owned()));
    // Bob objects: Ann still finds him by name, without the edge.
    let r = app
        .post("/v1/people/bob/objections", json!({ "purpose": MENTIONS }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    app.clock.advance_millis(1);
    let s = service_get(&app, &path).await;
    assert_eq!(people(&s, "suggestions"), ["bob"]);
    assert!(!signals(&s, "bob").contains(&"affinity".to_owned()), "{s}");
    assert_eq!(s["personalized"], true);
    // With an empty prefix the edge alone made Bob a candidate: now nothing does.
    let s = service_get(&app, "/v1/people/ann/mention-suggestions").await;
    assert!(
        !people(&s, "suggestions").contains(&"bob".to_owned()),
        "{s}"
    );
    // Ann objects (Bob lifted his): nothing personal ranks, and the answer says why.
    app.send(
        Method::DELETE,
        &format!("/v1/people/bob/objections/{MENTIONS}"),
        Some(&app.service),
        None,
    )
    .await;
    app.post("/v1/people/ann/objections", json!({ "purpose": MENTIONS }))
        .await;
    app.clock.advance_millis(1);
    let s = service_get(&app, &path).await;
    assert_eq!(s["personalized"], false);
    assert_eq!(s["decision"]["reason"], "objected");
    assert!(s["fallback"].as_str().unwrap().contains("name"), "{s}");
    assert_eq!(people(&s, "suggestions"), ["bob"]);
    assert!(!signals(&s, "bob").contains(&"affinity".to_owned()), "{s}");
}

#[tokio::test]
async fn no_answer_reveals_content_or_people_the_asker_may_not_see() {
    let (app, seq) = workspace().await;
    // Writing on the payroll page: only people who can see it are suggested.
    let s = service_get(
        &app,
        &format!("/v1/people/ann/mention-suggestions?context=payroll&min_seq={seq}"),
    )
    .await;
    assert_eq!(s["context_used"], true);
    assert_eq!(people(&s, "suggestions"), ["cat"], "{s}");
    let s = service_get(
        &app,
        "/v1/people/ann/mention-suggestions?context=payroll&include_invitees=true",
    )
    .await;
    let bob = s["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["person"] == "bob")
        .unwrap();
    assert_eq!(bob["can_see_context"], false);
    assert_eq!(s["suggestions"][0]["person"], "cat");
    // Eve cannot see the payroll page: naming it as context tells her nothing about it.
    let hidden = service_get(&app, "/v1/people/eve/mention-suggestions?context=payroll").await;
    let unknown = service_get(
        &app,
        "/v1/people/eve/mention-suggestions?context=no-such-page",
    )
    .await;
    assert_eq!(hidden["context_used"], false);
    assert_eq!(hidden["suggestions"], unknown["suggestions"]);
    // Being added to the payroll page's space does not override the page's own member list.
    let r = app
        .ingest(
            &json!([{ "id": "j1", "type": "member.added", "at": "2026-10-31T12:00:00Z",
            "actor": "cat", "member": "eve", "object": { "id": "space-FIN", "kind": "space" } }]),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let seq = r.body["seq"].as_i64().unwrap();
    let hidden = service_get(
        &app,
        &format!("/v1/people/eve/mention-suggestions?context=payroll&min_seq={seq}"),
    )
    .await;
    assert_eq!(hidden["context_used"], false);
    // Experts on Kafka: Ann sees Cat's payroll page, Eve does not.
    let ann = service_get(&app, "/v1/experts?topic=kafka&as=ann").await;
    assert_eq!(ann["documents_considered"], 2);
    assert!(people(&ann, "experts").contains(&"cat".to_owned()), "{ann}");
    let eve = service_get(&app, "/v1/experts?topic=kafka&as=eve").await;
    assert_eq!(eve["documents_considered"], 1);
    assert!(!eve.to_string().contains("payroll"), "{eve}");
    assert_eq!(
        people(&eve, "experts"),
        ["bob", "dan"],
        "author before commenter"
    );
    // Recommendations: the payroll page is never offered to someone who cannot see it.
    let recs = service_get(&app, "/v1/people/eve/recommendations").await;
    assert!(!recs.to_string().contains("payroll"), "{recs}");
    // Bad queries.
    service_reply(&app, "/v1/experts?topic=kafka")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "bad_query");
    service_reply(&app, "/v1/experts?topic=the&as=ann")
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}

#[tokio::test]
async fn readers_are_not_shown_and_null_mentions_are_read() {
    let (app, _) = workspace().await;
    let r = app
        .ingest(&json!([
            { "id": "v1", "type": "content.viewed", "at": "2026-10-31T10:00:00Z", "actor": "fay",
              "object": { "id": "guide" } },
            { "id": "n1", "type": "content.created", "at": "2026-10-31T11:00:00Z", "actor": "eve",
              "mentions": null,
              "object": { "id": "runbook", "title": "Kafka runbook", "visibility": { "public": true } } }
        ]))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let seq = r.body["seq"].as_i64().unwrap();
    // Fay read the guide: she is neither a participant of it nor an expert on Kafka.
    let s = service_get(
        &app,
        &format!("/v1/people/ann/mention-suggestions?context=guide&prefix=fa&min_seq={seq}"),
    )
    .await;
    assert!(
        !signals(&s, "fay").contains(&"context_participant".to_owned()),
        "{s}"
    );
    let experts = service_get(&app, "/v1/experts?topic=kafka&as=ann").await;
    assert!(
        !people(&experts, "experts").contains(&"fay".to_owned()),
        "{experts}"
    );
    assert!(!experts.to_string().contains("viewed"), "{experts}");
    // The event with `"mentions": null` reached the graph.
    assert!(
        people(&experts, "experts").contains(&"eve".to_owned()),
        "{experts}"
    );
}

#[tokio::test]
async fn refusing_every_purpose_that_uses_ties_purges_them() {
    let (app, seq) = workspace().await;
    let path = format!("/v1/people/ann/connections?min_seq={seq}");
    assert_eq!(
        service_get(&app, &path).await["connections"][0]["person"],
        "bob"
    );
    for purpose in [
        "personalize.content.connections",
        "personalize.content.recommendations",
    ] {
        let r = app
            .post("/v1/people/bob/opt-outs", json!({ "purpose": purpose }))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    app.post("/v1/people/bob/objections", json!({ "purpose": MENTIONS }))
        .await;
    app.clock.advance_millis(1);
    // Bob opts back in: the ties were purged, not merely hidden.
    for purpose in [
        "personalize.content.connections",
        "personalize.content.recommendations",
    ] {
        let r = app
            .send(
                Method::DELETE,
                &format!("/v1/people/bob/opt-outs/{purpose}"),
                Some(&app.service),
                None,
            )
            .await;
        assert!(r.status.is_success(), "{}", r.text);
    }
    app.clock.advance_millis(1);
    let c = service_get(&app, "/v1/people/ann/connections").await;
    assert!(
        !people(&c, "connections").contains(&"bob".to_owned()),
        "{c}"
    );
}

#[tokio::test]
async fn objected_experts_never_appear_and_erasure_removes_a_person_everywhere() {
    let (app, seq) = workspace().await;
    let experts = service_get(
        &app,
        &format!("/v1/experts?topic=kafka+tuning&as=eve&min_seq={seq}"),
    )
    .await;
    assert_eq!(experts["experts"][0]["person"], "bob");
    assert_eq!(
        experts["experts"][0]["evidence"][0]["roles"],
        json!(["created"])
    );
    let r = app
        .post(
            "/v1/people/bob/objections",
            json!({ "purpose": "personalize.content.profiling" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    app.clock.advance_millis(1);
    let experts = service_get(&app, "/v1/experts?topic=kafka+tuning&as=eve").await;
    assert!(
        !people(&experts, "experts").contains(&"bob".to_owned()),
        "{experts}"
    );
    // Dan is erased: gone from suggestions (even by name), connections, experts.
    let r = app
        .send(Method::DELETE, "/v1/people/dan", Some(&app.admin), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    for path in [
        "/v1/people/ann/mention-suggestions",
        "/v1/people/ann/mention-suggestions?prefix=dan",
        "/v1/people/ann/connections",
        "/v1/experts?topic=kafka&as=ann",
        "/v1/people/ann/recommendations",
    ] {
        let body = service_get(&app, path).await.to_string();
        assert!(
            !body.contains("dan") && !body.contains("Dorsey"),
            "{path}: {body}"
        );
    }
}

/// A tie's share is of the strongest tie the gate lets the writer use, also when it refuses the
/// writer's four strongest: the next are asked about, and a typed prefix does not make its
/// own best tie count in full.
#[tokio::test]
async fn the_scale_stays_the_strongest_usable_tie_when_the_strongest_object() {
    let app = spawn_app().await;
    let mut events = Vec::new();
    for (id, name, times) in [
        ("wen", "Wen Writer", 0),
        ("s1", "Sam One", 8),
        ("s2", "Sam Two", 8),
        ("s3", "Sam Three", 8),
        ("s4", "Sam Four", 8),
        ("mia", "Mia Middle", 4),
        ("zed", "Zed Weak", 1),
    ] {
        let r = app
            .put_person(id, json!({ "name": name, "country": "DE" }))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        for k in 0..times {
            events.push(
                json!({ "id": format!("{id}-{k}"), "type": "comment.created",
                "at": "2026-10-25T09:00:00Z", "actor": "wen", "mentions": [id] }),
            );
        }
    }
    let r = app.ingest(&Value::Array(events)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let seq = r.body["seq"].as_i64().unwrap();
    for id in ["s1", "s2", "s3", "s4"] {
        let r = app
            .post(
                &format!("/v1/people/{id}/objections"),
                json!({ "purpose": "functional.service.improve.mentions" }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    app.clock.advance_millis(1);
    let share = |s: &Value, who: &str| -> f64 {
        s["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["person"] == who)
            .and_then(|x| {
                x["signals"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|g| g["signal"] == "affinity")
            })
            .map_or(0.0, |g| g["score"].as_f64().unwrap())
    };
    let all = service_get(
        &app,
        &format!("/v1/people/wen/mention-suggestions?min_seq={seq}"),
    )
    .await;
    assert!((share(&all, "mia") - 1.0).abs() < 1e-3, "{all}");
    assert!((share(&all, "zed") - 0.25).abs() < 1e-3, "{all}");
    let typed = service_get(&app, "/v1/people/wen/mention-suggestions?prefix=ze").await;
    assert!((share(&typed, "zed") - 0.25).abs() < 1e-3, "{typed}");
}

/// Everyone whose contributions are weighed was put to the gate first, not only those who made
/// the list: Dan commented on the guide, so his part was read for profiling even though the
/// list stops at Bob.
#[tokio::test]
async fn every_expert_weighed_is_asked_about_first() {
    let (app, seq) = workspace().await;
    let experts = service_get(
        &app,
        &format!("/v1/experts?topic=kafka+tuning&as=eve&limit=1&min_seq={seq}"),
    )
    .await;
    assert_eq!(people(&experts, "experts"), ["bob"], "{experts}");
    let profiling = |record: &Value| -> i64 {
        record["processing"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["purpose"] == "personalize.content.profiling")
            .map(|l| l["allowed"].as_i64().unwrap())
            .sum()
    };
    let dan = app.get("/v1/people/dan/processing").await.body;
    assert_eq!(profiling(&dan), 1, "{dan}");
    // Cat wrote about Kafka on a page Eve cannot see: not a candidate, not asked about.
    let cat = app.get("/v1/people/cat/processing").await.body;
    assert_eq!(profiling(&cat), 0, "{cat}");
}

#[tokio::test]
async fn connections_and_recommendations_explain_themselves_and_follow_the_gate() {
    let (app, seq) = workspace().await;
    let c = service_get(&app, &format!("/v1/people/ann/connections?min_seq={seq}")).await;
    assert_eq!(c["personalized"], true);
    assert_eq!(people(&c, "connections")[..3], ["bob", "dan", "eve"], "{c}");
    assert!(
        c["connections"][0]["reasons"][0]
            .as_str()
            .unwrap()
            .contains("you mentioned them 3 times")
    );
    assert_eq!(
        c["connections"][1]["reasons"],
        json!([
            "you mentioned them once since 2026-09-28",
            "last contact on 2026-10-28"
        ])
    );
    assert_eq!(c["connections"][2]["reasons"], json!(["both in team eng"]));
    // Bob opts out of connections: his tie no longer counts; team membership still does.
    let r = app
        .post(
            "/v1/people/bob/opt-outs",
            json!({ "purpose": "personalize.content.connections" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    app.clock.advance_millis(1);
    let c = service_get(&app, "/v1/people/ann/connections").await;
    // Dan's is now Ann's strongest usable tie.
    assert_eq!(people(&c, "connections"), ["dan", "eve"], "{c}");
    // Ann has not touched Bob's Kafka guide: recommended because of Bob, with the reason.
    let r = service_get(&app, "/v1/people/ann/recommendations").await;
    assert_eq!(r["personalized"], true);
    let guide = r["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["document"]["id"] == "guide")
        .unwrap_or_else(|| panic!("{r}"));
    assert!(guide["reasons"].to_string().contains("Bob"), "{guide}");
    // Content Ann already worked on is not recommended.
    assert!(!r.to_string().contains("\"plan\""), "{r}");
    // Ann opts out: nothing is recommended from her data, and the answer says why.
    app.post(
        "/v1/people/ann/opt-outs",
        json!({ "purpose": "personalize.content.recommendations" }),
    )
    .await;
    app.clock.advance_millis(1);
    let r = service_get(&app, "/v1/people/ann/recommendations").await;
    assert_eq!(r["personalized"], false);
    assert_eq!(r["decision"]["reason"], "opted_out");
    assert_eq!(r["recommendations"], json!([]));
}

#[tokio::test]
async fn affiliation_comes_from_the_email_domain_and_an_objection_removes_it() {
    let (app, _) = workspace().await;
    assert_eq!(
        app.get("/v1/people/bob").await.body["affiliation"]["organization"],
        "acme.com"
    );
    assert!(
        app.get("/v1/people/cat")
            .await
            .body
            .get("affiliation")
            .is_none(),
        "free mail"
    );
    let r = app
        .post(
            "/v1/people/bob/objections",
            json!({ "purpose": "personalize.system.affiliation" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    app.clock.advance_millis(1);
    assert!(
        app.get("/v1/people/bob")
            .await
            .body
            .get("affiliation")
            .is_none()
    );
}

#[tokio::test]
async fn another_tenant_sees_nothing_of_this_graph() {
    let (app, _) = workspace().await;
    let other = app
        .engine
        .create_key("globex", basis_store::Role::Service, "globex")
        .await
        .unwrap();
    app.send(
        Method::GET,
        "/v1/people/ann/mention-suggestions",
        Some(&other),
        None,
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND, "person_not_found");
    app.send(
        Method::GET,
        "/v1/experts?topic=kafka&as=ann",
        Some(&other),
        None,
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND, "person_not_found");
}

#[tokio::test]
async fn the_graph_is_rebuilt_from_the_log_after_a_restart_without_erased_people() {
    use basis_engine::intelligence::MentionQuery;
    use basis_engine::projections::Outcome;

    let dir = tempfile::tempdir().unwrap();
    let config = basis_server::ServerConfig {
        data_dir: dir.path().to_path_buf(),
        ..basis_server::ServerConfig::default()
    };
    let clock = std::sync::Arc::new(basis_core::clock::ManualClock::new(crate::helpers::at(
        crate::helpers::T0,
    )));
    let q = MentionQuery {
        limit: 10,
        ..MentionQuery::default()
    };
    let ranked = |engine: basis_engine::Engine| {
        let q = q.clone();
        async move {
            let worker = engine.graph_worker();
            while let Outcome::Applied { .. } = worker.try_execute_next().await.unwrap() {}
            engine
                .mention_suggestions("acme", "ann", &q, None)
                .await
                .unwrap()
                .suggestions
                .into_iter()
                .map(|s| s.person)
                .collect::<Vec<_>>()
        }
    };
    let (engine, _) = basis_server::open_engine(&config, clock.clone())
        .await
        .unwrap();
    for id in ["ann", "bob", "cat"] {
        engine
            .put_person("acme", id, basis_core::person::PersonInput::default())
            .await
            .unwrap();
    }
    let events = json!([
        { "id": "a", "type": "comment.created", "at": "2026-10-31T09:00:00Z", "actor": "ann", "mentions": ["bob"] },
        { "id": "b", "type": "comment.created", "at": "2026-10-30T09:00:00Z", "actor": "ann", "mentions": ["cat"] }
    ]);
    let batch = basis_engine::ingest::parse_batch(&events.to_string(), false).unwrap();
    engine.ingest("acme", batch).await.unwrap();
    assert_eq!(ranked(engine.clone()).await, ["bob", "cat"]);
    let actor = basis_engine::Actor {
        tenant: "acme",
        name: "test",
    };
    engine.erase_person(&actor, "bob").await.unwrap();
    assert_eq!(ranked(engine.clone()).await, ["cat"]);
    drop(engine);
    let (engine, _) = basis_server::open_engine(&config, clock).await.unwrap();
    assert_eq!(ranked(engine).await, ["cat"]);
}

#[tokio::test]
async fn a_rebuild_from_the_log_gives_the_same_answers() {
    let (app, seq) = workspace().await;
    let path = format!("/v1/people/ann/connections?min_seq={seq}");
    let before = service_get(&app, &path).await;
    let r = app
        .post("/v1/admin/projections/graph/rebuild", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["seq"], seq);
    assert_eq!(r.body["tenant"], "acme");
    assert!(r.body["events"].as_u64().unwrap() > 0, "{}", r.text);
    assert_eq!(service_get(&app, &path).await, before);
    // Another tenant's admin rebuilds only their own (empty) graph: nothing of this one is
    // replayed, and its answers stand.
    let other = app
        .engine
        .create_key("globex", basis_store::Role::Admin, "globex-admin")
        .await
        .unwrap();
    let r = app
        .send(
            Method::POST,
            "/v1/admin/projections/graph/rebuild",
            Some(&other),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (&r.body["tenant"], &r.body["events"]),
        (&json!("globex"), &json!(0))
    );
    assert_eq!(service_get(&app, &path).await, before);
    app.send(
        Method::POST,
        "/v1/admin/projections/graph/rebuild",
        Some(&app.service),
        None,
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn the_half_life_is_configurable() {
    use basis_engine::projections::Outcome;

    // Ann mentioned Bob three times forty days ago and Eve once yesterday: with the default
    // 3-day half-life Bob's mentions have faded below Eve's one (3 × 2^-13.3 against 0.79);
    // with 30 days they have not (3 × 2^-1.3 = 1.19 against 0.98).
    let mut order = Vec::new();
    for half_life_days in [3.0, 30.0] {
        let dir = tempfile::tempdir().unwrap();
        let mut config = basis_server::ServerConfig {
            data_dir: dir.path().to_path_buf(),
            ..basis_server::ServerConfig::default()
        };
        config.engine.affinity.half_life_days = half_life_days;
        let clock = std::sync::Arc::new(basis_core::clock::ManualClock::new(crate::helpers::at(
            "2026-11-01T09:00:00Z",
        )));
        let (engine, _) = basis_server::open_engine(&config, clock).await.unwrap();
        for (id, teams) in [
            ("ann", vec!["eng".to_owned()]),
            ("bob", vec![]),
            ("eve", vec!["eng".to_owned()]),
        ] {
            let input = basis_core::person::PersonInput {
                teams,
                ..Default::default()
            };
            engine.put_person("acme", id, input).await.unwrap();
        }
        let events = json!([
            { "id": "a1", "type": "comment.created", "at": "2026-09-22T09:00:00Z", "actor": "ann", "mentions": ["bob"] },
            { "id": "a2", "type": "comment.created", "at": "2026-09-22T09:01:00Z", "actor": "ann", "mentions": ["bob"] },
            { "id": "a3", "type": "comment.created", "at": "2026-09-22T09:02:00Z", "actor": "ann", "mentions": ["bob"] },
            { "id": "b", "type": "comment.created", "at": "2026-10-31T09:00:00Z", "actor": "ann", "mentions": ["eve"] }
        ]);
        let batch = basis_engine::ingest::parse_batch(&events.to_string(), false).unwrap();
        engine.ingest("acme", batch).await.unwrap();
        let worker = engine.graph_worker();
        while let Outcome::Applied { .. } = worker.try_execute_next().await.unwrap() {}
        let view = engine.connections("acme", "ann", 10, None).await.unwrap();
        order.push(
            view.connections
                .into_iter()
                .map(|c| c.person)
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(order, [vec!["eve", "bob"], vec!["bob", "eve"]]);
}

#[tokio::test]
async fn a_mention_dated_in_the_future_counts_as_now_and_does_not_hide_real_ones() {
    let (app, _) = workspace().await;
    // Dated past 2106 (beyond 32-bit seconds) and far ahead of the clock: taken as now, it
    // neither stalls the graph nor pushes Ann's real mentions of Bob out of the weekly counts.
    let r = app
        .ingest(&json!([{ "id": "future", "type": "comment.created", "at": "2200-01-01T00:00:00Z",
            "actor": "ann", "object": { "id": "plan", "container": "space-ENG" }, "mentions": ["bob"] }]))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let seq = r.body["seq"].as_i64().unwrap();
    let c = service_get(&app, &format!("/v1/people/ann/connections?min_seq={seq}")).await;
    assert_eq!(people(&c, "connections")[0], "bob", "{c}");
    assert_eq!(
        c["connections"][0]["reasons"][0], "you mentioned them 4 times since 2026-09-28",
        "{c}"
    );
    assert_eq!(
        c["connections"][0]["reasons"][1], "last contact on 2026-11-01",
        "{c}"
    );
}

/// Each purpose's retention period bounds what its reads use: past it, a tie no longer ranks or
/// explains, a part in a document is no longer expertise, and old work is no longer recommended
/// — each purpose by its own period (mentions inherit 395 days, connections 365) — until the
/// two interact again.
/// Whether someone touched a page is known for the retention period only: Ann's own page from
/// 370 days ago (past the 365 days of recommendations, not yet swept at 395) is treated as new
/// to her, as it will be once the sweep drops her part.
#[tokio::test]
async fn a_part_past_the_retention_period_does_not_count_as_touched() {
    let (app, seq) = workspace().await;
    let r = app
        .ingest(
            &json!([{ "id": "own", "type": "content.created", "at": "2026-10-25T09:00:00Z",
            "actor": "ann", "object": { "id": "own-page", "kind": "page", "title": "Ann's notes",
                "container": "space-ENG", "visibility": { "public": true } } }]),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let listed = |r: &Value| -> Vec<String> {
        r["recommendations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["document"]["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    app.clock.set(crate::helpers::at("2027-10-30T09:00:00Z"));
    let r = app
        .ingest(&json!([
            { "id": "tie", "type": "comment.created", "at": "2027-10-29T09:00:00Z", "actor": "ann",
              "object": { "id": "plan", "container": "space-ENG" }, "mentions": ["bob"] },
            { "id": "bob-note", "type": "comment.created", "at": "2027-10-29T10:00:00Z",
              "actor": "bob", "object": { "id": "own-page" } }
        ]))
        .await;
    let seq2 = r.body["seq"].as_i64().unwrap();
    assert!(seq2 > seq);
    let recommended = service_get(
        &app,
        &format!("/v1/people/ann/recommendations?min_seq={seq2}"),
    )
    .await;
    assert!(
        listed(&recommended).contains(&"own-page".to_owned()),
        "{recommended}"
    );
    // Touched inside the period, it is not.
    let r = app
        .ingest(
            &json!([{ "id": "reread", "type": "content.viewed", "at": "2027-10-29T11:00:00Z",
            "actor": "ann", "object": { "id": "own-page" } }]),
        )
        .await;
    let seq3 = r.body["seq"].as_i64().unwrap();
    let recommended = service_get(
        &app,
        &format!("/v1/people/ann/recommendations?min_seq={seq3}"),
    )
    .await;
    assert!(
        !listed(&recommended).contains(&"own-page".to_owned()),
        "{recommended}"
    );
}

#[tokio::test]
async fn past_a_purposes_retention_period_its_reads_no_longer_use_the_data() {
    let (app, seq) = workspace().await;
    let suggests_by_tie = |s: &Value, who: &str| signals(s, who).contains(&"affinity".to_owned());
    let path = format!("/v1/people/ann/mention-suggestions?min_seq={seq}");
    assert!(suggests_by_tie(&service_get(&app, &path).await, "bob"));
    let recommended = service_get(&app, "/v1/people/ann/recommendations").await;
    assert!(
        !recommended["recommendations"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{recommended}"
    );

    // 381 days after Ann last mentioned Bob: inside the mentions period, past connections'.
    app.clock.set(crate::helpers::at("2027-11-16T09:00:00Z"));
    let s = service_get(&app, "/v1/people/ann/mention-suggestions").await;
    assert!(suggests_by_tie(&s, "bob"), "{s}");
    let c = service_get(&app, "/v1/people/ann/connections").await;
    assert_eq!(people(&c, "connections"), ["eve"], "only the team: {c}");

    // Past both: the tie no longer ranks, though Bob is still found by name; Bob's guide is no
    // longer evidence of expertise, and nothing that old is recommended.
    app.clock.set(crate::helpers::at("2027-12-15T09:00:00Z"));
    let s = service_get(&app, "/v1/people/ann/mention-suggestions").await;
    assert!(!suggests_by_tie(&s, "bob"), "{s}");
    let s = service_get(&app, "/v1/people/ann/mention-suggestions?prefix=bo").await;
    assert_eq!(people(&s, "suggestions"), ["bob"], "{s}");
    let experts = service_get(&app, "/v1/experts?topic=kafka+tuning&as=eve").await;
    assert_eq!(experts["documents_considered"], 1, "{experts}");
    assert_eq!(experts["experts"], json!([]), "{experts}");
    let recommended = service_get(&app, "/v1/people/ann/recommendations").await;
    assert_eq!(recommended["recommendations"], json!([]), "{recommended}");

    // A recent view does not make old work count again: Bob reads his own guide (Bob is in
    // Ann's department, so his work could inform her recommendations) as Eve comments on it,
    // and Dan, whose tie to Ann is past the period, writes a new page.
    let r = app
        .ingest(&json!([
            { "id": "reread", "type": "content.viewed", "at": "2027-12-14T09:00:00Z",
              "actor": "bob", "object": { "id": "guide" } },
            { "id": "eve-note", "type": "comment.created", "at": "2027-12-14T09:30:00Z",
              "actor": "eve", "object": { "id": "guide" } },
            { "id": "runbook", "type": "content.created", "at": "2027-12-14T10:00:00Z",
              "actor": "dan", "object": { "id": "runbook", "kind": "page", "title": "Kafka runbook",
                  "container": "space-OPS", "visibility": { "public": true } } }
        ]))
        .await;
    let seq = r.body["seq"].as_i64().unwrap();
    let experts = service_get(
        &app,
        &format!("/v1/experts?topic=kafka+tuning&as=eve&min_seq={seq}"),
    )
    .await;
    assert!(
        !people(&experts, "experts").contains(&"bob".to_owned()),
        "authorship past the period, though read yesterday: {experts}"
    );
    let recommended = service_get(&app, "/v1/people/ann/recommendations").await;
    assert_eq!(
        recommended["recommendations"],
        json!([]),
        "neither the guide Bob only read lately, nor Dan's page through an expired tie: {recommended}"
    );

    // They interact again: the tie counts anew.
    let r = app
        .ingest(&json!([{ "id": "again", "type": "comment.created", "at": "2027-12-15T09:00:00Z",
            "actor": "ann", "object": { "id": "plan", "container": "space-ENG" }, "mentions": ["bob"] }]))
        .await;
    let seq = r.body["seq"].as_i64().unwrap();
    let s = service_get(
        &app,
        &format!("/v1/people/ann/mention-suggestions?min_seq={seq}"),
    )
    .await;
    assert!(suggests_by_tie(&s, "bob"), "{s}");
    let c = service_get(&app, "/v1/people/ann/connections").await;
    assert_eq!(people(&c, "connections")[0], "bob", "{c}");
    assert_eq!(
        c["connections"][0]["reasons"],
        json!([
            "you mentioned them once since 2027-11-15",
            "last contact on 2027-12-15"
        ]),
        "{c}"
    );
}

/// The export shows what the interaction graph holds about the person — ties with their weight
/// and recent mentions, parts in content (their own reading included), the inferred
/// organization — whatever the gate says now, as an access request must.
#[tokio::test]
async fn the_export_shows_what_the_graph_holds() {
    let (app, seq) = workspace().await;
    let r = app
        .ingest(
            &json!([{ "id": "v1", "type": "content.viewed", "at": "2026-10-31T12:00:00Z",
            "actor": "ann", "object": { "id": "guide" } }]),
        )
        .await;
    let seq = r.body["seq"].as_i64().unwrap().max(seq);
    // Ann opts out of personalization: the graph is no longer used for her, but still held.
    let r = app
        .post(
            "/v1/people/ann/opt-outs",
            json!({ "purpose": "personalize.content" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    service_get(&app, &format!("/v1/people/ann/connections?min_seq={seq}")).await;
    let export = app.get("/v1/people/ann/export").await.body;
    let held = &export["derived"]["interaction_graph"];
    assert_eq!(held["organization"], "acme.com", "{held}");
    let ties = held["ties"].as_array().unwrap();
    assert_eq!(ties.len(), 2, "{held}");
    assert_eq!(ties[0]["person"], "bob");
    assert_eq!(ties[0]["you_mentioned"], 3);
    assert_eq!(ties[0]["mentioned_you"], 0);
    assert_eq!(ties[0]["last_contact"], "2026-10-31T09:00:00Z");
    assert_eq!(ties[1]["person"], "dan");
    let content = held["content"].as_array().unwrap();
    let part = |object: &str| content.iter().find(|c| c["object"] == object).cloned();
    assert_eq!(
        part("plan").unwrap()["roles"],
        json!({ "commented": "2026-10-31T09:00:00Z" }),
        "{held}"
    );
    assert_eq!(
        part("guide").unwrap()["roles"],
        json!({ "viewed": "2026-10-31T12:00:00Z" }),
        "{held}"
    );
    assert_eq!(held["memberships"], json!([]), "{held}");
    assert!(part("payroll").is_none(), "no part in it: {held}");
}

/// Each role weighs by its own recency: being mentioned on an old page yesterday does not make
/// its author's months-old authorship count as recent expertise.
#[tokio::test]
async fn a_recent_mention_does_not_renew_old_authorship_as_expertise() {
    let app = spawn_app().await;
    for id in ["xia", "yan", "zoe"] {
        let r = app
            .put_person(id, json!({ "name": id, "country": "DE" }))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let page = |id: &str, at: &str, actor: &str, title: &str| {
        json!({ "id": format!("{id}-{actor}"), "type": "content.created", "at": at, "actor": actor,
               "object": { "id": id, "kind": "page", "title": title, "visibility": { "public": true } } })
    };
    let r = app
        .ingest(&json!([
            page("kx", "2025-12-06T09:00:00Z", "xia", "Kafka tuning notes"),
            page("ky", "2026-06-04T09:00:00Z", "yan", "Kafka tuning tips"),
            { "id": "nudge", "type": "comment.created", "at": "2026-10-31T09:00:00Z", "actor": "zoe",
              "object": { "id": "kx" }, "mentions": ["xia"] }
        ]))
        .await;
    let seq = r.body["seq"].as_i64().unwrap();
    let experts = service_get(
        &app,
        &format!("/v1/experts?topic=kafka+tuning&as=zoe&min_seq={seq}"),
    )
    .await;
    assert_eq!(people(&experts, "experts"), ["yan", "xia"], "{experts}");
}
