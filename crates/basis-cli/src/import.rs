//! `basis import FILE`: NDJSON into the store in batches, with a progress bar. Resumable because
//! ingest is idempotent on event ids: re-running stores nothing twice.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use basis_core::clock::SystemClock;
use basis_engine::Engine;
use basis_engine::ingest::{BatchError, parse_batch};
use basis_server::{ServerConfig, open_engine};
use indicatif::{ProgressBar, ProgressStyle};

pub async fn run(
    file: &Path,
    config: &ServerConfig,
    tenant: &str,
    batch: usize,
) -> anyhow::Result<()> {
    if batch == 0 || batch > basis_engine::ingest::MAX_BATCH {
        bail!(
            "`--batch` must be between 1 and {}",
            basis_engine::ingest::MAX_BATCH
        );
    }
    let handle =
        std::fs::File::open(file).with_context(|| format!("cannot open `{}`", file.display()))?;
    let size = handle.metadata().map(|m| m.len()).unwrap_or(0);
    let (engine, store) = open_engine(config, Arc::new(SystemClock)).await?;
    let bar = ProgressBar::new(size);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut reader = BufReader::new(handle);
    let (mut accepted, mut duplicates) = (0u64, 0u64);
    let mut lines: Vec<(usize, String)> = Vec::with_capacity(batch);
    let mut line_no = 0usize;
    let mut buf = String::new();
    loop {
        buf.clear();
        let read = reader
            .read_line(&mut buf)
            .with_context(|| format!("reading `{}`", file.display()))?;
        if read > 0 {
            line_no += 1;
            bar.inc(read as u64);
            if !buf.trim().is_empty() {
                lines.push((line_no, buf.trim_end().to_owned()));
            }
        }
        if lines.len() == batch || (read == 0 && !lines.is_empty()) {
            let (a, d) = store_batch(&engine, tenant, &lines).await?;
            accepted += a;
            duplicates += d;
            bar.set_message(format!("{accepted} new, {duplicates} already stored"));
            lines.clear();
        }
        if read == 0 {
            break;
        }
    }
    bar.finish_with_message(format!("{accepted} new, {duplicates} already stored"));
    engine.flush_ledger().await?;
    store.close().await;
    eprintln!(
        "imported `{}`: {accepted} new events, {duplicates} already stored",
        file.display()
    );
    Ok(())
}

async fn store_batch(
    engine: &Engine,
    tenant: &str,
    lines: &[(usize, String)],
) -> anyhow::Result<(u64, u64)> {
    let text: String = lines.iter().map(|(_, l)| format!("{l}\n")).collect();
    let events = match parse_batch(&text, true) {
        Ok(events) => events,
        Err(BatchError::Invalid(errors)) => {
            let report: Vec<String> = errors
                .iter()
                .map(|e| {
                    let line = lines.get(e.index).map_or(0, |(n, _)| *n);
                    format!("line {line}: `{}`: {}", e.field, e.reason)
                })
                .collect();
            bail!(
                "nothing from this batch was stored (earlier batches were; re-run after fixing to resume):\n{}",
                report.join("\n")
            );
        }
        Err(BatchError::Malformed(m)) => {
            let first = lines.first().map_or(0, |(n, _)| *n);
            bail!("malformed JSON in the batch starting at line {first}: {m}");
        }
        Err(e) => bail!("{e}"),
    };
    let outcome = engine.ingest(tenant, events).await?;
    Ok((outcome.accepted, outcome.duplicates))
}
