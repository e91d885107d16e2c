//! Person-scoped privacy-center tokens: short-lived, signed with HMAC-SHA256 under a key kept in
//! the store, naming one person of one workspace. A product backend mints one for a signed-in
//! person; the person's browser then uses it to see and exercise their own rights, and nothing
//! else.
//!
//! Format: `bpt_<hex(tenant \n person \n expires_ms)>.<hex(mac)>`.

use basis_core::Timestamp;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Prefix of privacy-center tokens (API keys start with `basis_`).
pub const TOKEN_PREFIX: &str = "bpt_";
/// Default lifetime.
pub const DEFAULT_TTL_SECONDS: u32 = 15 * 60;
/// Longest lifetime.
pub const MAX_TTL_SECONDS: u32 = 24 * 60 * 60;

/// What a valid token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonGrant {
    /// Workspace.
    pub tenant: String,
    /// The person.
    pub person: String,
    /// Until when.
    pub expires_at: Timestamp,
}

/// Why a token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token of this format.
    #[error("not a privacy-center token")]
    Malformed,
    /// The signature does not match.
    #[error("the token's signature does not match")]
    BadSignature,
    /// Past its lifetime.
    #[error("the token has expired")]
    Expired,
}

fn mac(key: &[u8], payload: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("hmac accepts any key length"));
    m.update(payload);
    m
}

/// Signs a grant.
pub fn issue(key: &[u8], grant: &PersonGrant) -> String {
    let payload = format!("{}\n{}\n{}", grant.tenant, grant.person, grant.expires_at.0);
    let tag = mac(key, payload.as_bytes()).finalize().into_bytes();
    format!(
        "{TOKEN_PREFIX}{}.{}",
        hex::encode(payload),
        hex::encode(tag)
    )
}

/// Checks a token's signature (in constant time) and lifetime.
///
/// # Errors
/// [`TokenError`] saying which check failed.
pub fn verify(key: &[u8], token: &str, now: Timestamp) -> Result<PersonGrant, TokenError> {
    let body = token
        .strip_prefix(TOKEN_PREFIX)
        .ok_or(TokenError::Malformed)?;
    let (payload_hex, tag_hex) = body.split_once('.').ok_or(TokenError::Malformed)?;
    let payload = hex::decode(payload_hex).map_err(|_| TokenError::Malformed)?;
    let tag = hex::decode(tag_hex).map_err(|_| TokenError::Malformed)?;
    mac(key, &payload)
        .verify_slice(&tag)
        .map_err(|_| TokenError::BadSignature)?;
    let text = String::from_utf8(payload).map_err(|_| TokenError::Malformed)?;
    let mut parts = text.splitn(3, '\n');
    let (Some(tenant), Some(person), Some(expires)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let expires_at = Timestamp(expires.parse().map_err(|_| TokenError::Malformed)?);
    if now >= expires_at {
        return Err(TokenError::Expired);
    }
    Ok(PersonGrant {
        tenant: tenant.to_owned(),
        person: person.to_owned(),
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> PersonGrant {
        PersonGrant {
            tenant: "acme".into(),
            person: "u-1".into(),
            expires_at: Timestamp(1_000),
        }
    }

    #[test]
    fn round_trip_expiry_and_tampering() {
        let token = issue(b"key", &grant());
        assert_eq!(verify(b"key", &token, Timestamp(999)), Ok(grant()));
        assert_eq!(
            verify(b"key", &token, Timestamp(1_000)),
            Err(TokenError::Expired)
        );
        assert_eq!(
            verify(b"other key", &token, Timestamp(0)),
            Err(TokenError::BadSignature)
        );
        let forged = issue(
            b"key",
            &PersonGrant {
                person: "u-2".into(),
                ..grant()
            },
        );
        let (forged_payload, _) = forged.split_once('.').unwrap();
        let (_, real_tag) = token.split_once('.').unwrap();
        assert_eq!(
            verify(
                b"key",
                &format!("{forged_payload}.{real_tag}"),
                Timestamp(0)
            ),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            verify(b"key", "basis_abc", Timestamp(0)),
            Err(TokenError::Malformed)
        );
        assert_eq!(
            verify(b"key", "bpt_zz.zz", Timestamp(0)),
            Err(TokenError::Malformed)
        );
    }
}
