//! The processing ledger's hot half: decisions are counted in memory per (tenant, subject,
//! purpose, basis, day) and flushed to the store in batches — periodically, when the buffer
//! grows, and on shutdown — so counting costs a hash-map update on the request path. A
//! request that asks the gate about many people counts them in one batch (one lock, the
//! tenant looked up once).

use std::collections::HashMap;
use std::sync::Mutex;

use foldhash::fast::RandomState;

use basis_core::{Basis, Timestamp};
use basis_store::{LedgerRow, Store, StoreError};

/// One subject's cells: (purpose, basis, day) and counts — a handful per subject and day, so a
/// list beats a map. Purposes are numbered by the buffer.
type SubjectCells = Vec<(u16, Basis, i64, Cell)>;

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

/// One tenant's subjects. Keys come from clients, so the hasher is seeded per process.
type Subjects = HashMap<String, SubjectCells, RandomState>;

/// Counts by tenant and subject. Keyed so that counting a decision about someone already in
/// the buffer allocates nothing (lookups by `&str`, one per count).
#[derive(Debug, Default)]
struct Buffer {
    by: HashMap<String, Subjects, RandomState>,
    /// Purpose names by number: a policy has a few dozen at most.
    purposes: Vec<Box<str>>,
    len: usize,
}

/// One decision to count.
#[derive(Debug, Clone, Copy)]
pub struct Counted<'a> {
    /// The person decided about.
    pub subject: &'a str,
    /// The basis the gate named.
    pub basis: Basis,
    /// Whether the use was allowed.
    pub allowed: bool,
}

impl Buffer {
    /// Every cell: tenant, subject, purpose, basis, day, counts.
    fn cells(&self) -> impl Iterator<Item = (&str, &str, &str, Basis, i64, &Cell)> {
        self.by.iter().flat_map(move |(tenant, subjects)| {
            subjects.iter().flat_map(move |(subject, cells)| {
                cells.iter().map(move |(purpose, basis, day, c)| {
                    (
                        tenant.as_str(),
                        subject.as_str(),
                        self.purposes
                            .get(usize::from(*purpose))
                            .map_or("", |p| &**p),
                        *basis,
                        *day,
                        c,
                    )
                })
            })
        })
    }

    /// The number of a purpose, given on first use.
    fn purpose(&mut self, purpose: &str) -> u16 {
        match self.purposes.iter().position(|p| **p == *purpose) {
            Some(k) => u16::try_from(k).unwrap_or(u16::MAX),
            None => {
                self.purposes.push(purpose.into());
                u16::try_from(self.purposes.len() - 1).unwrap_or(u16::MAX)
            }
        }
    }

    /// The tenant's subjects, made on first use (always `Some`).
    fn tenant(&mut self, tenant: &str) -> Option<&mut Subjects> {
        if !self.by.contains_key(tenant) {
            self.by.insert(tenant.to_owned(), Subjects::default());
        }
        self.by.get_mut(tenant)
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
        let purpose = self.purpose(purpose);
        if let Some(subjects) = self.tenant(tenant) {
            let added = add_to(subjects, subject, purpose, basis, day, c);
            self.len += usize::from(added);
        }
    }
}

/// Adds counts to a subject's cell; whether a cell was made.
fn add_to(
    subjects: &mut Subjects,
    subject: &str,
    purpose: u16,
    basis: Basis,
    day: i64,
    c: &Cell,
) -> bool {
    let bump = |cells: &mut SubjectCells| match cells
        .iter_mut()
        .find(|(p, b, d, _)| *d == day && *b == basis && *p == purpose)
    {
        Some((.., cell)) => {
            cell.add(c);
            false
        }
        None => {
            cells.push((purpose, basis, day, *c));
            true
        }
    };
    match subjects.get_mut(subject) {
        Some(cells) => bump(cells),
        None => {
            let mut cells = Vec::with_capacity(2);
            bump(&mut cells);
            subjects.insert(subject.to_owned(), cells);
            true
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
        self.record_many(
            tenant,
            purpose,
            at,
            [Counted {
                subject,
                basis,
                allowed,
            }],
        )
    }

    /// Counts decisions about several people for one purpose at one time: one lock, one
    /// tenant lookup. Returns true when the buffer is large enough to flush.
    pub fn record_many<'a>(
        &self,
        tenant: &str,
        purpose: &str,
        at: Timestamp,
        decisions: impl IntoIterator<Item = Counted<'a>>,
    ) -> bool {
        let Ok(mut buffer) = self.cells.lock() else {
            return false;
        };
        let day = at.day();
        let purpose = buffer.purpose(purpose);
        let Some(subjects) = buffer.tenant(tenant) else {
            return false;
        };
        let mut added = 0;
        for d in decisions {
            let cell = Cell {
                allowed: i64::from(d.allowed),
                denied: i64::from(!d.allowed),
                first_at: at,
                last_at: at,
            };
            added += usize::from(add_to(subjects, d.subject, purpose, d.basis, day, &cell));
        }
        buffer.len += added;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(ledger: &Ledger) -> Vec<(String, String, String, i64, i64)> {
        let buffer = ledger.cells.lock().unwrap();
        let mut out: Vec<_> = buffer
            .cells()
            .map(|(t, s, p, _, _, c)| (t.into(), s.into(), p.into(), c.allowed, c.denied))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn a_batch_counts_like_single_records() {
        let at = Timestamp(86_400_000 * 3);
        let (one, many) = (Ledger::default(), Ledger::default());
        let decisions = [("ann", true), ("bob", false), ("ann", true), ("cat", true)];
        for (subject, allowed) in decisions {
            one.record("t1", subject, "p", Basis::Consent, at, allowed);
        }
        many.record_many(
            "t1",
            "p",
            at,
            decisions.iter().map(|&(subject, allowed)| Counted {
                subject,
                basis: Basis::Consent,
                allowed,
            }),
        );
        assert_eq!(counts(&one), counts(&many));
        assert_eq!(
            counts(&many)[0],
            ("t1".into(), "ann".into(), "p".into(), 2, 0)
        );
        let cells = |l: &Ledger| l.cells.lock().unwrap().len;
        assert_eq!((cells(&one), cells(&many)), (3, 3));
        // Another tenant, purpose or day is another cell; forgetting drops a subject's.
        many.record("t2", "ann", "p", Basis::Consent, at, true);
        many.record("t1", "ann", "q", Basis::Consent, at, true);
        many.record("t1", "ann", "p", Basis::Consent, Timestamp(0), true);
        assert_eq!(cells(&many), 6);
        many.forget("t1", "ann");
        assert_eq!(cells(&many), 3);
    }
}
