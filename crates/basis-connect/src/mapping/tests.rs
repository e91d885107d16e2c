//! Own fixtures written to each documented format, then the real payloads in
//! `../shared/data/webhooks` (skipped with a message when absent).

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::*;

const NOW: &str = "2026-12-01T00:00:00Z";

fn valid(e: &Value) {
    let mut errors = Vec::new();
    assert!(
        basis_core::event::validate_event(0, e, &mut errors).is_some(),
        "{e}: {errors:?}"
    );
}

fn one(m: Mapped) -> Value {
    match m {
        Mapped::Events(mut events) => {
            assert_eq!(events.len(), 1, "{events:?}");
            let e = events.remove(0);
            valid(&e);
            e
        }
        other => panic!("expected one event, got {other:?}"),
    }
}

fn gh(event: &str) -> Delivery {
    Delivery {
        event: Some(event.into()),
        id: Some("d-1".into()),
    }
}

#[test]
fn github_issue_comment_with_mentions() {
    let p = json!({ "action": "created", "sender": { "login": "octocat" },
        "repository": { "full_name": "acme/app", "private": true },
        "issue": { "number": 7, "title": "Crash", "html_url": "https://github.com/acme/app/issues/7", "body": "" },
        "comment": { "body": "cc @hubot, not `@code` or a@b.com", "created_at": "2026-11-30T10:00:00Z" } });
    let e = one(map(Source::Github, &gh("issue_comment"), &p, NOW).unwrap());
    assert_eq!(e["type"], "comment.created");
    assert_eq!(e["id"], "github:d-1");
    assert_eq!(e["actor"], "github:octocat");
    assert_eq!(e["object"]["container"], "github:acme:app");
    assert_eq!(e["mentions"], json!(["github:hubot"]));
    assert_eq!(
        e["object"]["visibility"],
        json!({ "members": ["github-repo:acme:app"] })
    );
    assert!(matches!(
        map(Source::Github, &gh("star"), &p, NOW).unwrap(),
        Mapped::Ignored(_)
    ));
    assert!(
        map(Source::Github, &Delivery::default(), &p, NOW).is_err(),
        "the event header is required"
    );
}

#[test]
fn github_pull_requests_and_issue_lifecycle() {
    let pr = |action: &str| {
        json!({ "action": action, "sender": { "login": "octocat" },
        "repository": { "full_name": "acme/app", "private": false },
        "pull_request": { "number": 12, "title": "Faster boot", "html_url": "https://github.com/acme/app/pull/12",
                          "body": "Fixes the slow start. /cc @hubot", "created_at": "2026-11-30T10:00:00Z" } })
    };
    for (action, kind) in [
        ("opened", "content.created"),
        ("edited", "content.updated"),
        ("closed", "content.updated"),
        ("reopened", "content.updated"),
    ] {
        let e = one(map(Source::Github, &gh("pull_request"), &pr(action), NOW).unwrap());
        assert_eq!(e["type"], kind, "{action}");
        assert_eq!(e["object"]["kind"], "pull_request");
        assert_eq!(e["object"]["visibility"], json!({ "public": true }));
        assert_eq!(e["mentions"], json!(["github:hubot"]));
    }
    let mut deleted = pr("opened");
    deleted["action"] = json!("deleted");
    assert!(
        one(map(Source::Github, &gh("pull_request"), &deleted, NOW).unwrap())
            .get("mentions")
            .is_none(),
        "deleted content mentions no one"
    );
    assert!(matches!(
        map(Source::Github, &gh("pull_request"), &pr("labeled"), NOW).unwrap(),
        Mapped::Ignored(_)
    ));
}

#[test]
fn trello_card_lifecycle() {
    let action = |kind: &str| {
        json!({ "action": { "id": format!("a-{kind}"), "type": kind, "date": "2026-11-30T10:00:00.000Z",
        "idMemberCreator": "m0", "data": { "board": { "id": "b1" }, "card": { "id": "c9", "name": "Ship it" }, "text": "done?" } } })
    };
    for (kind, native) in [
        ("createCard", "content.created"),
        ("updateCard", "content.updated"),
        ("deleteCard", "content.deleted"),
        ("commentCard", "comment.created"),
    ] {
        let e = one(map(Source::Trello, &Delivery::default(), &action(kind), NOW).unwrap());
        assert_eq!(
            (e["type"].as_str(), e["id"].as_str()),
            (Some(native), Some(format!("trello:a-{kind}").as_str()))
        );
        assert_eq!(e["object"]["container"], "trello:b1");
        assert_eq!(
            e["object"]["visibility"],
            json!({ "members": ["trello-board:b1"] })
        );
    }
}

#[test]
fn slack_message_challenge_and_other_events() {
    let p = json!({ "type": "event_callback", "event_id": "Ev1", "event": { "type": "message", "user": "U1",
        "text": "hi <@U2>", "ts": "1719209649.631399", "channel": "C1",
        "blocks": [{ "type": "rich_text", "elements": [{ "type": "rich_text_section", "elements": [{ "type": "user", "user_id": "U3" }] }] }] } });
    let e = one(map(Source::Slack, &Delivery::default(), &p, NOW).unwrap());
    assert_eq!(
        (e["id"].as_str(), e["type"].as_str(), e["at"].as_str()),
        (
            Some("slack:Ev1"),
            Some("content.created"),
            Some("2024-06-24T06:14:09.631Z")
        )
    );
    assert_eq!(e["mentions"], json!(["slack:U2", "slack:U3"]));
    let challenge = json!({ "type": "url_verification", "challenge": "abc" });
    assert_eq!(
        map(Source::Slack, &Delivery::default(), &challenge, NOW).unwrap(),
        Mapped::Challenge("abc".into())
    );
    let edited = json!({ "type": "event_callback", "event_id": "Ev2", "event": { "type": "message", "subtype": "message_changed" } });
    assert!(matches!(
        map(Source::Slack, &Delivery::default(), &edited, NOW).unwrap(),
        Mapped::Ignored(_)
    ));
}

#[test]
fn jira_cloud_assignment_from_the_changelog() {
    let p = json!({ "webhookEvent": "jira:issue_updated", "timestamp": 1, "user": { "accountId": "acc-1" },
        "issue": { "id": "10", "key": "ENG-1", "fields": { "summary": "Fix", "description": "ping [~accountid:acc-2]",
            "project": { "key": "ENG" }, "updated": "2019-06-13T12:51:53.787+0300" } },
        "changelog": { "id": "99", "items": [{ "field": "assignee", "to": "acc-3", "tmpToAccountId": "acc-3" }] } });
    let Mapped::Events(events) = map(Source::Jira, &Delivery::default(), &p, NOW).unwrap() else {
        panic!()
    };
    events.iter().for_each(valid);
    assert_eq!(events[0]["type"], "content.updated");
    assert_eq!(events[0]["mentions"], json!(["jira:acc-2"]));
    assert_eq!(events[0]["at"], "2019-06-13T12:51:53.787+03:00");
    assert_eq!(events[1]["type"], "task.assigned");
    assert_eq!(events[1]["assignee"], "jira:acc-3");
    assert_eq!(events[1]["object"]["container"], "jira:ENG");
}

#[test]
fn jira_server_usernames_and_cloud_adf_comments() {
    let server = json!({ "webhookEvent": "comment_created", "timestamp": 5,
        "comment": { "id": "1", "body": "thanks [~jsmith]", "author": { "name": "admin" }, "created": "2017-11-30T12:28:04.304+0300" },
        "issue": { "id": "2", "key": "OPS-1", "fields": { "summary": "Disk", "project": { "key": "OPS" } } } });
    let e = one(map(Source::Jira, &Delivery::default(), &server, NOW).unwrap());
    assert_eq!(
        (e["actor"].as_str(), e["mentions"].clone()),
        (Some("jira:admin"), json!(["jira:jsmith"]))
    );
    let cloud = json!({ "webhookEvent": "comment_created", "timestamp": 6,
        "comment": { "id": "3", "author": { "accountId": "acc-1" }, "created": "2026-11-30T10:00:00.000+0000",
            "body": { "type": "doc", "version": 1, "content": [{ "type": "paragraph", "content": [
                { "type": "text", "text": "ask " }, { "type": "mention", "attrs": { "id": "acc-2", "text": "@Bo" } } ] }] } },
        "issue": { "id": "4", "key": "OPS-2", "fields": { "summary": "Net", "project": { "key": "OPS" } } } });
    let e = one(map(Source::Jira, &Delivery::default(), &cloud, NOW).unwrap());
    assert_eq!(e["mentions"], json!(["jira:acc-2"]));
    assert_eq!(e["object"]["body"], "ask @Bo");
}

#[test]
fn confluence_cloud_page_with_storage_mentions() {
    let p = json!({ "event": "page_updated", "timestamp": 1778071365412u64, "userAccountId": "acc-9",
        "page": { "id": 5, "title": "Plan", "spaceKey": "ENG", "body": "<ri:user ri:account-id=\"acc-7\"/>" } });
    let e = one(map(Source::Confluence, &Delivery::default(), &p, NOW).unwrap());
    assert_eq!(
        (e["type"].as_str(), e["actor"].as_str()),
        (Some("content.updated"), Some("confluence:acc-9"))
    );
    assert_eq!(e["object"]["container"], "confluence:ENG");
    assert_eq!(e["mentions"], json!(["confluence:acc-7"]));
}

#[test]
fn confluence_space_permissions_name_members_where_present() {
    let p = json!({ "event": "space_permissions_updated", "timestamp": 1778071365412u64, "userKey": "admin",
        "space": { "spaceKey": "ENG", "permissions": [
            { "type": "VIEWSPACE", "userName": "jdoe", "groupName": null },
            { "type": "VIEWSPACE", "userName": null, "groupName": "confluence-users" },
            { "type": "EDITSPACE", "userName": "jdoe" },
            { "type": "VIEWSPACE", "userKey": "ff8081" } ] } });
    let Mapped::Events(events) = map(Source::Confluence, &Delivery::default(), &p, NOW).unwrap()
    else {
        panic!()
    };
    events.iter().for_each(valid);
    let members: Vec<&str> = events
        .iter()
        .map(|e| e["member"].as_str().unwrap())
        .collect();
    assert_eq!(members, vec!["confluence:jdoe", "confluence:ff8081"]);
    assert_eq!(events[0]["object"]["id"], "confluence:ENG");
    let without = json!({ "event": "space_permissions_updated", "space": { "spaceKey": "ENG" } });
    assert!(matches!(
        map(Source::Confluence, &Delivery::default(), &without, NOW).unwrap(),
        Mapped::Ignored(_)
    ));
}

#[test]
fn trello_members_added_to_cards_and_boards() {
    let base = |kind: &str, data: Value| json!({ "action": { "id": "a1", "type": kind, "date": "2016-05-13T11:40:42.612Z", "idMemberCreator": "m0", "data": data } });
    let card = json!({ "board": { "id": "b1", "name": "Board" }, "card": { "id": "c1", "name": "Card" }, "idMember": "m2" });
    let e = one(map(
        Source::Trello,
        &Delivery::default(),
        &base("addMemberToCard", card),
        NOW,
    )
    .unwrap());
    assert_eq!(
        (e["type"].as_str(), e["assignee"].as_str()),
        (Some("task.assigned"), Some("trello:m2"))
    );
    let board = json!({ "board": { "id": "b1", "name": "Board" }, "idMemberAdded": "m3" });
    let e = one(map(
        Source::Trello,
        &Delivery::default(),
        &base("addMemberToBoard", board),
        NOW,
    )
    .unwrap());
    assert_eq!(
        (
            e["type"].as_str(),
            e["member"].as_str(),
            e["object"]["id"].as_str()
        ),
        (Some("member.added"), Some("trello:m3"), Some("trello:b1"))
    );
    assert!(matches!(
        map(
            Source::Trello,
            &Delivery::default(),
            &base("updateList", json!({})),
            NOW
        )
        .unwrap(),
        Mapped::Ignored(_)
    ));
}

#[test]
fn malformed_payloads_are_errors_not_panics() {
    for source in [
        Source::Jira,
        Source::Confluence,
        Source::Trello,
        Source::Github,
        Source::Slack,
    ] {
        assert!(map(source, &gh("issues"), &json!([1, 2]), NOW).is_err());
        let _ = map(
            source,
            &gh("issues"),
            &json!({ "action": 5, "issue": "x", "event": [] }),
            NOW,
        );
    }
}

proptest::proptest! {
    #[test]
    fn arbitrary_json_never_panics(text in r#"\{("[a-z]{1,8}": ("[a-z0-9 <>@~\[\]]{0,12}"|[0-9]{1,4}|null|\{\}|\[\])(, )?){0,6}\}"#) {
        if let Ok(v) = serde_json::from_str::<Value>(&text) {
            for source in [Source::Jira, Source::Confluence, Source::Trello, Source::Github, Source::Slack] {
                let _ = map(source, &gh("issues"), &v, NOW);
            }
        }
    }
}

fn shared(dir: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/webhooks")
        .join(dir);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("skipping: ../shared/data/webhooks/{dir} is absent (it is present in CI)");
        None
    }
}

fn load(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn real_payloads_map_to_valid_events() {
    let Some(root) = shared("") else { return };
    let mut mapped = 0;
    for path in files(&root) {
        let rel = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .to_string();
        let (source, delivery) = if rel.starts_with("octokit/") {
            let event = rel.split('/').nth(1).unwrap().to_owned();
            (
                Source::Github,
                Delivery {
                    event: Some(event),
                    id: Some("d".into()),
                },
            )
        } else if rel.starts_with("jira-to-matrix/") {
            (Source::Jira, Delivery::default())
        } else if rel.contains("slack") {
            (Source::Slack, Delivery::default())
        } else if rel.contains("trello") {
            (Source::Trello, Delivery::default())
        } else if rel.contains("confluence") {
            (Source::Confluence, Delivery::default())
        } else {
            continue;
        };
        match map(source, &delivery, &load(&path), NOW) {
            Ok(Mapped::Events(events)) => {
                assert!(!events.is_empty(), "{rel}");
                events.iter().for_each(valid);
                mapped += 1;
            }
            Ok(Mapped::Ignored(_)) => {}
            other => panic!("{rel}: {other:?}"),
        }
    }
    assert!(mapped >= 20, "only {mapped} real payloads mapped");
}

#[test]
fn real_payloads_carry_the_right_people_and_places() {
    let Some(root) = shared("") else { return };
    let slack = one(map(
        Source::Slack,
        &Delivery::default(),
        &load(&root.join("zulip/slack_message_with_user_mentions.json")),
        NOW,
    )
    .unwrap());
    assert_eq!(slack["actor"], "slack:U06NU4E26M9");
    assert_eq!(slack["object"]["container"], "slack:C06NRA6JLER");
    assert_eq!(
        slack["mentions"],
        json!([
            "slack:U074VRHQ11T",
            "slack:U074G5E1ANR",
            "slack:U06NU4E26M9"
        ])
    );

    let trello = one(map(
        Source::Trello,
        &Delivery::default(),
        &load(&root.join("zulip/trello_adding_comment_to_card.json")),
        NOW,
    )
    .unwrap());
    assert_eq!(
        (trello["type"].as_str(), trello["actor"].as_str()),
        (
            Some("comment.created"),
            Some("trello:53582e2da0fac5676a714276")
        )
    );
    assert_eq!(
        trello["object"]["id"],
        "trello:card:53582e2da0fac5676a714280"
    );
    assert_eq!(
        trello["object"]["container"],
        "trello:53582e2da0fac5676a714277"
    );

    let page = one(map(
        Source::Confluence,
        &Delivery::default(),
        &load(&root.join("zulip/confluence_page_created.json")),
        NOW,
    )
    .unwrap());
    assert_eq!(
        (
            page["type"].as_str(),
            page["actor"].as_str(),
            page["object"]["id"].as_str()
        ),
        (
            Some("content.created"),
            Some("confluence:abc123"),
            Some("confluence:page:123456")
        )
    );

    let Mapped::Events(assigned) = map(
        Source::Jira,
        &Delivery::default(),
        &load(&root.join("jira-to-matrix/issue/updated/issue-assigned.json")),
        NOW,
    )
    .unwrap() else {
        panic!()
    };
    let task = assigned
        .iter()
        .find(|e| e["type"] == "task.assigned")
        .expect("an assignment");
    assert_eq!(
        (task["actor"].as_str(), task["assignee"].as_str()),
        (
            Some("jira:5c07f55ba1b46046f530e0f3"),
            Some("jira:5b912e21fa38ae2c896099ae")
        )
    );
    assert_eq!(task["object"]["id"], "jira:INDEV-242");

    let comment = one(map(
        Source::Jira,
        &Delivery::default(),
        &load(&root.join("jira-to-matrix/comment/created.json")),
        NOW,
    )
    .unwrap());
    assert_eq!(
        (comment["type"].as_str(), comment["actor"].as_str()),
        (Some("comment.created"), Some("jira:ii_ivanov"))
    );

    let gh_assigned = one(map(
        Source::Github,
        &gh("issues"),
        &load(&root.join("octokit/issues/assigned.payload.json")),
        NOW,
    )
    .unwrap());
    assert_eq!(
        (
            gh_assigned["type"].as_str(),
            gh_assigned["assignee"].as_str()
        ),
        (Some("task.assigned"), Some("github:Codertocat"))
    );
    assert_eq!(
        gh_assigned["object"]["container"],
        "github:Codertocat:Hello-World"
    );
}

/// The type each real payload must map to, by file (None: acknowledged and ignored).
fn expected_types(rel: &str) -> Option<Option<&'static [&'static str]>> {
    let table: &[(&str, Option<&[&str]>)] = &[
        ("octokit/issues/assigned", Some(&["task.assigned"])),
        ("octokit/issues/deleted", Some(&["content.deleted"])),
        ("octokit/issues/edited", Some(&["content.updated"])),
        ("octokit/issues/reopened", Some(&["content.updated"])),
        ("octokit/issues/opened", Some(&["content.created"])),
        ("octokit/issues/", None),
        ("octokit/issue_comment/created", Some(&["comment.created"])),
        ("octokit/issue_comment/edited", Some(&["comment.updated"])),
        ("octokit/issue_comment/deleted", Some(&["comment.deleted"])),
        (
            "octokit/pull_request_review_comment/created",
            Some(&["comment.created"]),
        ),
        (
            "octokit/pull_request_review_comment/edited",
            Some(&["comment.updated"]),
        ),
        (
            "octokit/pull_request_review_comment/deleted",
            Some(&["comment.deleted"]),
        ),
        ("jira-to-matrix/comment/created", Some(&["comment.created"])),
        ("jira-to-matrix/comment/updated", Some(&["comment.updated"])),
        ("jira-to-matrix/comment/deleted", Some(&["comment.deleted"])),
        ("jira-to-matrix/epic/created", Some(&["content.created"])),
        ("jira-to-matrix/issue/created", Some(&["content.created"])),
        // An "issue_commented" update without the comment in it is a plain update.
        (
            "jira-to-matrix/issue/updated/commented-changed",
            Some(&["content.updated"]),
        ),
        (
            "jira-to-matrix/issue/updated/commented.json",
            Some(&["comment.created"]),
        ),
        (
            "jira-to-matrix/issue/updated/issue-assigned",
            Some(&["content.updated", "task.assigned"]),
        ),
        ("jira-to-matrix/issue/updated/", Some(&["content.updated"])),
        ("jira-to-matrix/issuelink/", None),
        ("jira-to-matrix/project/", None),
        ("zulip/confluence_page_created", Some(&["content.created"])),
        (
            "zulip/confluence_comment_created",
            Some(&["comment.created"]),
        ),
        ("zulip/slack_message", Some(&["content.created"])),
        ("zulip/trello_adding_comment", Some(&["comment.created"])),
    ];
    table
        .iter()
        .find(|(prefix, _)| rel.starts_with(prefix))
        .map(|(_, t)| *t)
}

#[test]
fn every_real_payload_maps_to_the_right_type_actor_and_place() {
    let Some(root) = shared("") else { return };
    let mut checked = 0;
    for path in files(&root) {
        let rel = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let Some(expected) = expected_types(&rel) else {
            continue;
        };
        let payload = load(&path);
        let (source, delivery) = match rel.split('/').next() {
            Some("octokit") => (
                Source::Github,
                Delivery {
                    event: Some(rel.split('/').nth(1).unwrap().to_owned()),
                    id: Some("d".into()),
                },
            ),
            Some("jira-to-matrix") => (Source::Jira, Delivery::default()),
            _ if rel.contains("slack") => (Source::Slack, Delivery::default()),
            _ if rel.contains("trello") => (Source::Trello, Delivery::default()),
            _ => (Source::Confluence, Delivery::default()),
        };
        let mapped = map(source, &delivery, &payload, NOW).unwrap_or_else(|e| panic!("{rel}: {e}"));
        match (expected, mapped) {
            (None, Mapped::Ignored(_)) => {}
            (Some(types), Mapped::Events(events)) => {
                let got: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
                assert_eq!(got, types, "{rel}");
                for e in &events {
                    valid(e);
                    let actor = e["actor"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{rel}: no actor"));
                    assert!(
                        actor.starts_with(&format!("{}:", source.as_str())),
                        "{rel}: {actor}"
                    );
                    if source == Source::Github {
                        assert_eq!(
                            actor,
                            format!("github:{}", payload["sender"]["login"].as_str().unwrap()),
                            "{rel}"
                        );
                        let repo = payload["repository"]["full_name"]
                            .as_str()
                            .unwrap()
                            .replace('/', ":");
                        assert_eq!(e["object"]["container"], format!("github:{repo}"), "{rel}");
                    }
                    if source == Source::Jira {
                        let project = payload["issue"]["fields"]["project"]["key"].as_str();
                        if let Some(project) = project {
                            assert_eq!(
                                e["object"]["container"],
                                format!("jira:{project}"),
                                "{rel}"
                            );
                        }
                    }
                }
            }
            (expected, other) => panic!("{rel}: expected {expected:?}, got {other:?}"),
        }
        checked += 1;
    }
    assert!(checked >= 50, "only {checked} payloads checked");
}
