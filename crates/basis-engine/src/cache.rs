//! A small read-through cache for values the store owns (API keys, webhook settings, identity
//! resolutions).
//!
//! Two races are closed here rather than at each use:
//! - A value read from the store before a [`ReadThrough::forget`] is not put back after it:
//!   [`ReadThrough::put`] takes the epoch read before the store read and is ignored if a forget
//!   came in between (otherwise a claim of an identity, or a new webhook secret, could be
//!   undone by a read that was already in flight).
//! - Entries expire after a time to live, so a change another process made to the store (a
//!   command, a second server on a shared store) is seen within that time.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

struct Entries<K, V> {
    map: HashMap<K, (V, Instant)>,
    epoch: u64,
}

/// A bounded map, cleared whole when full.
pub(crate) struct ReadThrough<K, V> {
    entries: RwLock<Entries<K, V>>,
    max: usize,
    ttl: Duration,
}

impl<K: Hash + Eq, V: Clone> ReadThrough<K, V> {
    /// Holds at most `max` entries, each for at most `ttl` from when it was stored.
    pub(crate) fn new(max: usize, ttl: Duration) -> Self {
        ReadThrough {
            entries: RwLock::new(Entries {
                map: HashMap::new(),
                epoch: 0,
            }),
            max,
            ttl,
        }
    }

    /// A value stored within the time to live.
    pub(crate) fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let (value, at) = entries.map.get(key)?;
        (at.elapsed() < self.ttl).then(|| value.clone())
    }

    /// To read before going to the store; given back to [`ReadThrough::put`].
    pub(crate) fn epoch(&self) -> u64 {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .epoch
    }

    /// Stores a value read from the store after `epoch` was read, unless a forget came since.
    pub(crate) fn put(&self, key: K, value: V, epoch: u64) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.epoch != epoch {
            return;
        }
        if entries.map.len() >= self.max {
            entries.map.clear();
        }
        entries.map.insert(key, (value, Instant::now()));
    }

    /// Forgets everything (after a write to what it caches).
    pub(crate) fn forget(&self) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        entries.map.clear();
        entries.epoch += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_from_before_a_forget_is_not_put_back() {
        let cache = ReadThrough::new(10, Duration::from_secs(60));
        let before = cache.epoch();
        cache.forget();
        cache.put("slack:U1", None::<&str>, before);
        assert_eq!(cache.get(&"slack:U1"), None, "the stale read is dropped");
        cache.put("slack:U1", Some("cy"), cache.epoch());
        assert_eq!(cache.get(&"slack:U1"), Some(Some("cy")));
    }

    #[test]
    fn entries_expire_and_a_full_cache_starts_over() {
        let cache = ReadThrough::new(2, Duration::ZERO);
        cache.put(1, 1, cache.epoch());
        assert_eq!(cache.get(&1), None, "expired at once");
        let cache = ReadThrough::new(2, Duration::from_secs(60));
        for k in 0..3 {
            cache.put(k, k, cache.epoch());
        }
        assert_eq!((cache.get(&0), cache.get(&2)), (None, Some(2)));
    }
}
