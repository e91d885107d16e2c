//! Instants as milliseconds since the Unix epoch: cheap to compare in the gate, exact in storage.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Milliseconds in a day, for ledger day buckets.
pub const MILLIS_PER_DAY: i64 = 86_400_000;

/// An instant, in milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

/// A string that is not an RFC 3339 date-time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an RFC 3339 date-time such as `2026-11-30T10:00:00Z`")]
pub struct TimestampError(pub String);

impl Timestamp {
    /// The largest representable instant, used as "never" for open ranges.
    pub const MAX: Timestamp = Timestamp(i64::MAX);

    /// Parses an RFC 3339 date-time (`2026-11-30T10:00:00Z`, offsets allowed).
    ///
    /// # Errors
    /// [`TimestampError`] when the text is not RFC 3339.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        let parsed = OffsetDateTime::parse(text, &Rfc3339)
            .map_err(|_| TimestampError(truncate(text, 64)))?;
        let millis = parsed.unix_timestamp_nanos() / 1_000_000;
        i64::try_from(millis)
            .map(Timestamp)
            .map_err(|_| TimestampError(truncate(text, 64)))
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// The day number since the epoch (UTC), for ledger buckets.
    pub const fn day(self) -> i64 {
        self.0.div_euclid(MILLIS_PER_DAY)
    }

    /// The instant `days` days later.
    pub const fn plus_days(self, days: i64) -> Self {
        Timestamp(self.0.saturating_add(days.saturating_mul(MILLIS_PER_DAY)))
    }

    /// Whole seconds since the epoch in 32 bits, for compact stored times (ties, parts in
    /// content): clamped to 1970 and to 2106.
    pub fn compact_secs(self) -> u32 {
        u32::try_from(self.0.div_euclid(1_000).max(0)).unwrap_or(u32::MAX)
    }

    /// The instant a [`Timestamp::compact_secs`] value stands for.
    pub const fn from_compact_secs(secs: u32) -> Self {
        Timestamp(secs as i64 * 1_000)
    }

    /// The instant `millis` milliseconds later.
    pub const fn plus_millis(self, millis: i64) -> Self {
        Timestamp(self.0.saturating_add(millis))
    }

    /// RFC 3339 text in UTC with millisecond precision.
    pub fn to_rfc3339(self) -> String {
        let nanos = i128::from(self.0) * 1_000_000;
        match OffsetDateTime::from_unix_timestamp_nanos(nanos) {
            Ok(dt) => {
                let (y, mo, d) = (dt.year(), u8::from(dt.month()), dt.day());
                let (h, mi, s, ms) = (dt.hour(), dt.minute(), dt.second(), dt.millisecond());
                if ms == 0 {
                    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
                } else {
                    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
                }
            }
            Err(_) => self.0.to_string(),
        }
    }

    /// The date (`YYYY-MM-DD`) of a day number.
    pub fn day_to_date(day: i64) -> String {
        let at = Timestamp(day.saturating_mul(MILLIS_PER_DAY)).to_rfc3339();
        at.get(..10).unwrap_or(&at).to_owned()
    }
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_round_trip() {
        let t = Timestamp::parse("2026-11-30T10:00:00Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-30T10:00:00Z");
        let offset = Timestamp::parse("2026-11-30T11:00:00.250+01:00").unwrap();
        assert_eq!(offset.to_rfc3339(), "2026-11-30T10:00:00.250Z");
        assert_eq!(Timestamp::day_to_date(t.day()), "2026-11-30");
    }

    #[test]
    fn rejects_non_rfc3339() {
        assert!(Timestamp::parse("yesterday").is_err());
        assert!(Timestamp::parse("2026-11-30").is_err());
    }
}
