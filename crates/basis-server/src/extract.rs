//! Extractors that fail with the API's problem+json format: authentication (the tenant and role
//! come from the key, so every handler is confined to one tenant), JSON bodies, query strings.

use axum::body::{Body, Bytes};
use std::collections::HashMap;

use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request};
use axum::http::header;
use axum::http::request::Parts;
use basis_store::Role;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::ApiError;

/// What the caller may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// An API key with a role.
    Key(Role),
    /// A privacy-center token: only this person's own privacy routes.
    Person(String),
}

/// The caller: the tenant and what their credential allows.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Tenant the credential belongs to.
    pub tenant: String,
    /// Key role or person.
    pub access: Access,
    /// Key name (or `person`), for the audit log.
    pub name: String,
}

/// Routes a privacy-center token may use, for the person it names (`{id}`).
const PERSON_ROUTES: [&str; 12] = [
    "/v1/people/{id}",
    "/v1/people/{id}/privacy",
    "/v1/people/{id}/processing",
    "/v1/people/{id}/export",
    "/v1/people/{id}/activity",
    "/v1/people/{id}/consents",
    "/v1/people/{id}/consents/{purpose}",
    "/v1/people/{id}/objections",
    "/v1/people/{id}/objections/{purpose}",
    "/v1/people/{id}/opt-outs",
    "/v1/people/{id}/opt-outs/{purpose}",
    "/v1/policy",
];

impl Caller {
    /// Refuses unless the credential is an admin key.
    ///
    /// # Errors
    /// [`ApiError::Forbidden`].
    pub fn require_admin(&self) -> Result<(), ApiError> {
        match &self.access {
            Access::Key(Role::Admin) => Ok(()),
            Access::Key(Role::Service) => Err(ApiError::Forbidden("service")),
            Access::Person(_) => Err(ApiError::Forbidden("person")),
        }
    }

    /// Refuses a privacy-center token (routes only keys may use, beyond the route check).
    ///
    /// # Errors
    /// [`ApiError::Forbidden`].
    pub fn require_key(&self) -> Result<(), ApiError> {
        match self.access {
            Access::Key(_) => Ok(()),
            Access::Person(_) => Err(ApiError::Forbidden("person")),
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
        let credential = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|k| !k.is_empty() && k.len() <= 2_048)
            .ok_or(ApiError::Unauthorized)?;
        if credential.starts_with(basis_engine::tokens::TOKEN_PREFIX) {
            let grant = state
                .engine
                .verify_privacy_token(credential)
                .map_err(|_| ApiError::Unauthorized)?;
            // A person may use their own privacy routes and nothing else.
            let route = parts
                .extensions
                .get::<MatchedPath>()
                .map(|m| m.as_str().to_owned())
                .unwrap_or_default();
            let own =
                axum::extract::Path::<HashMap<String, String>>::from_request_parts(parts, state)
                    .await
                    .ok()
                    .and_then(|p| p.0.get("id").cloned())
                    .is_none_or(|id| id == grant.person);
            if !PERSON_ROUTES.contains(&route.as_str()) || !own {
                return Err(ApiError::Forbidden("person"));
            }
            return Ok(Caller {
                tenant: grant.tenant,
                access: Access::Person(grant.person),
                name: "person".into(),
            });
        }
        let record = state
            .engine
            .authenticate(credential)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        Ok(Caller {
            tenant: record.tenant,
            access: Access::Key(record.role),
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
