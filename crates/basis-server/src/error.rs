//! Every error the API returns, as `application/problem+json` (RFC 9457) with a stable `code`.
//! One table ([`ApiError::code_and_status`]) maps each to its HTTP status; details of 5xx errors
//! are logged, never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use basis_core::event::FieldError;
use basis_engine::EngineError;
use basis_engine::ingest::BatchError;
use serde::Serialize;

/// An API error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// No or unknown API key.
    #[error("a valid API key is required: send `Authorization: Bearer <key>`")]
    Unauthorized,
    /// The key's role may not do this.
    #[error("this credential (`{0}`) may not do this")]
    Forbidden(&'static str),
    /// The body is not JSON.
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    /// A query parameter is wrong.
    #[error("{0}")]
    BadQuery(String),
    /// The body is too large.
    #[error("the body is larger than the limit of {0} bytes")]
    PayloadTooLarge(usize),
    /// The batch has too many events.
    #[error("{0}")]
    BatchTooLarge(String),
    /// Content type not accepted.
    #[error("send `application/json` or `application/x-ndjson`")]
    UnsupportedMediaType,
    /// Fields fail validation.
    #[error("{message}")]
    Validation {
        /// Summary.
        message: String,
        /// Each problem.
        errors: Vec<FieldError>,
    },
    /// The workspace has no secret for this webhook source.
    #[error("webhooks from `{0}` are not configured for this workspace")]
    HookNotConfigured(String),
    /// A webhook's signature does not check out.
    #[error("{0}")]
    BadSignature(String),
    /// A webhook payload is not what the source sends.
    #[error("{0}")]
    MalformedPayload(String),
    /// No such route.
    #[error("no such endpoint")]
    NotFound,
    /// Method not allowed on a route.
    #[error("method not allowed on this endpoint")]
    MethodNotAllowed,
    /// From the engine.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    code: &'a str,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [FieldError]>,
}

impl ApiError {
    /// The stable code and the status.
    pub fn code_and_status(&self) -> (&'static str, StatusCode) {
        use StatusCode as S;
        match self {
            ApiError::Unauthorized => ("unauthorized", S::UNAUTHORIZED),
            ApiError::Forbidden(_) => ("forbidden", S::FORBIDDEN),
            ApiError::MalformedJson(_) => ("malformed_json", S::BAD_REQUEST),
            ApiError::BadQuery(_) => ("bad_query", S::BAD_REQUEST),
            ApiError::PayloadTooLarge(_) => ("payload_too_large", S::PAYLOAD_TOO_LARGE),
            ApiError::BatchTooLarge(_) => ("batch_too_large", S::PAYLOAD_TOO_LARGE),
            ApiError::UnsupportedMediaType => ("unsupported_media_type", S::UNSUPPORTED_MEDIA_TYPE),
            ApiError::Validation { .. } => ("validation_failed", S::UNPROCESSABLE_ENTITY),
            ApiError::HookNotConfigured(_) => ("hook_not_configured", S::UNAUTHORIZED),
            ApiError::BadSignature(_) => ("bad_signature", S::UNAUTHORIZED),
            ApiError::MalformedPayload(_) => ("malformed_payload", S::BAD_REQUEST),
            ApiError::NotFound => ("not_found", S::NOT_FOUND),
            ApiError::MethodNotAllowed => ("method_not_allowed", S::METHOD_NOT_ALLOWED),
            ApiError::Engine(e) => match e {
                EngineError::Invalid(_) => ("validation_failed", S::UNPROCESSABLE_ENTITY),
                EngineError::PersonNotFound(_) => ("person_not_found", S::NOT_FOUND),
                EngineError::UnknownPurpose(_) => ("unknown_purpose", S::UNPROCESSABLE_ENTITY),
                EngineError::RightNotOffered { .. } => {
                    ("right_not_offered", S::UNPROCESSABLE_ENTITY)
                }
                EngineError::NothingToClose(_) => ("nothing_to_close", S::CONFLICT),
                EngineError::LegalHold { .. } => ("legal_hold", S::CONFLICT),
                EngineError::IdentityTaken(_) => ("identity_taken", S::CONFLICT),
                EngineError::HoldNotFound(_) => ("hold_not_found", S::NOT_FOUND),
                EngineError::NotCaughtUp { .. } => ("not_caught_up", S::SERVICE_UNAVAILABLE),
                EngineError::Store(_) => ("internal", S::INTERNAL_SERVER_ERROR),
                _ => ("internal", S::INTERNAL_SERVER_ERROR),
            },
        }
    }

    fn title(status: StatusCode) -> &'static str {
        status.canonical_reason().unwrap_or("Error")
    }
}

impl From<BatchError> for ApiError {
    fn from(e: BatchError) -> Self {
        match e {
            BatchError::Malformed(m) => ApiError::MalformedJson(m),
            BatchError::TooMany { .. } => ApiError::BatchTooLarge(e.to_string()),
            BatchError::Invalid(errors) => ApiError::Validation {
                message: format!(
                    "{} problem(s) in the batch; nothing was stored",
                    errors.len()
                ),
                errors,
            },
            _ => ApiError::BadQuery(e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (code, status) = self.code_and_status();
        let detail = if status.is_server_error()
            && !matches!(self, ApiError::Engine(EngineError::NotCaughtUp { .. }))
        {
            tracing::error!(error = %self, code, "request failed");
            "an internal error occurred; it has been logged".to_owned()
        } else {
            self.to_string()
        };
        let errors = match &self {
            ApiError::Validation { errors, .. }
            | ApiError::Engine(EngineError::Invalid(errors)) => Some(errors.as_slice()),
            _ => None,
        };
        let problem = Problem {
            kind: format!("/problems/{code}"),
            title: ApiError::title(status),
            status: status.as_u16(),
            code,
            detail,
            errors,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
