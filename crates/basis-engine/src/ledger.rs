//! The processing ledger's hot half: decisions are counted in memory per (tenant, subject,
//! purpose, basis, day) and flushed to the store in batches — periodically, when the buffer
//! grows, and on shutdown — so counting costs a hash-map update on the request path.

use std::collections::HashMap;
use std::sync::Mutex;

use basis_core::{Basis, Timestamp};
use basis_store::{LedgerRow, Store, StoreError};

type Key = (String, String, String, Basis, i64);

#[derive(Debug, Clone, Copy)]
struct Cell {
    allowed: i64,
    denied: i64,
    first_at: Timestamp,
    last_at: Timestamp,
}

/// Buffered ledger counts.
#[derive(Debug, Default)]
pub struct Ledger {
    cells: Mutex<HashMap<Key, Cell>>,
}

/// Buffered cells past which the next record asks for a flush.
pub const FLUSH_THRESHOLD: usize = 50_000;

impl Ledger {
    /// Counts one decision. Returns true when the buffer is large enough to flush.
    pub fn record(
        &self,
        tenant: &str,
        subject: &str,
        purpose: &str,
        basis: Basis,
        at: Timestamp,
        allowed: bool,
    ) -> bool {
        let Ok(mut cells) = self.cells.lock() else {
            return false;
        };
        let key = (
            tenant.to_owned(),
            subject.to_owned(),
            purpose.to_owned(),
            basis,
            at.day(),
        );
        let cell = cells.entry(key).or_insert(Cell {
            allowed: 0,
            denied: 0,
            first_at: at,
            last_at: at,
        });
        if allowed {
            cell.allowed += 1;
        } else {
            cell.denied += 1;
        }
        cell.first_at = cell.first_at.min(at);
        cell.last_at = cell.last_at.max(at);
        cells.len() >= FLUSH_THRESHOLD
    }

    /// Writes the buffered counts to the store. On failure they are put back.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn flush(&self, store: &dyn Store) -> Result<usize, StoreError> {
        let taken: Vec<(Key, Cell)> = match self.cells.lock() {
            Ok(mut cells) => cells.drain().collect(),
            Err(_) => return Ok(0),
        };
        if taken.is_empty() {
            return Ok(0);
        }
        let rows: Vec<LedgerRow> = taken
            .iter()
            .map(|((tenant, subject, purpose, basis, day), c)| LedgerRow {
                tenant: tenant.clone(),
                subject: subject.clone(),
                purpose: purpose.clone(),
                basis: basis.as_str().to_owned(),
                day: *day,
                allowed: c.allowed,
                denied: c.denied,
                first_at: c.first_at,
                last_at: c.last_at,
            })
            .collect();
        if let Err(e) = store.add_ledger(&rows).await {
            if let Ok(mut cells) = self.cells.lock() {
                for (key, c) in taken {
                    let cell = cells.entry(key).or_insert(Cell {
                        allowed: 0,
                        denied: 0,
                        first_at: c.first_at,
                        last_at: c.last_at,
                    });
                    cell.allowed += c.allowed;
                    cell.denied += c.denied;
                    cell.first_at = cell.first_at.min(c.first_at);
                    cell.last_at = cell.last_at.max(c.last_at);
                }
            }
            return Err(e);
        }
        Ok(rows.len())
    }

    /// Drops buffered counts about a person (erasure).
    pub fn forget(&self, tenant: &str, subject: &str) {
        if let Ok(mut cells) = self.cells.lock() {
            cells.retain(|(t, s, ..), _| !(t == tenant && s == subject));
        }
    }
}
