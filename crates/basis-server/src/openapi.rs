//! The OpenAPI 3.1 document, built from one table of operations. A test walks the table against
//! the live router so the document cannot list a route the server does not have.

use serde_json::{Map, Value, json};

/// One documented operation.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// HTTP method, lowercase.
    pub method: &'static str,
    /// Path template.
    pub path: &'static str,
    /// Summary.
    pub summary: &'static str,
    /// `public`, `service` (any key) or `admin`.
    pub access: &'static str,
    /// Request body schema name, if any.
    pub body: Option<&'static str>,
    /// Success status.
    pub success: u16,
    /// A documented answer besides success and the problem+json ones: status, description.
    pub other: Option<(u16, &'static str)>,
}

const fn op(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    access: &'static str,
    body: Option<&'static str>,
    success: u16,
) -> Operation {
    Operation {
        method,
        path,
        summary,
        access,
        body,
        success,
        other: None,
    }
}

impl Operation {
    /// The same operation with one more documented answer.
    const fn or(self, status: u16, description: &'static str) -> Operation {
        Operation {
            other: Some((status, description)),
            ..self
        }
    }
}

/// Every operation of the API.
pub const OPERATIONS: &[Operation] = &[
    op(
        "get",
        "/healthz",
        "Liveness and log position",
        "public",
        None,
        200,
    ),
    op(
        "get",
        "/readyz",
        "Readiness: 200 once the projections have replayed the log as it stood at start-up, 503 before",
        "public",
        None,
        200,
    )
    .or(
        503,
        "still replaying the log: the same JSON (`status`: `starting`, each projection's position), with Retry-After",
    ),
    op("get", "/metrics", "Prometheus metrics", "public", None, 200),
    op("get", "/openapi.json", "This document", "public", None, 200),
    op(
        "post",
        "/v1/events",
        "Ingest a JSON array or NDJSON of native events, all or nothing; returns {accepted, duplicates, seq}",
        "service",
        Some("Events"),
        201,
    ),
    op(
        "get",
        "/v1/events",
        "Read the tenant's normalized log (?after=SEQ&limit=N)",
        "admin",
        None,
        200,
    ),
    op(
        "put",
        "/v1/people/{id}",
        "Create or replace a person",
        "service",
        Some("Person"),
        200,
    ),
    op(
        "get",
        "/v1/people/{id}",
        "Read a person",
        "service",
        None,
        200,
    ),
    op(
        "delete",
        "/v1/people/{id}",
        "Erase a person (GDPR Art. 17); 409 under a legal hold",
        "service",
        None,
        204,
    ),
    op(
        "get",
        "/v1/people/{id}/privacy",
        "Jurisdiction and, per purpose, basis, allowed now and why",
        "service",
        None,
        200,
    ),
    op(
        "post",
        "/v1/people/{id}/consents",
        "Grant consent to a purpose",
        "service",
        Some("Consent"),
        201,
    ),
    op(
        "delete",
        "/v1/people/{id}/consents/{purpose}",
        "Withdraw consent (not retroactive)",
        "service",
        None,
        200,
    ),
    op(
        "post",
        "/v1/people/{id}/objections",
        "Object to a purpose on legitimate interest",
        "service",
        Some("Objection"),
        201,
    ),
    op(
        "delete",
        "/v1/people/{id}/objections/{purpose}",
        "Lift an objection",
        "service",
        None,
        200,
    ),
    op(
        "post",
        "/v1/people/{id}/objections/{purpose}/override",
        "Override an objection on compelling grounds, where the purpose allows",
        "admin",
        Some("Override"),
        200,
    ),
    op(
        "post",
        "/v1/people/{id}/opt-outs",
        "Opt out of a purpose that offers it",
        "service",
        Some("PurposeRef"),
        201,
    ),
    op(
        "delete",
        "/v1/people/{id}/opt-outs/{purpose}",
        "Opt back in",
        "service",
        None,
        200,
    ),
    op(
        "get",
        "/v1/people/{id}/processing",
        "The person's processing record and privacy history",
        "service",
        None,
        200,
    ),
    op(
        "get",
        "/v1/people/{id}/export",
        "Access and portability bundle (GDPR Art. 15/20)",
        "service",
        None,
        200,
    ),
    op(
        "get",
        "/v1/people/{id}/audit",
        "Privacy actions about the person",
        "admin",
        None,
        200,
    ),
    op(
        "get",
        "/v1/people/{id}/activity",
        "Activity counts, when the gate allows (?min_seq=)",
        "service",
        None,
        200,
    ),
    op(
        "get",
        "/v1/people/{id}/mention-suggestions",
        "People to @mention (?prefix=&context=&limit=&include_invitees=&min_seq=), ranked by interactions where the gate allows, each with its signals",
        "service",
        None,
        200,
    ),
    op(
        "get",
        "/v1/people/{id}/connections",
        "The people a person works with most, with reasons (?limit=&min_seq=)",
        "service",
        None,
        200,
    ),
    op(
        "get",
        "/v1/people/{id}/recommendations",
        "Content the person has not seen and may want, permission-checked, with reasons (?limit=&min_seq=)",
        "service",
        None,
        200,
    ),
    op(
        "get",
        "/v1/experts",
        "People with expertise on a topic, from documents the asker may see (?topic=&as=&limit=&min_seq=)",
        "service",
        None,
        200,
    ),
    op(
        "post",
        "/v1/decisions",
        "Ask the gate whether a use is lawful now (or at `at`)",
        "service",
        Some("DecisionRequest"),
        200,
    ),
    op(
        "get",
        "/v1/audit",
        "The tenant's audit log",
        "admin",
        None,
        200,
    ),
    op(
        "post",
        "/v1/legal-holds",
        "Place a legal hold (blocks erasure)",
        "admin",
        Some("LegalHold"),
        201,
    ),
    op(
        "get",
        "/v1/legal-holds",
        "List legal holds",
        "admin",
        None,
        200,
    ),
    op(
        "delete",
        "/v1/legal-holds/{hold}",
        "Release a legal hold",
        "admin",
        None,
        204,
    ),
    op(
        "get",
        "/v1/policy",
        "The policy in force",
        "service",
        None,
        200,
    ),
    op(
        "get",
        "/v1/policy/notice",
        "The privacy notice rendered from the policy (?format=md|html)",
        "public",
        None,
        200,
    ),
    op(
        "get",
        "/v1/records",
        "Records of processing (GDPR Art. 30) with live counts",
        "admin",
        None,
        200,
    ),
    op(
        "post",
        "/v1/admin/projections/activity/rebuild",
        "Rebuild the activity view from the log",
        "admin",
        None,
        200,
    ),
    op(
        "post",
        "/v1/admin/projections/graph/rebuild",
        "Rebuild the caller's tenant's interaction graph from the log (other tenants untouched); answers the position and the events replayed",
        "admin",
        None,
        200,
    ),
    op(
        "post",
        "/v1/admin/retention/compact",
        "Compact the caller's tenant's event log now (it runs daily): events older than the retention of essential.service lose who did what, and go unless content's permissions need them; people under a legal hold keep theirs. Answers the counts; recorded in the audit log",
        "admin",
        None,
        200,
    ),
];

fn schemas() -> Value {
    let s = |v: Value| v;
    json!({
        "Problem": s(json!({ "type": "object", "required": ["type", "title", "status", "code", "detail"],
            "properties": { "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                "code": {"type": "string", "description": "stable error code"}, "detail": {"type": "string"},
                "errors": {"type": "array", "items": {"type": "object", "properties": {
                    "index": {"type": "integer"}, "field": {"type": "string"}, "reason": {"type": "string"}}}}}})),
        "Event": s(json!({ "type": "object", "required": ["id", "type", "at"], "properties": {
            "id": {"type": "string"}, "type": {"type": "string", "example": "comment.created"},
            "at": {"type": "string", "format": "date-time"}, "source": {"type": "string"}, "actor": {"type": "string"},
            "object": {"type": "object", "properties": { "id": {"type": "string"}, "kind": {"type": "string"},
                "title": {"type": "string"}, "body": {"type": "string"}, "url": {"type": "string"},
                "container": {"type": "string"}, "visibility": {"type": "object"}}},
            "mentions": {"type": "array", "items": {"type": "string"}}, "assignee": {"type": ["string", "null"]},
            "member": {"type": ["string", "null"]}, "query": {"type": "string"},
            "context": {"type": "object", "properties": {"ip": {"type": "string"}, "user_agent": {"type": "string"}, "country": {"type": "string"}}},
            "data": {"type": "object"}}})),
        "Events": s(json!({ "oneOf": [ {"type": "array", "items": {"$ref": "#/components/schemas/Event"}}, {"$ref": "#/components/schemas/Event"} ],
            "description": "also accepted as application/x-ndjson, one event per line" })),
        "Person": s(json!({ "type": "object", "properties": {
            "name": {"type": "string"}, "email": {"type": "string"}, "job_title": {"type": "string"},
            "department": {"type": "string"}, "teams": {"type": "array", "items": {"type": "string"}},
            "country": {"type": "string", "description": "ISO 3166-1 alpha-2; decides the jurisdiction"},
            "account": {"enum": ["active", "suspended", "closed"]}, "timezone": {"type": "string"}, "locale": {"type": "string"},
            "identities": {"type": "object", "additionalProperties": {"type": "string"}}}})),
        "Consent": s(json!({ "type": "object", "required": ["purpose"], "properties": {
            "purpose": {"type": "string"}, "notice_version": {"type": "integer"}, "detail": {"type": "string"}}})),
        "Objection": s(json!({ "type": "object", "required": ["purpose"], "properties": {
            "purpose": {"type": "string"}, "reason": {"type": "string"}}})),
        "Override": s(json!({ "type": "object", "required": ["grounds"], "properties": { "grounds": {"type": "string"}}})),
        "PurposeRef": s(json!({ "type": "object", "required": ["purpose"], "properties": { "purpose": {"type": "string"}}})),
        "DecisionRequest": s(json!({ "type": "object", "required": ["person", "purpose"], "properties": {
            "person": {"type": "string"}, "purpose": {"type": "string"}, "at": {"type": "string", "format": "date-time"}}})),
        "TokenRequest": s(json!({ "type": "object", "properties": { "ttl_seconds": {"type": "integer", "minimum": 1, "maximum": 86400, "default": 900}}})),
        "HookSecret": s(json!({ "type": "object", "required": ["secret"], "properties": { "secret": {"type": "string", "minLength": 16}, "callback_url": {"type": "string"}}})),
        "LegalHold": s(json!({ "type": "object", "required": ["person", "reason"], "properties": {
            "person": {"type": "string"}, "reason": {"type": "string"}}})),
    })
}

/// The document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for o in OPERATIONS {
        let entry = paths.entry(o.path.to_owned()).or_insert_with(|| json!({}));
        let params: Vec<Value> = o
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": {"type": "string"} }))
            .collect();
        let problem = json!({ "description": "problem", "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" }}}});
        let mut responses = Map::new();
        responses.insert(o.success.to_string(), json!({ "description": "success" }));
        responses.insert("4XX".into(), problem);
        if let Some((status, description)) = o.other {
            responses.insert(status.to_string(), json!({ "description": description }));
        }
        let mut operation = json!({
            "summary": o.summary,
            "parameters": params,
            "responses": responses,
            "x-basis-access": o.access,
        });
        if o.access != "public" {
            operation["security"] = json!([{ "bearer": [] }]);
        }
        if let Some(body) = o.body {
            operation["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{body}") }}}});
        }
        entry[o.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Basis", "version": env!("CARGO_PKG_VERSION"),
                  "description": "Team intelligence in which every use of personal data has a declared purpose and a legal basis." },
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } }
        }
    })
}
