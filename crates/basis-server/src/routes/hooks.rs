//! `POST /v1/hooks/{source}?tenant=WORKSPACE`: webhook receivers for Jira, Confluence, Trello,
//! GitHub and Slack. Senders cannot present an API key, so the signature made with the
//! workspace's secret for that source is the authentication: no secret configured, or a bad
//! signature, is 401 and nothing is stored.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use basis_connect::mapping::{Delivery, Mapped, Source, map};
use basis_connect::signatures;
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Caller, Json, Query, read_body};

/// Largest webhook body.
pub const MAX_HOOK_BODY: usize = 5 << 20;

/// `?tenant=`
#[derive(Debug, Deserialize)]
pub struct HookQuery {
    tenant: Option<String>,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn source_of(name: &str) -> Result<Source, ApiError> {
    Source::parse(name).ok_or(ApiError::NotFound)
}

/// Receives one delivery.
pub async fn receive(
    State(state): State<AppState>,
    Path(source): Path<String>,
    Query(q): Query<HookQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let source = source_of(&source)?;
    let tenant = q
        .tenant
        .filter(|t| basis_core::event::is_identifier(t))
        .ok_or_else(|| ApiError::BadQuery("name the workspace: `?tenant=...`".into()))?;
    let body = read_body(body, MAX_HOOK_BODY).await?;
    let settings = state
        .engine
        .hook_settings(&tenant, source.as_str())
        .await?
        .ok_or_else(|| ApiError::HookNotConfigured(source.as_str().into()))?;
    let secret = settings.secret.as_bytes();
    let checked = match source {
        Source::Github => {
            signatures::github(secret, &body, header(&headers, "x-hub-signature-256"))
        }
        Source::Jira | Source::Confluence => {
            signatures::atlassian(secret, &body, header(&headers, "x-hub-signature"))
        }
        Source::Slack => {
            let now = state.engine.now().as_millis() / 1_000;
            signatures::slack(
                secret,
                &body,
                header(&headers, "x-slack-request-timestamp"),
                header(&headers, "x-slack-signature"),
                now,
            )
        }
        Source::Trello => signatures::trello(
            secret,
            &body,
            settings.callback_url.as_deref().unwrap_or(""),
            header(&headers, "x-trello-webhook"),
        ),
    };
    if let Err(e) = checked {
        metrics::counter!("basis_hooks_total", "source" => source.as_str(), "outcome" => "bad_signature").increment(1);
        return Err(ApiError::BadSignature(e.to_string()));
    }
    let payload: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::MalformedPayload(format!("the body is not JSON: {e}")))?;
    let delivery = Delivery {
        event: header(&headers, "x-github-event").map(str::to_owned),
        id: header(&headers, "x-github-delivery").map(str::to_owned),
    };
    let now = state.engine.now().to_rfc3339();
    let mapped = map(source, &delivery, &payload, &now)
        .map_err(|e| ApiError::MalformedPayload(e.to_string()))?;
    let outcome = match mapped {
        Mapped::Challenge(challenge) => {
            return Ok(axum::Json(json!({ "challenge": challenge })).into_response());
        }
        Mapped::Ignored(what) => {
            metrics::counter!("basis_hooks_total", "source" => source.as_str(), "outcome" => "ignored").increment(1);
            return Ok(
                (StatusCode::ACCEPTED, axum::Json(json!({ "ignored": what }))).into_response(),
            );
        }
        Mapped::Events(events) => state.engine.ingest_mapped(&tenant, events).await?,
    };
    metrics::counter!("basis_hooks_total", "source" => source.as_str(), "outcome" => "stored")
        .increment(1);
    Ok(axum::Json(json!({ "accepted": outcome.accepted, "duplicates": outcome.duplicates, "seq": outcome.seq })).into_response())
}

/// Trello checks a callback URL with `HEAD` before it registers it.
pub async fn head(Path(source): Path<String>) -> Result<StatusCode, ApiError> {
    source_of(&source)?;
    Ok(StatusCode::OK)
}

/// `{ "secret": "...", "callback_url"?: "..." }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretBody {
    secret: String,
    callback_url: Option<String>,
}

/// Sets the workspace's secret for a source (admin).
pub async fn set_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(source): Path<String>,
    Json(body): Json<SecretBody>,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    source_of(&source)?;
    state
        .engine
        .set_hook(
            &caller.actor(),
            &source,
            &body.secret,
            body.callback_url.as_deref(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
