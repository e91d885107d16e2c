//! `POST /v1/events` and `GET /v1/events`.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use basis_engine::ingest::parse_batch;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Caller, Query, read_body};

#[derive(Serialize)]
struct Ingested {
    accepted: u64,
    duplicates: u64,
    seq: i64,
}

/// Ingests a JSON array (or one object) or NDJSON, all or nothing.
pub async fn ingest(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json");
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    // JSON unless NDJSON is declared; curl's default form type and text/plain are read as JSON
    // too, anything else that is clearly not JSON is refused.
    let ndjson = match mime.as_str() {
        "application/x-ndjson"
        | "application/ndjson"
        | "application/jsonl"
        | "application/jsonlines" => true,
        "" | "application/json" | "application/x-www-form-urlencoded" | "text/plain" => false,
        m if m.ends_with("+json") => false,
        _ => return Err(ApiError::UnsupportedMediaType),
    };
    let limit = state.config.max_ingest_body;
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        && len > limit
    {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    let bytes = read_body(body, limit).await?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| ApiError::MalformedJson("the body is not UTF-8".into()))?;
    let events = parse_batch(text, ndjson)?;
    let outcome = state.engine.ingest(&caller.tenant, events).await?;
    metrics::counter!("basis_events_ingested_total").increment(outcome.accepted);
    metrics::counter!("basis_events_duplicate_total").increment(outcome.duplicates);
    let status = if outcome.accepted > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        axum::Json(Ingested {
            accepted: outcome.accepted,
            duplicates: outcome.duplicates,
            seq: outcome.seq,
        }),
    )
        .into_response())
}

/// Paging through the log.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    #[serde(default)]
    after: i64,
    #[serde(default = "default_limit")]
    limit: u32,
}

fn default_limit() -> u32 {
    100
}

#[derive(Serialize)]
struct EventPage {
    events: Vec<EventOut>,
    next_after: Option<i64>,
}

#[derive(Serialize)]
struct EventOut {
    seq: i64,
    event: Box<RawValue>,
}

/// Reads the tenant's normalized log (admin).
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<Page>,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    if page.limit == 0 || page.limit > 1_000 {
        return Err(ApiError::BadQuery(
            "`limit` must be between 1 and 1000".into(),
        ));
    }
    let events = state
        .engine
        .events(&caller.tenant, page.after, page.limit)
        .await?;
    let next_after = (events.len() == page.limit as usize)
        .then(|| events.last().map(|e| e.seq))
        .flatten();
    let events = events
        .into_iter()
        .filter_map(|e| {
            RawValue::from_string(e.body)
                .ok()
                .map(|event| EventOut { seq: e.seq, event })
        })
        .collect();
    Ok(axum::Json(EventPage { events, next_after }).into_response())
}
