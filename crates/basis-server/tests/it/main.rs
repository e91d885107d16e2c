//! Integration tests of the HTTP API: one binary, the real server on port 0, a fresh data
//! directory per test, an injected clock.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod api;
mod erasure;
mod helpers;
mod hooks;
mod ingest;
mod intelligence;
mod privacy;
mod privacy_center;
mod projections;
mod retention;
