//! Privacy rights and the gate: consents, objections (and overrides), opt-outs, the person's
//! privacy overview, processing record, export, audit, legal holds and decisions.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use basis_core::Timestamp;
use serde::Deserialize;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Caller, Json, Query};

/// `{ "purpose": ..., "notice_version"?: n, "detail"?: "..." }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentBody {
    purpose: String,
    notice_version: Option<u32>,
    detail: Option<String>,
}

/// `{ "purpose": ..., "reason"?: "..." }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectionBody {
    purpose: String,
    reason: Option<String>,
}

/// `{ "purpose": ... }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurposeBody {
    purpose: String,
}

/// `{ "grounds": "..." }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideBody {
    grounds: String,
}

fn created<T: serde::Serialize>(value: T) -> Response {
    (StatusCode::CREATED, axum::Json(value)).into_response()
}

/// Grants consent.
pub async fn grant(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ConsentBody>,
) -> Result<Response, ApiError> {
    let record = state
        .engine
        .grant_consent(
            &caller.actor(),
            &id,
            &body.purpose,
            body.notice_version,
            body.detail,
        )
        .await?;
    Ok(created(record))
}

/// Withdraws consent.
pub async fn withdraw(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, purpose)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(
        state
            .engine
            .withdraw_consent(&caller.actor(), &id, &purpose)
            .await?,
    )
    .into_response())
}

/// Objects.
pub async fn object(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ObjectionBody>,
) -> Result<Response, ApiError> {
    Ok(created(
        state
            .engine
            .object(&caller.actor(), &id, &body.purpose, body.reason)
            .await?,
    ))
}

/// Lifts an objection.
pub async fn lift(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, purpose)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(
        state
            .engine
            .lift_objection(&caller.actor(), &id, &purpose)
            .await?,
    )
    .into_response())
}

/// Overrides an objection on compelling grounds (admin).
pub async fn override_objection(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, purpose)): Path<(String, String)>,
    Json(body): Json<OverrideBody>,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    Ok(axum::Json(
        state
            .engine
            .override_objection(&caller.actor(), &id, &purpose, &body.grounds)
            .await?,
    )
    .into_response())
}

/// Opts out.
pub async fn opt_out(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<PurposeBody>,
) -> Result<Response, ApiError> {
    Ok(created(
        state
            .engine
            .opt_out(&caller.actor(), &id, &body.purpose)
            .await?,
    ))
}

/// Opts back in.
pub async fn opt_in(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, purpose)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(state.engine.opt_in(&caller.actor(), &id, &purpose).await?).into_response())
}

/// Jurisdiction and per-purpose state.
pub async fn overview(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(state.engine.privacy(&caller.tenant, &id).await?).into_response())
}

/// The processing record.
pub async fn processing(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(state.engine.processing(&caller.tenant, &id).await?).into_response())
}

/// The access and portability bundle.
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let bundle = state.engine.export(&caller.actor(), &id).await?;
    let mut response = axum::Json(bundle).into_response();
    if let Ok(v) = format!(
        "attachment; filename=\"basis-export-{}.json\"",
        id.replace(['"', '\\'], "_")
    )
    .parse()
    {
        response
            .headers_mut()
            .insert(axum::http::header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// `{ "person": ..., "purpose": ..., "at"?: RFC 3339 }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    person: String,
    purpose: String,
    at: Option<Timestamp>,
}

/// Asks the gate; the decision is counted in the ledger.
pub async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<DecisionBody>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(
        state
            .engine
            .decide(&caller.tenant, &body.person, &body.purpose, body.at)
            .await?,
    )
    .into_response())
}

/// Paging for the audit log.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    limit: Option<u32>,
}

/// The whole audit log (admin).
pub async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let limit = q.limit.unwrap_or(100).clamp(1, 10_000);
    Ok(axum::Json(state.engine.audit_log(&caller.tenant, None, limit).await?).into_response())
}

/// One person's audit entries (admin).
pub async fn person_audit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let limit = q.limit.unwrap_or(100).clamp(1, 10_000);
    Ok(axum::Json(
        state
            .engine
            .audit_log(&caller.tenant, Some(&id), limit)
            .await?,
    )
    .into_response())
}

/// `{ "person": ..., "reason": ... }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    person: String,
    reason: String,
}

/// Places a legal hold (admin).
pub async fn place_hold(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<HoldBody>,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    Ok(created(
        state
            .engine
            .create_legal_hold(&caller.actor(), &body.person, &body.reason)
            .await?,
    ))
}

/// Lists legal holds (admin).
pub async fn list_holds(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    Ok(axum::Json(state.engine.legal_holds(&caller.tenant, None).await?).into_response())
}

/// Releases a legal hold (admin).
pub async fn release_hold(
    State(state): State<AppState>,
    caller: Caller,
    Path(hold): Path<String>,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let id: i64 = hold
        .parse()
        .map_err(|_| ApiError::Engine(basis_engine::EngineError::HoldNotFound(-1)))?;
    state.engine.release_legal_hold(&caller.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `{ "ttl_seconds"?: n }`
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    ttl_seconds: Option<u32>,
}

/// Mints a privacy-center token for a person (keys only): the person's own privacy routes, for
/// 15 minutes by default.
pub async fn privacy_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    caller.require_key()?;
    let ttl = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        crate::extract::parse_json::<TokenBody>(&body)?.ttl_seconds
    };
    let (token, expires_at) = state.engine.privacy_token(&caller.tenant, &id, ttl).await?;
    state
        .engine
        .record_audit(
            &caller.actor(),
            Some(&id),
            "privacy_token.issued",
            serde_json::json!({ "expires_at": expires_at }),
        )
        .await?;
    Ok(created(
        serde_json::json!({ "token": token, "person": id, "expires_at": expires_at }),
    ))
}
