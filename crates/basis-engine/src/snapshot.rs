//! The interaction graph's shutdown snapshot. The graph lives in memory; without this, a restart
//! replays the whole log into it. When `basis serve` stops cleanly it writes the graph, with the
//! log position it stands at, to one file in the data directory; the next server **takes** the
//! file — reads it and deletes it before anything else — and replays only the log after that
//! position.
//!
//! Why it cannot bring back what it should not:
//! - **People generation.** Triggers in the database move a counter with every row written to
//!   what the graph derives people from (profiles, identities, account history, logged events
//!   rewritten or deleted), whoever writes it ([`basis_store::Generation`]). The snapshot names
//!   the generation its graph reflects, and it is used only while the store is still at that
//!   generation. A write by anyone else — another process on the same store, `basis demo` while
//!   the server was stopped, an older build after a rollback — moves it and the next start
//!   replays the log. A process that sees another writer's move while it runs writes no snapshot.
//! - **Own writes are in it.** Each people write of the engine is counted in flight from before
//!   its store write until the graph applied it, and then records the store's count of the
//!   handle's own moves. The snapshot is written under the projection lock with the generation
//!   read first, and only with nothing in flight and every own move accounted for: a write that
//!   stopped half-way (an error, a dropped request), or one made through the handle behind the
//!   engine's back, stops it. A write committed after the generation was read makes the store
//!   pass the generation named, and the next start refuses the file.
//! - **Taken, not kept.** The file exists only while no server runs: it is deleted when read,
//!   so the graph is not kept at rest longer than needed, and nothing done while a server runs
//!   can be undone by a stale copy. An erasure by any process on the data directory removes a
//!   file left there first, and is refused if it cannot.
//! - **Same build, same store, same log.** It is used only if written by a build of the same
//!   sources (a fingerprint made at compile time), for the same store (a random id kept in it),
//!   with the same ranking parameters, and if the log still holds its position with the event it
//!   names there.
//! - **Checked.** Every index in it must point somewhere before it is used.
//! - **Gated again.** After loading, every person with ties is put to the gate again: an
//!   objection recorded, or a policy changed, while stopped takes effect.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use basis_core::affinity::AffinityParams;
use basis_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

use crate::graph::GraphState;

/// Bumped whenever the file's layout changes.
const FORMAT: u32 = 2;

/// The build that writes and takes it: a fingerprint of the sources that decide what the graph
/// derives (see `build.rs`).
const BUILD: &str = env!("BASIS_GRAPH_BUILD");

/// The file's name in the data directory.
pub const FILE_NAME: &str = "graph.snapshot";

#[derive(Serialize)]
struct Written<'a> {
    format: u32,
    build: &'a str,
    /// The store it was taken from.
    store: &'a str,
    /// The people generation the graph reflects.
    generation: i64,
    /// Id of the event at the graph's position (none at position 0).
    anchor: Option<&'a str>,
    graph: &'a GraphState,
}

/// A snapshot as read.
#[derive(Deserialize)]
struct Taken {
    format: u32,
    build: String,
    store: String,
    generation: i64,
    anchor: Option<String>,
    graph: GraphState,
}

/// What a snapshot must match to stand for the store now.
pub(crate) struct Expected<'a> {
    pub(crate) store_id: &'a str,
    pub(crate) params: &'a AffinityParams,
    pub(crate) last_seq: i64,
    pub(crate) generation: i64,
}

impl Taken {
    /// Why it cannot stand for the store as it is now, if it cannot.
    fn unfit(&self, expected: &Expected<'_>) -> Option<&'static str> {
        if self.format != FORMAT || self.build != BUILD {
            Some("written by another build")
        } else if self.store != expected.store_id {
            Some("written for another store")
        } else if self.graph.params() != expected.params {
            Some("written with other ranking parameters")
        } else if self.generation != expected.generation {
            Some("people changed since it was written")
        } else if self.graph.applied > expected.last_seq {
            Some("ahead of this log")
        } else {
            None
        }
    }
}

/// The id of the event at log position `seq` (none at 0, or if the log has no event there).
///
/// # Errors
/// Store failures.
pub(crate) async fn anchor(store: &dyn Store, seq: i64) -> Result<Option<String>, StoreError> {
    if seq == 0 {
        return Ok(None);
    }
    Ok(store
        .events_after(None, seq - 1, 1)
        .await?
        .into_iter()
        .next()
        .filter(|e| e.seq == seq)
        .map(|e| e.id))
}

/// Takes the snapshot at `path` (see [`take`]) and returns its graph if it stands for `store`
/// as `expected`, with the log holding its position and the event it names there. Otherwise
/// says why in the log; the caller replays.
///
/// # Errors
/// Store failures.
pub(crate) async fn load(
    path: &Path,
    store: &dyn Store,
    expected: &Expected<'_>,
) -> Result<Option<GraphState>, StoreError> {
    let Some(mut taken) = take(path) else {
        return Ok(None);
    };
    let refused = match taken.unfit(expected) {
        Some(why) => Some(why.to_owned()),
        None if anchor(store, taken.graph.applied).await? != taken.anchor => {
            Some("the log differs at its position".to_owned())
        }
        None => taken.graph.loaded().err(),
    };
    if let Some(why) = refused {
        tracing::warn!(why, "graph snapshot not used; replaying the log");
        return Ok(None);
    }
    Ok(Some(taken.graph))
}

/// Writes `graph`, which reflects people `generation` of store `store_id`, to `path`
/// atomically (a temporary file beside it, flushed to disk, renamed, the directory flushed);
/// the bytes written.
///
/// Gives up before the rename if `abandoned` is set by then.
///
/// # Errors
/// File-system failures, or abandoned; no file is left half-written under `path`.
pub(crate) fn write(
    path: &Path,
    graph: &GraphState,
    store_id: &str,
    generation: i64,
    anchor: Option<&str>,
    abandoned: &AtomicBool,
) -> std::io::Result<u64> {
    let tmp = temporary(path);
    let record = Written {
        format: FORMAT,
        build: BUILD,
        store: store_id,
        generation,
        anchor,
        graph,
    };
    let written = write_to(&tmp, path, &record, abandoned);
    if written.is_err() {
        // Personal data: a half-written file does not wait for the next start.
        let _ = remove(&tmp);
    }
    written
}

fn write_to(
    tmp: &Path,
    path: &Path,
    record: &Written<'_>,
    abandoned: &AtomicBool,
) -> std::io::Result<u64> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        // Personal data: readable by the service's user only.
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(tmp)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    serde_json::to_writer(&mut out, record)?;
    out.flush()?;
    let file = out
        .into_inner()
        .map_err(std::io::IntoInnerError::into_error)?;
    file.sync_all()?;
    let bytes = file.metadata()?.len();
    if abandoned.load(Ordering::SeqCst) {
        // The server gave up waiting and let go of the data directory: another may run now.
        return Err(std::io::Error::new(
            std::io::ErrorKind::Interrupted,
            "abandoned: the server stopped waiting for it",
        ));
    }
    std::fs::rename(tmp, path)?;
    sync_parent(path)?;
    Ok(bytes)
}

fn temporary(path: &Path) -> PathBuf {
    path.with_extension("snapshot.tmp")
}

/// Flushes the directory holding `path`, so a rename or removal in it survives a crash.
fn sync_parent(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        std::fs::File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Removes `path` durably; whether it existed.
fn remove(path: &Path) -> std::io::Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => sync_parent(path).map(|()| true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Reads the snapshot at `path` and deletes it, durably; `None` when there is none or it cannot
/// be read (said in the log). Deleted before it is parsed, so a failure later cannot leave it to
/// be read twice.
fn take(path: &Path) -> Option<Taken> {
    // What a stop interrupted while writing is not left lying about.
    if let Err(error) = remove(&temporary(path)) {
        tracing::warn!(%error, "a half-written graph snapshot could not be removed");
    }
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(error) => {
            tracing::warn!(%error, "graph snapshot unreadable; replaying the log");
            let _ = remove(path);
            return None;
        }
    };
    if let Err(error) = remove(path) {
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

/// Removes a snapshot, and a half-written one, left at `path`, durably (an erasure: no copy of
/// the person may stay).
///
/// # Errors
/// The first file that could not be removed.
pub(crate) fn discard(path: &Path) -> std::io::Result<()> {
    for file in [temporary(path), path.to_path_buf()] {
        if remove(&file)? {
            tracing::info!(file = %file.display(), "graph snapshot discarded");
        }
    }
    Ok(())
}
