//! Webhook authenticity. Each tool signs deliveries with a secret shared per workspace and source;
//! every comparison is constant-time (HMAC `verify_slice`).
//!
//! - GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`;
//! - Jira and Confluence webhooks with a secret: `X-Hub-Signature: sha256=<hex ...>` (same form);
//! - Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:" + timestamp + ":" + body)>` with
//!   `X-Slack-Request-Timestamp` within five minutes of now;
//! - Trello: `X-Trello-Webhook: <base64 HMAC-SHA1(secret, body + callback URL)>`.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::Sha256;

/// How far a Slack timestamp may be from now.
pub const SLACK_WINDOW_SECONDS: i64 = 5 * 60;

/// Why a delivery is not authentic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature header is absent.
    #[error("the signature header is missing")]
    Missing,
    /// The header is not of the expected form.
    #[error("the signature header is malformed")]
    Malformed,
    /// The signature does not match the body.
    #[error("the signature does not match the body")]
    Mismatch,
    /// The Slack timestamp is outside the five-minute window (a replay).
    #[error("the request timestamp is outside the five-minute window")]
    Stale,
}

fn hmac256(secret: &[u8], parts: &[&[u8]]) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("hmac accepts any key length"));
    for p in parts {
        mac.update(p);
    }
    mac
}

fn check_hex(mac: Hmac<Sha256>, header: Option<&str>, prefix: &str) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?.trim();
    let hex_sig = header
        .strip_prefix(prefix)
        .ok_or(SignatureError::Malformed)?;
    let sig = hex::decode(hex_sig).map_err(|_| SignatureError::Malformed)?;
    mac.verify_slice(&sig).map_err(|_| SignatureError::Mismatch)
}

/// GitHub's `X-Hub-Signature-256`.
///
/// # Errors
/// [`SignatureError`] saying what failed.
pub fn github(secret: &[u8], body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    check_hex(hmac256(secret, &[body]), header, "sha256=")
}

/// Jira's and Confluence's `X-Hub-Signature` (`sha256=...`), the same scheme as GitHub's.
///
/// # Errors
/// [`SignatureError`] saying what failed.
pub fn atlassian(secret: &[u8], body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    github(secret, body, header)
}

/// Slack's v0 signature with its replay window.
///
/// # Errors
/// [`SignatureError`] saying what failed.
pub fn slack(
    secret: &[u8],
    body: &[u8],
    timestamp: Option<&str>,
    header: Option<&str>,
    now_seconds: i64,
) -> Result<(), SignatureError> {
    let ts_text = timestamp.ok_or(SignatureError::Missing)?.trim();
    let ts: i64 = ts_text.parse().map_err(|_| SignatureError::Malformed)?;
    if (now_seconds - ts).abs() > SLACK_WINDOW_SECONDS {
        return Err(SignatureError::Stale);
    }
    check_hex(
        hmac256(secret, &[b"v0:", ts_text.as_bytes(), b":", body]),
        header,
        "v0=",
    )
}

/// Trello's `X-Trello-Webhook`: base64 HMAC-SHA1 over the body followed by the callback URL
/// registered with Trello.
///
/// # Errors
/// [`SignatureError`] saying what failed.
pub fn trello(
    secret: &[u8],
    body: &[u8],
    callback_url: &str,
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?.trim();
    let sig = base64::engine::general_purpose::STANDARD
        .decode(header)
        .map_err(|_| SignatureError::Malformed)?;
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("hmac accepts any key length"));
    mac.update(body);
    mac.update(callback_url.as_bytes());
    mac.verify_slice(&sig).map_err(|_| SignatureError::Mismatch)
}

/// The `X-Hub-Signature-256` value for a body (for senders and tests).
pub fn github_header(secret: &[u8], body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(hmac256(secret, &[body]).finalize().into_bytes())
    )
}

/// The `X-Slack-Signature` value for a body sent at `timestamp`.
pub fn slack_header(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let mac = hmac256(secret, &[b"v0:", timestamp.as_bytes(), b":", body]);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// The `X-Trello-Webhook` value for a body delivered to `callback_url`.
pub fn trello_header(secret: &[u8], body: &[u8], callback_url: &str) -> String {
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("hmac accepts any key length"));
    mac.update(body);
    mac.update(callback_url.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors computed independently (GitHub's documented example; the others with Python's
    // `hmac` module).

    #[test]
    fn headers_round_trip() {
        assert_eq!(
            github(b"k", b"body", Some(&github_header(b"k", b"body"))),
            Ok(())
        );
        assert_eq!(
            slack(
                b"k",
                b"body",
                Some("100"),
                Some(&slack_header(b"k", "100", b"body")),
                100
            ),
            Ok(())
        );
        assert_eq!(
            trello(
                b"k",
                b"body",
                "https://u.example",
                Some(&trello_header(b"k", b"body", "https://u.example"))
            ),
            Ok(())
        );
    }

    #[test]
    fn github_documented_example() {
        let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(
            github(b"It's a Secret to Everybody", b"Hello, World!", Some(sig)),
            Ok(())
        );
        assert_eq!(
            github(b"It's a Secret to Everybody", b"Hello, World?", Some(sig)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            github(b"other", b"Hello, World!", Some(sig)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(github(b"s", b"x", None), Err(SignatureError::Missing));
        assert_eq!(
            github(b"s", b"x", Some("sha1=abcd")),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            github(b"s", b"x", Some("sha256=zz")),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            atlassian(b"It's a Secret to Everybody", b"Hello, World!", Some(sig)),
            Ok(())
        );
    }

    #[test]
    fn slack_signature_and_window() {
        let secret = b"8f742231b10e8888abcd99yyyzzz85a5";
        let body = b"token=abc&team_id=T1";
        let sig = "v0=dc2dc5de319a1917d4e4968529e09c99f4581f86ff7d905cc6e2fa8283c45d41";
        assert_eq!(
            slack(
                secret,
                body,
                Some("1531420618"),
                Some(sig),
                1_531_420_618 + 299
            ),
            Ok(())
        );
        assert_eq!(
            slack(
                secret,
                body,
                Some("1531420618"),
                Some(sig),
                1_531_420_618 + 301
            ),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            slack(
                secret,
                b"token=abd&team_id=T1",
                Some("1531420618"),
                Some(sig),
                1_531_420_618
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            slack(secret, body, Some("1531420619"), Some(sig), 1_531_420_618),
            Err(SignatureError::Mismatch),
            "the timestamp is signed"
        );
        assert_eq!(
            slack(secret, body, None, Some(sig), 0),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            slack(secret, body, Some("soon"), Some(sig), 0),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn trello_signature_covers_the_callback_url() {
        let body = br#"{"action":{}}"#;
        let url = "https://basis.example/v1/hooks/trello";
        let sig = "ZkB/x6dj8Pddd3l0yyfQNVcp4xs=";
        assert_eq!(trello(b"trello-secret", body, url, Some(sig)), Ok(()));
        assert_eq!(
            trello(
                b"trello-secret",
                body,
                "https://elsewhere.example/",
                Some(sig)
            ),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            trello(b"trello-secret", body, url, Some("%%%")),
            Err(SignatureError::Malformed)
        );
    }
}
