//! Fingerprints the sources that decide what the interaction graph derives — this crate's,
//! `basis-core`'s and the lock file's — so a graph snapshot is taken only by a build of the same
//! sources as the one that wrote it (see `src/snapshot.rs`).

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

fn files(path: &Path, out: &mut Vec<PathBuf>) {
    match std::fs::read_dir(path) {
        Ok(entries) => {
            for entry in entries.flatten() {
                files(&entry.path(), out);
            }
        }
        Err(_) if path.is_file() => out.push(path.to_path_buf()),
        Err(_) => {}
    }
}

fn main() {
    let mut found = Vec::new();
    for root in ["src", "../basis-core/src", "../../Cargo.lock"] {
        println!("cargo:rerun-if-changed={root}");
        files(Path::new(root), &mut found);
    }
    found.sort();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for file in &found {
        file.hash(&mut hasher);
        std::fs::read(file).unwrap_or_default().hash(&mut hasher);
    }
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    println!(
        "cargo:rustc-env=BASIS_GRAPH_BUILD={version}+{:016x}",
        hasher.finish()
    );
}
