//! The interaction graph's shutdown snapshot. The graph lives in memory; without this, a restart
//! replays the whole log into it. When the process stops cleanly it writes the graph, with the
//! log position it stands at, to one file; the next process **takes** the file — reads it and
//! deletes it before anything else — and replays only the log after that position.
//!
//! Why it cannot bring back what it should not:
//! - The file exists only while no process runs: it is deleted when read, so nothing done while
//!   a process runs (an erasure, an objection's purge, a merge) can be undone by a stale copy;
//!   the next clean stop writes the graph as it then is.
//! - A process killed before it stops cleanly leaves no file, and the next start replays the log.
//! - It is used only if it was written with the same format and ranking parameters, if the log
//!   still holds its position and the event there is the one it names (a restored backup or
//!   another store does not match), and after loading every person with ties is put to the gate
//!   again, as a replay would (a policy changed while stopped takes effect).

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::graph::GraphState;

/// Bumped whenever the graph's layout changes: an older file is then ignored.
const FORMAT: u32 = 1;

/// The file's name in the data directory.
pub const FILE_NAME: &str = "graph.snapshot";

#[derive(Serialize)]
struct Written<'a> {
    format: u32,
    /// Id of the event at the graph's position (none at position 0).
    anchor: Option<&'a str>,
    graph: &'a GraphState,
}

/// A snapshot as read.
#[derive(Deserialize)]
pub(crate) struct Taken {
    format: u32,
    pub(crate) anchor: Option<String>,
    pub(crate) graph: GraphState,
}

impl Taken {
    /// Whether it can stand for the log: same format and parameters, a position the log holds.
    pub(crate) fn fits(
        &self,
        params: &basis_core::affinity::AffinityParams,
        last_seq: i64,
    ) -> bool {
        self.format == FORMAT && self.graph.params() == params && self.graph.applied <= last_seq
    }
}

/// Writes `graph` to `path` atomically (a temporary file beside it, flushed to disk, renamed);
/// the bytes written.
///
/// # Errors
/// File-system failures; no file is left half-written.
pub(crate) fn write(path: &Path, graph: &GraphState, anchor: Option<&str>) -> std::io::Result<u64> {
    let tmp = path.with_extension("snapshot.tmp");
    let file = std::fs::File::create(&tmp)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    serde_json::to_writer(
        &mut out,
        &Written {
            format: FORMAT,
            anchor,
            graph,
        },
    )?;
    out.flush()?;
    let file = out
        .into_inner()
        .map_err(std::io::IntoInnerError::into_error)?;
    file.sync_all()?;
    let bytes = file.metadata()?.len();
    std::fs::rename(&tmp, path)?;
    Ok(bytes)
}

/// Reads the snapshot at `path` and deletes it; `None` when there is none or it cannot be read
/// (said in the log). Deleted first, so a failure later cannot leave it to be read twice.
pub(crate) fn take(path: &Path) -> Option<Taken> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(error) => {
            tracing::warn!(%error, "graph snapshot unreadable; replaying the log");
            let _ = std::fs::remove_file(path);
            return None;
        }
    };
    if let Err(error) = std::fs::remove_file(path) {
        // Not using a file that could be read again by the next start.
        tracing::warn!(%error, "graph snapshot could not be removed; replaying the log");
        return None;
    }
    match serde_json::from_slice::<Taken>(&bytes) {
        Ok(taken) => Some(taken),
        Err(error) => {
            tracing::warn!(%error, "graph snapshot not readable; replaying the log");
            None
        }
    }
}
