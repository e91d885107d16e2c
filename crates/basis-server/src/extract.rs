//! Extractors that fail with the API's problem+json format: authentication (the tenant and role
//! come from the key, so every handler is confined to one tenant), JSON bodies, query strings.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use basis_store::Role;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::ApiError;

/// The caller: the tenant and role of their key.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Tenant the key belongs to.
    pub tenant: String,
    /// Role.
    pub role: Role,
    /// Key name, for the audit log.
    pub name: String,
}

impl Caller {
    /// Refuses unless the key is an admin key.
    ///
    /// # Errors
    /// [`ApiError::Forbidden`].
    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self.role {
            Role::Admin => Ok(()),
            Role::Service => Err(ApiError::Forbidden("service")),
        }
    }

    /// The audit actor.
    pub fn actor(&self) -> basis_engine::Actor<'_> {
        basis_engine::Actor {
            tenant: &self.tenant,
            name: &self.name,
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let key = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|k| !k.is_empty() && k.len() <= 256)
            .ok_or(ApiError::Unauthorized)?;
        let record = state
            .engine
            .authenticate(key)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        Ok(Caller {
            tenant: record.tenant,
            role: record.role,
            name: record.name,
        })
    }
}

/// Largest JSON body for endpoints other than ingest.
pub const MAX_JSON_BODY: usize = 1 << 20;

/// Reads a body up to `limit` bytes.
///
/// # Errors
/// [`ApiError::PayloadTooLarge`].
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(limit))
}

/// A JSON body whose errors are problem+json: syntax errors are 400, shape errors 422.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(req.into_body(), MAX_JSON_BODY).await?;
        parse_json(&bytes).map(Json)
    }
}

/// Parses JSON with the API's error mapping.
///
/// # Errors
/// 400 for syntax, 422 naming the field for a wrong shape.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => ApiError::Validation {
                message: e.to_string(),
                errors: vec![basis_core::event::FieldError {
                    index: 0,
                    field: field_of(&e.to_string()),
                    reason: e.to_string(),
                }],
            },
            _ => ApiError::MalformedJson(e.to_string()),
        }
    })
}

/// serde names the field in backticks ("missing field `purpose`", "unknown field `x`").
fn field_of(message: &str) -> String {
    message
        .split('`')
        .nth(1)
        .filter(|_| message.contains("field"))
        .unwrap_or("")
        .to_owned()
}

/// A query string whose errors are problem+json.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded_compat(query).map(Query)
    }
}

fn serde_urlencoded_compat<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{query}")
            .parse()
            .map_err(|_| ApiError::BadQuery("the query string is not valid".into()))?,
    )
    .map(|q| q.0)
    .map_err(|e| ApiError::BadQuery(e.body_text()))
}
