//! The Basis domain, free of IO: the policy model, the purpose gate, native events, people and
//! the privacy notice rendered from the policy.
//!
//! Everything here is pure and synchronous. The store persists these types, the engine feeds the
//! gate with subject state and counts its decisions, the server exposes them over HTTP.

pub mod affiliation;
pub mod affinity;
pub mod clock;
pub mod event;
pub mod fixtures;
pub mod gate;
pub mod jurisdiction;
pub mod notice;
pub mod person;
pub mod policy;
pub mod subject;
pub mod text;
pub mod timestamp;

pub use gate::{Decision, Evidence, Reason, decide};
pub use policy::{Basis, ObjectionRule, Policy, PolicyError, Purpose, PurposeId};
pub use subject::SubjectState;
pub use timestamp::Timestamp;
