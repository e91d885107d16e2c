//! The policy, the privacy notice rendered from it, and the records of processing.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use basis_core::notice::{Format, render};
use serde::Deserialize;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{Caller, Query};

/// The policy as written, with its version.
pub async fn policy(State(state): State<AppState>, _caller: Caller) -> Result<Response, ApiError> {
    Ok(axum::Json(state.engine.policy().source()).into_response())
}

/// `?format=md|html`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeQuery {
    format: Option<String>,
}

/// The privacy notice, public: whoever the data is about may read it.
pub async fn notice(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, ApiError> {
    let format = match q.format.as_deref() {
        Some(f) => Format::parse(f)
            .ok_or_else(|| ApiError::BadQuery(format!("`format` is `md` or `html`, not `{f}`")))?,
        None => {
            let wants_html = headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|a| a.contains("text/html"));
            if wants_html {
                Format::Html
            } else {
                Format::Markdown
            }
        }
    };
    let body = render(state.engine.policy(), format);
    let content_type = match format {
        Format::Html => "text/html; charset=utf-8",
        Format::Markdown => "text/markdown; charset=utf-8",
    };
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(response)
}

/// Records of processing (GDPR Art. 30) with live counts (admin).
pub async fn records(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require_admin()?;
    Ok(axum::Json(state.engine.records(&caller.tenant).await?).into_response())
}
