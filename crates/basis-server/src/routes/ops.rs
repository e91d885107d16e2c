//! Operations: liveness, Prometheus metrics, the OpenAPI document, projection rebuilds.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::Caller;

/// Liveness: the store answers.
pub async fn healthz(State(state): State<AppState>) -> Result<Response, ApiError> {
    let seq = state
        .engine
        .store()
        .last_seq()
        .await
        .map_err(basis_engine::EngineError::from)?;
    let r = state.engine.readiness();
    Ok(axum::Json(json!({
        "status": "ok",
        "seq": seq,
        "views_seq": state.engine.watermark(),
        "activity_seq": r.activity_seq,
        "graph_seq": r.graph_seq,
    }))
    .into_response())
}

/// Readiness: 200 once the projections have replayed the log as it stood at start-up (the
/// interaction graph lives in memory and is rebuilt then; until it is, its answers would be
/// partial), 503 with where they stand before that. Stays ready after, whatever the lag.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let r = state.engine.readiness();
    let body = json!({
        "status": if r.ready { "ready" } else { "starting" },
        "seq_at_start": r.seq_at_start,
        "activity_seq": r.activity_seq,
        "graph_seq": r.graph_seq,
    });
    if r.ready {
        axum::Json(body).into_response()
    } else {
        (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, HeaderValue::from_static("1"))],
            axum::Json(body),
        )
            .into_response()
    }
}

/// Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    if let Ok(seq) = state.engine.store().last_seq().await {
        let lag = (seq - state.engine.activity_watermark()).max(0);
        let graph = (seq - state.engine.readiness().graph_seq).max(0);
        #[expect(
            clippy::cast_precision_loss,
            reason = "a lag in events fits f64 exactly well past any real log"
        )]
        {
            metrics::gauge!("basis_projection_lag_events", "projection" => "activity")
                .set(lag as f64);
            metrics::gauge!("basis_projection_lag_events", "projection" => "graph")
                .set(graph as f64);
        }
    }
    let mut response = state.metrics.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}

/// The OpenAPI document.
pub async fn openapi() -> Response {
    axum::Json(crate::openapi::document()).into_response()
}

/// Drops the activity view and replays the log into it (admin).
pub async fn rebuild_activity(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let seq = state.engine.rebuild_activity().await?;
    Ok(axum::Json(json!({ "rebuilt": "activity", "seq": seq })).into_response())
}

/// Compacts the caller's tenant's event log now (admin): what lies past the log's retention
/// loses who did what (see `basis_engine::retention`).
pub async fn compact_log(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let done = state.engine.compact_log(&caller.actor()).await?;
    Ok(axum::Json(done).into_response())
}

/// Rebuilds the caller's tenant's interaction graph from the log (admin); other tenants are
/// not touched.
pub async fn rebuild_graph(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let done = state.engine.rebuild_graph(&caller.tenant).await?;
    Ok(axum::Json(json!({
        "rebuilt": "graph",
        "tenant": caller.tenant,
        "seq": done.seq,
        "events": done.events,
    }))
    .into_response())
}
