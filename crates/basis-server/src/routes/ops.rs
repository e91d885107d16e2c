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
    Ok(
        axum::Json(json!({ "status": "ok", "seq": seq, "views_seq": state.engine.watermark() }))
            .into_response(),
    )
}

/// Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    if let Ok(seq) = state.engine.store().last_seq().await {
        let lag = (seq - state.engine.watermark()).max(0);
        #[expect(
            clippy::cast_precision_loss,
            reason = "a lag in events fits f64 exactly well past any real log"
        )]
        metrics::gauge!("basis_projection_lag_events", "projection" => "activity").set(lag as f64);
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
