//! Connectors: what Jira, Confluence, Trello, GitHub and Slack send, turned into Basis's native
//! events. Pure: no IO. The server checks a delivery's signature with [`signatures`], then maps
//! its payload; [`mentions`] reads @mentions out of each tool's text formats.

pub mod mapping;
pub mod mentions;
pub mod signatures;
