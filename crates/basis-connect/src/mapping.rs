//! Webhook payloads to native events.
//!
//! People appear as source identities, `"<source>:<id>"` (`slack:U074VRHQ11T`,
//! `github:octocat`, `jira:5b10ac8d...`); resolving them to Basis people is the ingest step's job.
//! Event ids come from the source's own delivery identity, so a retried delivery maps to the same
//! ids and is stored once. Event types a connector does not know are [`Mapped::Ignored`], to be
//! acknowledged without storing noise.

use serde_json::{Map, Value, json};

use crate::mentions;

/// A source tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// Jira (Cloud or Server).
    Jira,
    /// Confluence (Cloud or Server).
    Confluence,
    /// Trello.
    Trello,
    /// GitHub.
    Github,
    /// Slack Events API.
    Slack,
}

impl Source {
    /// Parses the path segment of `/v1/hooks/{source}`.
    pub fn parse(text: &str) -> Option<Source> {
        match text {
            "jira" => Some(Source::Jira),
            "confluence" => Some(Source::Confluence),
            "trello" => Some(Source::Trello),
            "github" => Some(Source::Github),
            "slack" => Some(Source::Slack),
            _ => None,
        }
    }

    /// The lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Source::Jira => "jira",
            Source::Confluence => "confluence",
            Source::Trello => "trello",
            Source::Github => "github",
            Source::Slack => "slack",
        }
    }
}

/// What the transport tells about a delivery, beside its body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    /// GitHub's `X-GitHub-Event`.
    pub event: Option<String>,
    /// GitHub's `X-GitHub-Delivery`.
    pub id: Option<String>,
}

/// The outcome of mapping a payload.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapped {
    /// Native events to ingest.
    Events(Vec<Value>),
    /// A type this connector does not map: acknowledge, store nothing.
    Ignored(String),
    /// Slack's `url_verification`: answer with the challenge.
    Challenge(String),
}

/// A payload that is not what the source sends.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MapError(pub String);

fn missing(what: &str) -> MapError {
    MapError(format!("the payload has no `{what}`"))
}

fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |cur, key| cur.get(*key))?.as_str()
}

fn id_text(v: &Value, path: &[&str]) -> Option<String> {
    let found = path.iter().try_fold(v, |cur, key| cur.get(*key))?;
    match found {
        Value::String(t) if !t.is_empty() => Some(t.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn person(source: Source, id: &str) -> String {
    format!("{}:{id}", source.as_str())
}

/// A native event with the fields every connector fills.
fn event(
    id: String,
    kind: &str,
    at: &str,
    source: Source,
    actor: Option<String>,
    object: Value,
) -> Map<String, Value> {
    let mut e = Map::new();
    e.insert("id".into(), json!(id));
    e.insert("type".into(), json!(kind));
    e.insert("at".into(), json!(at));
    e.insert("source".into(), json!(source.as_str()));
    if let Some(a) = actor {
        e.insert("actor".into(), json!(a));
    }
    e.insert("object".into(), object);
    e
}

fn with_mentions(mut e: Map<String, Value>, source: Source, ids: Vec<String>) -> Value {
    if !ids.is_empty() {
        let people: Vec<String> = ids.iter().map(|m| person(source, m)).collect();
        e.insert("mentions".into(), json!(people));
    }
    Value::Object(e)
}

/// Maps one delivery.
///
/// # Errors
/// [`MapError`] naming what the payload lacks.
pub fn map(
    source: Source,
    delivery: &Delivery,
    payload: &Value,
    received_at: &str,
) -> Result<Mapped, MapError> {
    if !payload.is_object() {
        return Err(MapError("the payload is not a JSON object".into()));
    }
    let mut mapped = match source {
        Source::Github => github(delivery, payload, received_at),
        Source::Slack => slack(payload),
        Source::Jira => jira(payload, received_at),
        Source::Confluence => confluence(payload, received_at),
        Source::Trello => trello(payload),
    }?;
    if let Mapped::Events(events) = &mut mapped {
        events.iter_mut().for_each(clean_ids);
    }
    Ok(mapped)
}

/// Makes every id a Basis identifier (no whitespace, control characters, `/`, `"` or
/// backslash): `acme/app` becomes `acme:app`, other such characters `_`. Deterministic, so a
/// retried delivery maps to the same ids.
fn clean_ids(event: &mut Value) {
    fn clean(v: &mut Value) {
        if let Value::String(t) = v
            && t.chars()
                .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '"' | '\\'))
        {
            *t = t
                .chars()
                .map(|c| match c {
                    '/' => ':',
                    c if c.is_whitespace() || c.is_control() || c == '"' || c == '\\' => '_',
                    c => c,
                })
                .collect();
        }
    }
    for key in ["id", "actor", "assignee", "member"] {
        if let Some(v) = event.get_mut(key) {
            clean(v);
        }
    }
    if let Some(Value::Array(people)) = event.get_mut("mentions") {
        people.iter_mut().for_each(clean);
    }
    if let Some(object) = event.get_mut("object") {
        for key in ["id", "container"] {
            if let Some(v) = object.get_mut(key) {
                clean(v);
            }
        }
        if let Some(Value::Array(members)) = object
            .get_mut("visibility")
            .and_then(|v| v.get_mut("members"))
        {
            members.iter_mut().for_each(clean);
        }
    }
}

fn github(delivery: &Delivery, p: &Value, received_at: &str) -> Result<Mapped, MapError> {
    let event_name = delivery
        .event
        .as_deref()
        .ok_or_else(|| missing("X-GitHub-Event header"))?;
    let action = s(p, &["action"]).unwrap_or("");
    let delivery_id = delivery
        .id
        .clone()
        .ok_or_else(|| missing("X-GitHub-Delivery header"))?;
    let repo = s(p, &["repository", "full_name"]).ok_or_else(|| missing("repository.full_name"))?;
    let actor = s(p, &["sender", "login"]).map(|l| person(Source::Github, l));
    let private = p
        .get("repository")
        .and_then(|r| r.get("private"))
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let visibility = if private {
        json!({ "members": [format!("github-repo:{repo}")] })
    } else {
        json!({ "public": true })
    };
    let (item, kind) = match event_name {
        "issues" | "issue_comment" => (p.get("issue").ok_or_else(|| missing("issue"))?, "issue"),
        "pull_request" | "pull_request_review_comment" => (
            p.get("pull_request")
                .ok_or_else(|| missing("pull_request"))?,
            "pull_request",
        ),
        other => return Ok(Mapped::Ignored(format!("github event `{other}`"))),
    };
    let number = id_text(item, &["number"]).ok_or_else(|| missing("number"))?;
    let object = json!({
        "id": format!("github:{repo}#{number}"), "kind": kind,
        "title": s(item, &["title"]).unwrap_or(""), "url": s(item, &["html_url"]).unwrap_or(""),
        "container": format!("github:{repo}"), "visibility": visibility,
    });
    let at = s(item, &["updated_at"])
        .or_else(|| s(item, &["created_at"]))
        .unwrap_or(received_at);
    let id = format!("github:{delivery_id}");
    let comment = matches!(event_name, "issue_comment" | "pull_request_review_comment");
    let kind = match (comment, action) {
        (false, "opened") => "content.created",
        (false, "edited" | "reopened" | "closed") => "content.updated",
        (false, "deleted") => "content.deleted",
        (false, "assigned") => "task.assigned",
        (true, "created") => "comment.created",
        (true, "edited") => "comment.updated",
        (true, "deleted") => "comment.deleted",
        _ => {
            return Ok(Mapped::Ignored(format!(
                "github `{event_name}` action `{action}`"
            )));
        }
    };
    let (text, at) = if comment {
        let c = p.get("comment").ok_or_else(|| missing("comment"))?;
        (
            s(c, &["body"]).unwrap_or(""),
            s(c, &["updated_at"])
                .or_else(|| s(c, &["created_at"]))
                .unwrap_or(at),
        )
    } else {
        (s(item, &["body"]).unwrap_or(""), at)
    };
    let mut e = event(id, kind, at, Source::Github, actor, object);
    if let Some(obj) = e.get_mut("object").and_then(Value::as_object_mut) {
        obj.insert("body".into(), json!(text));
    }
    if kind == "task.assigned" {
        let assignee = s(p, &["assignee", "login"]).ok_or_else(|| missing("assignee.login"))?;
        e.insert("assignee".into(), json!(person(Source::Github, assignee)));
    }
    let mentioned = if kind == "content.deleted" || kind == "comment.deleted" {
        Vec::new()
    } else {
        mentions::github(text)
    };
    Ok(Mapped::Events(vec![with_mentions(
        e,
        Source::Github,
        mentioned,
    )]))
}

fn slack(p: &Value) -> Result<Mapped, MapError> {
    match s(p, &["type"]) {
        Some("url_verification") => {
            let challenge = s(p, &["challenge"]).ok_or_else(|| missing("challenge"))?;
            return Ok(Mapped::Challenge(challenge.to_owned()));
        }
        Some("event_callback") => {}
        Some(other) => return Ok(Mapped::Ignored(format!("slack `{other}`"))),
        None => return Err(missing("type")),
    }
    let event_id = s(p, &["event_id"]).ok_or_else(|| missing("event_id"))?;
    let ev = p.get("event").ok_or_else(|| missing("event"))?;
    if s(ev, &["type"]) != Some("message") || ev.get("subtype").is_some() {
        return Ok(Mapped::Ignored(format!(
            "slack event `{}`",
            s(ev, &["type"]).unwrap_or("?")
        )));
    }
    let channel = s(ev, &["channel"]).ok_or_else(|| missing("event.channel"))?;
    let ts = s(ev, &["ts"]).ok_or_else(|| missing("event.ts"))?;
    let at = slack_ts(ts)
        .ok_or_else(|| MapError(format!("`event.ts` `{ts}` is not a Slack timestamp")))?;
    let text = s(ev, &["text"]).unwrap_or("");
    let object = json!({
        "id": format!("slack:{channel}:{ts}"), "kind": "message", "body": text,
        "container": format!("slack:{channel}"),
        "visibility": { "members": [format!("slack-channel:{channel}")] },
    });
    let actor = s(ev, &["user"]).map(|u| person(Source::Slack, u));
    let mut ids = mentions::slack_text(text);
    if let Some(blocks) = ev.get("blocks") {
        for m in mentions::slack_blocks(blocks) {
            if !ids.contains(&m) {
                ids.push(m);
            }
        }
    }
    let e = event(
        format!("slack:{event_id}"),
        "content.created",
        &at,
        Source::Slack,
        actor,
        object,
    );
    Ok(Mapped::Events(vec![with_mentions(e, Source::Slack, ids)]))
}

/// `1719209649.631399` to RFC 3339 with milliseconds.
fn slack_ts(ts: &str) -> Option<String> {
    let (secs, frac) = ts.split_once('.').unwrap_or((ts, "0"));
    let secs: i64 = secs.parse().ok()?;
    let millis: i64 = format!("{frac:0<3}").get(..3)?.parse().ok()?;
    Some(basis_time(secs * 1_000 + millis))
}

/// RFC 3339 from epoch milliseconds (UTC), without pulling a date crate into this pure crate.
fn basis_time(millis: i64) -> String {
    let days = millis.div_euclid(86_400_000);
    let rem = millis.rem_euclid(86_400_000);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let (h, mi, sec, ms) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1_000 % 60,
        rem % 1_000,
    );
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{sec:02}.{ms:03}Z")
}

/// A Jira user: Cloud account id, Server name or key, or the `self` URL's parameter.
fn jira_user(u: &Value) -> Option<String> {
    for key in ["accountId", "name", "key"] {
        if let Some(v) = s(u, &[key]).filter(|v| !v.is_empty()) {
            return Some(v.to_owned());
        }
    }
    let url = s(u, &["self"])?;
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == "accountId" || k == "username")
            .then(|| v.to_owned())
            .filter(|v| !v.is_empty())
    })
}

/// Jira rich text: wiki markup (a string, Server and API v2) or an Atlassian Document Format
/// document (Cloud, API v3). Returns the plain text and the mentioned account ids or usernames.
fn jira_rich(v: Option<&Value>) -> (String, Vec<String>) {
    match v {
        Some(Value::String(text)) => (text.clone(), jira_mention_ids(text)),
        Some(doc @ Value::Object(_)) => {
            let mut text = String::new();
            let mut stack = vec![doc];
            while let Some(node) = stack.pop() {
                match node {
                    Value::Object(map) => {
                        let shown = map
                            .get("text")
                            .or_else(|| map.get("attrs").and_then(|a| a.get("text")));
                        if let Some(t) = shown.and_then(Value::as_str) {
                            text.push_str(t);
                        }
                        if let Some(Value::Array(content)) = map.get("content") {
                            stack.extend(content.iter().rev());
                        }
                    }
                    Value::Array(items) => stack.extend(items.iter().rev()),
                    _ => {}
                }
            }
            (text, mentions::adf(doc))
        }
        _ => (String::new(), Vec::new()),
    }
}

fn jira_mention_ids(text: &str) -> Vec<String> {
    mentions::jira(text)
        .into_iter()
        .map(|m| match m {
            mentions::JiraMention::AccountId(id) | mentions::JiraMention::Username(id) => id,
        })
        .collect()
}

fn jira(p: &Value, received_at: &str) -> Result<Mapped, MapError> {
    let hook = s(p, &["webhookEvent"]).ok_or_else(|| missing("webhookEvent"))?;
    // Jira also reports comments as issue updates that carry the comment.
    let hook = match (
        hook,
        s(p, &["issue_event_type_name"]),
        p.get("comment").is_some(),
    ) {
        ("jira:issue_updated", Some("issue_commented"), true) => "comment_created",
        ("jira:issue_updated", Some("issue_comment_edited"), true) => "comment_updated",
        ("jira:issue_updated", Some("issue_comment_deleted"), true) => "comment_deleted",
        (other, ..) => other,
    };
    let stamp = id_text(p, &["timestamp"]).unwrap_or_default();
    let issue = p.get("issue");
    let issue_object = |issue: &Value| -> Result<Value, MapError> {
        let key = s(issue, &["key"]).ok_or_else(|| missing("issue.key"))?;
        let fields = issue.get("fields");
        let project = fields
            .and_then(|f| s(f, &["project", "key"]))
            .map(|k| format!("jira:{k}"));
        let (body, _) = jira_rich(fields.and_then(|f| f.get("description")));
        let mut o = json!({ "id": format!("jira:{key}"), "kind": "ticket",
            "title": fields.and_then(|f| s(f, &["summary"])).unwrap_or(""), "body": body });
        if let (Some(project), Some(map)) = (project, o.as_object_mut()) {
            map.insert("container".into(), json!(project));
        }
        Ok(o)
    };
    match hook {
        "jira:issue_created" | "jira:issue_updated" | "jira:issue_deleted" => {
            let issue = issue.ok_or_else(|| missing("issue"))?;
            let object = issue_object(issue)?;
            let issue_id = id_text(issue, &["id"]).ok_or_else(|| missing("issue.id"))?;
            let actor = p
                .get("user")
                .and_then(jira_user)
                .map(|u| person(Source::Jira, &u));
            let at = issue
                .get("fields")
                .and_then(|f| s(f, &["updated"]).or_else(|| s(f, &["created"])))
                .map(jira_time)
                .unwrap_or_else(|| received_at.to_owned());
            let changelog = id_text(p, &["changelog", "id"]).unwrap_or_else(|| stamp.clone());
            let base = format!("jira:{hook}:{issue_id}:{changelog}");
            let mut out = Vec::new();
            let kind = match hook {
                "jira:issue_created" => "content.created",
                "jira:issue_deleted" => "content.deleted",
                _ => "content.updated",
            };
            let e = event(
                base.clone(),
                kind,
                &at,
                Source::Jira,
                actor.clone(),
                object.clone(),
            );
            out.push(with_mentions(
                e,
                Source::Jira,
                if kind == "content.deleted" {
                    Vec::new()
                } else {
                    jira_rich(issue.get("fields").and_then(|f| f.get("description"))).1
                },
            ));
            // Assignments, from the changelog.
            let items = p
                .get("changelog")
                .and_then(|c| c.get("items"))
                .and_then(Value::as_array);
            for item in items.into_iter().flatten() {
                if s(item, &["field"]) == Some("assignee")
                    && let Some(to) = s(item, &["tmpToAccountId"])
                        .or_else(|| s(item, &["to"]))
                        .filter(|t| !t.is_empty())
                {
                    let mut e = event(
                        format!("{base}:assigned"),
                        "task.assigned",
                        &at,
                        Source::Jira,
                        actor.clone(),
                        object.clone(),
                    );
                    e.insert("assignee".into(), json!(person(Source::Jira, to)));
                    out.push(Value::Object(e));
                }
            }
            Ok(Mapped::Events(out))
        }
        "comment_created" | "comment_updated" | "comment_deleted" => {
            let comment = p.get("comment").ok_or_else(|| missing("comment"))?;
            let comment_id = id_text(comment, &["id"]).ok_or_else(|| missing("comment.id"))?;
            let object = match issue {
                Some(i) => issue_object(i)?,
                None => {
                    // Older payloads carry only the comment's own URL: .../issue/26313/comment/31039.
                    let url = s(comment, &["self"]).unwrap_or("");
                    let issue_id = url
                        .split("/issue/")
                        .nth(1)
                        .and_then(|r| r.split('/').next())
                        .unwrap_or("unknown");
                    json!({ "id": format!("jira:issue-{issue_id}"), "kind": "ticket" })
                }
            };
            let author = comment
                .get("updateAuthor")
                .filter(|_| hook != "comment_created")
                .or_else(|| comment.get("author"));
            let actor = author.and_then(jira_user).map(|u| person(Source::Jira, &u));
            let at = s(comment, &["updated"])
                .or_else(|| s(comment, &["created"]))
                .map(jira_time)
                .unwrap_or_else(|| received_at.to_owned());
            let (body, mentioned) = jira_rich(comment.get("body"));
            let kind = match hook {
                "comment_created" => "comment.created",
                "comment_updated" => "comment.updated",
                _ => "comment.deleted",
            };
            let mut object = object;
            if let Some(map) = object.as_object_mut() {
                map.insert("body".into(), json!(body));
            }
            let e = event(
                format!("jira:{hook}:{comment_id}:{stamp}"),
                kind,
                &at,
                Source::Jira,
                actor,
                object,
            );
            let ids = if kind == "comment.deleted" {
                Vec::new()
            } else {
                mentioned
            };
            Ok(Mapped::Events(vec![with_mentions(e, Source::Jira, ids)]))
        }
        other => Ok(Mapped::Ignored(format!("jira `{other}`"))),
    }
}

/// Jira's `2018-01-11T13:08:03.317+0300` to RFC 3339 (`+03:00`).
fn jira_time(t: &str) -> String {
    let b = t.as_bytes();
    if b.len() >= 5 {
        let tail = &t[t.len() - 5..];
        if (tail.starts_with('+') || tail.starts_with('-'))
            && tail[1..].bytes().all(|c| c.is_ascii_digit())
        {
            return format!("{}{}:{}", &t[..t.len() - 5], &tail[..3], &tail[3..]);
        }
    }
    t.to_owned()
}

/// A Confluence delivery's timestamp: as an id component, and as RFC 3339 (epoch milliseconds).
fn confluence_when(p: &Value, received_at: &str) -> (String, String) {
    let stamp = id_text(p, &["timestamp"]).unwrap_or_default();
    let at = p
        .get("timestamp")
        .and_then(Value::as_i64)
        .map(basis_time)
        .unwrap_or_else(|| received_at.to_owned());
    (stamp, at)
}

fn confluence(p: &Value, received_at: &str) -> Result<Mapped, MapError> {
    let hook = s(p, &["event"])
        .or_else(|| s(p, &["webhookEvent"]))
        .ok_or_else(|| missing("event"))?;
    if hook.contains("permission") {
        return confluence_space_members(p, hook, received_at);
    }
    let (thing, kind_name) = if let Some(page) = p.get("page") {
        (page, "page")
    } else if let Some(comment) = p.get("comment") {
        (comment, "comment")
    } else if let Some(blog) = p.get("blog") {
        (blog, "blogpost")
    } else {
        return Ok(Mapped::Ignored(format!("confluence `{hook}`")));
    };
    let kind = match hook.rsplit('_').next().unwrap_or("") {
        "created" if kind_name == "comment" => "comment.created",
        "created" => "content.created",
        "updated" | "restored" => {
            if kind_name == "comment" {
                "comment.updated"
            } else {
                "content.updated"
            }
        }
        "removed" | "trashed" | "deleted" => {
            if kind_name == "comment" {
                "comment.deleted"
            } else {
                "content.deleted"
            }
        }
        _ => return Ok(Mapped::Ignored(format!("confluence `{hook}`"))),
    };
    let id = id_text(thing, &["id"]).ok_or_else(|| missing(&format!("{kind_name}.id")))?;
    let (stamp, at) = confluence_when(p, received_at);
    // Server sends `userKey`; Cloud names the creator and last modifier.
    let actor = s(p, &["userAccountId"])
        .or_else(|| s(p, &["userKey"]))
        .or_else(|| s(thing, &["lastModifierAccountId"]))
        .or_else(|| s(thing, &["creatorAccountId"]))
        .map(|u| person(Source::Confluence, u));
    let mut object = json!({ "id": format!("confluence:{kind_name}:{id}"), "kind": kind_name });
    if let Some(map) = object.as_object_mut() {
        if let Some(title) = s(thing, &["title"]) {
            map.insert("title".into(), json!(title));
        }
        if let Some(space) = s(thing, &["spaceKey"]) {
            map.insert("container".into(), json!(format!("confluence:{space}")));
        }
        if let Some(url) = s(thing, &["self"]) {
            map.insert("url".into(), json!(url));
        }
    }
    let body = s(thing, &["body"]).unwrap_or("");
    let ids: Vec<String> = mentions::confluence_storage(body)
        .into_iter()
        .map(|u| match u {
            mentions::ConfluenceUser::AccountId(x)
            | mentions::ConfluenceUser::UserKey(x)
            | mentions::ConfluenceUser::Username(x) => x,
        })
        .collect();
    let e = event(
        format!("confluence:{hook}:{id}:{stamp}"),
        kind,
        &at,
        Source::Confluence,
        actor,
        object,
    );
    Ok(Mapped::Events(vec![with_mentions(
        e,
        Source::Confluence,
        ids,
    )]))
}

/// Space permission changes, where the payload lists who may view the space: each user with
/// `VIEWSPACE` becomes a `member.added` of the space (ids from `accountId`, `userKey` or
/// `userName`; groups are not people and are skipped).
fn confluence_space_members(p: &Value, hook: &str, received_at: &str) -> Result<Mapped, MapError> {
    let Some(space) = p.get("space") else {
        return Ok(Mapped::Ignored(format!(
            "confluence `{hook}` without a space"
        )));
    };
    let key = s(space, &["spaceKey"])
        .or_else(|| s(space, &["key"]))
        .ok_or_else(|| missing("space.key"))?;
    let entries = space
        .get("permissions")
        .or_else(|| space.get("spacePermissions"))
        .or_else(|| p.get("permissions"))
        .and_then(Value::as_array);
    let (stamp, at) = confluence_when(p, received_at);
    let actor = s(p, &["userAccountId"])
        .or_else(|| s(p, &["userKey"]))
        .map(|u| person(Source::Confluence, u));
    let mut events = Vec::new();
    let mut seen = Vec::new();
    for entry in entries.into_iter().flatten() {
        let kind = s(entry, &["type"])
            .or_else(|| s(entry, &["operation", "key"]))
            .unwrap_or("");
        if !kind.eq_ignore_ascii_case("VIEWSPACE") && !kind.eq_ignore_ascii_case("read") {
            continue;
        }
        let user = s(entry, &["accountId"])
            .or_else(|| s(entry, &["userKey"]))
            .or_else(|| s(entry, &["userName"]));
        let Some(user) = user.filter(|u| !u.is_empty() && !seen.contains(u)) else {
            continue;
        };
        seen.push(user);
        let object = json!({ "id": format!("confluence:{key}"), "kind": "space" });
        let mut e = event(
            format!("confluence:{hook}:{key}:{user}:{stamp}"),
            "member.added",
            &at,
            Source::Confluence,
            actor.clone(),
            object,
        );
        e.insert("member".into(), json!(person(Source::Confluence, user)));
        events.push(Value::Object(e));
    }
    if events.is_empty() {
        return Ok(Mapped::Ignored(format!(
            "confluence `{hook}` lists no users"
        )));
    }
    Ok(Mapped::Events(events))
}

fn trello(p: &Value) -> Result<Mapped, MapError> {
    let action = p.get("action").ok_or_else(|| missing("action"))?;
    let action_id = s(action, &["id"]).ok_or_else(|| missing("action.id"))?;
    let kind_name = s(action, &["type"]).ok_or_else(|| missing("action.type"))?;
    let at = s(action, &["date"]).ok_or_else(|| missing("action.date"))?;
    let data = action.get("data").ok_or_else(|| missing("action.data"))?;
    let actor = s(action, &["idMemberCreator"]).map(|m| person(Source::Trello, m));
    let board = s(data, &["board", "id"]).map(|b| format!("trello:{b}"));
    let card_object = || -> Result<Value, MapError> {
        let card = data
            .get("card")
            .ok_or_else(|| missing("action.data.card"))?;
        let id = s(card, &["id"]).ok_or_else(|| missing("action.data.card.id"))?;
        let mut o = json!({ "id": format!("trello:card:{id}"), "kind": "card", "title": s(card, &["name"]).unwrap_or("") });
        if let (Some(b), Some(map)) = (&board, o.as_object_mut()) {
            map.insert("container".into(), json!(b));
            map.insert(
                "visibility".into(),
                json!({ "members": [format!("trello-board:{}", b.trim_start_matches("trello:"))] }),
            );
        }
        Ok(o)
    };
    let id = format!("trello:{action_id}");
    let e = match kind_name {
        "createCard" => event(
            id,
            "content.created",
            at,
            Source::Trello,
            actor,
            card_object()?,
        ),
        "updateCard" => event(
            id,
            "content.updated",
            at,
            Source::Trello,
            actor,
            card_object()?,
        ),
        "deleteCard" => event(
            id,
            "content.deleted",
            at,
            Source::Trello,
            actor,
            card_object()?,
        ),
        "commentCard" => {
            let mut object = card_object()?;
            if let Some(map) = object.as_object_mut() {
                map.insert("body".into(), json!(s(data, &["text"]).unwrap_or("")));
            }
            event(id, "comment.created", at, Source::Trello, actor, object)
        }
        "addMemberToCard" => {
            let member = s(data, &["idMember"])
                .or_else(|| s(action, &["member", "id"]))
                .ok_or_else(|| missing("action.data.idMember"))?;
            let mut e = event(
                id,
                "task.assigned",
                at,
                Source::Trello,
                actor,
                card_object()?,
            );
            e.insert("assignee".into(), json!(person(Source::Trello, member)));
            e
        }
        "addMemberToBoard" => {
            let member = s(data, &["idMemberAdded"])
                .or_else(|| s(action, &["member", "id"]))
                .ok_or_else(|| missing("action.data.idMemberAdded"))?;
            let board_id = board
                .clone()
                .ok_or_else(|| missing("action.data.board.id"))?;
            let object = json!({ "id": board_id, "kind": "board", "title": s(data, &["board", "name"]).unwrap_or("") });
            let mut e = event(id, "member.added", at, Source::Trello, actor, object);
            e.insert("member".into(), json!(person(Source::Trello, member)));
            e
        }
        other => return Ok(Mapped::Ignored(format!("trello `{other}`"))),
    };
    Ok(Mapped::Events(vec![Value::Object(e)]))
}

#[cfg(test)]
mod tests;
