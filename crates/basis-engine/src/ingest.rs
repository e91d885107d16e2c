//! Turning a request body into events to append: a JSON array or NDJSON, validated all or
//! nothing. Each event is stored as the producer sent it (validated, not re-serialized).

use basis_core::event::{FieldError, validate_event_text};
use basis_store::NewEvent;
use serde_json::value::RawValue;

/// Most events in one batch.
pub const MAX_BATCH: usize = 10_000;

/// Why a body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// Not JSON (or a bad NDJSON line).
    #[error("{0}")]
    Malformed(String),
    /// Too many events.
    #[error("a batch holds at most {max} events; this one has {got}")]
    TooMany {
        /// The limit.
        max: usize,
        /// What was sent.
        got: usize,
    },
    /// Events that fail validation.
    #[error("{} problem(s) in the batch; nothing was stored", .0.len())]
    Invalid(Vec<FieldError>),
}

/// Parses and validates a batch.
///
/// # Errors
/// [`BatchError`] describing every problem found.
pub fn parse_batch(body: &str, ndjson: bool) -> Result<Vec<NewEvent>, BatchError> {
    let raws: Vec<&RawValue> = if ndjson {
        let mut raws = Vec::new();
        for (i, line) in body.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let raw = serde_json::from_str::<&RawValue>(line)
                .map_err(|e| BatchError::Malformed(format!("line {}: {e}", i + 1)))?;
            raws.push(raw);
            if raws.len() > MAX_BATCH {
                return Err(BatchError::TooMany {
                    max: MAX_BATCH,
                    got: body.lines().filter(|l| !l.trim().is_empty()).count(),
                });
            }
        }
        raws
    } else {
        let trimmed = body.trim_start();
        if trimmed.starts_with('{') {
            vec![
                serde_json::from_str::<&RawValue>(body)
                    .map_err(|e| BatchError::Malformed(e.to_string()))?,
            ]
        } else {
            serde_json::from_str::<Vec<&RawValue>>(body)
                .map_err(|e| BatchError::Malformed(e.to_string()))?
        }
    };
    if raws.len() > MAX_BATCH {
        return Err(BatchError::TooMany {
            max: MAX_BATCH,
            got: raws.len(),
        });
    }
    let mut errors = Vec::new();
    let mut events = Vec::with_capacity(raws.len());
    for (index, raw) in raws.iter().enumerate() {
        if let Some(head) = validate_event_text(index, raw.get(), &mut errors) {
            events.push(NewEvent {
                id: head.id,
                kind: head.kind,
                at: head.at,
                actor: head.actor,
                body: raw.get().to_owned(),
            });
        } else if errors.len() > 100 {
            break;
        }
    }
    if !errors.is_empty() {
        errors.truncate(100);
        return Err(BatchError::Invalid(errors));
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_single_object_and_ndjson() {
        let e = r#"{"id":"a","type":"content.created","at":"2026-11-30T10:00:00Z"}"#;
        assert_eq!(
            parse_batch(&format!("[{e}, {}]", e.replace("\"a\"", "\"b\"")), false)
                .unwrap()
                .len(),
            2
        );
        assert_eq!(parse_batch(e, false).unwrap().len(), 1);
        assert_eq!(
            parse_batch(&format!("{e}\n\n{}\n", e.replace("\"a\"", "\"b\"")), true)
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn all_or_nothing_with_each_problem() {
        let body = r#"[{"id":"a","type":"content.created","at":"2026-11-30T10:00:00Z"},{"id":"b","type":5,"at":"2026-11-30T10:00:00Z"},{"type":"x.y","at":"2026-11-30T10:00:00Z"}]"#;
        let Err(BatchError::Invalid(errors)) = parse_batch(body, false) else {
            panic!("accepted")
        };
        let got: Vec<(usize, &str)> = errors.iter().map(|e| (e.index, e.field.as_str())).collect();
        assert_eq!(got, vec![(1, "type"), (2, "id")]);
    }

    #[test]
    fn malformed_json_is_reported() {
        assert!(matches!(
            parse_batch("[{", false),
            Err(BatchError::Malformed(_))
        ));
        let Err(BatchError::Malformed(m)) = parse_batch("{}\n{oops", true) else {
            panic!()
        };
        assert!(m.starts_with("line 2"), "{m}");
    }
}
