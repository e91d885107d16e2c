//! The HTTP routes, thin: extract, call the engine, map the result.

pub mod events;
pub mod hooks;
pub mod intelligence;
pub mod ops;
pub mod people;
pub mod policy;
pub mod privacy;

use axum::Router;
use axum::routing::{delete, get, post, put};

use crate::AppState;

/// Every route of the API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .route("/v1/events", post(events::ingest).get(events::list))
        .route("/v1/hooks/{source}", post(hooks::receive).head(hooks::head))
        .route("/v1/hooks/{source}/secret", put(hooks::set_secret))
        .route(
            "/v1/people/{id}",
            get(people::get).put(people::put).delete(people::erase),
        )
        .route("/v1/people/{id}/privacy", get(privacy::overview))
        .route(
            "/v1/people/{id}/privacy-token",
            post(privacy::privacy_token),
        )
        .route("/v1/people/{id}/consents", post(privacy::grant))
        .route(
            "/v1/people/{id}/consents/{purpose}",
            delete(privacy::withdraw),
        )
        .route("/v1/people/{id}/objections", post(privacy::object))
        .route(
            "/v1/people/{id}/objections/{purpose}",
            delete(privacy::lift),
        )
        .route(
            "/v1/people/{id}/objections/{purpose}/override",
            post(privacy::override_objection),
        )
        .route("/v1/people/{id}/opt-outs", post(privacy::opt_out))
        .route(
            "/v1/people/{id}/opt-outs/{purpose}",
            delete(privacy::opt_in),
        )
        .route("/v1/people/{id}/processing", get(privacy::processing))
        .route("/v1/people/{id}/export", get(privacy::export))
        .route("/v1/people/{id}/audit", get(privacy::person_audit))
        .route("/v1/people/{id}/activity", get(people::activity))
        .route(
            "/v1/people/{id}/mention-suggestions",
            get(intelligence::mention_suggestions),
        )
        .route(
            "/v1/people/{id}/connections",
            get(intelligence::connections),
        )
        .route(
            "/v1/people/{id}/recommendations",
            get(intelligence::recommendations),
        )
        .route("/v1/experts", get(intelligence::experts))
        .route("/v1/decisions", post(privacy::decide))
        .route("/v1/audit", get(privacy::audit))
        .route(
            "/v1/legal-holds",
            post(privacy::place_hold).get(privacy::list_holds),
        )
        .route("/v1/legal-holds/{hold}", delete(privacy::release_hold))
        .route("/v1/policy", get(policy::policy))
        .route("/v1/policy/notice", get(policy::notice))
        .route("/v1/records", get(policy::records))
        .route(
            "/v1/admin/projections/activity/rebuild",
            post(ops::rebuild_activity),
        )
        .route(
            "/v1/admin/projections/graph/rebuild",
            post(ops::rebuild_graph),
        )
        .route("/v1/admin/retention/compact", post(ops::compact_log))
}
