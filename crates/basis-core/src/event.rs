//! Native events: what a team did in its tools, normalized. Validation is field by field so a
//! rejected batch can say which event, which field and why; projections read the typed
//! [`Event`].

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::Timestamp;
use crate::jurisdiction;

mod fast;

/// Longest event id, person id or other identifier.
pub const MAX_ID_LEN: usize = 256;
/// Most mentions one event may carry.
pub const MAX_MENTIONS: usize = 1_000;
/// Most visibility members one object may list.
pub const MAX_MEMBERS: usize = 10_000;

/// A native event as projections read it. Fields the producer did not send are `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Producer-chosen id, unique per tenant.
    pub id: String,
    /// `content.created`, `comment.created`, `task.assigned`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// When it happened.
    pub at: Timestamp,
    /// The tool it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Who did it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// What it was done to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<Object>,
    /// People @mentioned (`null` as none, as the validator accepts it).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub mentions: Vec<String>,
    /// Who a task was assigned to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Who was added to a container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// What was searched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Request context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// Free-form extension data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl Event {
    /// Every person the event is about: actor, mentions, assignee, member.
    pub fn people(&self) -> impl Iterator<Item = &str> {
        self.actor
            .iter()
            .chain(self.mentions.iter())
            .chain(self.assignee.iter())
            .chain(self.member.iter())
            .map(String::as_str)
    }

    /// Whether `person` appears in the event.
    pub fn involves(&self, person: &str) -> bool {
        self.people().any(|p| p == person)
    }

    /// Renames a person everywhere they appear (a stub identity merged into the person who
    /// claimed it). Returns whether anything changed.
    pub fn rename_person(&mut self, from: &str, to: &str) -> bool {
        let mut changed = false;
        let mut swap = |slot: &mut String| {
            if slot == from {
                *slot = to.to_owned();
                changed = true;
            }
        };
        for slot in [&mut self.actor, &mut self.assignee, &mut self.member]
            .into_iter()
            .flatten()
        {
            swap(slot);
        }
        self.mentions.iter_mut().for_each(&mut swap);
        if let Some(Visibility::Members { members }) =
            self.object.as_mut().and_then(|o| o.visibility.as_mut())
        {
            members.iter_mut().for_each(&mut swap);
        }
        changed
    }

    /// Removes `person` from the event's personal fields (erasure), and the request context of
    /// anything they did. Returns whether anything changed.
    pub fn redact_person(&mut self, person: &str, replacement: &str) -> bool {
        let mut changed = false;
        let mut swap = |slot: &mut Option<String>| {
            if slot.as_deref() == Some(person) {
                *slot = Some(replacement.to_owned());
                changed = true;
            }
        };
        let was_actor = self.actor.as_deref() == Some(person);
        swap(&mut self.actor);
        swap(&mut self.assignee);
        swap(&mut self.member);
        for m in &mut self.mentions {
            if m == person {
                *m = replacement.to_owned();
                changed = true;
            }
        }
        if was_actor && self.context.is_some() {
            self.context = None;
        }
        if let Some(Visibility::Members { members }) =
            self.object.as_mut().and_then(|o| o.visibility.as_mut())
        {
            let before = members.len();
            members.retain(|m| m != person);
            changed |= members.len() != before;
        }
        changed
    }
}

/// A list sent as `null` reads as empty.
fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

/// The thing an event is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Object {
    /// Its id in the source tool.
    pub id: String,
    /// `page`, `ticket`, `card`, `message`, `pull_request`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Body text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Project, space, board, repository or channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Who may see it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
}

/// Who may see a piece of content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Visibility {
    /// Listed people and teams.
    Members {
        /// Person or team ids.
        members: Vec<String>,
    },
    /// Everyone in the workspace.
    Public {
        /// Always true.
        public: bool,
    },
}

/// Where a request came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    /// Client address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Client software.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Country the request came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// One thing wrong with one event of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Position of the event in the batch (0-based).
    pub index: usize,
    /// JSON path of the field (`object.visibility.members[2]`).
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

/// The columns the store indexes, taken from a valid event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventHead {
    /// Event id.
    pub id: String,
    /// Event type.
    pub kind: String,
    /// When.
    pub at: Timestamp,
    /// Who did it.
    pub actor: Option<String>,
}

/// Whether `s` is an acceptable identifier (event, person, team, object id): no whitespace,
/// control characters, `/`, `"` or a backslash, so it appears verbatim in stored JSON and URLs.
pub fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ID_LEN
        && !s
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '/' | '"' | '\\'))
}

fn is_type_name(s: &str) -> bool {
    s.len() <= 64
        && s.split('.').all(|seg| {
            seg.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}

const TOP_FIELDS: [&str; 12] = [
    "id", "type", "at", "source", "actor", "object", "mentions", "assignee", "member", "query",
    "context", "data",
];
const OBJECT_FIELDS: [&str; 7] = [
    "id",
    "kind",
    "title",
    "body",
    "url",
    "container",
    "visibility",
];
const CONTEXT_FIELDS: [&str; 3] = ["ip", "user_agent", "country"];

struct Checker<'e> {
    index: usize,
    errors: &'e mut Vec<FieldError>,
}

impl Checker<'_> {
    fn fail(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.errors.push(FieldError {
            index: self.index,
            field: field.into(),
            reason: reason.into(),
        });
    }

    fn unknown_fields(&mut self, map: &Map<String, Value>, prefix: &str, known: &[&str]) {
        for key in map.keys() {
            if !known.contains(&key.as_str()) {
                self.fail(format!("{prefix}{key}"), "unknown field");
            }
        }
    }

    /// An optional string (null counts as absent) of at most `max` bytes.
    fn opt_str<'v>(
        &mut self,
        map: &'v Map<String, Value>,
        key: &str,
        path: &str,
        max: usize,
    ) -> Option<&'v str> {
        match map.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.len() > max => {
                self.fail(path, format!("longer than {max} bytes"));
                None
            }
            Some(Value::String(s)) => Some(s),
            Some(other) => {
                self.fail(path, format!("expected a string, found {}", kind(other)));
                None
            }
        }
    }

    fn opt_id<'v>(
        &mut self,
        map: &'v Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Option<&'v str> {
        let value = self.opt_str(map, key, path, MAX_ID_LEN)?;
        if !is_identifier(value) {
            self.fail(
                path,
                "must be a non-empty identifier without spaces, `/` or control characters",
            );
            return None;
        }
        Some(value)
    }

    fn id_list(&mut self, value: &Value, path: &str, max: usize) {
        let Value::Array(items) = value else {
            self.fail(
                path,
                format!("expected an array of ids, found {}", kind(value)),
            );
            return;
        };
        if items.len() > max {
            self.fail(path, format!("more than {max} entries"));
            return;
        }
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(s) if is_identifier(s) => {}
                Value::String(_) => self.fail(
                    format!("{path}[{i}]"),
                    "must be a non-empty identifier without spaces, `/` or control characters",
                ),
                other => self.fail(
                    format!("{path}[{i}]"),
                    format!("expected a string, found {}", kind(other)),
                ),
            }
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Validates one event given as JSON text: a zero-copy fast path for valid events, the
/// field-by-field validator (which names every problem) for the rest.
pub fn validate_event_text(
    index: usize,
    text: &str,
    errors: &mut Vec<FieldError>,
) -> Option<EventHead> {
    if let Some(head) = fast::accept(text) {
        return Some(head);
    }
    match serde_json::from_str::<Value>(text) {
        Ok(value) => {
            let head = validate_event(index, &value, errors)?;
            // What is stored must read back as an `Event` (erasure and compaction rewrite it):
            // a key given twice, for one, reads as the last one here and not at all there.
            if let Err(e) = serde_json::from_str::<Event>(text) {
                errors.push(FieldError {
                    index,
                    field: String::new(),
                    reason: e.to_string(),
                });
                return None;
            }
            Some(head)
        }
        Err(e) => {
            errors.push(FieldError {
                index,
                field: String::new(),
                reason: e.to_string(),
            });
            None
        }
    }
}

/// Validates one event of a batch; problems are appended to `errors`.
pub fn validate_event(
    index: usize,
    value: &Value,
    errors: &mut Vec<FieldError>,
) -> Option<EventHead> {
    let before = errors.len();
    let mut c = Checker { index, errors };
    let Value::Object(map) = value else {
        c.fail(
            "",
            format!("expected an event object, found {}", kind(value)),
        );
        return None;
    };
    c.unknown_fields(map, "", &TOP_FIELDS);
    let id = match map.get("id") {
        None | Some(Value::Null) => {
            c.fail("id", "is required");
            None
        }
        Some(_) => c.opt_id(map, "id", "id"),
    };
    let kind_name = match map.get("type") {
        None | Some(Value::Null) => {
            c.fail("type", "is required");
            None
        }
        Some(_) => c.opt_str(map, "type", "type", 64).and_then(|t| {
            if is_type_name(t) {
                Some(t)
            } else {
                c.fail(
                    "type",
                    format!("`{t}` is not a dotted lowercase type such as `comment.created`"),
                );
                None
            }
        }),
    };
    let at = match map.get("at") {
        None | Some(Value::Null) => {
            c.fail("at", "is required");
            None
        }
        Some(_) => c
            .opt_str(map, "at", "at", 64)
            .and_then(|s| match Timestamp::parse(s) {
                Ok(t) => Some(t),
                Err(e) => {
                    c.fail("at", e.to_string());
                    None
                }
            }),
    };
    c.opt_str(map, "source", "source", 64);
    let actor = c.opt_id(map, "actor", "actor");
    c.opt_id(map, "assignee", "assignee");
    c.opt_id(map, "member", "member");
    c.opt_str(map, "query", "query", 4_096);
    if let Some(m) = map.get("mentions").filter(|v| !v.is_null()) {
        c.id_list(m, "mentions", MAX_MENTIONS);
    }
    match map.get("object") {
        None | Some(Value::Null) => {}
        Some(Value::Object(obj)) => {
            c.unknown_fields(obj, "object.", &OBJECT_FIELDS);
            match obj.get("id") {
                None | Some(Value::Null) => {
                    c.fail("object.id", "is required when `object` is given")
                }
                Some(_) => {
                    c.opt_id(obj, "id", "object.id");
                }
            }
            c.opt_str(obj, "kind", "object.kind", 64);
            c.opt_str(obj, "title", "object.title", 4_096);
            c.opt_str(obj, "body", "object.body", 1 << 20);
            c.opt_str(obj, "url", "object.url", 4_096);
            c.opt_id(obj, "container", "object.container");
            match obj.get("visibility") {
                None | Some(Value::Null) => {}
                Some(Value::Object(vis)) => {
                    c.unknown_fields(vis, "object.visibility.", &["members", "public"]);
                    match (
                        vis.get("members").filter(|v| !v.is_null()),
                        vis.get("public").filter(|v| !v.is_null()),
                    ) {
                        (Some(m), None) => c.id_list(m, "object.visibility.members", MAX_MEMBERS),
                        (None, Some(Value::Bool(true))) => {}
                        (None, Some(_)) => c.fail(
                            "object.visibility.public",
                            "must be `true`; list `members` to restrict",
                        ),
                        _ => c.fail(
                            "object.visibility",
                            "give either `members` or `public: true`",
                        ),
                    }
                }
                Some(other) => c.fail(
                    "object.visibility",
                    format!("expected an object, found {}", kind(other)),
                ),
            }
        }
        Some(other) => c.fail(
            "object",
            format!("expected an object, found {}", kind(other)),
        ),
    }
    match map.get("context") {
        None | Some(Value::Null) => {}
        Some(Value::Object(ctx)) => {
            c.unknown_fields(ctx, "context.", &CONTEXT_FIELDS);
            if let Some(ip) = c.opt_str(ctx, "ip", "context.ip", 64)
                && ip.parse::<IpAddr>().is_err()
            {
                c.fail("context.ip", format!("`{ip}` is not an IP address"));
            }
            c.opt_str(ctx, "user_agent", "context.user_agent", 1_024);
            if let Some(country) = c.opt_str(ctx, "country", "context.country", 2)
                && !jurisdiction::is_country_code(country)
            {
                c.fail(
                    "context.country",
                    format!("`{country}` is not an ISO 3166-1 alpha-2 code"),
                );
            }
        }
        Some(other) => c.fail(
            "context",
            format!("expected an object, found {}", kind(other)),
        ),
    }
    if let Some(data) = map.get("data")
        && !data.is_object()
        && !data.is_null()
    {
        c.fail("data", format!("expected an object, found {}", kind(data)));
    }
    if errors.len() > before {
        return None;
    }
    Some(EventHead {
        id: id?.to_owned(),
        kind: kind_name?.to_owned(),
        at: at?,
        actor: actor.map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {

    /// What the validator accepts reads back as an [`Event`]: a key given twice, a number out
    /// of range or a lone surrogate in `data` are refused, on the fast path and the slow one.
    #[test]
    fn what_is_accepted_reads_back() {
        let head = r#"{"id":"e","type":"comment.created","at":"2026-11-01T00:00:00Z""#;
        for tail in [
            r#","actor":"ann","actor":"bob"}"#,
            r#","data":{"n":1e400}}"#,
            r#","data":{"s":"\ud800"}}"#,
        ] {
            let text = format!("{head}{tail}");
            let mut errors = Vec::new();
            assert!(
                validate_event_text(0, &text, &mut errors).is_none(),
                "{text}"
            );
            assert!(!errors.is_empty(), "{text}");
        }
        // Nesting near the parser's depth limit: whatever is accepted reads back.
        for depth in 120..132 {
            let text = format!(
                r#"{head},"data":{}1{}}}"#,
                r#"{"a":"#.repeat(depth),
                "}".repeat(depth)
            );
            let mut errors = Vec::new();
            if validate_event_text(0, &text, &mut errors).is_some() {
                serde_json::from_str::<Event>(&text).unwrap_or_else(|e| panic!("{depth}: {e}"));
            }
        }
        let mut errors = Vec::new();
        let fine = format!(r#"{head},"data":{{"n":1e300,"s":"\u00e9"}}}}"#);
        assert!(
            validate_event_text(0, &fine, &mut errors).is_some(),
            "{errors:?}"
        );
        serde_json::from_str::<Event>(&fine).unwrap();
    }

    /// Every reader of stored events (erasure, compaction, projections) parses them as
    /// [`Event`]: a `null` list the validator lets through must not make one unreadable.
    #[test]
    fn mentions_sent_as_null_read_as_none() {
        let e: Event = serde_json::from_str(
            r#"{"id":"e","type":"comment.created","at":"2026-11-01T00:00:00Z","actor":"ann","mentions":null}"#,
        )
        .unwrap();
        assert!(e.mentions.is_empty());
        assert!(e.involves("ann"));
    }

    use serde_json::json;

    use super::*;

    fn check(value: Value) -> Result<EventHead, Vec<FieldError>> {
        let mut errors = Vec::new();
        validate_event(3, &value, &mut errors).ok_or(errors)
    }

    #[test]
    fn accepts_the_design_example() {
        let head = check(
            json!({ "id": "evt-8812", "type": "comment.created", "at": "2026-11-30T10:00:00Z",
            "source": "confluence", "actor": "u-alice",
            "object": { "id": "page-9", "kind": "page", "title": "Q3 plan", "body": "...",
                        "url": "https://example.test/p/9", "container": "space-ENG",
                        "visibility": { "members": ["team-eng", "u-bob"] } },
            "mentions": ["u-bob"], "assignee": null, "member": null,
            "context": { "ip": "203.0.113.7", "user_agent": "x", "country": "DE" } }),
        )
        .unwrap();
        assert_eq!(head.id, "evt-8812");
        assert_eq!(head.actor.as_deref(), Some("u-alice"));
    }

    #[test]
    fn names_each_bad_field() {
        let errors = check(
            json!({ "id": 5, "at": "soon", "mentions": ["ok", 7], "actr": "x",
            "object": { "kind": "page" }, "context": { "ip": "nope" } }),
        )
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "id",
            "type",
            "at",
            "mentions[1]",
            "actr",
            "object.id",
            "context.ip",
        ] {
            assert!(fields.contains(&f), "{f} not in {fields:?}");
        }
        assert!(errors.iter().all(|e| e.index == 3));
    }

    #[test]
    fn typed_event_redacts_a_person() {
        let mut e: Event = serde_json::from_value(json!({ "id": "e", "type": "comment.created",
            "at": "2026-11-30T10:00:00Z", "actor": "u-a", "mentions": ["u-b", "u-a"],
            "context": { "ip": "203.0.113.7" },
            "object": { "id": "o", "visibility": { "members": ["u-a", "team"] } } }))
        .unwrap();
        assert!(e.involves("u-a"));
        assert!(e.redact_person("u-a", "erased"));
        assert!(!e.involves("u-a"));
        assert_eq!(e.context, None);
        assert_eq!(
            e.object.unwrap().visibility,
            Some(Visibility::Members {
                members: vec!["team".into()]
            })
        );
    }

    fn pool() -> Vec<Value> {
        vec![
            Value::Null,
            json!(true),
            json!(7),
            json!(""),
            json!("ok-id"),
            json!("has space"),
            json!("a/b"),
            json!("x".repeat(300)),
            json!("2026-11-30T10:00:00Z"),
            json!("comment.created"),
            json!("Not.A.Type"),
            json!("203.0.113.7"),
            json!("DE"),
            json!("Germany"),
            json!(["u-1", "u-2"]),
            json!(["u 1"]),
            json!([7]),
            json!({}),
            json!({ "id": "o-1" }),
            json!({ "id": "o-1", "visibility": { "public": true } }),
            json!({ "id": "o-1", "visibility": { "members": null, "public": true } }),
            json!({ "id": "o-1", "visibility": { "public": false } }),
            json!({ "id": "o-1", "visibility": { "members": ["t"], "public": true } }),
            json!({ "id": "o-1", "surprise": 1 }),
            json!({ "ip": "203.0.113.7", "country": "DE" }),
            json!({ "ip": "nope" }),
            json!({ "country": "DEU" }),
        ]
    }

    const FIELDS: [&str; 13] = [
        "id", "type", "at", "source", "actor", "object", "mentions", "assignee", "member", "query",
        "context", "data", "extra",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2048))]

        /// The fast path may only ever accept what the full validator accepts, with the same head.
        #[test]
        fn fast_path_never_accepts_what_the_validator_refuses(
            edits in proptest::collection::vec((0..FIELDS.len(), 0..27usize, proptest::bool::ANY), 0..4)
        ) {
            let mut event = json!({ "id": "e-1", "type": "comment.created", "at": "2026-11-30T10:00:00Z", "actor": "u-1",
                "object": { "id": "p-9", "visibility": { "members": ["team"] } }, "mentions": ["u-2"],
                "context": { "ip": "203.0.113.7", "country": "DE" } });
            let pool = pool();
            for (field, value, remove) in edits {
                let map = event.as_object_mut().unwrap();
                if remove {
                    map.remove(FIELDS[field]);
                } else {
                    map.insert(FIELDS[field].to_owned(), pool[value].clone());
                }
            }
            let text = event.to_string();
            let mut errors = Vec::new();
            let slow = validate_event(0, &event, &mut errors);
            if let Some(fast) = fast::accept(&text) {
                proptest::prop_assert_eq!(Some(fast), slow, "{}", text);
            }
        }
    }

    /// Regression: serde builds a struct from an array too; the validator refuses arrays.
    #[test]
    fn fast_path_refuses_arrays_where_objects_belong() {
        for text in [
            r#"{"id":"e","type":"a.b","at":"2026-11-30T10:00:00Z","object":["u-1","u-2"]}"#,
            r#"{"id":"e","type":"a.b","at":"2026-11-30T10:00:00Z","context":["203.0.113.7"]}"#,
            r#"{"id":"e","type":"a.b","at":"2026-11-30T10:00:00Z","object":{"id":"o","visibility":[["t"]]}}"#,
            r#"["e","a.b","2026-11-30T10:00:00Z"]"#,
        ] {
            assert!(fast::accept(text).is_none(), "{text}");
        }
    }

    #[test]
    fn fast_path_takes_ordinary_events() {
        let text = json!({ "id": "evt-8812", "type": "comment.created", "at": "2026-11-30T10:00:00Z",
            "source": "confluence", "actor": "u-alice", "assignee": null,
            "object": { "id": "page-9", "kind": "page", "title": "Q3 plan", "container": "space-ENG",
                        "visibility": { "members": ["team-eng", "u-bob"] } },
            "mentions": ["u-bob"], "context": { "ip": "203.0.113.7", "country": "DE" }, "data": { "k": 1 } })
        .to_string();
        assert!(fast::accept(&text).is_some());
    }
}
