//! Fingerprints the sources that decide what the interaction graph derives — this crate's and
//! `basis-core`'s sources and manifests, and the workspace's lock file — so a graph snapshot is
//! taken only by a build of the same sources as the one that wrote it (see `src/snapshot.rs`).

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

/// Source files under `path` (symbolic links are not followed).
fn files(path: &Path, out: &mut Vec<PathBuf>) {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return;
    };
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
            files(&entry.path(), out);
        }
    } else if meta.is_file()
        && path
            .extension()
            .is_some_and(|e| e == "rs" || e == "toml" || e == "lock")
    {
        out.push(path.to_path_buf());
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let mut found = Vec::new();
    for part in [
        "src",
        "Cargo.toml",
        "../basis-core/src",
        "../basis-core/Cargo.toml",
        "../../Cargo.lock",
    ] {
        let path = root.join(part);
        if !path.exists() {
            // Hashing nothing would let any change through unnoticed.
            return Err(format!("{} is missing", path.display()).into());
        }
        println!("cargo:rerun-if-changed={}", path.display());
        files(&path, &mut found);
    }
    found.sort();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for file in &found {
        file.strip_prefix(&root).unwrap_or(file).hash(&mut hasher);
        std::fs::read(file)
            .map_err(|e| format!("{}: {e}", file.display()))?
            .hash(&mut hasher);
    }
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    println!(
        "cargo:rustc-env=BASIS_GRAPH_BUILD={version}+{:016x}",
        hasher.finish()
    );
    Ok(())
}
