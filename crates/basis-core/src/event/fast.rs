//! The fast path of event validation: a zero-copy typed parse and the same checks as
//! [`super::validate_event`], answering only "valid, with this head" or "not sure". Anything it
//! does not accept goes through the field-by-field validator, which alone reports errors, so the
//! two can only differ in speed (a test holds them to that).

use std::borrow::Cow;
use std::net::IpAddr;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{EventHead, MAX_ID_LEN, MAX_MEMBERS, MAX_MENTIONS, is_identifier, is_type_name};
use crate::{Timestamp, jurisdiction};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventIn<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    at: Cow<'a, str>,
    #[serde(default, borrow)]
    source: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    actor: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    object: Option<&'a RawValue>,
    #[serde(default, borrow)]
    mentions: Option<Vec<Cow<'a, str>>>,
    #[serde(default, borrow)]
    assignee: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    member: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    query: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    context: Option<&'a RawValue>,
    /// Parsed, not skipped: skipping checks neither number range, nor escapes, nor depth, and
    /// what is stored must read back as an `Event` (erasure and compaction rewrite it).
    #[serde(default, rename = "data")]
    _data: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ObjectIn<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(default, borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    title: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    body: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    url: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    container: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    visibility: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VisibilityIn<'a> {
    #[serde(default, borrow)]
    members: Option<Vec<Cow<'a, str>>>,
    #[serde(default)]
    public: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContextIn<'a> {
    #[serde(default, borrow)]
    ip: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    user_agent: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    country: Option<Cow<'a, str>>,
}

fn short(v: &Option<Cow<'_, str>>, max: usize) -> bool {
    v.as_ref().is_none_or(|s| s.len() <= max)
}

fn id_ok(v: &Option<Cow<'_, str>>) -> bool {
    v.as_ref().is_none_or(|s| is_identifier(s))
}

fn ids_ok(v: &[Cow<'_, str>], max: usize) -> bool {
    v.len() <= max && v.iter().all(|s| is_identifier(s))
}

/// A nested object, parsed only when it is a JSON object (serde would also take a struct from an
/// array, which the validator refuses). `Some(None)` is absent or null; `None` means refuse.
fn nested<'a, T: Deserialize<'a>>(raw: Option<&'a RawValue>) -> Option<Option<T>> {
    let Some(raw) = raw else { return Some(None) };
    let text = raw.get();
    if text == "null" {
        return Some(None);
    }
    if !text.starts_with('{') {
        return None;
    }
    serde_json::from_str(text).ok().map(Some)
}

/// The head of a valid event, or `None` when the full validator must look at it.
pub(super) fn accept(text: &str) -> Option<EventHead> {
    if !text.trim_start().starts_with('{') {
        return None;
    }
    let e: EventIn<'_> = serde_json::from_str(text).ok()?;
    let object: Option<ObjectIn<'_>> = nested(e.object)?;
    let context: Option<ContextIn<'_>> = nested(e.context)?;
    let visibility: Option<Option<VisibilityIn<'_>>> = match &object {
        Some(o) => Some(nested(o.visibility)?),
        None => None,
    };
    if e.at.len() > 64 {
        return None;
    }
    let at = Timestamp::parse(&e.at).ok()?;
    let ok = e.id.len() <= MAX_ID_LEN
        && is_identifier(&e.id)
        && e.kind.len() <= 64
        && is_type_name(&e.kind)
        && short(&e.source, 64)
        && id_ok(&e.actor)
        && id_ok(&e.assignee)
        && id_ok(&e.member)
        && short(&e.query, 4_096)
        && e.mentions
            .as_deref()
            .is_none_or(|m| ids_ok(m, MAX_MENTIONS))
        && object.as_ref().is_none_or(|o| {
            is_identifier(&o.id)
                && short(&o.kind, 64)
                && short(&o.title, 4_096)
                && short(&o.body, 1 << 20)
                && short(&o.url, 4_096)
                && id_ok(&o.container)
                && visibility
                    .as_ref()
                    .and_then(Option::as_ref)
                    .is_none_or(|v| match (&v.members, v.public) {
                        (Some(m), None) => ids_ok(m, MAX_MEMBERS),
                        (None, Some(true)) => true,
                        _ => false,
                    })
        })
        && context.as_ref().is_none_or(|c| {
            c.ip.as_ref()
                .is_none_or(|ip| ip.len() <= 64 && ip.parse::<IpAddr>().is_ok())
                && short(&c.user_agent, 1_024)
                && c.country
                    .as_ref()
                    .is_none_or(|k| k.len() <= 2 && jurisdiction::is_country_code(k))
        });
    ok.then(|| EventHead {
        id: e.id.into_owned(),
        kind: e.kind.into_owned(),
        at,
        actor: e.actor.map(Cow::into_owned),
    })
}
