//! The processing ledger's hot half: decisions are counted in memory per (tenant, subject,
//! purpose, basis, day) and flushed to the store in batches — periodically, when the buffer
//! grows, and on shutdown — so counting costs a hash-map update on the request path.

use std::collections::HashMap;
use std::sync::Mutex;

use basis_core::{Basis, Timestamp};
use basis_store::{LedgerRow, Store, StoreError};

/// One subject's cells: (purpose, basis, day) and counts — a handful per subject and day, so a
/// list beats a map.
type SubjectCells = Vec<(String, Basis, i64, Cell)>;

#[derive(Debug, Clone, Copy)]
struct Cell {
    allowed: i64,
    denied: i64,
    first_at: Timestamp,
    last_at: Timestamp,
}

impl Cell {
    fn add(&mut self, other: &Cell) {
        self.allowed += other.allowed;
        self.denied += other.denied;
        self.first_at = self.first_at.min(other.first_at);
        self.last_at = self.last_at.max(other.last_at);
    }
}

/// Counts by tenant and subject. Keyed so that counting a decision about someone already in
/// the buffer allocates nothing (lookups by `&str`).
#[derive(Debug, Default)]
struct Buffer {
    by: HashMap<String, HashMap<String, SubjectCells>>,
    len: usize,
}

impl Buffer {
    /// Every cell: tenant, subject, purpose, basis, day, counts.
    fn cells(&self) -> impl Iterator<Item = (&str, &str, &str, Basis, i64, &Cell)> {
        self.by.iter().flat_map(|(tenant, subjects)| {
            subjects.iter().flat_map(move |(subject, cells)| {
                cells.iter().map(move |(purpose, basis, day, c)| {
                    (
                        tenant.as_str(),
                        subject.as_str(),
                        purpose.as_str(),
                        *basis,
                        *day,
                        c,
                    )
                })
            })
        })
    }

    fn add(
        &mut self,
        tenant: &str,
        subject: &str,
        purpose: &str,
        basis: Basis,
        day: i64,
        c: &Cell,
    ) {
        if !self.by.contains_key(tenant) {
            self.by.insert(tenant.to_owned(), HashMap::new());
        }
        let Some(subjects) = self.by.get_mut(tenant) else {
            return;
        };
        if !subjects.contains_key(subject) {
            subjects.insert(subject.to_owned(), Vec::new());
        }
        let Some(cells) = subjects.get_mut(subject) else {
            return;
        };
        match cells
            .iter_mut()
            .find(|(p, b, d, _)| *d == day && *b == basis && p == purpose)
        {
            Some((.., cell)) => cell.add(c),
            None => {
                cells.push((purpose.to_owned(), basis, day, *c));
                self.len += 1;
            }
        }
    }
}

/// Buffered ledger counts.
#[derive(Debug, Default)]
pub struct Ledger {
    cells: Mutex<Buffer>,
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
        let Ok(mut buffer) = self.cells.lock() else {
            return false;
        };
        let cell = Cell {
            allowed: i64::from(allowed),
            denied: i64::from(!allowed),
            first_at: at,
            last_at: at,
        };
        buffer.add(tenant, subject, purpose, basis, at.day(), &cell);
        buffer.len >= FLUSH_THRESHOLD
    }

    /// Writes the buffered counts to the store. On failure they are put back.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn flush(&self, store: &dyn Store) -> Result<usize, StoreError> {
        let taken = match self.cells.lock() {
            Ok(mut buffer) => std::mem::take(&mut *buffer),
            Err(_) => return Ok(0),
        };
        let rows: Vec<LedgerRow> = taken
            .cells()
            .map(|(tenant, subject, purpose, basis, day, c)| LedgerRow {
                tenant: tenant.to_owned(),
                subject: subject.to_owned(),
                purpose: purpose.to_owned(),
                basis: basis.as_str().to_owned(),
                day,
                allowed: c.allowed,
                denied: c.denied,
                first_at: c.first_at,
                last_at: c.last_at,
            })
            .collect();
        if rows.is_empty() {
            return Ok(0);
        }
        if let Err(e) = store.add_ledger(&rows).await {
            if let Ok(mut buffer) = self.cells.lock() {
                for (tenant, subject, purpose, basis, day, c) in taken.cells() {
                    buffer.add(tenant, subject, purpose, basis, day, c);
                }
            }
            return Err(e);
        }
        Ok(rows.len())
    }

    /// Drops buffered counts about a person (erasure).
    pub fn forget(&self, tenant: &str, subject: &str) {
        if let Ok(mut buffer) = self.cells.lock()
            && let Some(cells) = buffer.by.get_mut(tenant).and_then(|s| s.remove(subject))
        {
            buffer.len -= cells.len();
        }
    }
}
