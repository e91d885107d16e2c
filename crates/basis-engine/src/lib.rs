//! The Basis engine: the services behind the API. It asks the gate before any use of a person's
//! data, counts every decision in the processing ledger, carries out privacy rights (consent,
//! objection, opt-out, access, erasure) with an audit entry each, and runs the projections that
//! tail the event log into derived views.
//!
//! Data flow: the server hands validated input to [`Engine`]; the engine writes the store, keeps
//! subject state in a cache the gate reads, and wakes the projections.

mod cache;
mod engine;
mod error;
pub mod graph;
mod hooks;
pub mod ingest;
pub mod intelligence;
pub mod keys;
mod ledger;
pub mod projections;
pub mod retention;
mod snapshot;
pub mod subjects;
pub mod tokens;
pub mod views;

pub use engine::{Actor, Engine, EngineConfig, GraphRebuild, Readiness};
pub use error::EngineError;
pub use ledger::{Counted, Ledger};
pub use snapshot::FILE_NAME as GRAPH_SNAPSHOT;
