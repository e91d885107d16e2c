//! The intelligence reads: @mention suggestions, connections, experts, recommendations. Each is
//! asked on behalf of a person by the product's backend (a key, never a privacy-center token).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use basis_engine::intelligence::{MAX_LIMIT, MentionQuery};
use serde::Deserialize;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Caller, Query};

/// Longest prefix, topic or context id accepted.
const MAX_TEXT: usize = 256;

fn limit(limit: Option<usize>, default: usize) -> Result<usize, ApiError> {
    match limit.unwrap_or(default) {
        n @ 1..=MAX_LIMIT => Ok(n),
        _ => Err(ApiError::BadQuery(format!(
            "`limit` must be between 1 and {MAX_LIMIT}"
        ))),
    }
}

fn bounded<'a>(name: &str, value: &'a str) -> Result<&'a str, ApiError> {
    if value.len() > MAX_TEXT {
        return Err(ApiError::BadQuery(format!(
            "`{name}` is longer than {MAX_TEXT} bytes"
        )));
    }
    Ok(value)
}

/// `GET /v1/people/{id}/mention-suggestions` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MentionParams {
    #[serde(default)]
    prefix: String,
    context: Option<String>,
    limit: Option<usize>,
    #[serde(default)]
    include_invitees: bool,
    min_seq: Option<i64>,
}

/// People to @mention while writing in a context.
pub async fn mention_suggestions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(p): Query<MentionParams>,
) -> Result<Response, ApiError> {
    caller.require_key()?;
    bounded("prefix", &p.prefix)?;
    if let Some(c) = &p.context {
        bounded("context", c)?;
    }
    let q = MentionQuery {
        prefix: p.prefix,
        context: p.context.filter(|c| !c.is_empty()),
        limit: limit(p.limit, 10)?,
        include_invitees: p.include_invitees,
    };
    let view = state
        .engine
        .mention_suggestions(&caller.tenant, &id, &q, p.min_seq)
        .await?;
    Ok(axum::Json(view).into_response())
}

/// Paging and read-your-writes for the person-centred reads.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    limit: Option<usize>,
    min_seq: Option<i64>,
}

/// The people a person works with most.
pub async fn connections(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(p): Query<ListParams>,
) -> Result<Response, ApiError> {
    caller.require_key()?;
    let view = state
        .engine
        .connections(&caller.tenant, &id, limit(p.limit, 20)?, p.min_seq)
        .await?;
    Ok(axum::Json(view).into_response())
}

/// Content a person is likely to want.
pub async fn recommendations(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(p): Query<ListParams>,
) -> Result<Response, ApiError> {
    caller.require_key()?;
    let view = state
        .engine
        .recommendations(&caller.tenant, &id, limit(p.limit, 20)?, p.min_seq)
        .await?;
    Ok(axum::Json(view).into_response())
}

/// `GET /v1/experts` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpertParams {
    topic: Option<String>,
    #[serde(rename = "as")]
    asker: Option<String>,
    limit: Option<usize>,
    min_seq: Option<i64>,
}

/// People with expertise on a topic, from what the asker may see.
pub async fn experts(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<ExpertParams>,
) -> Result<Response, ApiError> {
    caller.require_key()?;
    let topic = p
        .topic
        .ok_or_else(|| ApiError::BadQuery("`topic` is required".into()))?;
    let asker = p.asker.ok_or_else(|| {
        ApiError::BadQuery("`as` is required: results respect what that person may see".into())
    })?;
    bounded("topic", &topic)?;
    let view = state
        .engine
        .experts(
            &caller.tenant,
            &asker,
            &topic,
            limit(p.limit, 10)?,
            p.min_seq,
        )
        .await?;
    Ok(axum::Json(view).into_response())
}
