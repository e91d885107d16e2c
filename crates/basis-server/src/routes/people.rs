//! People: `PUT/GET/DELETE /v1/people/{id}` and the person's activity view.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use basis_core::person::PersonInput;
use serde::Deserialize;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Caller, Json, Query};

/// Creates or replaces a person.
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(input): Json<PersonInput>,
) -> Result<Response, ApiError> {
    // Profiles (account status, identities) are the product's to set, not the person's.
    caller.require_key()?;
    let (person, outcome) = state.engine.put_person(&caller.tenant, &id, input).await?;
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(person)).into_response())
}

/// Reads a person, with the organization their e-mail domain points to where the gate allows.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(state.engine.person_view(&caller.tenant, &id).await?).into_response())
}

/// Erases a person (GDPR Art. 17); 409 under a legal hold.
pub async fn erase(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.engine.erase_person(&caller.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Read-your-writes: wait until the views have applied this sequence number.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinSeq {
    min_seq: Option<i64>,
}

/// The person's activity counts, when the gate allows.
pub async fn activity(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<MinSeq>,
) -> Result<Response, ApiError> {
    Ok(axum::Json(
        state
            .engine
            .activity(&caller.tenant, &id, q.min_seq)
            .await?,
    )
    .into_response())
}
